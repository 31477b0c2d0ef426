"""The data-filtering study on token data: which runs to train, training them, collecting them.

A *pool* here is anything trained on: a quality bucket, the random control, a top-k mixture
(``datalaws.qqt.buckets``), or the clean anchor. Each pool is trained at several budgets of
samples seen (documents), each budget a separate run from scratch, as in the paper: below one
pass the run draws the first documents of the (shuffled) pool file, above one pass it repeats the
whole file.

The clean anchor is fresh, uncorrupted data from the same grammar, never repeated (every run sees
new documents). It is a control, left out of top-k, and it is there to pin the loss floor ``d``:
with one pool size per bucket, a curve that flattens can be explained by a floor or by fast
wear-out (small ``tau``), and the fit cannot tell them apart. The anchor has no repetition, so
its flattening is the floor; fitting with ``d`` shared across buckets (``qqt.fit.share: [d]``,
as the authors share ``a`` and ``d``) carries that floor over to the buckets. See docs/qqt.md.

Runs go through the training stage's launcher (``datalaws.train.launch``), like every run, so the
same resources become one process, torchrun, or srun + torchrun. All runs of one pool share one
job: on a laptop this saves a process start per run; on a cluster the job's runtime is the sum
of its runs' and a preempted job resumes where it stopped (finished runs return at once, the
interrupted one resumes from its checkpoint).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from datalaws import atomic
from datalaws.qqt.buckets import CONTROL, bucket_name, bucket_size
from datalaws.qqt.runs import COLUMNS
from datalaws.train import launch

if TYPE_CHECKING:
    import pandas as pd

CLEAN = "clean"

PathLike = str | os.PathLike[str]


class StudyError(ValueError):
    """A study setting that cannot give a valid set of runs."""


@dataclass(frozen=True)
class StudyPlan:
    """Pools and budgets of the study (budgets in samples seen, i.e. documents)."""

    documents: int
    fraction: float
    buckets: int
    passes: tuple[float, ...]
    mixtures: tuple[int, ...]
    mixture_budgets: tuple[int, ...]
    clean_budgets: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        size = bucket_size(self.documents, self.fraction)
        if self.buckets < 1 or self.buckets * size > self.documents:
            raise StudyError(
                f"study.buckets: {self.buckets} buckets of {size} documents do not fit in a pool "
                f"of {self.documents}"
            )
        if len(set(self.passes)) < 3 or min(self.passes) <= 0:
            raise StudyError(
                f"study.passes: need at least 3 distinct positive values (the law has a, b, d "
                f"and tau), got {list(self.passes)}"
            )
        if len(set(self.bucket_runs())) < 3:
            raise StudyError(
                f"study.passes {list(self.passes)} give fewer than 3 distinct whole numbers of "
                f"documents for buckets of {size}"
            )
        bad = [k for k in self.mixtures if not 2 <= k <= self.buckets]
        if bad:
            raise StudyError(f"study.mixtures: top-k needs 2 <= k <= {self.buckets}, got {bad}")
        if self.mixtures and not self.mixture_budgets:
            raise StudyError("study.mixture_budgets: mixtures are listed but no budgets")
        if any(b < 1 for b in self.mixture_budgets):
            raise StudyError(f"study.mixture_budgets must be >= 1, got {self.mixture_budgets}")
        if self.clean_budgets and (len(set(self.clean_budgets)) < 3 or min(self.clean_budgets) < 1):
            raise StudyError(
                f"study.clean.budgets: need at least 3 distinct budgets >= 1 (the anchor is "
                f"fitted like a bucket), got {list(self.clean_budgets)}"
            )

    @property
    def bucket_size(self) -> int:
        return bucket_size(self.documents, self.fraction)

    @property
    def bucket_names(self) -> list[str]:
        """Quality buckets best first, then the controls: the order of the runs CSV."""
        names = [bucket_name(j, self.fraction) for j in range(self.buckets)] + [CONTROL]
        return names + ([CLEAN] if self.clean_budgets else [])

    @property
    def controls(self) -> list[str]:
        return [CONTROL] + ([CLEAN] if self.clean_budgets else [])

    @property
    def mixture_names(self) -> list[str]:
        return [f"top{k}" for k in self.mixtures]

    @property
    def pool_names(self) -> list[str]:
        return self.bucket_names + self.mixture_names

    def pool_documents(self, name: str) -> int:
        """Documents in the pool's file."""
        if name in self.mixture_names:
            return int(name[3:]) * self.bucket_size
        if name == CLEAN and self.clean_budgets:
            return max(self.clean_budgets)
        if name in self.bucket_names:
            return self.bucket_size
        raise StudyError(f"unknown pool {name!r}; the study has {self.pool_names}")

    def unique_documents(self, name: str, samples: int) -> int:
        """The law's pool size S for one run: the anchor never repeats, so S = samples seen."""
        return samples if name == CLEAN else self.pool_documents(name)

    def bucket_runs(self) -> list[int]:
        size = bucket_size(self.documents, self.fraction)
        return sorted({max(1, round(p * size)) for p in self.passes})

    def samples(self, name: str) -> list[int]:
        """Budgets (documents seen) of one pool's runs."""
        self.pool_documents(name)
        if name in self.mixture_names:
            return sorted(set(self.mixture_budgets))
        if name == CLEAN:
            return sorted(set(self.clean_budgets))
        return self.bucket_runs()


