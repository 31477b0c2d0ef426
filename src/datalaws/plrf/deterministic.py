"""Expected SGD loss from the Volterra equation P = F + K * P, solved through its z-transform.

With rho(lambda) = 1 - 2 gamma B lambda + gamma^2 B (B+1) lambda^2, the closed recursion of
``spectrum`` gives the discrete Volterra equation

    P(r) = F(r) + sum_{k<r} K(r-1-k) P(k),
    F(r) = P* + sum_i nu_i rho_i^r,   K(r) = gamma^2 B sum_i lambda_i^2 rho_i^r.

Its generating functions are F^(zeta) = P*/(1-zeta) + sum_i nu_i/(1 - rho_i zeta) and likewise
K^, so P^(zeta) = F^ / (1 - zeta K^). Factoring 1 - rho(lambda) zeta into linear factors in lambda
turns each sum into Stieltjes transforms at the two roots lambda_+(zeta), lambda_-(zeta), which
the spectrum supplies (exactly for one W, or W-free). P(r) is then recovered by inverting the
transform: with zeta = e^-s all singularities lie on the negative real s axis, so the fixed Talbot
contour (Abate and Valko 2004) gives P(r) at any single step r from ~20 transform values, with
relative error ~1e-10 and no need to march through all earlier steps. Steps below ``TALBOT_MIN``
come from a Cauchy integral on a circle inside the unit disc. ``recursion`` marches the O(d)
per-step recursion directly, the check on all of this.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from scipy.optimize import brentq

from datalaws.plrf.model import StepSizeError
from datalaws.plrf.spectrum import ExactSpectrum

TALBOT_M = 24
TALBOT_MIN = 10  # 2M/5 < TALBOT_MIN keeps the contour inside the strip |Im s| < pi
CIRCLE_POINTS = 64
CIRCLE_RADIUS = 0.6
NODE_WEIGHT_FLOOR = 1e-15
CONTINUATION_RATIO = 2.0


class Spectrum(Protocol):
    d: int
    trace: float
    trace_d: float
    pstar: float
    p0: float

    @property
    def edge(self) -> float: ...

    def resolvent(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def stieltjes_real(self, x: float) -> float: ...


def _talbot_nodes(m: int = TALBOT_M) -> tuple[np.ndarray, np.ndarray]:
    """Shape of the fixed Talbot contour, s_k = mu * shape_k, and the weights; nodes whose weight
    e^(r Re s_k) |1 + i sigma_k| is below ``NODE_WEIGHT_FLOOR`` relative to the largest (the same
    for every r) hug the real axis and are dropped."""
    theta = np.arange(1, m) * math.pi / m
    cot = 1.0 / np.tan(theta)
    shape = np.concatenate([[1.0 + 0j], theta * (cot + 1j)])
    weight = np.concatenate([[0.5 + 0j], 1.0 + 1j * (theta + (theta * cot - 1.0) * cot)])
    size = np.exp(0.4 * m * shape.real) * np.abs(weight)
    keep = size >= NODE_WEIGHT_FLOOR * size.max()
    return shape[keep], weight[keep]


def transform(spectrum: Spectrum, gamma: float, batch: int, s: np.ndarray) -> np.ndarray:
    """P^(e^-s) for a 2-d array of s (rows in continuation order for the W-free spectrum)."""
    c = gamma**2 * batch * (batch + 1)
    gb = gamma * batch
    zeta = np.exp(-s)
    one_minus_inv = -np.expm1(s)
    q = np.sqrt(gb**2 - c * one_minus_inv + 0j)
    q = np.where(q.real >= 0, q, -q)
    lam_p = (gb + q) / c
    lam_m = one_minus_inv / (c * lam_p)
    n = s.shape[1]
    s_mu, s_nu = spectrum.resolvent(np.concatenate([lam_p, lam_m], axis=1))
    pre = -1.0 / (zeta * c * (lam_p - lam_m))
    forcing = -spectrum.pstar / np.expm1(-s) + pre * (s_nu[:, :n] - s_nu[:, n:])

    def second_moment(z: np.ndarray, smu: np.ndarray) -> np.ndarray:
        return spectrum.trace + z * spectrum.d + z * z * smu

    kernel = (
        gamma**2
        * batch
        * pre
        * (second_moment(lam_p, s_mu[:, :n]) - second_moment(lam_m, s_mu[:, n:]))
    )
    return forcing / (1.0 - zeta * kernel)


def _ladder(steps: np.ndarray) -> np.ndarray:
    """Requested Talbot steps plus geometric fill-in from TALBOT_MIN, so consecutive rows of
    the continuation never differ by more than CONTINUATION_RATIO."""
    rungs = [float(TALBOT_MIN)]
    for r in steps:
        while r > rungs[-1] * CONTINUATION_RATIO:
            rungs.append(rungs[-1] * CONTINUATION_RATIO)
        if r > rungs[-1]:
            rungs.append(float(r))
    return np.asarray(rungs)


def _talbot(spectrum: Spectrum, gamma: float, batch: int, steps: np.ndarray) -> np.ndarray:
    rungs = _ladder(steps)
    shape, weight = _talbot_nodes()
    mu = 2.0 * TALBOT_M / (5.0 * rungs)
    s = mu[:, None] * shape[None, :]
    g = transform(spectrum, gamma, batch, s)
    values = (mu / TALBOT_M) * np.real(np.sum(weight * np.exp(rungs[:, None] * s) * g, axis=1))
    return values[np.searchsorted(rungs, steps)]


def _circle(spectrum: Spectrum, gamma: float, batch: int, steps: np.ndarray) -> np.ndarray:
    angles = 2.0 * math.pi * np.arange(CIRCLE_POINTS) / CIRCLE_POINTS
    zeta = CIRCLE_RADIUS * np.exp(1j * angles)
    g = transform(spectrum, gamma, batch, (-np.log(zeta))[:, None])[:, 0]
    powers = zeta[None, :] ** (-steps[:, None].astype(float))
    return np.real(powers @ g) / CIRCLE_POINTS


def loss_curve(
    spectrum: Spectrum, gamma: float, batch: int, steps: np.ndarray, check: bool = True
) -> np.ndarray:
    """Expected loss after each of ``steps`` (non-negative integers) SGD steps."""
    steps = np.asarray(steps)
    if steps.ndim != 1 or np.any(steps < 0) or np.any(steps != np.round(steps)):
        raise ValueError("steps must be a 1-d array of non-negative integers")
    if check:
        check_step(spectrum, gamma, batch)
    order = np.unique(steps.astype(np.int64))
    out = np.empty(order.size)
    small = order < TALBOT_MIN
    out[order == 0] = spectrum.p0
    middle = small & (order > 0)
    if middle.any():
        out[middle] = _circle(spectrum, gamma, batch, order[middle])
    if (~small).any():
        out[~small] = _talbot(spectrum, gamma, batch, order[~small].astype(float))
    if not np.all(np.isfinite(out)) or np.any(out <= 0):
        raise FloatingPointError(f"non-finite or non-positive loss from the Volterra solver: {out}")
    return out[np.searchsorted(order, steps.astype(np.int64))]


def recursion(spectrum: ExactSpectrum, gamma: float, batch: int, steps: int) -> np.ndarray:
    """P(0..steps) by marching s_i' = rho_i s_i + gamma^2 B lambda_i P: O(d) per step."""
    lam = spectrum.eigenvalues
    rho = 1.0 - 2.0 * gamma * batch * lam + gamma**2 * batch * (batch + 1) * lam**2
    s = spectrum.weights / lam
    noise = gamma**2 * batch * lam
    out = np.empty(steps + 1)
    for r in range(steps + 1):
        out[r] = spectrum.pstar + lam @ s
        s = rho * s + noise * out[r]
    return out


