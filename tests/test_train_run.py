"""Training runs end to end on real PCFG corpora: a small grid, FSDP2 under torchrun with two CPU
ranks, preemption and resume, divergence, and inputs refused before any step."""

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from datalaws.corpus import write_tokens
from datalaws.grammar import GrammarSpec, random_grammar
from datalaws.sampler import CompiledSampler
from datalaws.train import (
    Arch,
    HyperParams,
    RunOptions,
    TrainingDiverged,
    TrainInputError,
    evaluate,
    train,
)
from datalaws.train.launch import EXIT_DIVERGED, EXIT_PREEMPTED
from datalaws.train.worker import main as train_main

CONTRACT_KEYS = {
    "grammar",
    "size",
    "budget",
    "n_params",
    "n_params_nonembedding",
    "tokens",
    "flops_6nd",
    "flops_exact",
    "train_loss",
    "val_loss",
    "val_curve",
    "wall_time_s",
    "tokens_per_s",
    "config_hash",
    "versions",
    "world_size",
    "device",
    "dtype",
}
SMALL, LARGE = Arch(16, 32, 1, 1), Arch(32, 64, 2, 2)
HYPER = HyperParams(batch_size=8, lr=1e-2, warmup_frac=0.05, val_sequences=32, eval_points=2)
QUIET = RunOptions(device="cpu", threads=1, checkpoint_every=0, progress="off")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """A real random PCFG (10 nonterminals, 60 terminals): 1024 train and 64 val documents."""
    root = tmp_path_factory.mktemp("corpus")
    grammar = random_grammar(GrammarSpec(10, 60, 5, 3), seed=7)
    sampler = CompiledSampler(grammar)
    meta = {"grammar": {"name": "g10"}}
    train_docs = sampler.documents(1024, 256, 1)
    write_tokens(train_docs[:512], root / "train" / "000.bin", grammar.vocab_size, **meta)
    write_tokens(train_docs[512:], root / "train" / "001.bin", grammar.vocab_size, **meta)
    write_tokens(sampler.documents(64, 256, 2), root / "val.bin", grammar.vocab_size, **meta)
    return {
        "train": [str(root / "train" / "000.bin"), str(root / "train" / "001.bin")],
        "val": str(root / "val.bin"),
        "vocab": grammar.vocab_size,
        "root": root,
    }


def run(corpus, out, arch=SMALL, budget=65536, hyper=HYPER, options=QUIET, **kw) -> dict:
    return train(
        corpus["train"],
        corpus["val"],
        out,
        arch=arch,
        budget=budget,
        hyper=hyper,
        options=options,
        **kw,
    )


def raw_corpus(path: Path, tokens: np.ndarray, vocab_size: int) -> None:
    """Write a token file and sidecar by the INTERFACES.md contract, bypassing write_tokens's
    own id check, to build the corrupt inputs that the trainer must refuse."""
    data = tokens.astype("<u2").tobytes()
    path.write_bytes(data)
    sidecar = {
        "format": "datalaws-tokens-v1",
        "dtype": "uint16",
        "context": tokens.shape[1],
        "n_tokens": tokens.size,
        "n_sequences": tokens.shape[0],
        "vocab_size": vocab_size,
        "separator": 0,
        "sha256": hashlib.sha256(data).hexdigest(),
        "split": "train",
    }
    Path(f"{path}.json").write_text(json.dumps(sidecar))


# ---- a small grid ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid(corpus, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("grid")
    return {
        (name, budget): run(
            corpus, out / name / str(budget), arch=arch, budget=budget, labels={"size": name}
        )
        for name, arch in (("small", SMALL), ("large", LARGE))
        for budget in (32768, 131072)
    } | {"root": out}


