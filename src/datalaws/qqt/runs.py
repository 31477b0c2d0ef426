"""Training runs as the law sees them: one row per (bucket, budget) with its final loss.

CSV columns: ``bucket, samples_seen, epochs, unique_samples, loss``. ``epochs`` is redundant
(``samples_seen / unique_samples``) and is checked against the other two, which catches a run
whose budget or pool was recorded in different units.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

COLUMNS = ("bucket", "samples_seen", "epochs", "unique_samples", "loss")
EPOCHS_RTOL = 0.01


class RunsError(ValueError):
    """A runs table the law cannot be fitted to or compared with."""


def validate_runs(
    frame: pd.DataFrame, *, min_distinct: int = 3, source: str = "runs"
) -> pd.DataFrame:
    """Return a clean copy of ``frame`` or raise naming the first problem found."""
    missing = [col for col in COLUMNS if col not in frame.columns]
    if missing:
        raise RunsError(f"{source}: missing columns {missing}; need {list(COLUMNS)}")
    if frame.empty:
        raise RunsError(f"{source}: no runs")
    out = frame.loc[:, list(COLUMNS)].copy()
    if out["bucket"].isna().any():
        raise RunsError(f"{source}: empty bucket name in row {int(out['bucket'].isna().idxmax())}")
    out["bucket"] = out["bucket"].astype(str)
    for col in COLUMNS[1:]:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float)) | (values <= 0).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise RunsError(
                f"{source}: column {col!r} must be a finite number > 0, row {row} has "
                f"{frame[col].iloc[row]!r}"
            )
        out[col] = values.astype(float)
    implied = out["samples_seen"] / out["unique_samples"]
    off = np.abs(out["epochs"] / implied - 1) > EPOCHS_RTOL
    if off.any():
        row = int(np.flatnonzero(off.to_numpy())[0])
        raise RunsError(
            f"{source}: row {row} ({out['bucket'].iloc[row]}): epochs {out['epochs'].iloc[row]:g} "
            f"!= samples_seen / unique_samples = {implied.iloc[row]:g}"
        )
    distinct = out.groupby("bucket", sort=False)["samples_seen"].nunique()
    few = distinct[distinct < min_distinct]
    if not few.empty:
        listed = ", ".join(f"{name!r} has {int(count)}" for name, count in few.items())
        raise RunsError(
            f"{source}: fewer than {min_distinct} distinct samples_seen values per bucket "
            f"({listed}); the law has a, b, d and tau to pin down"
        )
    return out.reset_index(drop=True)


def read_runs(path: str | os.PathLike[str], *, min_distinct: int = 3) -> pd.DataFrame:
    """Read and validate a runs CSV."""
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise RunsError(f"{path}: empty file") from err
    return validate_runs(frame, min_distinct=min_distinct, source=str(path))
