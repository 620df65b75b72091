"""Exact filtering through an eigenbasis, filter banks and ChebNet propagation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.linalg

from .. import _backend
from .._validation import (
    as_csr,
    as_float_array,
    as_signals,
    check_int,
    check_square,
    device_signals,
)
from ..spectral import EigenResult
from ._chebyshev import chebyshev_filter

__all__ = ["chebnet_propagate", "exact_filter", "filter_bank", "frame_bounds"]

EXACT_MAX = 5000  # rows up to which exact_filter diagonalises A itself


def _signals(X: Any, n: int) -> np.ndarray:
    return as_signals(X, n, "X", match="A")


def exact_filter(A: Any, X: Any, g: Callable[[np.ndarray], np.ndarray], *,
                 basis: EigenResult | None = None) -> np.ndarray:
    """Compute ``U g(Lambda) U^T X`` through a full eigendecomposition (for checking).

    Parameters
    ----------
    A : sparse or dense, shape (n, n)
        Symmetric; diagonalised densely (n <= 5000) unless ``basis`` is given.
    X : array, shape (n,) or (n, channels)
    g : callable
    basis : EigenResult, optional
        A complete eigenbasis (``n`` pairs) from :func:`~spectral_sheaf.spectral.eigsh`.

    Returns
    -------
    ndarray, shape of ``X``
    """
    M = as_csr(A, "A")
    n = check_square(M, "A")
    Xa = _signals(X, n)
    lam, U = full_eigenbasis(M, basis, who="exact_filter", instead="chebyshev_filter")
    return (U * np.asarray(g(lam), dtype=float)) @ (U.T @ Xa)


def full_eigenbasis(A: Any, basis: EigenResult | None, *, M: Any = None, who: str,
                    instead: str) -> tuple[np.ndarray, np.ndarray]:
    """All eigenpairs of ``A x = lambda M x``: from a complete ``basis``, or dense.

    ``who`` and ``instead`` name the caller and its scalable alternative in the
    message for a matrix too large to diagonalise densely (more than 5000 rows).
    """
    n = A.shape[0]
    if basis is not None:
        if basis.eigenvectors.shape != (n, n):
            raise ValueError(f"basis must be complete, with {n} eigenpairs; got "
                             f"{basis.eigenvectors.shape[1]}")
        return basis.eigenvalues, basis.eigenvectors
    if n > EXACT_MAX:
        raise ValueError(f"{who} diagonalises densely up to {EXACT_MAX} rows; got n = {n}: "
                         f"pass basis=, or use {instead}")
    Ad = A.toarray() if hasattr(A, "toarray") else np.asarray(A @ np.eye(n))
    Md = None if M is None else (M.toarray() if hasattr(M, "toarray") else np.asarray(M))
    return scipy.linalg.eigh(Ad, Md)


def filter_bank(A: Any, X: Any, designs: Sequence[Callable[[np.ndarray], np.ndarray]],
                **options: Any) -> np.ndarray:
    """Apply each design of a bank: result of shape ``(len(designs), *X.shape)``.

    ``options`` go to :func:`chebyshev_filter` (``lambda_max``, ``order``, ``tol``,
    ``damping``, ``rng``); the interval is checked once.
    """
    if len(designs) == 0:
        raise ValueError("designs must hold at least one filter; got an empty sequence")
    out = [chebyshev_filter(A, X, designs[0], **options)]
    rest = dict(options, check_interval=False)
    if "lambda_max" not in rest:
        from ._chebyshev import upper_bound

        rest["lambda_max"] = upper_bound(A, options.get("rng"))
    out += [chebyshev_filter(A, X, d, **rest) for d in designs[1:]]
    return np.stack(out)


def frame_bounds(designs: Sequence[Callable[[np.ndarray], np.ndarray]], lambda_max: float,
                 *, lambda_min: float = 0.0, n_points: int = 2000) -> tuple[float, float]:
    """Frame bounds ``(min, max)`` of ``sum_i g_i(lambda)^2`` on the interval (sampled).

    A bank with bounds ``A_f, B_f`` satisfies ``A_f |x|^2 <= sum_i |g_i(L) x|^2 <=
    B_f |x|^2`` for every operator with spectrum in the interval; equal bounds make a
    tight frame.
    """
    if len(designs) == 0:
        raise ValueError("designs must hold at least one filter; got an empty sequence")
    n_points = check_int(n_points, "n_points", minimum=2)
    if not float(lambda_max) > float(lambda_min):
        raise ValueError(f"lambda_max must be > lambda_min = {lambda_min}; got {lambda_max}")
    lam = np.linspace(float(lambda_min), float(lambda_max), n_points)
    total = sum(np.asarray(d(lam), dtype=float) ** 2 for d in designs)
    return float(np.min(total)), float(np.max(total))


def chebnet_propagate(A: Any, X: Any, weights: Any, *, lambda_max: float) -> np.ndarray:
    """ChebConv forward pass ``sum_k T_k(L~) X Theta_k`` with ``L~ = 2 A / lambda_max - I``.

    Parameters
    ----------
    A : sparse, shape (n, n)
        The (normalised) Laplacian. CuPy ``A``, ``X`` and ``weights`` run on the
        device and give a CuPy array.
    X : array, shape (n, c_in)
    weights : array, shape (K, c_in, c_out)
        ``Theta_0 .. Theta_{K-1}`` (PyG's ``ChebConv`` with ``K`` terms, no bias).
    lambda_max : float
        As in PyG (2.0 for the symmetric normalised Laplacian).

    Returns
    -------
    ndarray, shape (n, c_out)
    """
    if any(_backend.is_cupy(a) for a in (A, X, weights)):
        xp = _backend.array_namespace(A, X, weights)
        M = A
        Xa, n = device_signals(A, X)
        W = xp.asarray(weights)
        if W.ndim != 3:
            raise ValueError(f"weights must be a 3-D array; got {W.ndim}-D with shape "
                             f"{W.shape}")
        W = W.astype(Xa.dtype)
    else:
        M = as_csr(A, "A")
        n = check_square(M, "A")
        Xa = _signals(X, n)
        W = as_float_array(weights, "weights", ndim=(3,))
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if W.shape[0] < 1 or W.shape[1] != Xa.shape[1]:
        raise ValueError(f"weights must have shape (K >= 1, c_in = {Xa.shape[1]}, c_out); "
                         f"got {W.shape}")
    lmax = float(lambda_max)
    if not lmax > 0:
        raise ValueError(f"lambda_max must be > 0; got {lambda_max}")
    T_prev = Xa
    out = T_prev @ W[0]
    if W.shape[0] == 1:
        return out
    T_cur = (2.0 / lmax) * (M @ Xa) - Xa
    out = out + T_cur @ W[1]
    for k in range(2, W.shape[0]):
        T_prev, T_cur = T_cur, 2.0 * ((2.0 / lmax) * (M @ T_cur) - T_cur) - T_prev
        out = out + T_cur @ W[k]
    return out
