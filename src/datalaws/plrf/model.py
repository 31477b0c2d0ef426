"""The power-law random features (PLRF) model of Paquette, Paquette, Xiao and Pennington (2024).

Data x in R^v has independent coordinates x_j = j^(-alpha) z_j, z ~ N(0, I); the target is
<x, b> with b_j = j^(-beta); the model predicts <W^T x, theta> with fixed random features
W in R^(v x d), W_ij ~ N(0, 1/d). The population loss is

    P(theta) = E[(<W^T x, theta> - <x, b>)^2] = (W theta - b)^T D (W theta - b),
    D = diag(j^(-2 alpha)),

with no factor 1/2 (the paper's P). One-pass SGD with batch B and per-sample step gamma is
theta <- theta - gamma * sum_{i in batch} W^T x_i (<W^T x_i, theta> - <x_i, b>), the gradient of
1/2 of each squared residual, summed (not averaged) over the batch. Compute is f = steps * B * d.
The step is gamma = step_scale / sum_j j^(-2 alpha) (the authors use step_scale = 0.75).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


class PLRFError(ValueError):
    """A PLRF parameter is outside the model's domain."""


class StepSizeError(PLRFError):
    """The SGD step is at or above the stability limit of the expected-loss dynamics."""


def _check_finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise PLRFError(f"{name} must be a finite number, got {value}")
    return value


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value:
        raise PLRFError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise PLRFError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


@dataclass(frozen=True)
class PLRF:
    """One PLRF problem: data exponent alpha, target exponent beta, input dim v, features d."""

    alpha: float
    beta: float
    v: int
    d: int

    def __post_init__(self) -> None:
        alpha = _check_finite("alpha", self.alpha)
        if alpha <= 0:
            raise PLRFError(
                f"alpha must be > 0, got {alpha}: the data covariance j^(-2 alpha) must decay"
            )
        _check_finite("beta", self.beta)
        d = _check_int("d", self.d, 1)
        v = _check_int("v", self.v, 2)
        if v <= d:
            raise PLRFError(
                f"v must be > d, got v={v}, d={d}: the model needs more input dimensions than "
                "features (the authors use v = 10 d, or 4 d)"
            )

    @classmethod
    def with_ratio(cls, alpha: float, beta: float, d: int, v_ratio: float) -> PLRF:
        """The problem with v = round(v_ratio * d), the usual way to scale v with d."""
        if not math.isfinite(v_ratio) or v_ratio <= 1:
            raise PLRFError(f"v_ratio must be > 1 (v = v_ratio * d > d), got {v_ratio}")
        return cls(alpha, beta, round(v_ratio * _check_int("d", d, 1)), d)

    def covariance(self) -> np.ndarray:
        """Diagonal of D, j^(-2 alpha) for j = 1..v."""
        return np.arange(1, self.v + 1, dtype=np.float64) ** (-2.0 * self.alpha)

    def target(self) -> np.ndarray:
        """Target coefficients b_j = j^(-beta)."""
        return np.arange(1, self.v + 1, dtype=np.float64) ** (-float(self.beta))

    def step(self, step_scale: float) -> float:
        """The per-sample SGD step gamma = step_scale / tr(D)."""
        scale = _check_finite("step_scale", step_scale)
        if scale <= 0:
            raise PLRFError(f"step_scale must be > 0, got {scale}")
        return scale / trace_covariance(self.alpha, self.v)


def trace_covariance(alpha: float, v: int) -> float:
    """sum_{j<=v} j^(-2 alpha), summed exactly up to 10^6 terms and by quadrature beyond."""
    from datalaws.plrf.quadrature import power_sum

    return power_sum(2.0 * alpha, v)


ROW_BLOCK = 4096


def feature_blocks(v: int, d: int, seed: int, rows: int = ROW_BLOCK) -> Iterator[np.ndarray]:
    """Rows of W in R^(v x d), N(0, 1/d) entries, in blocks: the same numbers for any block size,
    so W never has to sit in memory whole."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / math.sqrt(d)
    for start in range(0, v, rows):
        yield rng.standard_normal((min(rows, v - start), d)) * scale


def draw_features(d: int, v: int, seed: int) -> np.ndarray:
    """W in R^(v x d) with N(0, 1/d) entries, reproducible from ``seed``."""
    return np.concatenate(list(feature_blocks(v, d, seed)), axis=0)
