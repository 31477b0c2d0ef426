"""Writing figures: PNG and PDF side by side, atomically, with no creation date in the PDF so
that a rerun of the same data gives the same bytes."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from datalaws.atomic import atomic_open


def save_figure(
    fig: plt.Figure, png: str | os.PathLike[str], pdf: str | os.PathLike[str] | None = None
) -> None:
    """Write ``png`` and ``pdf`` (default: the PDF beside the PNG), then close the figure."""
    pdf = Path(png).with_suffix(".pdf") if pdf is None else Path(pdf)
    for path, meta in ((Path(png), {}), (pdf, {"CreationDate": None})):
        with atomic_open(path) as handle:
            fig.savefig(handle, format=path.suffix[1:], dpi=150, bbox_inches="tight", metadata=meta)
    plt.close(fig)
