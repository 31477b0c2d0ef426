"""What a training run is: model shape, hyperparameters, and operational options.

The split matters for caching. ``Arch`` and ``HyperParams`` change the trained model, so they go
into the run's config hash and into the Snakemake params (changing them retrains). ``RunOptions``
only change how the run is carried out (checkpoint cadence, logging, threads, compilation, memory
cap), so changing them never invalidates a finished run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from datalaws.train.shape import ModelConfig


class TrainConfigError(ValueError):
    """A training setting that is out of range or inconsistent."""


@dataclass(frozen=True)
class Arch:
    """One rung of the size ladder; vocabulary and context come from the corpus."""

    dim: int
    ffn: int
    layers: int
    heads: int

    def model(self, vocab_size: int, context: int) -> ModelConfig:
        return ModelConfig(self.dim, self.ffn, self.layers, self.heads, vocab_size, context)


@dataclass(frozen=True)
class HyperParams:
    """Settings that change the trained model; all of them enter the config hash."""

    batch_size: int = 32  # sequences per optimizer step, summed over all ranks
    lr: float = 5e-5  # peak learning rate (the paper's value; small models like it higher)
    min_lr_ratio: float = 0.1  # cosine decays to lr * min_lr_ratio at the last step
    warmup_frac: float = 0.01  # fraction of steps of linear warmup (at least one step)
    weight_decay: float = 0.1
    grad_clip: float = 1.0  # global gradient-norm clip; 0 disables
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    seed: int = 0  # model init and data order
    eval_points: int = 4  # validation losses along the run, the last at the end
    val_sequences: int = 512  # held-out documents per validation (0: the whole file)
    precision: str = "auto"  # "fp32", "bf16", or "auto" (bf16 on GPU, fp32 on CPU)
    inject_nan_step: int | None = None  # fault injection: the loss of this step becomes NaN

    def __post_init__(self) -> None:
        _check_positive(self, ("batch_size", "lr", "eval_points"))
        _check_range(self, "min_lr_ratio", 0.0, 1.0)
        _check_range(self, "warmup_frac", 0.0, 1.0)
        _check_range(self, "beta1", 0.0, 1.0)
        _check_range(self, "beta2", 0.0, 1.0)
        for name in ("weight_decay", "grad_clip", "val_sequences", "seed"):
            if getattr(self, name) < 0:
                raise TrainConfigError(
                    f"train.hyper.{name} must be >= 0, got {getattr(self, name)}"
                )
        if self.precision not in ("auto", "fp32", "bf16"):
            raise TrainConfigError(
                f"train.hyper.precision must be 'auto', 'fp32' or 'bf16', got {self.precision!r}"
            )


def run_steps(budget: int, context: int, batch_size: int) -> int:
    """Optimizer steps of a run: the whole documents of its budget, in batches."""
    return -(-(budget // context) // batch_size)


@dataclass(frozen=True)
class WSD:
    """Warmup-stable-decay schedule: linear warmup, the peak lr, then a 1-sqrt decay to
    ``min_lr_ratio`` over the last ``cooldown_frac`` of the steps (Hägele et al. 2024, whose
    20% cooldowns match cosine runs of the same length).

    Why: runs of one model size that share it are identical up to the start of their decay, so one
    trunk run at the peak lr, branched at each budget's decay start, yields every budget for about
    ``1 + cooldown_frac * sum(budgets) / max(budgets)`` times the largest run's cost instead of
    ``sum(budgets) / max(budgets)`` times. All runs of a family draw their documents from the
    largest budget's pool (``trunk_budget``) in one seeded order, so a branch is exactly the run it
    replaces: a WSD run trained alone from step 0 gives the same result.
    """

    trunk_budget: int  # tokens of the family's largest run: its pool fixes the data order
    warmup_steps: int  # the same for every budget of the family
    cooldown_frac: float = 0.2

    def __post_init__(self) -> None:
        if self.trunk_budget < 1 or self.warmup_steps < 1:
            raise TrainConfigError(
                f"train.wsd: trunk_budget and warmup_steps must be >= 1, got "
                f"{self.trunk_budget} and {self.warmup_steps}"
            )
        if not 0 < self.cooldown_frac <= 1:
            raise TrainConfigError(
                f"train.wsd.cooldown_frac must lie in (0, 1], got {self.cooldown_frac}"
            )

    def decay_start(self, steps: int) -> int:
        """First step of the decay of a run of ``steps`` steps, where it leaves the trunk."""
        return steps - max(1, round(self.cooldown_frac * steps))


@dataclass(frozen=True)
class RunOptions:
    """How a run is carried out; none of these change the result beyond float noise."""

    device: str = "auto"  # "auto" (cuda if available), "cpu", "cuda"
    threads: int = 0  # torch CPU threads per process (0: leave torch's default)
    micro_batch: int = 0  # sequences per forward/backward on each rank (0: the whole local slice)
    compile: str = "auto"  # torch.compile the blocks: "auto" (on GPU), "on", "off"
    checkpoint_every: int = 500  # steps between resumable checkpoints (0: only on signal/end)
    log_every_s: float = 30.0  # seconds between progress lines when stdout is not a terminal
    max_memory_gb: float = 0.0  # refuse models whose estimated per-rank memory exceeds it (0: off)
    peak_flops: float = 0.0  # per-device peak FLOP/s for MFU (0: MFU not reported)
    progress: str = "auto"  # "auto" (tqdm on a terminal, log lines otherwise), "bar", "log", "off"
    keep_resume_checkpoint: bool = False  # keep the last optimizer-state checkpoint after success

    def __post_init__(self) -> None:
        for name in ("threads", "micro_batch", "checkpoint_every", "max_memory_gb", "peak_flops"):
            if getattr(self, name) < 0:
                raise TrainConfigError(f"train.run.{name} must be >= 0, got {getattr(self, name)}")
        if self.log_every_s <= 0:
            raise TrainConfigError(f"train.run.log_every_s must be > 0, got {self.log_every_s}")
        choices = {
            "device": ("auto", "cpu", "cuda"),
            "compile": ("auto", "on", "off"),
            "progress": ("auto", "bar", "log", "off"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise TrainConfigError(
                    f"train.run.{name} must be one of {allowed}, got {getattr(self, name)!r}"
                )


def _check_positive(obj: object, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(obj, name) <= 0:
            raise TrainConfigError(f"train.hyper.{name} must be > 0, got {getattr(obj, name)}")


def _check_range(obj: object, name: str, low: float, high: float) -> None:
    value = getattr(obj, name)
    if not low <= value <= high:
        raise TrainConfigError(f"train.hyper.{name} must lie in [{low}, {high}], got {value}")


def from_dict(cls: type, values: dict[str, Any] | None, where: str) -> Any:
    """Build a dataclass from a config mapping, naming unknown keys instead of ignoring them."""
    values = dict(values or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TrainConfigError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**values)


def ladder(section: dict) -> dict[str, Arch]:
    return {
        name: from_dict(Arch, shape, f"train.ladder.{name}")
        for name, shape in section["ladder"].items()
    }


def size_hyper(section: dict, size: str) -> HyperParams:
    """The hyperparameters for one size: the shared ones with that size's overrides applied."""
    hyper = dict(section.get("hyper", {}))
    hyper.update(section.get("hyper_by_size", {}).get(size, {}))
    return from_dict(HyperParams, hyper, "train.hyper")


