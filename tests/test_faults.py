"""Faults a real study meets, outside SLURM (the cluster ones are in tests/test_slurm.py): a
corrupt newest checkpoint, a full disk, a shard replaced mid-study, and a run directory that a
second job tries to train. Each test asserts what was lost (nothing) and what the user sees.
docs/reliability.md lists them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import REPO, VENV_BIN, copy_slurm_study, launcher

from datalaws import atomic
from datalaws.corpus import TokenShards, write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler
from datalaws.train import Arch, HyperParams, RunOptions, train
from datalaws.train.launch import EXIT_IO, EXIT_LOCKED

pytestmark = pytest.mark.slow  # every test trains, runs Snakemake, or starts processes

ARCH = Arch(16, 32, 1, 1)
HYPER = HyperParams(batch_size=8, lr=1e-2, warmup_frac=0.05, val_sequences=32, eval_points=2)
OPTIONS = RunOptions(device="cpu", threads=1, checkpoint_every=4, progress="off")
# Guards against hangs, not speed limits: on the shared, loaded 2-core machine one niced
# 16-step run took 95 s.
HANG_S = 900
BUDGET = 32768  # 16 steps: periodic checkpoints at 4, 8 and 12, the last two kept


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """A real random PCFG: 512 training and 64 validation documents."""
    root = tmp_path_factory.mktemp("corpus")
    grammar = random_grammar(GrammarSpec(6, 30, 4, 3), seed=3)
    sampler = CompiledSampler(grammar)
    meta = {"grammar": {"name": "g6"}}
    write_tokens(sampler.documents(512, 256, 1), root / "train.bin", grammar.vocab_size, **meta)
    write_tokens(sampler.documents(64, 256, 2), root / "val.bin", grammar.vocab_size, **meta)
    return {"train": [str(root / "train.bin")], "val": str(root / "val.bin"), "root": root}


def run(corpus: dict, out: Path, options: RunOptions = OPTIONS) -> dict:
    return train(
        corpus["train"], corpus["val"], out, arch=ARCH, budget=BUDGET, hyper=HYPER, options=options
    )


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict:
    """The uninterrupted run every faulted run must reproduce."""
    return run(corpus, tmp_path_factory.mktemp("reference"))


def interrupted(corpus: dict, out: Path) -> None:
    """A run that stopped after step 12 with its checkpoints of steps 8 and 12 on disk: the whole
    run with its resumable checkpoints kept, then its results taken away."""
    run(corpus, out, replace(OPTIONS, keep_resume_checkpoint=True))
    (out / "final.json").unlink()
    (out / "ckpt" / "final.json").unlink()  # the kept copy would restore the finished run
    shutil.rmtree(out / "ckpt" / "final")
    assert sorted(p.name for p in (out / "ckpt").glob("step_*")) == [
        "step_00000008",
        "step_00000012",
    ]


def corrupt(step_dir: Path, how: str) -> None:
    """What a job killed while saving, or a full disk, leaves behind."""
    shard = next(step_dir.glob("*.distcp"))
    if how == "killed while saving":  # the manifest is written last
        (step_dir / "checkpoint.json").unlink()
    elif how == "truncated shard":  # disk full mid-write
        shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    elif how == "missing shard":
        shard.unlink()
    elif how == "garbage state":
        (step_dir / "state.json").write_text('{"step": 12, "loss')
    elif how == "garbage tensors":  # same size, but DCP cannot read its entries
        size = (step_dir / ".metadata").stat().st_size
        (step_dir / ".metadata").write_bytes(b"\0" * size)


def metric_steps(out: Path) -> list[int]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(x)["step"] for x in lines if "train_loss" in x]


@pytest.mark.parametrize(
    "how",
    ["killed while saving", "truncated shard", "missing shard", "garbage state", "garbage tensors"],
)
def test_corrupt_newest_checkpoint_falls_back_to_the_previous(corpus, reference, tmp_path, how):
    out = tmp_path / "run"
    interrupted(corpus, out)
    corrupt(out / "ckpt" / "step_00000012", how)
    resumed = run(corpus, out)
    assert resumed["attempts"] == 2
    assert resumed["train_loss"] == pytest.approx(reference["train_loss"], abs=1e-6)
    assert resumed["val_loss"] == pytest.approx(reference["val_loss"], abs=1e-6)
    assert metric_steps(out) == list(range(1, 17))  # steps 9-12 trained again, logged once


def test_every_checkpoint_corrupt_starts_clean(corpus, reference, tmp_path, capsys):
    out = tmp_path / "run"
    interrupted(corpus, out)
    corrupt(out / "ckpt" / "step_00000012", "truncated shard")
    corrupt(out / "ckpt" / "step_00000008", "killed while saving")
    resumed = run(corpus, out)
    said = capsys.readouterr().out
    assert "skipping checkpoint" in said and "starting from step 0" in said
    assert resumed["train_loss"] == pytest.approx(reference["train_loss"], abs=1e-6)
    assert resumed["val_loss"] == pytest.approx(reference["val_loss"], abs=1e-6)
    assert metric_steps(out) == list(range(1, 17))


# ---- one trainer per run directory -------------------------------------------------------------


def hold_lock(run_dir: Path) -> subprocess.Popen:
    """Another process holding the run's lock, as a job training it would, until a line arrives
    on its stdin."""
    code = (
        "import sys; from datalaws.train import runlock\n"
        "with runlock.held(sys.argv[1]):\n"
        "    print('held', flush=True); sys.stdin.readline()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def cli_train(corpus: dict, out: Path, *extra: str, log: Path | None = None) -> subprocess.Popen:
    """`datalaws train-launch` as the rule runs it (one process); stderr to ``log``, by default
    ``out``.err."""
    args = ["--out", str(out), *extra, "--", "--train", *corpus["train"], "--val", corpus["val"]]
    run_args = [
        *("--shape", "16,32,1,1", "--budget", str(BUDGET), "--batch-size", "8", "--lr", "1e-2"),
        *("--warmup-frac", "0.05", "--val-sequences", "32", "--eval-points", "2"),
        *("--checkpoint-every", "4"),
    ]  # the config of `reference`
    log = log or Path(f"{out}.err")
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from datalaws.cli import main; sys.exit(main())",
         "train-launch", *args, *run_args, "--device", "cpu", "--threads", "1",
         "--progress", "off"],
        stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip
    proc.log = log
    return proc


def finished(proc: subprocess.Popen) -> tuple[int, str]:
    return proc.wait(timeout=HANG_S), proc.log.read_text()


def test_a_live_lock_refuses_a_second_trainer(corpus, tmp_path):
    out = tmp_path / "run"
    holder = hold_lock(out)
    code, err = finished(cli_train(corpus, out))
    holder.communicate("\n")
    assert code == EXIT_LOCKED, err
    (line,) = err.strip().splitlines()
    assert f"pid {holder.pid} on {socket.gethostname()}" in line and "run.lock" in line
    assert not (out / "metrics.jsonl").exists()  # it trained nothing


def test_a_stale_lock_is_broken_and_a_waiting_trainer_goes_on(corpus, tmp_path):
    dead = tmp_path / "dead"
    holder = hold_lock(dead)
    holder.kill()  # SIGKILL: the lock stays behind, its process is gone
    holder.wait()
    assert (dead / "run.lock").exists()
    code, err = finished(cli_train(corpus, dead))
    assert code == 0, err
    assert "breaking a stale lock" in err and not (dead / "run.lock").exists()
    busy = tmp_path / "busy"
    holder = hold_lock(busy)
    waiter = cli_train(corpus, busy, "--lock-wait-min", "5")
    deadline = time.monotonic() + HANG_S
    while "waiting for" not in Path(f"{busy}.err").read_text():
        assert waiter.poll() is None and time.monotonic() < deadline, Path(
            f"{busy}.err"
        ).read_text()
        time.sleep(0.2)
    holder.communicate("\n")  # the first job ends while the second waits
    code, err = finished(waiter)
    assert code == 0, err
    assert f"waiting for pid {holder.pid}" in err
    assert json.loads((busy / "final.json").read_text())["attempts"] == 1


def test_a_finished_run_whose_final_json_was_removed_is_not_retrained(corpus, tmp_path):
    """Snakemake removes final.json before a (duplicate) job runs and after one fails."""
    out = tmp_path / "run"
    first = run(corpus, out)
    metrics = (out / "metrics.jsonl").read_text()
    (out / "final.json").unlink()
    again = run(corpus, out)
    assert again == json.loads((out / "final.json").read_text()) == json.loads(json.dumps(first))
    assert (out / "metrics.jsonl").read_text() == metrics  # no step trained again


# ---- a shard replaced mid-study ----------------------------------------------------------------


def steps_logged(out: Path) -> int:
    """Steps in the metrics file so far (complete lines only: the run is writing it)."""
    metrics = out / "metrics.jsonl"
    lines = metrics.read_text().split("\n")[:-1] if metrics.exists() else []
    return sum('"train_loss"' in line for line in lines)


@pytest.mark.parametrize("how", ["overwritten in place", "rebuilt with its sidecar"])
def test_a_shard_replaced_mid_run_stops_it_before_a_step_reads_it(corpus, tmp_path, how):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("train.bin", "train.bin.json"):
        shutil.copy2(corpus["root"] / name, data / name)
    mine = {**corpus, "train": [str(data / "train.bin")]}
    out = tmp_path / "run"
    proc = cli_train(mine, out)
    deadline = time.monotonic() + HANG_S
    while steps_logged(out) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, Path(f"{out}.err").read_text()
        time.sleep(0.05)
    proc.send_signal(signal.SIGSTOP)  # mid-run, whatever the machine's load
    other = CompiledSampler(random_grammar(GrammarSpec(6, 30, 4, 3), seed=3)).documents(512, 256, 9)
    write_tokens(other, tmp_path / "other.bin", 31)
    if how == "overwritten in place":  # same size, same inode, same sidecar
        with open(data / "train.bin", "r+b") as handle:
            handle.write((tmp_path / "other.bin").read_bytes())
    else:  # a new file and its sidecar, renamed into place (what the data rule writes)
        for name in ("train.bin", "train.bin.json"):
            os.replace(tmp_path / name.replace("train", "other"), data / name)
    stopped_at = steps_logged(out)
    proc.send_signal(signal.SIGCONT)
    code, err = finished(proc)
    assert code == 2, err
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert str(data / "train.bin") in line and "sha256" in line
    assert steps_logged(out) <= stopped_at + 1 < 16  # at most the step in flight finished
    assert not (out / "final.json").exists()


# ---- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 1 MiB tmpfs: a real file system that fills up (needs root to mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` until about ``leave`` bytes are free; delete the file to free them."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def one_error_line(err: str, disk: Path) -> str:
    (line,) = [x for x in err.splitlines() if x.strip()]
    assert "No space left on device" in line and str(disk) in line, line
    return line


@pytest.mark.parametrize("leave", [0, 48 * 1024, 160 * 1024])
def test_training_on_a_full_disk_fails_clearly_and_a_rerun_completes(
    corpus, reference, small_disk, leave
):
    """The disk fills at the first write (metrics), during a checkpoint, or at the end."""
    out = small_disk / "run"
    filler = fill(small_disk, leave)
    code, err = finished(cli_train(corpus, out, log=small_disk.parent / "run.err"))
    assert code == EXIT_IO, err
    one_error_line(err, small_disk)
    assert not (out / "final.json").exists()
    # No half-written file under a real name; DCP's own temporaries may remain only inside a
    # checkpoint folder without its manifest, which no resume takes (and the next save replaces).
    debris = [
        p
        for p in small_disk.rglob("*.tmp")
        if not (p.parent.name.startswith("step_") and not (p.parent / "checkpoint.json").exists())
    ]
    assert not debris
    filler.unlink()
    code, err = finished(cli_train(corpus, out, log=small_disk.parent / "rerun.err"))
    assert code == 0, err
    final = json.loads((out / "final.json").read_text())
    assert final["train_loss"] == pytest.approx(reference["train_loss"], abs=1e-6)
    assert final["val_loss"] == pytest.approx(reference["val_loss"], abs=1e-6)


def test_a_shard_or_law_file_on_a_full_disk_is_never_left_half_written(tmp_path, small_disk):
    grammar = tmp_path / "g.json"
    cli = [sys.executable, "-c", "import sys; from datalaws.cli import main; sys.exit(main())"]
    made = subprocess.run(
        [*cli, "grammar", "-k", "6", "-T", "30", "--max-options", "4", "--max-length", "3",
         "--seed", "3", "-o", str(grammar)], capture_output=True, text=True, timeout=HANG_S,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    shard = small_disk / "train" / "000.bin"
    sample = [*cli, "sample", str(grammar), "--tokens", "262144", "--seed", "1", "-o", str(shard)]
    filler = fill(small_disk, 64 * 1024)
    failed = subprocess.run(sample, capture_output=True, text=True, timeout=HANG_S)
    assert failed.returncode == EXIT_IO, failed.stderr
    assert str(shard) in one_error_line(failed.stderr, small_disk)
    assert sorted(p.name for p in small_disk.rglob("*")) == ["filler", "train"]
    law = small_disk / "laws" / "law.json"
    with pytest.raises(OSError, match="No space left") as raised:
        atomic.write_json(law, {"coefficients": list(range(100_000))})
    assert raised.value.filename == str(law) and not list(law.parent.iterdir())
    filler.unlink()
    again = subprocess.run(sample, capture_output=True, text=True, timeout=HANG_S)
    assert again.returncode == 0, again.stderr
    assert TokenShards([shard]).n_tokens == 262144


# ---- two users, one results directory or one output cache --------------------------------------

CI = yaml.safe_load((REPO / "tests" / "slurm" / "config.yaml").read_text())
GRAMMAR = CI["grammars"][0]["name"]
DATA = [f"results/corpus/{GRAMMAR}/train/000.bin", f"results/corpus/{GRAMMAR}/val.bin"]
LOCAL = (
    *("--profile", "profiles/local", "--cores", "1", "--configfile", "config/tiny.yaml"),
    *("tests/slurm/config.yaml", "tests/slurm/local.yaml"),
)


def start(root: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    env = dict(env or os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.Popen(
        [str(VENV_BIN / "snakemake"), *DATA, *LOCAL, *args],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def holds_output_lock(root: Path, outputs: list[str]) -> bool:
    """Snakemake has written its output lock naming ``outputs``. A lock file exists before its
    lines are written (and the input lock before the output lock): stopping the first instance
    on a lock file's mere existence let a second one, on a loaded machine, read an empty lock."""
    for lock in (root / ".snakemake" / "locks").glob("*.output.lock"):
        with suppress(FileNotFoundError):
            if set(outputs) <= set(lock.read_text().splitlines()):
                return True
    return False


