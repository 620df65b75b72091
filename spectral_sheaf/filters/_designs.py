"""Filter designs: plain functions of lambda, vectorised over numpy arrays.

Each design returns a callable ``g(lam) -> array`` (and validates its parameters when
made), so that the same object feeds Chebyshev approximation, Lanczos matrix functions
and exact filtering through an eigenbasis.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validation import check_positive_real

__all__ = [
    "abspline",
    "band_pass",
    "heat",
    "high_pass",
    "low_pass",
    "mexican_hat",
    "meyer",
    "wave",
]

Design = Callable[[np.ndarray], np.ndarray]


def _real(value: float, name: str) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def heat(t: float) -> Design:
    """Heat kernel ``exp(-t lambda)``, ``t > 0``."""
    t = check_positive_real(t, "t")

    def g(lam: np.ndarray) -> np.ndarray:
        return np.exp(-t * np.asarray(lam, dtype=float))

    return g


def wave(t: float) -> Design:
    """Wave propagator ``cos(t sqrt(lambda))`` (``lambda >= 0``), ``t > 0``."""
    t = check_positive_real(t, "t")

    def g(lam: np.ndarray) -> np.ndarray:
        return np.cos(t * np.sqrt(np.maximum(np.asarray(lam, dtype=float), 0.0)))

    return g


def _smooth_step(x: np.ndarray) -> np.ndarray:
    """C-infinity step from 0 (x <= 0) to 1 (x >= 1)."""
    x = np.clip(x, 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        a = np.where(x > 0, np.exp(-1.0 / np.where(x > 0, x, 1.0)), 0.0)
        b = np.where(x < 1, np.exp(-1.0 / np.where(x < 1, 1.0 - x, 1.0)), 0.0)
    return a / (a + b)


def low_pass(cutoff: float, *, width: float = 0.0) -> Design:
    """Low-pass: 1 below ``cutoff``, 0 above.

    With ``width > 0`` the transition is a C-infinity ramp over
    ``[cutoff - width/2, cutoff + width/2]`` (Chebyshev-friendly); ``width = 0`` gives
    the ideal step (use Jackson damping or Lanczos for it).
    """
    cutoff = _real(cutoff, "cutoff")
    width = _real(width, "width")
    if width < 0:
        raise ValueError(f"width must be >= 0; got {width}")

    def g(lam: np.ndarray) -> np.ndarray:
        lam = np.asarray(lam, dtype=float)
        if width == 0:
            return (lam <= cutoff).astype(float)
        return 1.0 - _smooth_step((lam - cutoff) / width + 0.5)

    return g


def high_pass(cutoff: float, *, width: float = 0.0) -> Design:
    """High-pass: ``1 - low_pass(cutoff, width=width)``."""
    lp = low_pass(cutoff, width=width)

    def g(lam: np.ndarray) -> np.ndarray:
        return 1.0 - lp(lam)

    return g


def band_pass(low: float, high: float, *, width: float = 0.0) -> Design:
    """Band-pass: 1 on ``[low, high]``, 0 outside, ramps of ``width`` at both ends."""
    low, high = _real(low, "low"), _real(high, "high")
    if not low < high:
        raise ValueError(f"band_pass needs low < high; got low={low}, high={high}")
    up = high_pass(low, width=width)
    down = low_pass(high, width=width)

    def g(lam: np.ndarray) -> np.ndarray:
        return up(lam) * down(lam)

    return g


def mexican_hat(scale: float) -> Design:
    """Mexican hat wavelet kernel ``x exp(-x)`` at ``x = scale * lambda`` (Hammond et al.)."""
    scale = check_positive_real(scale, "scale")

    def g(lam: np.ndarray) -> np.ndarray:
        x = scale * np.asarray(lam, dtype=float)
        return x * np.exp(-x)

    return g


def _meyer_nu(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x**4 * (35 - 84 * x + 70 * x**2 - 20 * x**3)


def meyer(scale: float, *, kind: str = "wavelet") -> Design:
    """Meyer kernel at ``x = scale * lambda``: the wavelet (band) or the scaling function.

    The wavelet is ``sin(pi/2 nu(x - 1))`` on ``[1, 2]``, ``cos(pi/2 nu(x/2 - 1))`` on
    ``[2, 4]`` and 0 elsewhere; the scaling function is 1 below ``x = 1`` and
    ``cos(pi/2 nu(x - 1))`` on ``[1, 2]``, with the Meyer polynomial ``nu``. A bank of
    scales ``2^j`` with the scaling function is a tight frame.
    """
    scale = check_positive_real(scale, "scale")
    if kind not in ("wavelet", "scaling"):
        raise ValueError(f"kind must be one of 'wavelet', 'scaling'; got {kind!r}")

    def g(lam: np.ndarray) -> np.ndarray:
        x = scale * np.asarray(lam, dtype=float)
        if kind == "scaling":
            return np.where(x <= 1, 1.0,
                            np.where(x <= 2, np.cos(0.5 * np.pi * _meyer_nu(x - 1)), 0.0))
        rise = np.sin(0.5 * np.pi * _meyer_nu(x - 1))
        fall = np.cos(0.5 * np.pi * _meyer_nu(x / 2 - 1))
        return np.where((x >= 1) & (x <= 2), rise, np.where((x > 2) & (x <= 4), fall, 0.0))

    return g


def abspline(scale: float, *, alpha: int = 2, beta: int = 2, x1: float = 1.0,
             x2: float = 2.0) -> Design:
    """Hammond et al.'s spline wavelet kernel at ``x = scale * lambda``.

    ``x1^-alpha x^alpha`` below ``x1``, a cubic on ``[x1, x2]`` matching values and
    slopes, ``x2^beta x^-beta`` above ``x2``.
    """
    scale = check_positive_real(scale, "scale")
    x1, x2 = _real(x1, "x1"), _real(x2, "x2")
    if not 0 < x1 < x2:
        raise ValueError(f"abspline needs 0 < x1 < x2; got x1={x1}, x2={x2}")
    # cubic through (x1, 1), (x2, 1) with slopes alpha / x1 and -beta / x2
    Mx = np.array([[1, x1, x1**2, x1**3], [1, x2, x2**2, x2**3],
                   [0, 1, 2 * x1, 3 * x1**2], [0, 1, 2 * x2, 3 * x2**2]])
    coef = np.linalg.solve(Mx, np.array([1.0, 1.0, alpha / x1, -beta / x2]))

    def g(lam: np.ndarray) -> np.ndarray:
        x = scale * np.asarray(lam, dtype=float)
        with np.errstate(divide="ignore"):
            low = (x / x1) ** alpha
            high = np.where(x > 0, (x2 / np.where(x > 0, x, 1.0)) ** beta, 0.0)
        mid = coef[0] + coef[1] * x + coef[2] * x**2 + coef[3] * x**3
        return np.where(x < x1, low, np.where(x <= x2, mid, high))

    return g
