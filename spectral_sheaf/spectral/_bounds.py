"""Spectral bounds of symmetric operators: Gershgorin and Lanczos with residual bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .._validation import as_csr, check_int, check_rng, check_square

__all__ = ["SpectralBounds", "gershgorin_bounds", "spectral_bounds"]


@dataclass(frozen=True)
class SpectralBounds:
    """Bounds on the extreme eigenvalues of a symmetric operator.

    Attributes
    ----------
    lower, upper : float
        The extreme Ritz values widened by their residual bounds, clipped by the
        Gershgorin interval when the matrix is available. They bound the spectrum once
        the extreme Ritz values have converged, which is *not* guaranteed: where the
        spectrum is clustered at its ends, the residual bound describes the distance
        to some eigenvalue, not to the extreme one (20 steps on the symmetric
        normalised Laplacian of a 60 x 60 grid give ``upper = 1.41`` while
        ``lambda_max = 2``). Use ``gershgorin`` where a guarantee is needed.
    lambda_min, lambda_max : float
        The extreme Ritz values. These are certain inner bounds:
        ``lambda_min(A) <= lambda_min`` and ``lambda_max <= lambda_max(A)``.
    gershgorin : tuple of float or None
        The Gershgorin interval, which contains the spectrum; None for a
        LinearOperator.
    steps : int
        Lanczos steps taken (operator applications).
    """

    lower: float
    upper: float
    lambda_min: float
    lambda_max: float
    gershgorin: tuple[float, float] | None
    steps: int


def gershgorin_bounds(A: Any) -> tuple[float, float]:
    """Gershgorin interval ``[min_i a_ii - r_i, max_i a_ii + r_i]`` of a symmetric matrix.

    Every eigenvalue lies in it (``r_i`` is the off-diagonal absolute row sum).
    """
    M = as_csr(A, "A", allow_complex=True)
    check_square(M, "A")
    if M.shape[0] == 0:
        raise ValueError("A must have at least one row; got shape (0, 0)")
    if not np.iscomplexobj(M.data):
        lo, hi = _gershgorin_csr(M.indptr, M.indices, M.data)
        return float(lo), float(hi)
    d = M.diagonal()
    r = np.asarray(abs(M).sum(axis=1)).ravel() - np.abs(d)
    return float(np.min(d.real - r)), float(np.max(d.real + r))


@nb.njit(parallel=True, cache=True)
def _gershgorin_csr(indptr, indices, data):  # pragma: no cover
    """Return the ends of the Gershgorin interval of a real CSR matrix, in one pass."""
    n = indptr.size - 1
    lo = np.empty(n)
    hi = np.empty(n)
    for i in nb.prange(n):
        diag = 0.0
        radius = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] == i:
                diag += data[p]
            else:
                radius += abs(data[p])
        lo[i] = diag - radius
        hi[i] = diag + radius
    return lo.min(), hi.max()


def spectral_bounds(A: Any, *, steps: int = 30, rng: Any = None) -> SpectralBounds:
    """Estimate ``lambda_min`` and ``lambda_max`` of a symmetric operator, with bounds.

    Runs ``steps`` Lanczos steps with full reorthogonalisation from a random start
    (``rng``), then widens the extreme Ritz values by the residual bound
    ``|beta_k s_k|`` of their Ritz vectors (Parlett; Zhou and Li 2011), and clips by
    the Gershgorin interval when ``A`` is a matrix.

    Parameters
    ----------
    A : sparse, dense or LinearOperator, shape (n, n)
        Symmetric (Hermitian).
    steps : int
        Lanczos steps (at most n).
    rng : Generator, int or None
        Random start vector.

    Returns
    -------
    SpectralBounds
    """
    steps = check_int(steps, "steps", minimum=1)
    g = check_rng(rng)
    if isinstance(A, LinearOperator):
        op = A
        gersh = None
    else:
        M = as_csr(A, "A", allow_complex=True)
        check_square(M, "A")
        op = aslinearoperator(M)
        gersh = gershgorin_bounds(M)
    n = op.shape[0]
    if op.shape != (n, n):
        raise ValueError(f"A must be square; got shape {op.shape}")
    if n == 0:
        raise ValueError("A must have at least one row; got shape (0, 0)")
    k = min(steps, n)
    dtype = np.result_type(op.dtype, np.float64)
    Q = np.zeros((n, k + 1), dtype=dtype, order="F")  # contiguous columns
    alpha = np.zeros(k)
    beta = np.zeros(k)
    q = g.standard_normal(n).astype(dtype)
    Q[:, 0] = q / np.linalg.norm(q)
    m = k
    for j in range(k):  # Lanczos steps, each one operator application
        w = np.asarray(op.matvec(Q[:, j])).ravel().astype(dtype)
        alpha[j] = float(np.real(np.vdot(Q[:, j], w)))
        # the three-term recurrence, then full reorthogonalisation by classical
        # Gram-Schmidt, repeated only when it cancelled more than 1 - 1/sqrt(2) of w
        # (Kahan and Parlett's "twice is enough": a second pass is rarely needed, and
        # each pass streams all of Q)
        w -= alpha[j] * Q[:, j]
        if j:
            w -= beta[j - 1] * Q[:, j - 1]
        Qj = Q[:, : j + 1]
        QjH = Qj.conj().T if np.iscomplexobj(Qj) else Qj.T
        before = float(np.linalg.norm(w))
        for _ in range(2):
            w -= Qj @ (QjH @ w)
            after = float(np.linalg.norm(w))
            if after > 0.7071 * before:
                break
            before = after
        beta[j] = float(np.linalg.norm(w))
        if beta[j] <= 1e-13 * max(1.0, abs(alpha[j])):
            m = j + 1  # invariant subspace found: the Ritz values are exact
            beta[j] = 0.0
            break
        Q[:, j + 1] = w / beta[j]
    T = np.diag(alpha[:m]) + np.diag(beta[: m - 1], 1) + np.diag(beta[: m - 1], -1)
    theta, S = np.linalg.eigh(T)
    resid = np.abs(beta[m - 1] * S[-1, :])
    lo_est, hi_est = float(theta[0]), float(theta[-1])
    lower, upper = lo_est - float(resid[0]), hi_est + float(resid[-1])
    if gersh is not None:
        lower, upper = max(lower, gersh[0]), min(upper, gersh[1])
    return SpectralBounds(lower, upper, lo_est, hi_est, gersh, m)


def _norm_bound(A: Any) -> float:
    """Bound ||A||_2 of a symmetric matrix from above (max absolute row sum)."""
    if isinstance(A, LinearOperator):
        b = spectral_bounds(A, steps=20, rng=0)
        return max(abs(b.lower), abs(b.upper))
    M = A if sp.issparse(A) else sp.csr_array(np.asarray(A))
    return float(np.asarray(abs(M).sum(axis=1)).max()) if M.nnz else 0.0