def test_a_second_snakemake_in_the_same_results_directory_is_refused(tmp_path):
    """Snakemake's own directory lock: the second user is refused with a clear message while the
    first runs; the first finishes undisturbed."""
    root = copy_slurm_study(tmp_path)
    first = start(root)
    deadline = time.monotonic() + HANG_S
    while not holds_output_lock(root, DATA):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.05)
    first.send_signal(signal.SIGSTOP)  # holds its lock, whatever the machine's load
    second = start(root)
    refused = second.communicate(timeout=HANG_S)[0]
    first.send_signal(signal.SIGCONT)
    assert second.returncode != 0 and "Directory cannot be locked" in refused, refused
    assert first.wait(timeout=HANG_S) == 0, first.communicate()[0]
    for path in DATA:
        TokenShards([root / path])  # verified against its sidecar


def test_two_users_share_one_output_cache_without_corruption(tmp_path):
    """Two studies in two directories with one SNAKEMAKE_OUTPUT_CACHE, at the same time: the
    cache moves each entry into place by rename, so both finish with identical, verified data."""
    cache = tmp_path / "cache"
    cache.mkdir()
    env = dict(os.environ, SNAKEMAKE_OUTPUT_CACHE=str(cache))
    roots = [copy_slurm_study(tmp_path / user) for user in ("alice", "bob")]
    procs = [start(root, "--cache", env=env) for root in roots]
    for proc in procs:
        assert proc.wait(timeout=HANG_S) == 0, proc.communicate()[0]
    for path in DATA:
        alice, bob = (root / path for root in roots)
        assert alice.read_bytes() == bob.read_bytes()
        TokenShards([alice])
        TokenShards([bob])
    assert list(cache.iterdir())  # the entries are shared, not private copies


def test_a_torchrun_workers_error_reaches_the_launcher_with_its_exit_code(tmp_path):
    """torchrun exits 1 whatever its worker's code; the worker's recorded one-line error keeps
    exit 2 (bad input, e.g. a replaced shard) or 74 (disk full) for the scheduler."""
    worker = (
        "import sys; from pathlib import Path; from datalaws.train import launch\n"
        "launch.record_failure(Path(sys.argv[1]), 2, 'x.bin: sha256 does not match')\n"
        "sys.exit(1)\n"
    )
    done = launcher([sys.executable, "-c", worker, str(tmp_path)], tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "datalaws train-launch: error: x.bin: sha256 does not match"