def run_spec(base: dict, pool: str, samples: int, unique_documents: int, context: int) -> dict:
    """A training spec (``datalaws.train.config.run_spec`` form) for ``samples`` documents seen
    from the first ``unique_documents`` of a pool file, repeated if fewer than ``samples``."""
    spec = json.loads(json.dumps(base))
    spec["budget"] = samples * context
    spec["unique_tokens"] = unique_documents * context if samples > unique_documents else None
    spec["labels"] = {
        **spec.get("labels", {}),
        "qqt_pool": pool,
        "qqt_unique_documents": unique_documents,
    }
    return spec


def worker_args(spec: dict, options: str, pool_path: PathLike, val_path: PathLike) -> list[str]:
    """``datalaws train`` arguments of one run: the same as rule ``train`` passes."""
    return [
        "--spec", json.dumps(spec, sort_keys=True, separators=(",", ":")),
        "--options", options,
        "--train", str(pool_path),
        "--val", str(val_path),
    ]  # fmt: skip


def train_pool(
    name: str,
    specs: Sequence[dict],
    pool_path: PathLike,
    val_path: PathLike,
    runs_dir: PathLike,
    resources: dict,
    options: str,
    out_csv: PathLike,
) -> int:
    """Train every run of one pool through the training stage's launcher, then write its rows of
    the runs table. Returns the first non-zero exit code (75 = preempted: rerun to resume,
    3 = diverged, 2 = bad input) without writing the table."""
    dirs = [Path(runs_dir) / str(spec["budget"]) for spec in specs]
    for spec, run_dir in zip(specs, dirs, strict=True):
        args = worker_args(spec, options, pool_path, val_path)
        nodes, procs, cpus = (resources[k] for k in ("nodes", "procs_per_node", "cpus_per_task"))
        code = launch.launch(nodes, procs, cpus, run_dir, args)
        if code:
            return code
    records = [atomic.read_json(run_dir / "final.json") for run_dir in dirs]
    atomic.write_text(out_csv, runs_table(name, records).to_csv(index=False))
    return 0


def runs_table(name: str, records: Sequence[dict]) -> pd.DataFrame:
    """Rows of the runs CSV (``datalaws.qqt.runs``) from ``final.json`` records of one pool."""
    import pandas as pd  # here, not at the top: the workflow plans with this module

    rows = []
    for record in records:
        context = record["model"]["context"]
        seen = record["tokens"] / context
        pool_documents = record["qqt_unique_documents"]
        rows.append(
            {
                "bucket": name,
                "samples_seen": seen,
                "epochs": seen / pool_documents,
                "unique_samples": pool_documents,
                "loss": record["val_loss"],
                "train_loss": record["train_loss"],
                "tokens": record["tokens"],
                "flops_6nd": record["flops_6nd"],
                "wall_time_s": record["wall_time_s"],
            }
        )
    return pd.DataFrame(rows)


def collect(tables: Sequence[PathLike]) -> pd.DataFrame:
    """Concatenate per-pool tables in the order given (quality order for buckets), refusing a
    pool that appears in two tables."""
    import pandas as pd

    frames = [pd.read_csv(path) for path in tables]
    seen: dict[str, str] = {}
    for path, frame in zip(tables, frames, strict=True):
        for name in frame["bucket"].astype(str).unique():
            if name in seen:
                raise StudyError(f"pool {name!r} appears in both {seen[name]} and {path}")
            seen[name] = str(path)
    out = pd.concat(frames, ignore_index=True)
    return out[[*COLUMNS, *[c for c in out.columns if c not in COLUMNS]]]