def run_spec(section: dict, size: str, budget: int, labels: dict | None = None) -> dict:
    """Everything that determines one run's result, as plain JSON (the Snakemake params).

    With a ``wsd`` section the run uses the warmup-stable-decay schedule of its size's family
    (see ``WSD``); without one the spec has no ``wsd`` key, as before that schedule existed.
    """
    arches = ladder(section)
    if size not in arches:
        raise TrainConfigError(f"train.sizes: {size!r} is not in train.ladder {sorted(arches)}")
    spec = {
        "arch": asdict(arches[size]),
        "hyper": asdict(size_hyper(section, size)),
        "budget": int(budget),
        "unique_tokens": None,
        "labels": {"size": size, **(labels or {})},
    }
    if "wsd" in section:
        values = {"trunk_budget": max(section["budgets"]), **section["wsd"]}
        spec["wsd"] = asdict(from_dict(WSD, values, "train.wsd"))
    return spec


def trunk_spec(section: dict, size: str, labels: dict | None = None) -> dict:
    """The spec of a size's WSD trunk: the largest budget's run, stopped at its decay start, that
    keeps a checkpoint where each budget's decay begins."""
    if "wsd" not in section:
        raise TrainConfigError("train.wsd: a trunk run needs the wsd schedule")
    spec = run_spec(section, size, max(section["budgets"]), labels)
    spec["trunk"] = {"branch_budgets": sorted(int(b) for b in section["budgets"])}
    return spec


def parse_wsd(spec: dict) -> tuple[WSD | None, list[int] | None]:
    """The spec's WSD schedule (None: cosine) and, for a trunk, the budgets it branches to."""
    wsd = from_dict(WSD, spec["wsd"], "spec.wsd") if spec.get("wsd") else None
    trunk = spec.get("trunk")
    if trunk is not None and wsd is None:
        raise TrainConfigError("training spec: a trunk needs a wsd schedule")
    return wsd, (sorted(int(b) for b in trunk["branch_budgets"]) if trunk else None)


def run_options(section: dict, **overrides: Any) -> RunOptions:
    options = from_dict(RunOptions, section.get("run", {}), "train.run")
    return replace(options, **{k: v for k, v in overrides.items() if v is not None})


def config_hash(obj: Any) -> str:
    """sha256 of canonical JSON: equal settings give equal hashes on every machine."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_spec(spec: dict) -> tuple[Arch, HyperParams, int, int | None, dict]:
    """Undo ``run_spec``: (arch, hyper, budget, unique_tokens, labels)."""
    missing = sorted({"arch", "hyper", "budget"} - set(spec))
    if missing:
        raise TrainConfigError(f"training spec: missing keys {missing}")
    return (
        from_dict(Arch, spec["arch"], "spec.arch"),
        from_dict(HyperParams, spec["hyper"], "spec.hyper"),
        int(spec["budget"]),
        spec.get("unique_tokens"),
        dict(spec.get("labels", {})),
    )
