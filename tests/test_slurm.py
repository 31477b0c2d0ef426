"""SLURM for real: a live cluster on this machine (scripts/slurm-cluster.sh), driven by
`snakemake --profile profiles/slurm --profile profiles/slurm-ci`.

The cluster has two nodes (two slurmd on one host), two fake GPUs per node and no accounting
database, so these tests cover what a user's cluster does: sbatch submission, partition routing,
GPU requests, one-node and multi-node torchrun placements, the squeue status command, and
preemption (warning signal -> checkpoint -> resubmission -> resume).

They skip only where the SLURM packages cannot be installed (no root or no apt); on CI they run.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import copy_slurm_study

from datalaws import atomic

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "slurm-cluster.sh"
MACHINERY = REPO / "tests" / "slurm" / "workflow"
VENV_BIN = Path(sys.executable).parent
CLUSTER_DIR = Path(os.environ.get("DATALAWS_SLURM_DIR", "/tmp/datalaws-slurm"))
CANNOT_INSTALL = 3  # scripts/slurm-cluster.sh: the SLURM packages cannot be installed here
PROFILES = ("--profile", "profiles/slurm", "--profile", "profiles/slurm-ci")
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")
FINISHED = re.compile(r"Finished jobid: (\d+) \(Rule: (\w+)\)")
# Guards against hangs (the sacct trap of docs/slurm.md), not speed limits: the reduced study takes
# about 4 minutes on an idle 2-core machine and 7-9 under a CPU hog, so the guards sit far above.
WORKFLOW_TIMEOUT_S = 1800
STARTUP_TIMEOUT_S = 900
PREEMPT_STEPS = yaml.safe_load((MACHINERY / "config.yaml").read_text())["preempt_steps"]
CI_CONFIG = REPO / "tests" / "slurm" / "config.yaml"
PREEMPTED_RUN = ("t2", 131072)  # the multi-node run of tests/slurm/config.yaml
LOCAL_CONFIGS = (
    *("--configfile", "config/tiny.yaml"),
    *("tests/slurm/config.yaml", "tests/slurm/local.yaml"),
)


def cluster(command: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATALAWS_SLURM_DIR=str(CLUSTER_DIR))
    return subprocess.run(
        ["bash", str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def slurm_env():
    """A running cluster for the whole session, and the environment that reaches it.

    Started here unless one was already up (then it is left running); stopped at the end by
    the script, which signals exactly the daemons named in its pid files.
    """
    was_up = cluster("status").returncode == 0
    up = cluster("up")
    if up.returncode == CANNOT_INSTALL:
        pytest.skip(f"SLURM cannot be installed here: {up.stderr.strip()}")
    assert up.returncode == 0, f"scripts/slurm-cluster.sh up failed:\n{up.stderr}"
    env = dict(
        os.environ,
        SLURM_CONF=str(CLUSTER_DIR / "etc" / "slurm.conf"),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        PYTHONUNBUFFERED="1",
    )
    yield env
    if not was_up:
        down = cluster("down")
        assert down.returncode == 0, down.stderr


def slurm(env: dict, *args: str) -> str:
    return subprocess.run(
        list(args), env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def job_record(env: dict, job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict (finished jobs stay visible: MinJobAge=3600)."""
    return dict(re.findall(r"(\w+)=(\S*)", slurm(env, "scontrol", "show", "job", "-o", job_id)))


def submissions(log: str) -> dict[str, list[str]]:
    """Snakemake job id -> the SLURM job ids it was submitted as, in order."""
    jobs: dict[str, list[str]] = {}
    for job, slurm_id, _ in SUBMITTED.findall(log):
        jobs.setdefault(job, []).append(slurm_id)
    return jobs


