"""One training run: (corpus, model size, token budget) -> ``final.json``, resumable and measured.

Lifecycle of ``train``:
  1. check every input before any step (budget vs corpus, token ids vs vocabulary, memory);
  2. build the model from the seed, shard it with FSDP2 when under torchrun, resume from
     ``ckpt/latest.json`` if it was written by the same config;
  3. step through the global batches of ``DocumentOrder`` with AdamW, linear warmup and cosine
     decay to ``min_lr_ratio`` at the last step (or the WSD schedule, ``config.WSD``), checking
     every loss and gradient norm;
  4. checkpoint every ``checkpoint_every`` steps and whenever SIGTERM/SIGUSR1 arrives (the signal
     then ends the run with ``Preempted`` once the checkpoint is safe);
  5. save the final weights, then write ``final.json`` atomically and last.

A WSD trunk (``branch_budgets`` given) stops where its own decay would begin, keeps a checkpoint at
each budget's decay start, and writes ``trunk.json`` instead of ``final.json``; a WSD run given the
trunk's directory starts from the trunk's checkpoint at its decay start instead of step 0.
"""

from __future__ import annotations

import json
import math
import platform
import signal
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext, suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributed.tensor import DTensor

import datalaws
from datalaws import atomic
from datalaws.corpus import TokenShards
from datalaws.train import checkpoint, distributed
from datalaws.train.config import WSD, Arch, HyperParams, RunOptions, config_hash, run_steps
from datalaws.train.data import Batches, DocumentOrder, eval_batches
from datalaws.train.distributed import Dist
from datalaws.train.flops import flops_6nd, training_flops
from datalaws.train.model import ModelConfig, Transformer
from datalaws.train.progress import Progress
from datalaws.train.resources import estimate_memory_bytes
from datalaws.train.shape import count_parameters

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGURG)


class TrainInputError(ValueError):
    """Inputs that cannot give a valid run; raised before any training step."""


class TrainingDiverged(RuntimeError):
    """A non-finite loss or gradient norm; the last good checkpoint is kept."""


class Preempted(Exception):
    """A stop signal arrived; a checkpoint was saved and a rerun resumes from it."""

    def __init__(self, step: int, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name} after step {step}")
        self.step, self.signum = step, signum


class StopSignals:
    """Remember SIGTERM/SIGUSR1 instead of dying: the step in flight finishes and gets saved."""

    def __init__(self) -> None:
        self.received = 0
        self._previous = {}
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}

    def _handle(self, signum: int, frame: object) -> None:
        self.received = self.received or signum

    def restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


@dataclass(frozen=True)
class RunPaths:
    root: Path
    record: str = "final.json"  # "trunk.json" for a WSD trunk

    @property
    def final(self) -> Path:
        return self.root / self.record

    @property
    def kept(self) -> Path:
        """A copy of the record beside the final weights, outside Snakemake's declared outputs:
        Snakemake deletes an existing ``final.json`` before it runs a job and after a job fails,
        which a duplicate job (a restarted workflow's) would otherwise turn into a retrain."""
        return self.ckpt / self.record

    @property
    def branches(self) -> Path:
        """A trunk's kept checkpoints, one resumable checkpoint folder per branch step."""
        return self.root / "branches"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def ckpt(self) -> Path:
        return self.root / "ckpt"

    @property
    def preempted(self) -> Path:
        return self.root / "preempted.json"

    @property
    def diverged(self) -> Path:
        return self.root / "diverged.json"


@dataclass(frozen=True)
class Plan:
    """Everything fixed before the first step; identical on every rank."""

    model: ModelConfig
    hyper: HyperParams
    order: DocumentOrder
    budget: int
    unique_tokens: int
    val_sequences: int
    eval_steps: tuple[int, ...]
    bf16: bool
    hash: str
    spec: dict
    wsd: WSD | None = None
    stop_step: int = 0  # where the loop ends: the last step, or a trunk's decay start
    branch_steps: tuple[int, ...] = ()  # a trunk's kept checkpoints
    trunk_hash: str | None = None  # the trunk a WSD run can start from


