"""Lanczos approximation of matrix functions, ``g(A) X ~ |x| V_m g(T_m) e_1``, per column.

For functions that polynomials approximate poorly on the whole interval (steps,
functions with a singularity just outside the spectrum, spectra clustered where the
function varies), the Krylov space adapts to the spectrum the signal actually sees.
Columns run in lockstep, each with its own Krylov basis (the products with ``A`` are
done for all columns of a chunk at once); chunks bound the memory of the bases. The
matrix stays sparse (PyGSP's ``Filter.filter(method="lanczos")`` densifies it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse.linalg import aslinearoperator

from .. import _backend
from .._validation import (
    as_operator,
    as_signals,
    check_int,
    check_positive_real,
    device_signals,
)

__all__ = ["lanczos_filter"]


def _chunk(matmat: Callable[[Any], Any], X: Any, g: Callable[[np.ndarray], np.ndarray],
           tol: float, max_steps: int) -> tuple[Any, int, bool]:
    """Lanczos for the columns of ``X`` in lockstep.

    The Krylov bases live where ``X`` does (numpy or CuPy); the small per-column
    quantities (``alpha``, ``beta``, the tridiagonal problems) on the host.
    """
    xp = _backend.array_namespace(X)
    host = _backend.to_numpy
    n, c = X.shape
    norms = host(xp.linalg.norm(X, axis=0))
    safe = np.where(norms > 0, norms, 1.0)
    m = min(max_steps, n)
    V = xp.zeros((m + 1, n, c))
    V[0] = X / xp.asarray(safe)
    alpha = np.zeros((m, c))
    beta = np.zeros((m, c))
    done = np.zeros(c, dtype=bool)  # invariant subspace reached
    prev = None
    steps = 0
    converged = False
    for j in range(m):
        W = matmat(V[j])
        alpha[j] = host(xp.einsum("nc,nc->c", V[j], W))
        for _ in range(2):  # full reorthogonalisation, twice
            coef = xp.einsum("jnc,nc->jc", V[: j + 1], W)
            W = W - xp.einsum("jnc,jc->nc", V[: j + 1], coef)
        b = host(xp.linalg.norm(W, axis=0))
        scale = np.maximum(np.abs(alpha[: j + 1]).max(axis=0), 1e-300)
        done |= b <= 1e-13 * scale
        b = np.where(done, 0.0, b)
        beta[j] = b
        V[j + 1] = W * xp.asarray(np.where(b > 0, 1.0 / np.where(b > 0, b, 1.0), 0.0))
        steps = j + 1
        if steps % 4 == 0 or steps == m or done.all():
            coeffs = _coefficients(alpha[:steps], beta[:steps], g)
            if prev is not None:
                pad = np.zeros_like(coeffs)
                pad[: prev.shape[0]] = prev
                change = np.linalg.norm(coeffs - pad, axis=0)
                if np.all((change <= tol * np.maximum(np.linalg.norm(coeffs, axis=0),
                                                      1e-300)) | done):
                    converged = True
                    break
            if done.all():
                converged = True
                break
            prev = coeffs
    coeffs = _coefficients(alpha[:steps], beta[:steps], g)
    Y = xp.einsum("jnc,jc->nc", V[:steps], xp.asarray(coeffs)) * xp.asarray(norms)
    return Y, steps, converged


def _coefficients(alpha: np.ndarray, beta: np.ndarray,
                  g: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``g(T) e_1`` for each column's tridiagonal ``T``: shape (steps, c)."""
    k, c = alpha.shape
    out = np.zeros((k, c))
    for q in range(c):
        T = np.diag(alpha[:, q]) + np.diag(beta[: k - 1, q], 1) + np.diag(beta[: k - 1, q], -1)
        theta, S = np.linalg.eigh(T)
        out[:, q] = S @ (np.asarray(g(theta), dtype=float) * S[0])
    return out


def lanczos_filter(
    A: Any,
    X: Any,
    g: Callable[[np.ndarray], np.ndarray],
    *,
    tol: float = 1e-10,
    max_steps: int = 300,
    memory: int = 2**28,
    on_failure: str = "raise",
) -> np.ndarray:
    """Apply ``g(A)`` to signals by the Lanczos method.

    Parameters
    ----------
    A : sparse, dense or LinearOperator, shape (n, n)
        Symmetric. A CuPy matrix with a CuPy ``X`` runs on the device (the Krylov bases
        stay there) and returns a CuPy array.
    X : array, shape (n,) or (n, channels)
    g : callable
        Spectral function, evaluated on Ritz values only (no interval needed).
    tol : float
        Stop when the Lanczos coefficients of every column change by less than ``tol``
        (relative) over four steps: an a-posteriori estimate of the relative error.
    max_steps : int
        Krylov dimension cap per column.
    memory : int
        Bytes for the Krylov bases; columns are processed in chunks that fit.
    on_failure : {"raise", "warn"}
        When ``max_steps`` is reached before ``tol``.

    Returns
    -------
    ndarray, shape of ``X``
    """
    import warnings

    if _backend.is_cupy(A) or _backend.is_cupy(X):
        Xa, n = device_signals(A, X)

        def matmat(V: Any) -> Any:
            return A @ V
    else:
        Am, n = as_operator(A, "A")
        op = aslinearoperator(Am)
        Xa = as_signals(X, n, "X", match="A")

        def matmat(V: Any) -> Any:
            return np.asarray(op.matmat(V))
    tol = check_positive_real(tol, "tol")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    memory = check_int(memory, "memory", minimum=1)
    if on_failure not in ("raise", "warn"):
        raise ValueError(f"on_failure must be one of 'raise', 'warn'; got {on_failure!r}")
    one = Xa.ndim == 1
    X2 = Xa.reshape(n, 1) if one else Xa
    per = max(1, memory // (8 * n * (min(max_steps, n) + 1)))
    xp = _backend.array_namespace(X2)
    out = xp.empty(X2.shape, dtype=xp.float64)
    worst = 0
    for s in range(0, X2.shape[1], per):
        Y, steps, ok = _chunk(matmat, X2[:, s : s + per].astype(xp.float64), g, tol,
                              max_steps)
        out[:, s : s + per] = Y
        worst = max(worst, steps)
        if not ok:
            msg = (f"lanczos_filter did not reach tol={tol:g} in max_steps={max_steps} "
                   f"for columns {s}..{s + Y.shape[1] - 1}; raise max_steps or tol")
            if on_failure == "raise":
                raise RuntimeError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    out = out.astype(X2.dtype, copy=False)
    return out.reshape(-1) if one else out