def start_snakemake(root: Path, env: dict, *args: str) -> subprocess.Popen:
    """Snakemake under `timeout -s INT`: a hung status loop becomes a failure, not a hang."""
    log = (root / "snakemake.log").open("w")
    proc = subprocess.Popen(
        ["timeout", "-s", "INT", str(WORKFLOW_TIMEOUT_S), str(VENV_BIN / "snakemake"), *args],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc


def wait_until(
    predicate,
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    root: Path | None = None,
):
    """Poll ``predicate`` until it returns something true; fail with Snakemake's log if the
    workflow (``proc``, running in ``root``) ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            log = failure_summary(proc_log(root)) if root else ""
            pytest.fail(f"snakemake exited ({proc.returncode}) while waiting for {what}:\n{log}")
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def running_job(root: Path, env: dict, rule: str, wildcards: str = "") -> str | None:
    """The SLURM id of the latest submission of ``rule`` (with these wildcard values, as the
    plugin names its log folders) if it is running now."""
    folder = f"/rule_{rule}/{wildcards}/" if wildcards else f"/rule_{rule}/"
    ids = [
        slurm_id
        for _, slurm_id, log in SUBMITTED.findall((root / "snakemake.log").read_text())
        if folder in log
    ]
    if ids and slurm(env, "squeue", "-h", "-j", ids[-1], "-o", "%T").strip() == "RUNNING":
        return ids[-1]
    return None


def slurm_log_path(root: Path, rule: str, wildcards: str, job_id: str) -> Path:
    return root / ".snakemake" / "slurm_logs" / f"rule_{rule}" / wildcards / f"{job_id}.log"


@pytest.fixture(scope="module")
def machinery(slurm_env, tmp_path_factory):
    """tests/slurm/workflow through the real profile, with two preemptions sent mid-run.

    ``signal``: the warning signal (scancel --signal=URG, what --signal=URG@N sends before the time
    limit). ``kill``: SIGKILL to the whole job, a run dying mid-way with no chance to save; right
    after it, the job's final output must not exist.
    """
    root = tmp_path_factory.mktemp("slurm-machinery")
    shutil.copytree(REPO / "profiles", root / "profiles")
    for item in MACHINERY.iterdir():
        copy = shutil.copytree if item.is_dir() else shutil.copy2
        copy(item, root / item.name)
    started = time.monotonic()
    timer = submit_timer_job(slurm_env, root / "timer")  # runs beside the workflow
    proc = start_snakemake(root, slurm_env, *PROFILES, "--configfile", "config.yaml")
    hit: dict[str, str] = {}
    while len(hit) < 2:
        for how, min_step, sig in (("signal", 3, "URG"), ("kill", 7, "KILL")):
            state = root / "results" / "preempt" / how / "state.json"
            job = None if how in hit else running_job(root, slurm_env, "slurmtest_preempt", how)
            if job and state.exists() and atomic.read_json(state)["step"] >= min_step:
                slurm(slurm_env, "scancel", f"--signal={sig}", job)
                hit[how] = job
        if proc.poll() is not None or time.monotonic() - started > STARTUP_TIMEOUT_S:
            pytest.fail(f"the preemptible jobs never ran long enough:\n{proc_log(root)}")
        time.sleep(0.3)
    wait_until(
        lambda: (
            slurm(slurm_env, "squeue", "-h", "-j", hit["kill"], "-o", "%T").strip()
            not in ("RUNNING", "COMPLETING")
        ),
        STARTUP_TIMEOUT_S,
        "the killed job to end",
        proc,
        root,
    )
    final_after_kill = (root / "results" / "preempt" / "kill" / "final.json").exists()
    proc.wait(timeout=WORKFLOW_TIMEOUT_S + 30)
    assert proc.returncode == 0, proc_log(root)[-4000:]
    timer["record"] = wait_until(
        lambda: (
            (r := job_record(slurm_env, timer["job"]))["JobState"]
            not in ("PENDING", "RUNNING", "COMPLETING")
            and r
        ),
        STARTUP_TIMEOUT_S,
        "the time-limited job to end",
    )
    return {
        "root": root,
        "log": proc_log(root),
        "preempted": hit,
        "final_after_kill": final_after_kill,
        "timer": timer,
        "wall": time.monotonic() - started,
    }


def submit_timer_job(env: dict, folder: Path) -> dict:
    """A job with a 1-minute limit and --signal=URG@50 whose work would take 100 s: SLURM's
    own timer must warn it, and it must checkpoint and stop before the limit."""
    folder.mkdir()
    state, out = folder / "state.json", folder / "out.json"
    job = slurm(
        env,
        "sbatch", "--parsable", "-p", "ci_gpu", "--gpus=1", "-t", "1", "--signal=URG@50",
        "-o", str(folder / "job.log"), "-D", str(folder),
        "--wrap", f"srun -n1 python {MACHINERY / 'scripts' / 'resumable.py'} --steps 400"
        f" --step-seconds 0.25 --state {state} --out {out}",
    ).strip()  # fmt: skip
    return {"job": job, "state": state, "out": out, "log": folder / "job.log"}


def proc_log(root: Path) -> str:
    return (root / "snakemake.log").read_text()


def failure_summary(log: str) -> str:
    """Snakemake's error lines, then the end of its log."""
    errors = [line for line in log.splitlines() if "Error" in line or "error:" in line]
    return "\n".join(errors[:20]) + "\n...\n" + log[-2000:]


def test_cluster_up_is_idempotent(slurm_env):
    pids = {p.name: p.read_text() for p in (CLUSTER_DIR / "run").glob("*.pid")}
    again = cluster("up")
    assert again.returncode == 0, again.stderr
    assert "already up" in again.stderr
    assert {p.name: p.read_text() for p in (CLUSTER_DIR / "run").glob("*.pid")} == pids
    assert len(pids) == 4  # munged, slurmctld, two slurmd
    nodes = slurm(slurm_env, "sinfo", "-h", "-N", "-o", "%N %G").split("\n")
    assert sum("gpu:fake:2" in line for line in nodes) >= 2


def test_every_job_went_through_sbatch(machinery, slurm_env):
    log = machinery["log"]
    finished = {job: rule for job, rule in FINISHED.findall(log) if rule != "all"}
    jobs = submissions(log)
    assert sorted(finished.values()) == sorted(
        ["slurmtest_cpu"] + ["slurmtest_preempt"] * 2 + ["slurmtest_probe"] * 3
    )
    assert set(finished) == set(jobs), "a job finished without an sbatch submission"
    for job, ids in jobs.items():
        record = job_record(slurm_env, ids[-1])
        assert record["JobState"] == "COMPLETED", record
        assert record["Comment"].startswith(f"rule_{finished[job]}")
        assert record["JobName"].startswith("datalaws_")  # slurm-jobname-prefix of the profile


def test_cpu_and_gpu_stages_go_to_their_partitions(machinery, slurm_env):
    for ids in submissions(machinery["log"]).values():
        record = job_record(slurm_env, ids[-1])
        wants_gpu = "gres:gpu" in record.get("TresPerJob", "")
        assert record["Partition"] == ("ci_gpu" if wants_gpu else "ci_cpu"), record
        assert wants_gpu != record["Comment"].startswith("rule_slurmtest_cpu")


@pytest.mark.parametrize(
    ("placement", "gpus", "nodes", "world"),
    [("single", 1, 1, 1), ("node", 2, 1, 2), ("multinode", 2, 2, 2)],
)
def test_gpu_placements(machinery, slurm_env, placement, gpus, nodes, world):
    probe = atomic.read_json(machinery["root"] / "results" / "probe" / f"{placement}.json")
    record = job_record(slurm_env, probe["ranks"][0]["job"])
    assert record["Comment"] == f"rule_slurmtest_probe_wildcards_{placement}"
    assert record["TresPerJob"] == f"gres:gpu:{gpus}"
    assert int(record["NumNodes"]) == nodes
    assert probe["world"] == world
    assert probe["allreduce"] == world * (world + 1) / 2  # every rank joined the collective
    assert len({rank["node"] for rank in probe["ranks"]}) == nodes
    assert sum(int(r["gpus_on_node"]) for r in {r["node"]: r for r in probe["ranks"]}.values()) == (
        gpus
    )


def preempt_result(machinery, how: str) -> tuple[dict, dict, dict]:
    """The preempted job's final record, its first attempt (the one the test stopped) and its last.

    On a loaded machine a resubmitted attempt can be stopped again (or a job can start late), so
    this asserts what the fault means rather than a submission count: the first attempt is the one
    the test hit, every later attempt is a new sbatch submission that resumed where the previous
    one saved, and the last one finished every step.
    """
    final = atomic.read_json(machinery["root"] / "results" / "preempt" / how / "final.json")
    attempts = final["attempts"]
    first, last = attempts[0], attempts[-1]
    assert len(attempts) >= 2 and first["job"] == machinery["preempted"][how]
    jobs = [a["job"] for a in attempts]
    assert len(set(jobs)) == len(jobs)  # each attempt a new submission, not a rerun in place
    (ids,) = [ids for ids in submissions(machinery["log"]).values() if first["job"] in ids]
    assert ids[0] == first["job"] and ids[-1] == last["job"] and set(jobs) <= set(ids)
    for before, after in itertools.pairwise(attempts):
        assert after["start"] <= before.get("stop", PREEMPT_STEPS)  # resumed from a saved step
    assert last["stop"] == final["step"] == PREEMPT_STEPS
    assert not (machinery["root"] / "results" / "preempt" / how / "state.json").exists()
    return final, first, last


def test_warned_job_checkpoints_is_resubmitted_and_resumes(machinery, slurm_env):
    final, first, last = preempt_result(machinery, "signal")
    second = final["attempts"][1]
    assert 3 <= first["stop"] == second["start"] < final["step"]  # resumed where it stopped
    assert job_record(slurm_env, first["job"])["JobState"] == "FAILED"
    log = slurm_log_path(machinery["root"], "slurmtest_preempt", "signal", first["job"])
    assert "returned non-zero exit status 75" in log.read_text()  # the checkpoint exit
    assert job_record(slurm_env, last["job"])["JobState"] == "COMPLETED"


def test_killed_job_leaves_no_final_output_and_is_rerun(machinery, slurm_env):
    final, first, last = preempt_result(machinery, "kill")
    second = final["attempts"][1]
    assert machinery["final_after_kill"] is False
    assert "stop" not in first  # it died without saving
    assert second["start"] % 5 == 0 and 5 <= second["start"] < PREEMPT_STEPS  # last periodic save
    assert job_record(slurm_env, first["job"])["JobState"] in ("FAILED", "CANCELLED")
    assert job_record(slurm_env, last["job"])["JobState"] == "COMPLETED"


def test_time_limit_warning_signal_reaches_the_job(machinery):
    """--signal=URG@N: SLURM itself warns a job N seconds before its limit."""
    timer = machinery["timer"]
    record = timer["record"]
    assert record["JobState"] == "FAILED" and record["ExitCode"] == "75:0", record
    saved = atomic.read_json(timer["state"])
    assert 0 < saved["attempts"][0]["stop"] < 400 and not timer["out"].exists()
    assert f"signal {int(signal.SIGURG)}: checkpoint" in timer["log"].read_text()


# ---- the study's own DAG -------------------------------------------------------------------------


def study_targets() -> tuple[str, list[str]]:
    """The reduced study's grammar, and its gzip statistics and training runs as targets."""
    ci = yaml.safe_load(CI_CONFIG.read_text())
    (grammar,) = [g["name"] for g in ci["grammars"]]
    runs = [
        f"results/train/{grammar}/{size}/{budget}/final.json"
        for size in ci["train"]["sizes"]
        for budget in ci["train"]["budgets"]
    ]
    return grammar, [f"results/gzip/{grammar}.json", *runs]


@pytest.fixture(scope="module")
def study(slurm_env, tmp_path_factory):
    """The reduced study through `--profile profiles/slurm --profile profiles/slurm-ci`, with the
    multi-node training run sent the warning signal mid-run; then the same runs on the local
    profile, to compare with."""
    grammar, targets = study_targets()
    root = copy_slurm_study(tmp_path_factory.mktemp("slurm-study"))
    local = copy_slurm_study(tmp_path_factory.mktemp("local-study"))
    started = time.monotonic()
    proc = start_snakemake(root, slurm_env, *targets, *PROFILES)
    # The local run goes beside it: most of the SLURM run's wall time is scheduling latency.
    local_proc = start_snakemake(
        local, slurm_env, *targets, "--profile", "profiles/local", *LOCAL_CONFIGS
    )
    size, budget = PREEMPTED_RUN
    run = root / "results" / "train" / grammar / size / str(budget)

    def training_multinode():
        job = running_job(root, slurm_env, "train", f"{grammar}_{size}_{budget}")
        metrics = run / "metrics.jsonl"
        return job if job and metrics.exists() and len(metrics.read_text().split()) >= 3 else None

    preempted = wait_until(
        training_multinode, STARTUP_TIMEOUT_S, "the multi-node run to train", proc, root
    )
    slurm(slurm_env, "scancel", "--signal=URG", preempted)
    wait_until(
        lambda: (
            slurm(slurm_env, "squeue", "-h", "-j", preempted, "-o", "%T").strip()
            not in ("RUNNING", "COMPLETING")
        ),
        STARTUP_TIMEOUT_S,
        "the signalled run to stop",
        proc,
        root,
    )
    after_stop = {
        "final": (run / "final.json").exists(),
        "latest": atomic.read_json(run / "ckpt" / "latest.json")
        if (run / "ckpt" / "latest.json").exists()
        else None,
        "preempted": (run / "preempted.json").exists(),
    }
    proc.wait(timeout=WORKFLOW_TIMEOUT_S + 30)
    log = proc_log(root)
    assert proc.returncode == 0, log[-5000:]
    slurm_wall = time.monotonic() - started

    local_proc.wait(timeout=WORKFLOW_TIMEOUT_S + 30)
    assert local_proc.returncode == 0, proc_log(local)[-4000:]
    return {
        "root": root,
        "local": local,
        "log": log,
        "grammar": grammar,
        "targets": targets,
        "preempted": preempted,
        "after_stop": after_stop,
        "slurm_wall": slurm_wall,
    }


def test_study_jobs_all_went_through_sbatch(study, slurm_env):
    finished = dict(FINISHED.findall(study["log"]))
    jobs = submissions(study["log"])
    rules = sorted(rule for rule in finished.values() if rule != "all")
    assert rules.count("train") == 4 and "data_gzip" in rules and "data_grammar" in rules
    assert {job for job, rule in finished.items() if rule != "all"} == set(jobs)
    for ids in jobs.values():
        record = job_record(slurm_env, ids[-1])
        assert record["JobState"] == "COMPLETED", record
        wants_gpu = record["Comment"].startswith("rule_train_")
        assert record["Partition"] == ("ci_gpu" if wants_gpu else "ci_cpu"), record
        assert ("gres:gpu" in record.get("TresPerJob", "")) == wants_gpu, record


def test_training_jobs_asked_for_gpus_by_placement(study, slurm_env):
    expected = {  # (size, budget): (GPUs, nodes, world size)
        ("t1", 65536): (1, 1, 1),
        ("t1", 131072): (2, 1, 2),
        ("t2", 65536): (2, 1, 2),
        ("t2", 131072): (4, 2, 4),
    }
    for (size, budget), (gpus, nodes, world) in expected.items():
        wildcards = f"{study['grammar']}_{size}_{budget}"
        ids = [
            slurm_id
            for _, slurm_id, log in SUBMITTED.findall(study["log"])
            if f"/rule_train/{wildcards}/" in log
        ]
        record = job_record(slurm_env, ids[-1])
        assert record["TresPerJob"] == f"gres:gpu:{gpus}", (size, budget, record)
        assert int(record["NumNodes"]) == nodes, (size, budget, record)
        lead = round(yaml.safe_load(CI_CONFIG.read_text())["train"]["resources"]["warning_lead_s"])
        assert f"slurm_extra=--signal=URG@{lead}" in study["log"]  # the planner's warning lead
        final = atomic.read_json(
            study["root"] / f"results/train/{study['grammar']}/{size}/{budget}/final.json"
        )
        assert final["world_size"] == world, (size, budget)


def test_preempted_study_run_checkpointed_resubmitted_and_resumed(study, slurm_env):
    """Signalled -> checkpointed -> resubmitted -> resumed; the same loss as the local run is
    checked by test_study_outputs_match_the_local_profile. Counts that depend on load (a
    resubmitted attempt stopped again by the scheduler) are not asserted."""
    grammar, (size, budget) = study["grammar"], PREEMPTED_RUN
    after = study["after_stop"]
    assert after["final"] is False  # the stopped attempt left no final.json behind
    assert after["preempted"] and after["latest"]["reason"] == "signal"
    (ids,) = [ids for ids in submissions(study["log"]).values() if study["preempted"] in ids]
    assert ids[0] == study["preempted"] and len(ids) >= 2
    assert [job_record(slurm_env, i)["JobState"] for i in ids] == ["FAILED"] * (len(ids) - 1) + [
        "COMPLETED"
    ]
    first_log = slurm_log_path(study["root"], "train", f"{grammar}_{size}_{budget}", ids[0])
    assert "non-zero exit status 75" in first_log.read_text()  # the checkpoint exit
    run = study["root"] / f"results/train/{grammar}/{size}/{budget}"
    final = atomic.read_json(run / "final.json")
    assert final["attempts"] == len(ids) and final["steps"] > after["latest"]["step"] > 0
    log = (study["root"] / f"logs/train/{grammar}/{size}/{budget}.log").read_text()
    assert f"resumed from {after['latest']['dir']}" in log


def test_study_outputs_match_the_local_profile(study):
    slurm_root, local_root = study["root"], study["local"]
    data = [
        p.relative_to(slurm_root)
        for p in (slurm_root / "results").rglob("*")
        if p.is_file() and p.relative_to(slurm_root).parts[1] in ("grammars", "corpus", "gzip")
    ]
    assert len(data) >= 6
    for rel in data:
        assert (slurm_root / rel).read_bytes() == (local_root / rel).read_bytes(), rel
    for target in study["targets"][1:]:
        on_slurm = atomic.read_json(slurm_root / target)
        here = atomic.read_json(local_root / target)
        assert here["world_size"] == 1
        for key in ("config_hash", "n_params", "tokens", "flops_6nd", "steps"):
            assert on_slurm[key] == here[key], (target, key)
        # FSDP over 1, 2 or 4 ranks (and a resume) only reorders float sums
        assert on_slurm["val_loss"] == pytest.approx(here["val_loss"], rel=1e-5), target
        assert on_slurm["train_loss"] == pytest.approx(here["train_loss"], rel=1e-5), target


# ---- faults a study meets: a node lost, the workflow controller killed (docs/reliability.md) ----

FAULT_RUN = ("t1", 131072)  # two ranks under torchrun, 64 steps, a checkpoint every 16


def steps_in(run: Path) -> int:
    """Steps in a run's metrics so far (complete lines only: the run is writing it)."""
    metrics = run / "metrics.jsonl"
    lines = metrics.read_text().split("\n")[:-1] if metrics.exists() else []
    return sum('"train_loss"' in line for line in lines)


def text_of(path: Path) -> str:
    """A file's text, empty while it does not exist (Snakemake removes a job's log before the
    job runs, and the job's shell creates it again)."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def kill_controller(proc: subprocess.Popen) -> None:
    """SIGKILL to Snakemake and its `timeout` wrapper: a login node lost, an OOM kill. Its SLURM
    jobs keep running; nothing of Snakemake's gets to clean up."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    for pid in map(int, children):
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def faults(slurm_env, tmp_path_factory, study):
    """One training run of the reduced study through the real profiles, hit by two faults in turn:
    its node is set DOWN after its first checkpoint (SLURM kills and requeues the job), then
    Snakemake itself is SIGKILLed while the job trains again, and started again by hand
    (`--unlock`, then the same command). Compared with the same run of the study's local
    reference (FAULT_RUN is one of the study's runs)."""
    grammar, _ = study_targets()
    size, budget = FAULT_RUN
    target = f"results/train/{grammar}/{size}/{budget}/final.json"
    assert target in study["targets"]
    run = Path("results/train") / grammar / size / str(budget)
    root = copy_slurm_study(tmp_path_factory.mktemp("slurm-faults"))
    data = start_snakemake(
        root,
        slurm_env,
        target,
        "--profile",
        "profiles/local",
        *LOCAL_CONFIGS,
        "--omit-from",
        "train",
    )
    assert data.wait(timeout=WORKFLOW_TIMEOUT_S) == 0, proc_log(root)[-3000:]
    wildcards = f"{grammar}_{size}_{budget}"

    def training(after: int):
        def check():
            job = running_job(root, slurm_env, "train", wildcards)
            return job if job and steps_in(root / run) > after else None

        return check

    first_ctl = start_snakemake(root, slurm_env, target, *PROFILES)
    job = wait_until(training(20), STARTUP_TIMEOUT_S, "the run past step 20", first_ctl, root)
    node = slurm(slurm_env, "squeue", "-h", "-j", job, "-o", "%N").strip()
    slurm(slurm_env, "scontrol", "update", f"nodename={node}", "state=down", "reason=faults")
    down_at = time.monotonic()
    log = root / "logs" / "train" / grammar / size / f"{budget}.log"
    resumed = re.compile(r"resumed from step_(\d+) \(step (\d+)\)")
    match = wait_until(
        lambda: resumed.search(text_of(log)), STARTUP_TIMEOUT_S, "a resume", first_ctl, root
    )
    resumed_step = int(match.group(2))
    wait_until(training(resumed_step), STARTUP_TIMEOUT_S, "training again", first_ctl, root)
    node_recovery_s = time.monotonic() - down_at
    subprocess.run(  # ReturnToService=2 usually has it back already
        ["scontrol", "update", f"nodename={node}", "state=resume"], env=slurm_env, check=False
    )
    kill_controller(first_ctl)
    killed_at, steps_at_kill = time.monotonic(), steps_in(root / run)
    shutil.copy(root / "snakemake.log", root / "snakemake-killed.log")
    unlock = subprocess.run(
        [str(VENV_BIN / "snakemake"), target, *PROFILES, "--unlock"],
        cwd=root, env=slurm_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert unlock.returncode == 0, unlock.stderr
    second_ctl = start_snakemake(root, slurm_env, target, *PROFILES)
    assert second_ctl.wait(timeout=WORKFLOW_TIMEOUT_S + 30) == 0, proc_log(root)[-5000:]
    controller_recovery_s = time.monotonic() - killed_at
    print(
        f"\nfaults: node down -> training again in {node_recovery_s:.0f} s; controller killed at "
        f"step {steps_at_kill} -> restarted workflow done in {controller_recovery_s:.0f} s"
    )
    return {
        "root": root,
        "run": root / run,
        "local": atomic.read_json(study["local"] / target),
        "log": log.read_text(),
        "resumed_step": resumed_step,
        "killed_log": (root / "snakemake-killed.log").read_text(),
        "restart_log": proc_log(root),
    }


def test_a_run_whose_node_went_down_resumes_from_its_checkpoint(faults):
    assert faults["resumed_step"] > 0  # a periodic checkpoint, or the one saved on SLURM's signal
    final = atomic.read_json(faults["run"] / "final.json")
    assert final["attempts"] >= 2 and final["world_size"] == 2
    assert final["val_loss"] == pytest.approx(faults["local"]["val_loss"], rel=1e-5)
    assert final["train_loss"] == pytest.approx(faults["local"]["train_loss"], rel=1e-5)


def test_a_restarted_controller_never_trains_a_run_twice_at_once(faults):
    """The job that was training when Snakemake died finishes; the restarted workflow finds its
    result, or its job for the same run waits for it or restores it, and trains no step itself."""
    log = faults["log"]
    waited = any(m in log for m in ("waiting for", "already holds", "restored from"))
    assert waited or "Nothing to be done" in faults["restart_log"], log[-3000:]
    assert "not training it a second time" not in log and not (faults["run"] / "run.lock").exists()
    steps = [
        json.loads(x)["step"]
        for x in (faults["run"] / "metrics.jsonl").read_text().splitlines()
        if "train_loss" in x
    ]
    assert steps == list(range(1, 65))  # every step once, over every attempt of every job
    final = atomic.read_json(faults["run"] / "final.json")
    assert final["val_loss"] == pytest.approx(faults["local"]["val_loss"], rel=1e-5)
    assert final["train_loss"] == pytest.approx(faults["local"]["train_loss"], rel=1e-5)