def lr_at(step: int, steps: int, hyper: HyperParams, wsd: WSD | None = None) -> float:
    """Linear warmup over the first warmup_frac of steps, then cosine to lr * min_lr_ratio; or,
    with ``wsd``, warmup over its warmup_steps, the peak, and a 1-sqrt decay to the same floor
    over the last cooldown_frac of the steps."""
    warmup = wsd.warmup_steps if wsd else max(1, round(hyper.warmup_frac * steps))
    if step < warmup:
        return hyper.lr * (step + 1) / warmup
    floor = hyper.lr * hyper.min_lr_ratio
    if wsd:
        start = wsd.decay_start(steps)
        if step < start:
            return hyper.lr
        return floor + (hyper.lr - floor) * (1 - math.sqrt((step - start + 1) / (steps - start)))
    progress = (step - warmup) / max(1, steps - 1 - warmup)
    return floor + 0.5 * (hyper.lr - floor) * (1 + math.cos(math.pi * min(progress, 1.0)))


def eval_schedule(steps: int, points: int) -> tuple[int, ...]:
    """Steps after which to validate: evenly spaced, the last one at the end of training."""
    return tuple(sorted({max(1, round(steps * i / points)) for i in range(1, points + 1)}))


def final_train_loss(losses: Sequence[float]) -> tuple[float, int]:
    """Mean over the last 1% of steps (at least one): less noisy than the last step alone."""
    k = max(1, math.ceil(0.01 * len(losses)))
    return float(np.mean(losses[-k:])), k


def versions() -> dict[str, str]:
    return {
        "datalaws": datalaws.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cuda": torch.version.cuda or "none",
    }


def _check_wsd(
    wsd: WSD, budget: int, unique_tokens: int | None, context: int, batch_size: int
) -> None:
    """A WSD run is one pass over the trunk's pool, and its decay starts after its warmup."""
    if unique_tokens is not None:
        raise TrainInputError("wsd: the schedule's runs are single passes; unique_tokens is unset")
    if budget > wsd.trunk_budget:
        raise TrainInputError(
            f"budget: {budget} tokens exceed the WSD trunk's {wsd.trunk_budget}, whose pool fixes "
            "the data order of every run in the family"
        )
    steps = run_steps(budget, context, batch_size)
    if wsd.decay_start(steps) < wsd.warmup_steps:
        raise TrainInputError(
            f"train.wsd.warmup_steps: {wsd.warmup_steps} warmup steps do not fit before the decay "
            f"of the {budget}-token run ({steps} steps, decay from step {wsd.decay_start(steps)}); "
            "shorten the warmup or drop the budget"
        )


