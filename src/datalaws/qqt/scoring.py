"""Quality scores for every pool document, computed without looking at how the pool was made.

Two scorers, both "higher = worse":

- ``gzip``: the document's gzip ratio (``datalaws.compress.token_ratios``). A grammar's sentences
  repeat its productions, which gzip exploits; uniformly random tokens have no such structure, so
  corruption raises the ratio.
- ``reference_loss``: the document's mean next-token loss under a small model trained on a small
  clean sample of the same grammar (a run of ``datalaws.train``). A random token costs about
  ``log T`` nats where a grammatical one costs the grammar's entropy, and it also spoils the
  context of the tokens after it.

The oracle corruption rates are used only afterwards, to report each scorer's Spearman
correlation with them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from datalaws.atomic import read_json
from datalaws.compress import token_ratios

SCORERS = ("reference_loss", "gzip")


class ScoringError(ValueError):
    """A reference run or scorer that cannot score this pool."""


def document_losses(
    run_dir: str | os.PathLike[str], tokens: np.ndarray, batch_size: int = 64
) -> np.ndarray:
    """Mean next-token loss (nats) of each row of ``tokens`` under a finished run's final weights.

    Built on the training stage's public pieces (``final.json``'s model record, ``Transformer``,
    ``checkpoint.load_model``), the same way ``datalaws.train.evaluate`` scores a file, but kept
    per document instead of summed.
    """
    import torch
    import torch.nn.functional as F

    from datalaws.train import checkpoint
    from datalaws.train.model import ModelConfig, Transformer

    run_dir = Path(run_dir)
    record = read_json(run_dir / "final.json")
    cfg = ModelConfig(**record["model"])
    if tokens.ndim != 2 or tokens.shape[1] != cfg.context:
        raise ScoringError(
            f"documents of shape {tokens.shape} do not match the reference model's context "
            f"{cfg.context}"
        )
    if tokens.size and int(tokens.max()) >= cfg.vocab_size:
        raise ScoringError(
            f"token id {int(tokens.max())} is outside the reference model's vocabulary "
            f"({cfg.vocab_size})"
        )
    model = Transformer(cfg)
    checkpoint.load_model(run_dir / "ckpt" / "final", model)
    model.eval()
    out = np.empty(len(tokens))
    with torch.no_grad():
        for start in range(0, len(tokens), batch_size):
            batch = torch.from_numpy(np.asarray(tokens[start : start + batch_size], np.int64))
            logits = model(batch[:, :-1]).float()
            loss = F.cross_entropy(
                logits.flatten(0, 1), batch[:, 1:].flatten(), reduction="none"
            ).view(len(batch), -1)
            out[start : start + len(batch)] = loss.mean(dim=1).numpy()
    if not np.all(np.isfinite(out)):
        raise ScoringError(f"{run_dir}: the reference model gives non-finite document losses")
    return out


def score_pool(tokens: np.ndarray, reference_run: str | os.PathLike[str]) -> pd.DataFrame:
    """Both scores for every document, in pool order (higher = worse for both)."""
    return pd.DataFrame(
        {
            "document": np.arange(len(tokens)),
            "gzip": token_ratios(tokens),
            "reference_loss": document_losses(reference_run, tokens),
        }
    )


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    value = float(spearmanr(x, y).statistic)
    if not np.isfinite(value):
        raise ScoringError("Spearman correlation is undefined (a constant score)")
    return value


def scorer_report(scores: pd.DataFrame, oracle: pd.DataFrame, fraction: float = 0.1) -> dict:
    """Each scorer's Spearman correlation with the oracle rate, and the mean rate of the
    documents it ranks best (its top ``fraction``) against the pool's mean."""
    if len(scores) != len(oracle) or not np.array_equal(scores["document"], oracle["document"]):
        raise ScoringError("scores and oracle must list the same documents in the same order")
    rate = oracle["rate"].to_numpy()
    top = max(1, round(fraction * len(rate)))
    report: dict = {"documents": len(rate), "pool_mean_rate": float(rate.mean()), "scorers": {}}
    for name in SCORERS:
        score = scores[name].to_numpy()
        best = np.argsort(score, kind="stable")[:top]
        report["scorers"][name] = {
            "spearman_with_rate": spearman(score, rate),
            "top_fraction_mean_rate": float(rate[best].mean()),
        }
    return report
