"""Spectral density by the kernel polynomial method (KPM).

A picture of the whole spectrum without eigenvectors: the Chebyshev moments
``mu_j = tr T_j(B) / n`` of the operator mapped to ``B = (A - c I) / h`` with spectrum in
``[-1, 1]`` are estimated by Hutchinson's trick with Rademacher vectors
(``tr X ~ (1/m) sum_i z_i^T X z_i``), damped by the Jackson kernel (no Gibbs
oscillation, non-negative density) and summed on a grid (Weisse et al., Rev. Mod.
Phys. 78, 2006; Lin, Saad and Yang, SIAM Review 58, 2016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import aslinearoperator

from .._validation import as_operator, check_int, check_rng
from ._bounds import spectral_bounds

__all__ = ["SpectralDensity", "spectral_density"]


@dataclass(frozen=True)
class SpectralDensity:
    """Estimated density of eigenvalues.

    Attributes
    ----------
    x : ndarray, shape (p,)
        Points in ``[lower, upper]``.
    density : ndarray, shape (p,)
        Estimated density at ``x``, normalised to integrate to 1 over the interval (so
        ``n * density`` counts eigenvalues per unit length).
    moments : ndarray, shape (degree + 1,)
        Jackson-damped Chebyshev moments ``g_j mu_j``.
    lower, upper : float
        The interval the spectrum was mapped from (bounds of the spectrum).
    n_vectors : int
        Random probe vectors used.
    """

    x: np.ndarray
    density: np.ndarray
    moments: np.ndarray
    lower: float
    upper: float
    n_vectors: int

    def cumulative(self) -> np.ndarray:
        """Estimated fraction of eigenvalues ``<= x`` (trapezoid rule on the grid)."""
        steps = 0.5 * (self.density[1:] + self.density[:-1]) * np.diff(self.x)
        return np.concatenate([[0.0], np.cumsum(steps)])


def _jackson(degree: int) -> np.ndarray:
    """Jackson damping factors ``g_0 .. g_degree``."""
    N = degree + 1
    j = np.arange(N)
    q = np.pi / (N + 1)
    return ((N - j + 1) * np.cos(q * j) + np.sin(q * j) / np.tan(q)) / (N + 1)


def spectral_density(
    A: Any,
    *,
    degree: int = 100,
    n_vectors: int = 20,
    n_points: int = 400,
    bounds: tuple[float, float] | None = None,
    rng: Any = None,
) -> SpectralDensity:
    """Estimate the spectral density of a symmetric operator (kernel polynomial method).

    Parameters
    ----------
    A : sparse, dense or LinearOperator, shape (n, n)
        Symmetric (Hermitian); only products with it are used.
    degree : int
        Chebyshev degree (resolution about ``(upper - lower) / degree``).
    n_vectors : int
        Rademacher probe vectors (the moments' standard error falls like
        ``1 / sqrt(n_vectors n)``).
    n_points : int
        Grid points of the result.
    bounds : (float, float), optional
        An interval containing the spectrum; default the Gershgorin interval of a
        matrix (guaranteed), or for a LinearOperator the Lanczos bounds of
        :func:`spectral_bounds` widened by 1 percent (not guaranteed).
    rng : Generator, int or None
        Probe vectors (and the Lanczos start of the bounds).

    Returns
    -------
    SpectralDensity

    Examples
    --------
    >>> from spectral_sheaf.graphs import cycle_graph, graph_laplacian
    >>> d = spectral_density(graph_laplacian(cycle_graph(1000)), rng=0)
    >>> bool(abs(d.cumulative()[-1] - 1) < 1e-2)
    True
    """
    degree = check_int(degree, "degree", minimum=1)
    n_vectors = check_int(n_vectors, "n_vectors", minimum=1)
    n_points = check_int(n_points, "n_points", minimum=2)
    g = check_rng(rng)
    Am, n = as_operator(A, "A", allow_complex=True)
    op = aslinearoperator(Am)
    if n == 0:
        raise ValueError("A must have at least one row; got shape (0, 0)")
    if bounds is None:
        b = spectral_bounds(A, rng=g)
        if b.gershgorin is not None:
            lower, upper = b.gershgorin
            if upper - lower <= 0:  # a multiple of the identity
                lower, upper = lower - 1.0, upper + 1.0
        else:
            pad = 0.01 * max(b.upper - b.lower, 1e-12)
            lower, upper = b.lower - pad, b.upper + pad
    else:
        if len(bounds) != 2:
            raise ValueError(f"bounds must be a pair (lower, upper); got {bounds!r}")
        lower, upper = float(bounds[0]), float(bounds[1])
        if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
            raise ValueError(f"bounds must be finite with lower < upper; got {bounds!r}")
    c, h = 0.5 * (upper + lower), 0.5 * (upper - lower)
    Z = g.choice(np.array([-1.0, 1.0]), size=(n, n_vectors))

    def apply(V: np.ndarray) -> np.ndarray:
        return (np.asarray(op.matmat(V)) - c * V) / h

    mu = np.empty(degree + 1)
    T_prev, T_cur = Z, apply(Z)
    mu[0] = 1.0
    mu[1] = float(np.real(np.einsum("ij,ij->", Z.conj(), T_cur))) / (n * n_vectors)
    for j in range(2, degree + 1):
        T_prev, T_cur = T_cur, 2.0 * apply(T_cur) - T_prev
        mu[j] = float(np.real(np.einsum("ij,ij->", Z.conj(), T_cur))) / (n * n_vectors)
    damped = _jackson(degree) * mu
    # grid in the open interval, avoiding the endpoint singularity of the weight
    t = np.cos(np.pi * (np.arange(n_points)[::-1] + 0.5) / n_points)
    series = np.polynomial.chebyshev.chebval(t, damped * np.r_[1.0, 2.0 * np.ones(degree)])
    rho_t = np.maximum(series, 0.0) / (np.pi * np.sqrt(1.0 - t * t))
    x = c + h * t
    density = rho_t / h
    # the grid misses the tails near +-1: renormalise the trapezoid integral to 1
    total = float(np.sum(0.5 * (density[1:] + density[:-1]) * np.diff(x)))
    if total > 0:
        density = density / total
    return SpectralDensity(x, density, damped, lower, upper, n_vectors)
