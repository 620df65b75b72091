"""Oversmoothing diagnostics: Dirichlet energy along linear diffusion."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply

from .._validation import as_csr, as_float_array, check_finite, check_square, check_symmetric

__all__ = ["energy_decay"]


def energy_decay(laplacian: Any, signal: Any, times: Any) -> np.ndarray:
    """Dirichlet energy ``x(t)^T L x(t)`` of the diffusion ``dx/dt = -L x`` at given times.

    Works for any symmetric positive semi-definite ``L``: a graph, sheaf or mesh
    Laplacian, normalised or not. Oversmoothing shows as energy decaying to zero
    (the signal collapsing onto the harmonic space); the rate is set by the smallest
    nonzero eigenvalue.

    Parameters
    ----------
    laplacian : sparse or dense, shape (N, N)
        Symmetric positive semi-definite.
    signal : array, shape (N,) or (N, c)
        Initial condition ``x(0)``.
    times : array of float, shape (k,)
        Non-negative, non-decreasing times.

    Returns
    -------
    ndarray, shape (k,)
        Energy (summed over channels) at each time; computed by stepping
        ``scipy.sparse.linalg.expm_multiply`` from one time to the next.
    """
    L = as_csr(laplacian, "laplacian")
    N = check_square(L, "laplacian")
    check_finite(L.data, "laplacian")
    check_symmetric(L, "laplacian", context="for energy_decay")
    X = as_float_array(signal, "signal", ndim=(1, 2)).astype(np.float64)
    if X.shape[0] != N:
        raise ValueError(f"signal must have {N} rows to match laplacian; got shape {X.shape}")
    check_finite(X, "signal")
    t = as_float_array(times, "times", ndim=(1,)).astype(np.float64)
    check_finite(t, "times")
    if t.size and (t[0] < 0 or np.any(np.diff(t) < 0)):
        raise ValueError("times must be non-negative and non-decreasing")
    L64 = sp.csr_array(L.astype(np.float64))
    out = np.empty(t.size)
    x, now = X, 0.0
    for k, tk in enumerate(t):  # loop over requested times, not over nodes
        if tk > now:
            x = expm_multiply(-(tk - now) * L64, x)
            now = tk
        out[k] = float(np.sum(x * (L64 @ x)))
    return out
