"""Training stage: one Llama-style model per (grammar, size, budget), FSDP2, resumable, measured.

The Python API others call: ``train(...)`` trains on given token shards and returns the
``final.json`` record; ``evaluate(run_dir, val_path)`` scores a finished run on any corpus file
(see docs/INTERFACES.md, "Training API"). Names are imported on first use, so that the launcher
(``datalaws.train.launch``), which only starts processes, does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Arch": "config",
    "HyperParams": "config",
    "RunOptions": "config",
    "TrainConfigError": "config",
    "Preempted": "trainer",
    "TrainInputError": "trainer",
    "TrainingDiverged": "trainer",
    "evaluate": "trainer",
    "train": "trainer",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'datalaws.train' has no attribute {name!r}")
    return getattr(importlib.import_module(f"datalaws.train.{_EXPORTS[name]}"), name)