@pytest.mark.slow
def test_small_grid_trains_and_scales(grid, corpus):
    runs = {k: v for k, v in grid.items() if k != "root"}
    for (name, budget), r in runs.items():
        assert set(r) >= CONTRACT_KEYS
        on_disk = json.loads((grid["root"] / name / str(budget) / "final.json").read_text())
        assert on_disk == json.loads(json.dumps(r))
        assert (r["grammar"], r["size"], r["budget"], r["tokens"]) == ("g10", name, budget, budget)
        assert r["world_size"] == 1 and r["device"] == "cpu" and r["dtype"] == "float32"
        assert r["val_loss"] < math.log(corpus["vocab"])  # learned something beyond uniform
        assert r["flops_exact"] > r["flops_6nd"] > 0
        assert [t for t, _ in r["val_curve"]] == [budget // 2, budget]
        lines = (grid["root"] / name / str(budget) / "metrics.jsonl").read_text().splitlines()
        steps = [json.loads(x) for x in lines if "train_loss" in x]
        assert [s["step"] for s in steps] == list(range(1, r["steps"] + 1))
        assert r["train_loss"] == steps[-1]["train_loss"]  # 1% of < 100 steps is one step
    for name in ("small", "large"):  # more data, lower loss
        assert runs[name, 131072]["val_loss"] < runs[name, 32768]["val_loss"] - 0.05
    assert runs["large", 131072]["val_loss"] < runs["small", 131072]["val_loss"] - 0.05
    assert runs["large", 131072]["n_params_nonembedding"] > runs["small", 131072]["n_params"]


@pytest.mark.slow
def test_a_finished_run_is_not_retrained(grid, corpus):
    final = grid["root"] / "small" / "32768" / "final.json"
    before = final.stat().st_mtime_ns
    again = run(corpus, final.parent, budget=32768, labels={"size": "small"})
    assert again == json.loads(final.read_text()) and final.stat().st_mtime_ns == before


@pytest.mark.slow
def test_evaluate_reloads_the_final_weights(grid, corpus):
    r = grid["large", 32768]
    again = evaluate(grid["root"] / "large" / "32768", corpus["val"], sequences=32, device="cpu")
    assert again["val_loss"] == pytest.approx(r["val_loss"], abs=1e-6)
    other = evaluate(grid["root"] / "large" / "32768", corpus["train"][0], sequences=16)
    assert math.isfinite(other["val_loss"]) and other["sequences"] == 16


# ---- torchrun, preemption, resume --------------------------------------------------------------

LAUNCH_ARGS = [
    "--shape",
    "32,64,2,2",
    "--batch-size",
    "8",
    "--lr",
    "1e-2",
    "--warmup-frac",
    "0.05",
    "--val-sequences",
    "32",
    "--eval-points",
    "2",
    "--checkpoint-every",
    "0",
    "--progress",
    "log",
    "--log-every-s",
    "1",
    "--device",
    "cpu",
]


def launch(corpus, out, budget, procs=2) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "datalaws.train.launch",
        "--procs-per-node",
        str(procs),
        "--cpus",
        str(procs),
        "--out",
        str(out),
        "--",
        "--train",
        *corpus["train"],
        "--val",
        corpus["val"],
        "--budget",
        str(budget),
        *LAUNCH_ARGS,
    ]
    log = open(Path(f"{out}.log"), "ab")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def steps_done(out: Path) -> int:
    metrics = out / "metrics.jsonl"
    if not metrics.exists():
        return 0
    return sum('"train_loss"' in line for line in metrics.read_text().splitlines())


