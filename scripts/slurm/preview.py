"""What `snakemake --profile profiles/slurm` would submit, without a cluster and without submitting.

Runs `snakemake --dry-run` with the given arguments, then renders each job's sbatch flags with the
SLURM executor plugin's own functions (partition choice from the profile's partition file,
resource flags, GPU flags), sums the GPU hours of the jobs that ask for GPUs, and says what the
training jobs' time limits rest on: a measured cost model (train.resources.cost_model, written by
`make gpu-check`) or an assumed MFU:

    .venv/bin/python scripts/slurm/preview.py --profile profiles/slurm
    .venv/bin/python scripts/slurm/preview.py --profile profiles/slurm --rules train_run -F

Arguments it does not know (targets, -F, --configfile ...) go to snakemake unchanged.

Flags the plugin adds for bookkeeping (job name, log file, comment, working directory, --wrap)
are left out. An account is shown as given; the plugin checks it with sacctmgr at submission.
"""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import yaml
from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file
from snakemake_executor_plugin_slurm.submit_string import get_submit_command
from snakemake_executor_plugin_slurm.utils import set_gres_string

BLOCK = re.compile(r"^(local)?rule (\w+):\n((?:    .*\n)*)", re.M)
BOOKKEEPING = ("--job-name", "--output", "--comment", "-D")
# datalaws.train.resources.runtime_basis tokens, spelled out
BASIS = {
    "measured": "measured cost model from {}",
    "assumed_mfu": "assumed MFU {}, unmeasured",
    "assumed_cpu_flops": "assumed CPU rate {} FLOP/s per thread, unmeasured",
}


class Resources(dict):
    """The plugin reads resources both as job.resources.get(k) and as job.resources.k."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError as err:
            raise AttributeError(name) from err


def parse_value(text: str) -> int | str:
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def parse_jobs(dry_run: str) -> list[dict]:
    """Job blocks of a dry run: rule, wildcards, threads, resources, and whether it is local."""
    jobs = []
    for match in BLOCK.finditer(dry_run):
        fields = dict(re.findall(r"^    (\w+): (.*)$", match.group(3), flags=re.M))
        resources = Resources()
        for item in re.split(r", (?=\w+=)", fields.get("resources", "")):
            if "=" in item:
                key, value = item.split("=", 1)
                resources[key] = parse_value(value)
        jobs.append(
            {
                "rule": match.group(2),
                # localrules run beside Snakemake; rules without outputs (targets) need no job
                "local": bool(match.group(1)) or "output" not in fields,
                "wildcards": fields.get("wildcards", "").replace(", ", ","),
                "threads": int(fields.get("threads", 1)),
                "resources": resources,
            }
        )
    return jobs


def profile_setting(profiles: list[str], key: str) -> str | None:
    """The value of ``key`` in the last profile that sets it, as Snakemake merges them."""
    value = None
    for profile in profiles:
        path = Path(profile)
        path = path if path.is_file() else path / "config.yaml"
        settings = yaml.safe_load(path.read_text()) or {}
        if key in settings:
            value = settings[key]
            candidate = path.parent / str(value)
            value = str(candidate) if candidate.exists() else str(value)
    return value


def sbatch_flags(job: dict, partitions: list | None) -> str:
    fake = SimpleNamespace(
        name=job["rule"],
        threads=job["threads"],
        resources=job["resources"],
        is_group=lambda: False,
    )
    res = job["resources"]
    partition = res.get("slurm_partition")
    if not partition and partitions:
        partition = get_best_partition(partitions, fake, logging.getLogger("preview"))
    account = res.get("slurm_account")
    params = {
        "run_uuid": "RUN",
        "slurm_logfile": "LOG",
        "comment_str": "COMMENT",
        "account": f" -A {shlex.quote(str(account))}" if account else "",
        "partition": f" -p {shlex.quote(str(partition))}" if partition else "",
        "workdir": "",
    }
    settings = SimpleNamespace(requeue=False, no_requeue=False, qos=None, reservation=None)
    words = shlex.split(get_submit_command(fake, params, settings) + set_gres_string(fake))
    kept, skip = [], False
    for word in words[2:]:  # drop "sbatch --parsable"
        if skip:
            skip = False
        elif word in BOOKKEEPING:
            skip = True
        elif not word.startswith("--export"):
            kept.append(word)
    return " ".join(kept)


def describe_basis(token: str) -> str:
    """'measured:results/gpu-check/cost_model.json' -> 'measured cost model from ...'."""
    kind, _, value = token.partition(":")
    return BASIS[kind].format(value) if kind in BASIS else token


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", action="append", required=True, help="as for snakemake")
    parser.add_argument("--rules", nargs="+", help="only these rules")
    args, snakemake_args = parser.parse_known_args()  # the rest goes to snakemake as given

    command = ["snakemake", "--dry-run", "--quiet", "host"]
    for profile in args.profile:
        command += ["--profile", profile]
    result = subprocess.run(command + snakemake_args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        return result.returncode
    jobs = [j for j in parse_jobs(result.stdout + result.stderr) if not j["local"]]
    if args.rules:
        jobs = [j for j in jobs if j["rule"] in args.rules]
    partition_file = profile_setting(args.profile, "slurm-partition-config")
    partitions = read_partition_file(Path(partition_file)) if partition_file else None

    gpu_hours = 0.0
    for job in jobs:
        label = f"{job['rule']}[{job['wildcards']}]" if job["wildcards"] else job["rule"]
        print(f"{label}: sbatch {sbatch_flags(job, partitions)}")
        res = job["resources"]
        gpu_hours += res.get("gpu", 0) * res.get("runtime", 0) / 60
    counts = Counter(j["rule"] for j in jobs)
    print(f"\n{len(jobs)} jobs: " + ", ".join(f"{n} {rule}" for rule, n in counts.items()))
    print(f"GPU hours at the time limits: {gpu_hours:.1f}")
    bases = Counter(
        j["resources"]["runtime_basis"] for j in jobs if "runtime_basis" in j["resources"]
    )
    for token, n in bases.items():
        print(f"Time limits of {n} training jobs from: {describe_basis(str(token))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
