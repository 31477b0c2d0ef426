#!/usr/bin/env bash
# A real SLURM cluster on this one machine, for tests and for trying profiles/slurm.
#
#   scripts/slurm-cluster.sh up        install (apt) if needed, configure, start; idempotent
#   scripts/slurm-cluster.sh down      cancel its jobs, stop exactly the daemons it started
#   scripts/slurm-cluster.sh status    list its daemons and nodes; exit 0 only when it is up
#   eval "$(scripts/slurm-cluster.sh env)"   point sbatch/squeue/snakemake at it
#
# Everything lives under $DATALAWS_SLURM_DIR (default /tmp/datalaws-slurm): its own munge key and
# socket, slurm.conf, state, logs and pid files; ports are $DATALAWS_SLURM_PORT (slurmctld) and
# the next ones (one slurmd per node). No systemd: the daemons are started directly. One thing
# lies outside that directory: the link /run/slurm/conf/slurm.conf -> our slurm.conf, the place
# a configless slurmd would fill. It is needed because snakemake-executor-plugin-slurm-jobstep
# removes SLURM_CONF (with every other SLURM_* variable) before its own `srun`, so inside a job
# only the standard locations are searched. A second cluster (its own DATALAWS_SLURM_DIR and
# DATALAWS_SLURM_PORT) finds that link taken and runs its slurmd in a private mount namespace
# where the link points to its own config (needs root and unshare, as the daemons do anyway).
#
# The machine is split into $DATALAWS_SLURM_NODES nodes (default 2), one slurmd each, so that
# multi-node jobs (srun across nodes, torchrun rendezvous) really run. The first node is named
# after the host, so the usual "first node of the allocation" rendezvous address resolves. Every
# node offers all the machine's cores ($DATALAWS_SLURM_CPUS_PER_NODE to change; the nodes share
# them, task/none binds nothing) and an equal share of its memory. Each node offers two fake GPUs through gres (plain files: gres only needs paths that exist, and
# /dev/tty* are missing in some containers). Two partitions span all nodes, default
# $DATALAWS_SLURM_CPU_PARTITION and $DATALAWS_SLURM_GPU_PARTITION, so CPU/GPU routing is real.
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 the SLURM packages are missing and cannot be installed
# here (tests skip on 3, and only on 3).
set -euo pipefail

DIR="${DATALAWS_SLURM_DIR:-/tmp/datalaws-slurm}"
PORT="${DATALAWS_SLURM_PORT:-16817}"
NODES="${DATALAWS_SLURM_NODES:-2}"
CPU_PARTITION="${DATALAWS_SLURM_CPU_PARTITION:-ci_cpu}"
GPU_PARTITION="${DATALAWS_SLURM_GPU_PARTITION:-ci_gpu}"
GPUS_PER_NODE=2
PACKAGES=(slurmctld slurmd slurm-client munge)

CONF="$DIR/etc/slurm.conf"
RUN_CONF=/run/slurm/conf/slurm.conf
RUN="$DIR/run"
LOG="$DIR/log"
SOCKET="$DIR/munge/munge.socket"

die() { echo "slurm-cluster: $*" >&2; exit 1; }
say() { echo "slurm-cluster: $*" >&2; }

[[ "$NODES" =~ ^[1-9][0-9]*$ ]] || { say "DATALAWS_SLURM_NODES must be >= 1, got '$NODES'"; exit 2; }
[[ "$PORT" =~ ^[0-9]+$ ]] || { say "DATALAWS_SLURM_PORT must be a port number, got '$PORT'"; exit 2; }

node_names() {
    local host i
    host="$(hostname -s)"
    echo "$host"
    for ((i = 2; i <= NODES; i++)); do echo "$host-n$i"; done
}

# Daemons are named by their pid file: munged, slurmctld, slurmd-<node>. A pid file is trusted
# only while its process still runs that program, so a recycled pid is never signalled.
pid_of() { if [[ -s "$RUN/$1.pid" ]]; then cat "$RUN/$1.pid"; fi; }

alive() {
    local pid stat
    pid="$(pid_of "$1")"
    [[ -n "$pid" && -r "/proc/$pid/comm" && "$(cat "/proc/$pid/comm")" == "${1%%-*}" ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ "${stat##*) }" != Z* ]]  # an exited daemon not yet reaped is not alive
}

daemons() {
    local node
    echo munged
    echo slurmctld
    for node in $(node_names); do echo "slurmd-$node"; done
}

have_packages() {
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null
}

install_packages() {
    local log="/tmp/slurm-apt.$$.log"
    have_packages && return 0
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        say "SLURM is not installed and cannot be installed here (needs root and apt-get)"
        exit 3
    fi
    say "installing ${PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"$log" 2>&1; then
        apt-get update -q >>"$log" 2>&1 || true
        if ! apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >>"$log" 2>&1; then
            tail -5 "$log" >&2
            say "apt-get could not install ${PACKAGES[*]} (log: $log)"
            exit 3
        fi
    fi
    rm -f "$log"
    have_packages || { say "packages installed but their programs are missing"; exit 3; }
}