def wait_for_step(proc: subprocess.Popen, out: Path, step: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while steps_done(out) < step:
        assert proc.poll() is None, (
            f"run ended before step {step}: {Path(f'{out}.log').read_text()}"
        )
        assert time.time() < deadline, "run too slow to reach the step"
        time.sleep(0.02)


def descendants(pid: int) -> list[int]:
    """Processes below ``pid``: here the launcher's torchrun and torchrun's two ranks."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [d for c in map(int, children) for d in (c, *descendants(c))]


@pytest.fixture(scope="module")
def two_ranks(corpus, tmp_path_factory) -> dict:
    """An uninterrupted 2-rank FSDP run of 128 steps, the reference for the resume test."""
    out = tmp_path_factory.mktemp("torchrun") / "run"
    assert launch(corpus, out, 262144).wait(timeout=300) == 0, Path(f"{out}.log").read_text()
    return json.loads((out / "final.json").read_text())


@pytest.mark.slow
def test_two_ranks_match_one_process(two_ranks, corpus, tmp_path):
    one = run(corpus, tmp_path, arch=LARGE, budget=262144)
    assert two_ranks["world_size"] == 2 and one["world_size"] == 1
    assert two_ranks["config_hash"] == one["config_hash"]
    assert two_ranks["val_loss"] == pytest.approx(one["val_loss"], abs=1e-4)
    assert two_ranks["train_loss"] == pytest.approx(one["train_loss"], abs=1e-4)


@pytest.mark.slow
def test_preempted_two_rank_run_resumes_to_the_same_result(two_ranks, corpus, tmp_path):
    out = tmp_path / "run"
    # 1. SIGTERM to the launcher (what `scancel` or a Snakemake interrupt sends).
    proc = launch(corpus, out, 262144)
    wait_for_step(proc, out, 20)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == EXIT_PREEMPTED, Path(f"{out}.log").read_text()
    first = json.loads((out / "ckpt" / "latest.json").read_text())
    assert first["reason"] == "signal" and 20 <= first["step"] < 128
    assert not (out / "final.json").exists()
    # 2. SIGUSR1 straight to both ranks (what SLURM sends before a time limit).
    proc = launch(corpus, out, 262144)
    wait_for_step(proc, out, first["step"] + 20)
    cmdlines = {p: Path(f"/proc/{p}/cmdline").read_bytes() for p in descendants(proc.pid)}
    workers = [p for p, cmd in cmdlines.items() if b"torch.distributed.run" not in cmd]
    assert len(workers) == 2
    for pid in workers:
        os.kill(pid, signal.SIGUSR1)
    assert proc.wait(timeout=120) == EXIT_PREEMPTED, Path(f"{out}.log").read_text()
    second = json.loads((out / "ckpt" / "latest.json").read_text())
    assert first["step"] < second["step"] < 128
    # 3. The rerun finishes from the second checkpoint.
    assert launch(corpus, out, 262144).wait(timeout=300) == 0, Path(f"{out}.log").read_text()
    resumed = json.loads((out / "final.json").read_text())
    assert resumed["attempts"] == 3
    assert resumed["train_loss"] == pytest.approx(two_ranks["train_loss"], abs=1e-6)
    assert resumed["val_loss"] == pytest.approx(two_ranks["val_loss"], abs=1e-6)
    np.testing.assert_allclose(resumed["val_curve"], two_ranks["val_curve"], rtol=0, atol=1e-6)
    steps = [
        json.loads(x)["step"]
        for x in (out / "metrics.jsonl").read_text().splitlines()
        if "train_loss" in x
    ]
    assert steps == list(range(1, 129))  # each step logged once across three attempts
    assert not (out / "ckpt" / "latest.json").exists() and (out / "ckpt" / "final").is_dir()


def test_bf16_autocast_trains_like_fp32(corpus, tmp_path):
    fp32 = run(corpus, tmp_path / "fp32", budget=16384)
    bf16 = run(corpus, tmp_path / "bf16", budget=16384, hyper=replace(HYPER, precision="bf16"))
    assert (fp32["dtype"], bf16["dtype"]) == ("float32", "bfloat16")
    assert bf16["config_hash"] != fp32["config_hash"]
    assert bf16["val_loss"] == pytest.approx(fp32["val_loss"], abs=0.02)


# ---- faults and bad inputs ---------------------------------------------------------------------


def test_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(corpus, tmp_path):
    options = RunOptions(device="cpu", threads=1, checkpoint_every=2, progress="off")
    bad = replace(HYPER, inject_nan_step=5)
    with pytest.raises(TrainingDiverged, match="step 5: loss nan"):
        run(corpus, tmp_path, hyper=bad, options=options)
    assert json.loads((tmp_path / "ckpt" / "latest.json").read_text())["step"] == 4
    assert (tmp_path / "ckpt" / "step_00000004").is_dir()
    assert not (tmp_path / "final.json").exists()
    # Retrying the same config refuses at once (Snakemake retries would diverge again).
    with pytest.raises(TrainingDiverged, match="earlier attempt"):
        run(corpus, tmp_path, hyper=bad, options=options)
    # The checkpoint is good: a fixed config... is a different config, so it starts clean.
    code = train_main(
        [
            "--train",
            *corpus["train"],
            "--val",
            corpus["val"],
            "--out",
            str(tmp_path / "cli"),
            "--shape",
            "16,32,1,1",
            "--budget",
            "32768",
            "--lr",
            "1e30",
            "--progress",
            "off",
            "--device",
            "cpu",
        ]
    )
    assert code == EXIT_DIVERGED
    assert not (tmp_path / "cli" / "final.json").exists()


def test_budget_beyond_the_corpus_is_refused_unless_repeating(corpus, tmp_path):
    with pytest.raises(TrainInputError, match=r"hold only 262144 \(to train several epochs"):
        run(corpus, tmp_path / "a", budget=300000)
    assert not (tmp_path / "a" / "metrics.jsonl").exists()
    r = run(corpus, tmp_path / "b", budget=16384, unique_tokens=4096)
    assert (r["epochs"], r["unique_tokens"], r["tokens"]) == (4.0, 4096, 16384)
    assert (
        train_main(
            [
                "--train",
                *corpus["train"],
                "--val",
                corpus["val"],
                "--out",
                str(tmp_path / "c"),
                "--shape",
                "16,32,1,1",
                "--budget",
                "600000",
                "--progress",
                "off",
            ]
        )
        == 2
    )
    assert (
        train_main(
            [
                "--train",
                *corpus["train"],
                "--val",
                corpus["val"],
                "--out",
                str(tmp_path / "d"),
                "--shape",
                "16,32,1,1",
                "--budget",
                "600000",
                "--epochs",
                "3",
                "--progress",
                "off",
                "--batch-size",
                "64",
                "--eval-points",
                "1",
                "--val-sequences",
                "8",
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "d" / "final.json").read_text())["epochs"] == pytest.approx(3.0)


def test_model_over_the_memory_cap_is_refused(corpus, tmp_path):
    options = RunOptions(device="cpu", max_memory_gb=0.001, progress="off")
    with pytest.raises(TrainInputError, match="max_memory_gb"):
        run(corpus, tmp_path, arch=Arch(256, 512, 4, 4), options=options)
    assert not (tmp_path / "metrics.jsonl").exists()


def test_token_ids_outside_the_vocabulary_are_refused(tmp_path):
    tokens = np.random.default_rng(0).integers(0, 30, size=(8, 256))
    raw_corpus(tmp_path / "train.bin", tokens, vocab_size=20)
    raw_corpus(tmp_path / "val.bin", tokens[:2] % 20, vocab_size=20)
    with pytest.raises(TrainInputError, match="token id 29, outside the vocabulary of 20"):
        train(
            [tmp_path / "train.bin"],
            tmp_path / "val.bin",
            tmp_path / "run",
            arch=SMALL,
            budget=1024,
            options=QUIET,
        )
    raw_corpus(tmp_path / "val2.bin", tokens[:2] % 20, vocab_size=25)
    raw_corpus(tmp_path / "train2.bin", tokens % 20, vocab_size=20)
    with pytest.raises(TrainInputError, match="different corpora"):
        train(
            [tmp_path / "train2.bin"],
            tmp_path / "val2.bin",
            tmp_path / "run",
            arch=SMALL,
            budget=1024,
            options=QUIET,
        )