def _check_inputs(
    shards: TokenShards,
    val: TokenShards,
    budget: int,
    unique_tokens: int | None,
    wsd: WSD | None,
    arch: Arch,
    hyper: HyperParams,
    options: RunOptions,
    world: int,
    bf16: bool,
) -> ModelConfig:
    """Refuse, with a message naming the problem, any input that cannot give a valid run."""
    context, vocab = shards.context, shards.vocab_size
    if (val.context, val.vocab_size) != (context, vocab):
        raise TrainInputError(
            f"validation file has context {val.context} and vocab_size {val.vocab_size}, the "
            f"training shards {context} and {vocab}: they come from different corpora"
        )
    for name, corpus in (("training shards", shards), ("validation file", val)):
        top = corpus.max_token()
        if top >= vocab:
            raise TrainInputError(
                f"{name} contain token id {top}, outside the vocabulary of {vocab} "
                f"(ids 0..{vocab - 1}) declared by the sidecar; the corpus is corrupt"
            )
    if budget < context:
        raise TrainInputError(f"budget: {budget} tokens is less than one {context}-token document")
    pool = budget if unique_tokens is None else unique_tokens
    if not context <= pool <= budget:
        raise TrainInputError(
            f"unique_tokens: {unique_tokens} must lie between one document ({context}) and the "
            f"budget ({budget})"
        )
    if wsd is not None:
        _check_wsd(wsd, budget, unique_tokens, context, hyper.batch_size)
        pool = wsd.trunk_budget
    if pool // context > shards.n_sequences:
        hint = "" if unique_tokens else " (to train several epochs, pass epochs or unique_tokens)"
        raise TrainInputError(
            f"budget: the run needs {pool // context * context} unique tokens but the training "
            f"shards hold only {shards.n_tokens}{hint}"
        )
    cfg = arch.model(vocab, context)
    rows = options.micro_batch or -(-hyper.batch_size // world)
    need = estimate_memory_bytes(cfg, rows, world, bf16)
    if options.max_memory_gb and need > options.max_memory_gb * 2**30:
        raise TrainInputError(
            f"model: {count_parameters(cfg)['total']:,} parameters with {rows} sequences per "
            f"micro-batch need about {need / 2**30:.2f} GiB per rank, over train.run.max_memory_gb "
            f"= {options.max_memory_gb}; use more ranks, a smaller micro_batch, or a smaller model"
        )
    return cfg


class Trainer:
    """The model, optimizer and loop state of one run on one rank (every rank holds one)."""

    def __init__(
        self,
        plan: Plan,
        shards: TokenShards,
        val: TokenShards,
        paths: RunPaths,
        options: RunOptions,
        d: Dist,
        stop: StopSignals,
        meta: dict,
    ) -> None:
        self.plan, self.val, self.paths, self.options, self.d = plan, val, paths, options, d
        self.stop, self.meta = stop, meta
        self.stop_agreed = False
        self.batches = Batches(shards, plan.order, d.rank, d.world)
        # Single process: bf16 by autocast; under FSDP the MixedPrecisionPolicy does it.
        self.autocast = plan.bf16 and not d.distributed
        self._build()
        self.state = {
            "step": 0,
            "losses": [],
            "val_curve": [],
            "train_time_s": 0.0,
            "wall_time_s": 0.0,
            "attempts": 0,
        }

    def _build(self) -> None:
        """Model and optimizer as at step 0, from the seed; also how a checkpoint that failed
        half-way through loading is undone."""
        plan, options, d = self.plan, self.options, self.d
        torch.manual_seed(plan.hyper.seed)
        with torch.device(d.device):
            model = Transformer(plan.model)
        if options.compile == "on" or (options.compile == "auto" and d.device.type == "cuda"):
            for block in model.layers:
                block.compile()
        self.model = distributed.shard(model, d, plan.bf16)
        self.optimizer = self._optimizer()

    def _optimizer(self) -> torch.optim.Optimizer:
        """AdamW; norm weights (1-D) are not decayed."""
        h = self.plan.hyper
        params = list(self.model.parameters())
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": h.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        fused = self.d.device.type == "cuda"
        return torch.optim.AdamW(groups, lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps, fused=fused)

    # ---- state on disk -------------------------------------------------------------------------

    def resume(self, trunk_dir: Path | None = None) -> None:
        """Continue from the newest usable checkpoint of this exact config; else, for a WSD run
        given its trunk, from the trunk's checkpoint where this run's decay starts; otherwise
        start clean."""
        found = self._load_newest(self.paths.ckpt, self.plan.hash)
        if found is not None:
            path, self.state = found
            self._say(f"resumed from {path.name} (step {self.state['step']})")
        else:
            if self.d.is_main and checkpoint.step_dirs(self.paths.ckpt):
                self._say("no usable checkpoint of this config: starting from step 0")
                (self.paths.ckpt / checkpoint.LATEST).unlink(missing_ok=True)
                checkpoint.prune(self.paths.ckpt)
            if trunk_dir is not None:
                self._branch_from(trunk_dir)
        self.state["attempts"] += 1
        if self.d.is_main:
            self.paths.preempted.unlink(missing_ok=True)
            self._trim_metrics(self.state["step"])
        distributed.barrier(self.d)

    def _load_newest(self, root: Path, config_hash: str) -> tuple[Path, dict] | None:
        """Load the newest checkpoint under ``root`` that is of ``config_hash``, complete, and
        loads on every rank; None if there is none. Never trains on a half-loaded state: after a
        failed load the model and optimizer are rebuilt from the seed, and ranks agree on every
        outcome (one rank's unreadable RNG file fails the checkpoint for all)."""
        for path in checkpoint.step_dirs(root):
            why, state = checkpoint.problem(path, config_hash), None
            tried = why is None
            if tried:
                try:
                    state = checkpoint.load(path, self.model, self.optimizer, self.d)
                except checkpoint.LOAD_ERRORS as err:  # any failure means: not this one
                    why = f"does not load ({type(err).__name__}: {str(err).splitlines()[0]})"
            (failed,) = distributed.all_sum([float(why is not None)], self.d)
            if not failed:
                return path, state
            self._say(f"skipping checkpoint {path}: {why or 'does not load on another rank'}")
            if tried:
                self._build()
        return None

    def _branch_from(self, trunk_dir: Path) -> None:
        """Load the trunk's kept checkpoint at this run's decay start (the same model, optimizer
        and RNG state this run would have reached alone) and go on from there."""
        start = self.plan.wsd.decay_start(self.plan.order.steps)
        root = RunPaths(trunk_dir).branches / f"step_{start:08d}"
        found = self._load_newest(root, self.plan.trunk_hash)
        if found is None:
            raise TrainInputError(
                f"{root}: no checkpoint of this run's WSD trunk at step {start} (missing, "
                "incomplete, or written by another config); train the trunk first"
            )
        self.state = {**found[1], "attempts": 0, "branched_from": str(root)}
        self._say(f"branched from the trunk at step {start} ({root})")

    def _trim_metrics(self, step: int) -> None:
        """Drop metric lines after the checkpoint, so a resumed run logs each step once."""
        kept = []
        if self.paths.metrics.exists():
            lines = self.paths.metrics.read_text().splitlines()
            kept = [line for line in lines if json.loads(line)["step"] <= step]
        atomic.write_text(self.paths.metrics, "".join(line + "\n" for line in kept))

    def save(self, reason: str) -> None:
        checkpoint.save(
            self.paths.ckpt,
            self.state["step"],
            self.model,
            self.optimizer,
            self.state,
            self.plan.hash,
            reason,
            self.d,
        )

    # ---- steps ---------------------------------------------------------------------------------

    def _loss_sum(self, tokens: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Summed next-token cross-entropy (nats) of the weighted rows; separators count."""
        tokens, weights = tokens.to(self.d.device), weights.to(self.d.device)
        ctx = torch.autocast(self.d.device.type, torch.bfloat16) if self.autocast else nullcontext()
        with ctx:
            logits = self.model(tokens[:, :-1])
        ce = F.cross_entropy(
            logits.float().flatten(0, 1), tokens[:, 1:].flatten(), reduction="none"
        )
        return (ce.view(tokens.size(0), -1).sum(1) * weights).sum()

    def train_step(self, step: int) -> tuple[float, float]:
        """One optimizer step on the global batch; returns (mean loss, lr)."""
        h, order = self.plan.hyper, self.plan.order
        lr = lr_at(step, order.steps, h, self.plan.wsd)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        tokens, weights = self.batches(step)
        targets = len(order.batch(step)) * (tokens.size(1) - 1)
        micro = self.options.micro_batch or tokens.size(0)
        chunks = range(0, tokens.size(0), micro)
        local = torch.zeros((), device=self.d.device)
        for i, start in enumerate(chunks):
            if self.d.distributed:
                self.model.set_requires_gradient_sync(i == len(chunks) - 1)
            loss_sum = self._loss_sum(tokens[start : start + micro], weights[start : start + micro])
            if h.inject_nan_step == step:
                loss_sum = loss_sum * float("nan")
            # FSDP averages gradients over ranks, hence * world: the result is d(global mean).
            (loss_sum * (self.d.world / targets)).backward()
            local += loss_sum.detach()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), h.grad_clip or math.inf)
        norm = float(norm.full_tensor() if isinstance(norm, DTensor) else norm)
        total, stop_votes = distributed.all_sum([local.item(), float(self.stop.received)], self.d)
        loss = total / targets
        if not (math.isfinite(loss) and math.isfinite(norm)):
            raise TrainingDiverged(
                f"step {step}: loss {loss} and gradient norm {norm} (lr {lr:.3e}); the update was "
                "not applied and the last good checkpoint is kept"
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        # Every rank acts on the vote, never on its own flag: a signal that lands after the
        # all-reduce must not make one rank save alone while the others run the next step.
        self.stop_agreed = stop_votes > 0
        if self.stop_agreed and not self.stop.received:
            self.stop.received = signal.SIGTERM  # another rank was signalled
        return loss, lr

    @torch.no_grad()
    def evaluate(self, val: TokenShards, sequences: int) -> float:
        """Mean next-token loss (nats) over the first ``sequences`` documents of ``val``."""
        size = (self.options.micro_batch * self.d.world) or self.plan.hyper.batch_size
        total = 0.0
        for rows, weights in eval_batches(sequences, size, self.d.rank, self.d.world):
            total += self._loss_sum(
                torch.from_numpy(val.read(rows)), torch.from_numpy(weights)
            ).item()
        (total,) = distributed.all_sum([total], self.d)
        return total / (sequences * (val.context - 1))

    # ---- the loop ------------------------------------------------------------------------------

    def fit(self) -> dict:
        """Step to the end of the budget, validating, logging and checkpointing on the way."""
        state = self.state
        self.progress = Progress(
            self.plan.stop_step,
            state["step"],
            self.options.progress,
            self.options.log_every_s,
            self.d.is_main,
        )
        # Rank 0 appends one JSON line per step and per validation.
        self.metrics = open(self.paths.metrics, "a") if self.d.is_main else None  # noqa: SIM115
        try:
            while state["step"] < self.plan.stop_step:
                t0 = time.perf_counter()
                loss, lr = self.train_step(state["step"])
                self._record_step(loss, lr, time.perf_counter() - t0)
                if state["step"] in self.plan.eval_steps:
                    self._validate()
                self._flush_metrics()
                if state["step"] in self.plan.branch_steps:
                    self._save_branch()
                self._checkpoint_or_stop()
                state["wall_time_s"] += time.perf_counter() - t0
        except TrainingDiverged as err:
            if self.d.is_main:
                record = {"config_hash": self.plan.hash, "step": state["step"], "error": str(err)}
                atomic.write_json(self.paths.diverged, record)
            raise
        finally:
            self.progress.close()
            if self.metrics is not None:
                with suppress(OSError):  # flushed every step; an error was raised there
                    self.metrics.close()
        return self.finish()

    def _flush_metrics(self) -> None:
        """A full disk shows here first; the error names the file."""
        if self.metrics is None:
            return
        try:
            self.metrics.flush()
        except OSError as err:
            raise OSError(err.errno, err.strerror, str(self.paths.metrics)) from err

    def _tokens_seen(self) -> int:
        docs = min(self.state["step"] * self.plan.hyper.batch_size, self.plan.order.n_seen)
        return docs * self.plan.model.context

    def _log(self, record: dict) -> None:
        if self.metrics is not None:
            self.metrics.write(json.dumps(record) + "\n")

    def _record_step(self, loss: float, lr: float, seconds: float) -> None:
        state = self.state
        step = state["step"]
        state["step"] = step + 1
        state["losses"].append(loss)
        state["train_time_s"] += seconds
        tok_s = len(self.plan.order.batch(step)) * self.plan.model.context / seconds
        self._log(
            {
                "step": step + 1,
                "tokens": self._tokens_seen(),
                "lr": lr,
                "train_loss": loss,
                "tokens_per_s": tok_s,
            }
        )
        self.progress.update(step, loss, lr, tok_s)

    def _validate(self) -> None:
        val_loss = self.evaluate(self.val, self.plan.val_sequences)
        self.state["val_curve"].append([self._tokens_seen(), val_loss])
        self._log({"step": self.state["step"], "tokens": self._tokens_seen(), "val_loss": val_loss})
        self.progress.message(f"step {self.state['step']}: val_loss {val_loss:.4f}")

    def _checkpoint_or_stop(self) -> None:
        """Periodic checkpoints; after a stop signal, a checkpoint and then ``Preempted``."""
        step, every = self.state["step"], self.options.checkpoint_every
        if step == self.plan.stop_step:
            return  # finishing: the final weights (or a trunk's last branch) are saved next
        if self.stop_agreed:
            self.save("signal")
            if self.d.is_main:
                atomic.write_json(
                    self.paths.preempted, {"step": step, "signal": self.stop.received}
                )
            raise Preempted(step, self.stop.received)
        if every and step % every == 0:
            self.save("periodic")

    def _save_branch(self) -> None:
        """A trunk keeps a resumable checkpoint where a budget's decay starts."""
        step = self.state["step"]
        root = self.paths.branches / f"step_{step:08d}"
        checkpoint.save(
            root, step, self.model, self.optimizer, self.state, self.plan.hash, "branch", self.d
        )

    def finish(self) -> dict:
        """Final weights first, then the summary; ``final.json`` is written last, atomically.
        A trunk has kept its branches already: its record lists them."""
        state, d = self.state, self.d
        t0 = time.perf_counter()
        if self.plan.branch_steps:
            return self._finish_trunk(t0)
        checkpoint.save_model(self.paths.ckpt / "final", self.model, d)
        if d.is_main and not self.options.keep_resume_checkpoint:
            (self.paths.ckpt / checkpoint.LATEST).unlink(missing_ok=True)
            checkpoint.prune(self.paths.ckpt)
        state["wall_time_s"] += time.perf_counter() - t0
        result = self.summary()
        if d.is_main:
            atomic.write_json(self.paths.kept, result)
            atomic.write_json(self.paths.final, result)
        distributed.barrier(d)
        return result

    def _finish_trunk(self, t0: float) -> dict:
        state, d = self.state, self.d
        if d.is_main:
            (self.paths.ckpt / checkpoint.LATEST).unlink(missing_ok=True)
            checkpoint.prune(self.paths.ckpt)
        state["wall_time_s"] += time.perf_counter() - t0
        record = {
            **self.meta,
            "config_hash": self.plan.hash,
            "trunk_budget": self.plan.budget,
            "steps": state["step"],
            "branches": {str(s): f"branches/step_{s:08d}" for s in self.plan.branch_steps},
            "train_time_s": state["train_time_s"],
            "wall_time_s": state["wall_time_s"],
            "tokens_per_s": state["step"]
            * self.plan.hyper.batch_size
            * self.plan.model.context
            / state["train_time_s"],
            "attempts": state["attempts"],
            "spec": self.plan.spec,
            "versions": versions(),
            "world_size": d.world,
        }
        if d.is_main:
            atomic.write_json(self.paths.kept, record)
            atomic.write_json(self.paths.final, record)
        distributed.barrier(d)
        return record

    def summary(self) -> dict:
        plan, state, d = self.plan, self.state, self.d
        params = count_parameters(plan.model)
        tokens = plan.order.n_seen * plan.model.context
        flops = training_flops(plan.model, plan.order.n_seen, plan.model.context - 1)
        train_loss, tail = final_train_loss(state["losses"])
        tokens_per_s = tokens / state["train_time_s"]
        peak = self.options.peak_flops
        return {
            **self.meta,
            "budget": plan.budget,
            "tokens": tokens,
            "unique_tokens": plan.order.n_pool * plan.model.context,
            "epochs": plan.order.n_seen / plan.order.n_pool,
            "steps": plan.order.steps,
            "n_params": params["total"],
            "n_params_nonembedding": params["nonembedding"],
            "flops_6nd": flops_6nd(params["nonembedding"], tokens),
            "flops_6nd_total": flops_6nd(params["total"], tokens),
            "flops_exact": flops,
            "train_loss": train_loss,
            "train_loss_steps": tail,
            "val_loss": state["val_curve"][-1][1],
            "val_curve": state["val_curve"],
            "val_tokens": plan.val_sequences * self.val.context,
            "wall_time_s": state["wall_time_s"],
            "train_time_s": state["train_time_s"],
            "tokens_per_s": tokens_per_s,
            "mfu": flops / state["train_time_s"] / (peak * d.world) if peak else None,
            "attempts": state["attempts"],
            "config_hash": plan.hash,
            "spec": plan.spec,
            "model": asdict(plan.model),
            "versions": versions(),
            "world_size": d.world,
            "device": torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else "cpu",
            "dtype": "bfloat16" if plan.bf16 else "float32",
        }

    def _say(self, text: str) -> None:
        if self.d.is_main:
            print(text, flush=True)


def make_plan(
    shards: TokenShards,
    val: TokenShards,
    arch: Arch,
    budget: int,
    hyper: HyperParams,
    options: RunOptions,
    unique_tokens: int | None,
    d: Dist,
    wsd: WSD | None = None,
    branch_budgets: Sequence[int] | None = None,
) -> Plan:
    """Everything fixed before the first step. ``branch_budgets`` makes the run a WSD trunk."""
    bf16 = hyper.precision == "bf16" or (hyper.precision == "auto" and d.device.type == "cuda")
    cfg = _check_inputs(
        shards, val, budget, unique_tokens, wsd, arch, hyper, options, d.world, bf16
    )
    n_seen = budget // cfg.context
    n_pool = (wsd.trunk_budget if wsd else unique_tokens or budget) // cfg.context
    order = DocumentOrder(n_pool, n_seen, hyper.batch_size, hyper.seed)
    val_sequences = min(hyper.val_sequences or val.n_sequences, val.n_sequences)
    resolved = replace(hyper, precision="bf16" if bf16 else "fp32")
    spec = {
        "arch": asdict(arch),
        "hyper": asdict(resolved),
        "budget": budget,
        "unique_tokens": unique_tokens,
        "vocab_size": cfg.vocab_size,
        "context": cfg.context,
        "train_sha256": [m["sha256"] for m in shards.metas],
        "val_sha256": val.metas[0]["sha256"],
        "val_sequences": val_sequences,
    }
    stop, branch_steps, trunk_hash = order.steps, (), None
    if wsd is not None:
        spec["wsd"] = asdict(wsd)
        trunk_hash = config_hash({**spec, "budget": wsd.trunk_budget, "role": "trunk"})
    if branch_budgets is not None:
        if wsd is None or budget != wsd.trunk_budget:
            raise TrainInputError("a WSD trunk trains the family's largest budget, trunk_budget")
        for b in branch_budgets:
            _check_wsd(wsd, b, None, cfg.context, hyper.batch_size)
        steps = (run_steps(b, cfg.context, hyper.batch_size) for b in branch_budgets)
        branch_steps = tuple(sorted({wsd.decay_start(n) for n in steps}))
        stop = wsd.decay_start(order.steps)
    return Plan(
        cfg,
        hyper,
        order,
        budget,
        n_pool * cfg.context,
        val_sequences,
        eval_schedule(order.steps, hyper.eval_points),
        bf16,
        trunk_hash if branch_budgets is not None else config_hash(spec),
        spec,
        wsd,
        stop,
        branch_steps,
        trunk_hash,
    )


def _previous_outcome(paths: RunPaths, config_hash: str, d: Dist) -> dict | None:
    """A finished run of this config is returned as is (its ``final.json`` restored from the copy
    under ``ckpt/`` if Snakemake removed it); one that diverged is not retried.

    Records of other configs are removed first, so a run that now dies leaves no final.json.
    """
    files = (paths.final, paths.kept, paths.diverged)
    records = {p: atomic.read_json(p) for p in files if p.exists()}
    distributed.barrier(d)  # every rank has read before rank 0 deletes
    current = {p: r for p, r in records.items() if r.get("config_hash") == config_hash}
    if d.is_main:
        for path in set(records) - set(current):
            path.unlink()
    if paths.final not in current and paths.kept in current:
        if d.is_main:
            atomic.write_json(paths.final, current[paths.kept])
        print(f"{paths.final} restored from {paths.kept}: the run had finished", flush=True)
        current[paths.final] = current[paths.kept]
    if paths.final in current:
        print(f"{paths.final} already holds this config's result; not retraining", flush=True)
        return current[paths.final]
    if paths.diverged in current:
        raise TrainingDiverged(
            f"an earlier attempt with this exact config diverged "
            f"({current[paths.diverged]['error']}); not retrying. Change the config, or delete "
            f"{paths.diverged} to try again"
        )
    return None


def train(
    train_paths: Sequence[str | Path],
    val_path: str | Path,
    out_dir: str | Path,
    *,
    arch: Arch,
    budget: int,
    hyper: HyperParams | None = None,
    options: RunOptions | None = None,
    unique_tokens: int | None = None,
    labels: dict | None = None,
    wsd: WSD | None = None,
    branch_budgets: Sequence[int] | None = None,
    trunk_dir: str | Path | None = None,
) -> dict:
    """Train one model and return the ``final.json`` record (also written to ``out_dir``).

    Works as one process or in every rank under torchrun. ``budget`` is the number of tokens seen
    (documents x context); ``unique_tokens`` (default: the budget) is how much of the corpus, from
    its start, those documents are drawn from: smaller means several passes, each in a fresh
    seeded order. Raises ``TrainInputError`` (a ValueError) before training for bad inputs,
    ``TrainingDiverged`` on a non-finite loss, ``Preempted`` after a signal checkpoint.

    ``wsd`` selects the warmup-stable-decay schedule. With ``branch_budgets`` the run is that
    family's trunk (``trunk.json``); a WSD run given ``trunk_dir`` starts at the trunk's checkpoint.
    """
    hyper, options = hyper or HyperParams(), options or RunOptions()
    stop = StopSignals()
    d = distributed.init(options.device)
    try:
        if options.threads:
            torch.set_num_threads(options.threads)
        paths = RunPaths(Path(out_dir), "trunk.json" if branch_budgets else "final.json")
        paths.root.mkdir(parents=True, exist_ok=True)
        shards, val = TokenShards(list(train_paths)), TokenShards([val_path])
        plan = make_plan(
            shards, val, arch, budget, hyper, options, unique_tokens, d, wsd, branch_budgets
        )
        if trunk_dir is not None and wsd is None:
            raise TrainInputError("trunk_dir: only a run with the wsd schedule starts from a trunk")
        done = _previous_outcome(paths, plan.hash, d)
        if done is not None:
            return done
        grammar = shards.metas[0].get("grammar", {}).get("name")
        meta = {"grammar": grammar, "size": "custom", **(labels or {})}
        trainer = Trainer(plan, shards, val, paths, options, d, stop, meta)
        trainer.resume(Path(trunk_dir) if trunk_dir is not None else None)
        return trainer.fit()
    finally:
        stop.restore()
        distributed.close(d)


def evaluate(
    run_dir: str | Path,
    val_path: str | Path,
    sequences: int = 0,
    batch_size: int = 32,
    device: str = "auto",
) -> dict:
    """Validation loss of a finished run's final weights on any corpus file of the same vocabulary.

    One process, any number of ranks at training time (DCP reshards on load). ``sequences`` = 0
    evaluates the whole file.
    """
    record = atomic.read_json(Path(run_dir) / "final.json")
    cfg = ModelConfig(**record["model"])
    val = TokenShards([val_path])
    if val.vocab_size > cfg.vocab_size:
        raise TrainInputError(
            f"{val_path}: vocab_size {val.vocab_size} exceeds the model's {cfg.vocab_size}"
        )
    d = Dist(0, 1, distributed.resolve_device(device), False)
    with torch.device(d.device):
        model = Transformer(cfg)
    checkpoint.load_model(Path(run_dir) / "ckpt" / "final", model)
    n = min(sequences or val.n_sequences, val.n_sequences)
    total = 0.0
    with torch.no_grad():
        for rows, _ in eval_batches(n, batch_size, 0, 1):
            tokens = torch.from_numpy(val.read(rows)).to(d.device)
            logits = model(tokens[:, :-1]).float()
            total += F.cross_entropy(
                logits.flatten(0, 1), tokens[:, 1:].flatten(), reduction="sum"
            ).item()
    return {
        "val_loss": total / (n * (val.context - 1)),
        "sequences": n,
        "path": str(val_path),
        "run": str(run_dir),
    }