write_config() {
    local probe cpus mem i=0 node nodes_csv
    probe="$(slurmd -C | head -1)"
    [[ "$probe" =~ CPUs=([0-9]+).*RealMemory=([0-9]+) ]] || die "unexpected 'slurmd -C': $probe"
    cpus="${DATALAWS_SLURM_CPUS_PER_NODE:-${BASH_REMATCH[1]}}"
    mem=$((BASH_REMATCH[2] / NODES))
    [[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "DATALAWS_SLURM_CPUS_PER_NODE must be >= 1, got '$cpus'"
    nodes_csv="$(node_names | paste -sd, -)"
    mkdir -p "$DIR"/{etc,run,log,state,spool,munge,dev}
    chmod 700 "$DIR/munge"
    cat >"$CONF" <<EOF
# Written by scripts/slurm-cluster.sh; regenerated by every 'up'.
ClusterName=datalaws
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCKET
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerParameters=sched_interval=1
# Finished jobs stay visible to squeue for an hour: the squeue status command relies on it.
MinJobAge=3600
KillWait=10
GresTypes=gpu
EOF
    : >"$DIR/etc/gres.conf"
    for node in $(node_names); do
        i=$((i + 1))
        echo "NodeName=$node NodeHostname=$(hostname -s) NodeAddr=127.0.0.1 Port=$((PORT + i))" \
            "CPUs=$cpus RealMemory=$mem Gres=gpu:fake:$GPUS_PER_NODE State=UNKNOWN" >>"$CONF"
        for ((g = 0; g < GPUS_PER_NODE; g++)); do
            : >"$DIR/dev/$node-gpu$g"
            echo "NodeName=$node Name=gpu Type=fake File=$DIR/dev/$node-gpu$g" >>"$DIR/etc/gres.conf"
        done
    done
    cat >>"$CONF" <<EOF
PartitionName=$CPU_PARTITION Nodes=$nodes_csv Default=YES MaxTime=INFINITE State=UP
PartitionName=$GPU_PARTITION Nodes=$nodes_csv MaxTime=INFINITE State=UP
EOF
    if [[ ! -s "$DIR/munge/munge.key" ]]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    fi
    chown -R munge:munge "$DIR/munge"
    chmod 600 "$DIR/munge/munge.key"
}

wait_for() {  # wait_for SECONDS COMMAND...
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

nodes_ready() {
    local states
    states="$(SLURM_CONF="$CONF" sinfo -h -N -p "$CPU_PARTITION" -o %t 2>/dev/null)" || return 1
    [[ $(grep -cE '^(idle|mix|alloc)' <<<"$states") == "$NODES" ]]
}

# Claim the standard config location for this cluster. Where another live cluster holds it,
# return 1: this cluster's slurmd then runs in a private mount namespace (start_slurmd).
link_config() {
    local target
    if [[ -e /etc/slurm/slurm.conf ]]; then
        die "/etc/slurm/slurm.conf exists, so commands inside jobs would use that cluster;" \
            "this script only runs where SLURM has no system configuration"
    fi
    if [[ -L "$RUN_CONF" ]]; then
        target="$(readlink "$RUN_CONF")"
        if [[ "$target" != "$CONF" ]] && [[ -e "$target" ]] \
            && DATALAWS_SLURM_DIR="${target%/etc/slurm.conf}" "$0" status >/dev/null 2>&1; then
            return 1
        fi
    elif [[ -e "$RUN_CONF" ]]; then
        die "$RUN_CONF exists and is not ours (a configless slurmd?); not touching it"
    fi
    mkdir -p "$(dirname "$RUN_CONF")"
    ln -sfn "$CONF" "$RUN_CONF"
}

# One slurmd. With $1 = private, in a mount namespace of its own whose $RUN_CONF is this
# cluster's: every job step it starts inherits that view, so a second cluster (another
# $DATALAWS_SLURM_DIR and $DATALAWS_SLURM_PORT) runs beside one that holds the shared link.
start_slurmd() {
    if [[ "$1" != private ]]; then
        slurmd -f "$CONF" -N "$2"
        return
    fi
    command -v unshare >/dev/null || die "$RUN_CONF is held by another cluster and unshare is missing"
    unshare --mount --propagation private -- bash -c 'mount -t tmpfs -o size=64k tmpfs "$1" \
        && ln -s "$2" "$1/slurm.conf" && exec slurmd -f "$2" -N "$3"' _ \
        "$(dirname "$RUN_CONF")" "$CONF" "$2"
}

unlink_config() {
    if [[ -L "$RUN_CONF" && "$(readlink "$RUN_CONF")" == "$CONF" ]]; then rm -f "$RUN_CONF"; fi
}

start_daemons() {
    local node view=shared
    if ! link_config; then
        view=private
        mkdir -p "$(dirname "$RUN_CONF")"
        say "$RUN_CONF belongs to another running cluster: this one's slurmd get a private view"
    fi
    if ! alive munged; then
        # munged runs as its own user, as it insists; --force accepts the sticky /tmp above it.
        rm -f "$DIR/munge/munged.pid"
        runuser -u munge -- munged --force --socket="$SOCKET" --key-file="$DIR/munge/munge.key" \
            --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
            --seed-file="$DIR/munge/munged.seed"
        wait_for 10 test -s "$DIR/munge/munged.pid" || die "munged did not start"
        cp "$DIR/munge/munged.pid" "$RUN/munged.pid"
    fi
    if ! alive slurmctld; then
        slurmctld -f "$CONF" -i
        wait_for 20 alive slurmctld || die "slurmctld did not start (see $LOG/slurmctld.log)"
    fi
    for node in $(node_names); do
        if ! alive "slurmd-$node"; then
            start_slurmd "$view" "$node"
            wait_for 20 alive "slurmd-$node" \
                || die "slurmd for $node did not start (see $LOG/slurmd-$node.log)"
        fi
    done
    if ! wait_for 30 nodes_ready; then
        SLURM_CONF="$CONF" sinfo -N -l >&2 || true
        die "nodes did not become ready (see the logs in $LOG)"
    fi
}

all_alive() {
    local d
    for d in $(daemons); do alive "$d" || return 1; done
}

cmd_up() {
    if [[ -f "$CONF" ]] && all_alive && nodes_ready; then
        link_config || true
        say "already up ($DIR)"
        return 0
    fi
    install_packages
    if ! getent hosts "$(hostname -s)" >/dev/null; then
        say "warning: $(hostname -s) does not resolve; multi-node torchrun rendezvous will fail" \
            "(add it to /etc/hosts)"
    fi
    if ! alive slurmctld; then write_config; fi
    start_daemons
    say "up: SLURM_CONF=$CONF; $NODES nodes with $GPUS_PER_NODE fake GPUs each;" \
        "partitions $CPU_PARTITION (default) and $GPU_PARTITION"
}

stop_daemon() {
    local pid
    if ! alive "$1"; then rm -f "$RUN/$1.pid"; return 0; fi
    pid="$(pid_of "$1")"
    kill -TERM "$pid"
    if ! wait_for 15 eval "! alive $1"; then
        say "$1 ($pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/$1.pid"
}

# Processes of this cluster's jobs still alive once the daemons are gone: proctrack/linuxproc
# follows only a step's process tree, so a job process that lost its parent (a node set DOWN in
# the fault tests) escapes the step's kill and would linger, holding its memory, after the suite.
job_leftovers() {
    local environ vars
    for environ in /proc/[0-9]*/environ; do
        { vars="$(tr '\0' '\n' < "$environ")"; } 2>/dev/null || continue
        if grep -qx "SLURM_CONF=$CONF" <<<"$vars" && grep -q '^SLURM_JOB_ID=' <<<"$vars"; then
            basename "$(dirname "$environ")"
        fi
    done
}

cmd_down() {
    local d left
    if alive slurmctld && alive munged; then
        # Jobs first, so that no job step outlives the slurmd that would reap it.
        SLURM_CONF="$CONF" scancel --full --user="$(id -un)" 2>/dev/null || true
        wait_for 30 bash -c "[[ -z \"\$(SLURM_CONF='$CONF' squeue -h -t R,CG,S -o %i)\" ]]" \
            || say "jobs are still ending; stopping the daemons anyway"
    fi
    for d in $(daemons | grep '^slurmd-'); do stop_daemon "$d" & done
    wait
    stop_daemon slurmctld
    stop_daemon munged
    left="$(job_leftovers)"
    if [[ -n "$left" ]]; then
        say "killing job processes that outlived their step: $(echo $left)"
        kill -KILL $left 2>/dev/null || true
    fi
    rm -f "$DIR/munge/munged.pid"
    unlink_config
    say "down ($DIR)"
}

cmd_status() {
    local d ok=0
    for d in $(daemons); do
        if alive "$d"; then echo "$d running (pid $(pid_of "$d"))"; else echo "$d stopped"; ok=1; fi
    done
    if [[ $ok == 0 ]]; then SLURM_CONF="$CONF" sinfo -N; fi
    return $ok
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) echo "export SLURM_CONF=$CONF" ;;
    *)
        echo "usage: $0 up|down|status|env" >&2
        exit 2
        ;;
esac