def kernel_norm(spectrum: Spectrum, gamma: float, batch: int) -> float:
    """sum_r K(r) = sum_i gamma lambda_i / (2 - gamma (B+1) lambda_i); inf if some rho_i >= 1.

    With lambda_c = 2 / (gamma (B+1)) this is -(d + lambda_c S_mu(lambda_c)) / (B+1)."""
    lam_c = 2.0 / (gamma * (batch + 1))
    if lam_c <= spectrum.edge:
        return math.inf
    return -(spectrum.d + lam_c * spectrum.stieltjes_real(lam_c)) / (batch + 1)


def stability_limit(spectrum: Spectrum, batch: int) -> float:
    """Largest per-sample step gamma for which the expected loss stays bounded: the kernel norm
    (a renewal equation with a non-negative kernel) must stay below 1."""
    hi = 2.0 / ((batch + 1) * spectrum.edge)
    lo = hi * 1e-6
    while kernel_norm(spectrum, lo, batch) >= 1.0:
        lo *= 1e-3
    # Near hi the norm diverges; stop just short of the edge so the root is bracketed.
    top = hi * (1.0 - 1e-12)
    return brentq(lambda g: kernel_norm(spectrum, g, batch) - 1.0, lo, top, xtol=1e-300, rtol=1e-12)


def check_step(spectrum: Spectrum, gamma: float, batch: int) -> None:
    """Raise StepSizeError, naming the limit, when gamma is not below the stability limit."""
    if not (math.isfinite(gamma) and gamma > 0):
        raise StepSizeError(f"step size gamma must be a positive number, got {gamma}")
    if batch < 1 or int(batch) != batch:
        raise StepSizeError(f"batch must be a positive integer, got {batch}")
    if kernel_norm(spectrum, gamma, batch) >= 1.0:
        limit = stability_limit(spectrum, batch)
        raise StepSizeError(
            f"step size gamma={gamma:.6g} is above the stability limit gamma_max={limit:.6g} "
            f"(step_scale_max={limit * spectrum.trace_d:.6g}) for batch={batch}: the SGD noise "
            "kernel norm sum_i gamma lambda_i/(2 - gamma (B+1) lambda_i) reaches 1 and the "
            "expected loss diverges"
        )
