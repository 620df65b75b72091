"""Chebyshev polynomial filters ``g(L) X`` on ``[lambda_min, lambda_max]``.

Coefficients come from Chebyshev-Gauss quadrature computed by a DCT-II. Convention:
``p(lam) = sum_{k=0}^{K} c_k T_k(x)`` with ``x = (2 lam - (b + a)) / (b - a)``, the
``c_0`` term *not* halved at evaluation (it is halved once, when computed; mixing the
two conventions is a known PyGSP pitfall that doubles the constant term).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numba as nb
import numpy as np
import scipy.fft
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._backend import is_cupy
from .._validation import (
    as_csr,
    check_int,
    check_option,
    check_positive_real,
    check_square,
    device_signals,
)
from ..graphs._reorder import breadth_first_order, permute_symmetric, put_rows, take_rows
from ..spectral import gershgorin_bounds, spectral_bounds
from ..spectral._density import _jackson

__all__ = ["ChebyshevApproximation", "chebyshev_approximation", "chebyshev_filter"]
# apply_expansion and locality_order serve diffusion/ too

MAX_ORDER = 5000
_FINE = 8192  # quadrature nodes of the reference expansion used for error estimates


@dataclass(frozen=True)
class ChebyshevApproximation:
    """A Chebyshev expansion of a spectral function on an interval.

    Attributes
    ----------
    coefficients : ndarray, shape (order + 1,)
        ``c_k`` of ``sum_k c_k T_k(x)`` (damping already applied).
    lambda_min, lambda_max : float
        The interval ``[a, b]`` mapped to ``[-1, 1]``.
    damping : {"none", "jackson"}
    error_estimate : float
        ``max |g - p|`` on the interval: for ``damping="none"`` the bound
        ``sum_{k > K} |c_k|`` from an expansion of order 8191, for ``"jackson"`` the
        largest error on 8192 Chebyshev points.
    """

    coefficients: np.ndarray
    lambda_min: float
    lambda_max: float
    damping: str
    error_estimate: float

    @property
    def order(self) -> int:
        """Polynomial degree ``K``."""
        return int(self.coefficients.size - 1)

    def __call__(self, lam: Any) -> np.ndarray:
        """Evaluate the polynomial at scalar eigenvalues ``lam``."""
        a, b = self.lambda_min, self.lambda_max
        x = (2.0 * np.asarray(lam, dtype=float) - (a + b)) / (b - a)
        return np.polynomial.chebyshev.chebval(x, self.coefficients)


def _nodes(N: int, a: float, b: float) -> np.ndarray:
    theta = np.pi * (np.arange(N) + 0.5) / N
    return 0.5 * (b - a) * np.cos(theta) + 0.5 * (b + a)


def _coefficients(g: Callable[[np.ndarray], np.ndarray], N: int, a: float,
                  b: float) -> np.ndarray:
    vals = np.asarray(g(_nodes(N, a, b)), dtype=float)
    if vals.shape != (N,):
        raise ValueError(f"g must map an array of shape ({N},) to one of the same shape; "
                         f"got shape {vals.shape}")
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"g must be finite on [{a:.6g}, {b:.6g}]; got NaN or inf values")
    c = scipy.fft.dct(vals, type=2) / N
    c[0] *= 0.5
    return c


def chebyshev_approximation(
    g: Callable[[np.ndarray], np.ndarray],
    lambda_max: float,
    *,
    lambda_min: float = 0.0,
    order: int | None = None,
    tol: float | None = None,
    damping: Literal["none", "jackson"] = "none",
) -> ChebyshevApproximation:
    """Chebyshev expansion of ``g`` on ``[lambda_min, lambda_max]``.

    Parameters
    ----------
    g : callable
        Vectorised spectral function, e.g. ``filters.heat(1.0)``.
    lambda_max : float
        Upper end of the interval; must bound the spectrum (see :func:`chebyshev_filter`).
    lambda_min : float
        Lower end (0 for Laplacians).
    order : int, optional
        Degree ``K``. Give ``order`` or ``tol``.
    tol : float, optional
        Requested accuracy ``max |g - p| <= tol`` on the interval: the smallest order
        whose coefficient-tail bound meets it (at most 5000).
    damping : {"none", "jackson"}
        Jackson damping removes Gibbs oscillation at discontinuities (at the price of a
        slower, monotone convergence).

    Returns
    -------
    ChebyshevApproximation

    Examples
    --------
    >>> from spectral_sheaf.filters import heat
    >>> p = chebyshev_approximation(heat(1.0), 2.0, tol=1e-10)
    >>> p.order, bool(abs(p(0.5) - np.exp(-0.5)) < 1e-10)
    (10, True)
    """
    check_option(damping, "damping", ("none", "jackson"))
    a, b = float(lambda_min), float(lambda_max)
    if not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(f"lambda_min and lambda_max must be finite; got {a}, {b}")
    if not b > a:
        raise ValueError(f"lambda_max must be > lambda_min = {a:.6g}; got {b:.6g}")
    if (order is None) == (tol is None):
        raise ValueError("give exactly one of order (the degree) and tol (the accuracy); "
                         f"got order={order!r}, tol={tol!r}")
    if not callable(g):
        raise TypeError(f"g must be a callable of lambda; got {type(g).__name__}")
    fine = _coefficients(g, _FINE, a, b)
    tail = np.cumsum(np.abs(fine)[::-1])[::-1]  # tail[k] = sum_{j >= k} |c_j|
    if order is not None:
        K = check_int(order, "order", minimum=1)
        if K > MAX_ORDER:
            raise ValueError(f"order must be <= {MAX_ORDER}; got {K}")
    else:
        tol = check_positive_real(tol, "tol")
        ok = np.nonzero(tail[1 : MAX_ORDER + 2] <= tol)[0]
        if ok.size == 0:
            raise ValueError(
                f"no order up to {MAX_ORDER} reaches tol={tol:g}: g is not smooth enough on "
                f"[{a:.6g}, {b:.6g}] (coefficient tail {tail[MAX_ORDER + 1]:.3g}); use "
                "damping='jackson' with a fixed order, a smoother design, or lanczos_filter"
            )
        K = max(int(ok[0]), 1)
    c = fine[: K + 1].copy()
    if damping == "jackson":
        c *= _jackson(K)
        x = _nodes(_FINE, a, b)
        gx = np.asarray(g(x), dtype=float)
        t = (2.0 * x - (a + b)) / (b - a)
        err = float(np.max(np.abs(gx - np.polynomial.chebyshev.chebval(t, c))))
    else:
        err = float(tail[K + 1]) if tail.size > K + 1 else 0.0
    return ChebyshevApproximation(c, a, b, damping, err)


@nb.njit(cache=True, inline="always")
def row_times_block(acc, indptr, indices, data, Z, i):  # pragma: no cover - compiled
    """``acc += A[i, :] @ Z`` for a CSR ``A``: row ``i`` of a sparse-times-block product.

    Four entries of the row per pass over the channels, then two, then one: the same
    sums in the same order as one entry per pass (bitwise the same answer), with a
    quarter of the accumulator's loads and stores. One Chebyshev step, 16 channels:
    0.85x the time of two entries per pass on a kNN Laplacian, 0.75x that of a kernel
    reading a sheaf Laplacian's 3 x 3 blocks as blocks (0.5x at d = 5), which this
    replaced. Shared by the Chebyshev recurrence and the NSD model's right-hand side.
    """
    c = Z.shape[1]
    p = indptr[i]
    end = indptr[i + 1]
    while p + 4 <= end:
        j0 = indices[p]
        j1 = indices[p + 1]
        j2 = indices[p + 2]
        j3 = indices[p + 3]
        a0 = data[p]
        a1 = data[p + 1]
        a2 = data[p + 2]
        a3 = data[p + 3]
        for q in range(c):
            acc[q] = (((acc[q] + a0 * Z[j0, q]) + a1 * Z[j1, q]) + a2 * Z[j2, q]) \
                + a3 * Z[j3, q]
        p += 4
    if p + 2 <= end:
        j0 = indices[p]
        j1 = indices[p + 1]
        a0 = data[p]
        a1 = data[p + 1]
        for q in range(c):
            acc[q] = (acc[q] + a0 * Z[j0, q]) + a1 * Z[j1, q]
        p += 2
    if p < end:
        j0 = indices[p]
        a0 = data[p]
        for q in range(c):
            acc[q] += a0 * Z[j0, q]


@nb.njit(parallel=True, cache=True)
def _step(indptr, indices, data, alpha, beta, T_cur, T_prev, T_out, Y, coef, c0, first,
          n_chunks):  # pragma: no cover
    """One fused recurrence step: T_out <- T_next, Y += coef T_next.

    ``T_next = 2 (alpha A + beta I) T_cur - T_prev``; ``T_out`` may be ``T_prev`` (in
    place: each entry is read before it is written, by the same thread). ``first``:
    ``T_next`` is the T_1 term ``(alpha A + beta I) T_cur`` (``T_prev`` is not read)
    and ``Y`` is set to ``c0 T_cur + coef T_1`` (it is only written). Rows go in
    ``n_chunks`` contiguous chunks, each with one accumulator (an allocation per row
    cost 14 % on a sheaf Laplacian).
    """
    n, c = T_cur.shape
    size = (n + n_chunks - 1) // n_chunks
    for chunk in nb.prange(n_chunks):
        acc = np.empty(c, dtype=T_cur.dtype)
        for i in range(chunk * size, min(n, (chunk + 1) * size)):
            for q in range(c):
                acc[q] = 0.0
            row_times_block(acc, indptr, indices, data, T_cur, i)
            if first:
                for q in range(c):
                    v = alpha * acc[q] + beta * T_cur[i, q]
                    T_out[i, q] = v
                    Y[i, q] = c0 * T_cur[i, q] + coef * v
            else:
                for q in range(c):
                    t = 2.0 * (alpha * acc[q] + beta * T_cur[i, q]) - T_prev[i, q]
                    T_out[i, q] = t
                    Y[i, q] += coef * t


@nb.njit(parallel=True, cache=True)
def _clenshaw_step(indptr, indices, data, alpha, beta, B1, m, B2, sub, X, cx, OUT,
                   n_chunks):  # pragma: no cover
    """One fused Clenshaw step: ``OUT <- cx X + m (alpha A + beta I) B1 - [B2]``.

    ``B2`` is subtracted when ``sub`` (else not read). ``OUT`` may be ``B2`` (in place:
    each entry is read before it is written, by the same thread), never ``B1`` or
    ``X``. Rows in chunks, as in :func:`_step`.
    """
    n, c = X.shape
    size = (n + n_chunks - 1) // n_chunks
    for chunk in nb.prange(n_chunks):
        acc = np.empty(c, dtype=X.dtype)
        for i in range(chunk * size, min(n, (chunk + 1) * size)):
            for q in range(c):
                acc[q] = 0.0
            row_times_block(acc, indptr, indices, data, B1, i)
            if sub:
                for q in range(c):
                    OUT[i, q] = (cx * X[i, q] + m * (alpha * acc[q] + beta * B1[i, q])) \
                        - B2[i, q]
            else:
                for q in range(c):
                    OUT[i, q] = cx * X[i, q] + m * (alpha * acc[q] + beta * B1[i, q])


# Renumbering for locality. A product A @ X gathers the rows of X named by each row's
# column indices; when those lie far apart (a kNN graph in the order its points came
# in), nearly every gather misses the cache, and the product runs several times slower
# than on the same matrix in breadth-first order: measured here on kNN Laplacians with
# 16 channels, 4.0 -> 1.4 ms a product at 20k nodes and 132 -> 17 ms at 200k. The
# renumbering (a breadth-first order, Cuthill-McKee without its degree sort, which
# gave the same products at half the cost of scipy's RCM) and the permuted copy of A
# cost 7 ms and 140 ms there. The permutation keeps each row's entries in their order,
# so every row sum is formed in the same order and the result is bitwise the same.
# While the signals fit in the last-level cache the scattered gathers hit it, and the
# renumbering (about 6 ms at 20k nodes and 16 channels, 15 ms at 50k, cache-cold inside
# a call) is repaid only over many products: 22 at 20k x 16, 15 at 50k x 16, 7 at
# 100k x 16 (per product 0.79 -> 0.52, 2.59 -> 1.58 and 9.9 -> 4.4 ms). Heat diffusion
# to 1e-8 at t = 1 takes 8-9 products: renumbered or not, kNN graphs of 20k-70k nodes
# with 8-32 channels ran level or up to 1.4x slower renumbered (signals of 1.3-18 MB),
# while from 140k x 16 and 100k x 32 (18-26 MB) it ran 1.5-2.5x faster.
_WINDOW_BYTES = 256 * 1024  # a core's share of L2 here; a wider gather window misses it
_MIN_WORK = 64  # products x channels below which renumbering does not pay
_CACHED_SIGNAL_BYTES = 16 * 2**20  # half this machine's 32 MB L3: signals below it ...
_CACHED_MIN_PRODUCTS = 24  # ... are renumbered only for at least this many products


@nb.njit(cache=True)
def _mean_offset(indptr, indices, rows):  # pragma: no cover
    """Mean ``|i - j|`` over the stored entries of about ``rows`` rows of a CSR matrix.

    An estimate that decides: 16 evenly spaced runs of consecutive rows (read in
    order, so the memory traffic streams; as many scattered rows wait on memory one
    at a time) stand for the whole matrix at a fraction of a pass over it.
    """
    n = indptr.size - 1
    runs = 16
    run = max(1, rows // runs)
    total = 0.0
    count = 0
    for b in range(runs):
        first = (b * n) // runs
        for i in range(first, min(n, first + run)):
            for p in range(indptr[i], indptr[i + 1]):
                total += abs(i - indices[p])
            count += indptr[i + 1] - indptr[i]
    return total / max(count, 1)


def locality_order(A: sp.csr_array, channels: int, products: int,
                   itemsize: int = 8) -> np.ndarray | None:
    """Return a breadth-first renumbering of symmetric ``A`` when it pays, else None.

    It pays when the rows of the signals that one row of ``A`` gathers span more than
    a core's cache (mean ``|i - j|`` over a sample of rows, times the bytes of a signal
    row, above 256 KB) and there are enough products to repay it
    (``products * channels >= 64``, and at least 24 products while a signal, ``n *
    channels * itemsize``, fits in half the last-level cache, 16 MB here).
    """
    if products * channels < _MIN_WORK or A.nnz == 0:
        return None
    if (products < _CACHED_MIN_PRODUCTS
            and A.shape[0] * channels * itemsize < _CACHED_SIGNAL_BYTES):
        return None
    window = _mean_offset(A.indptr, A.indices, 4096) * channels * itemsize
    if window <= _WINDOW_BYTES:
        return None
    return breadth_first_order(A)


def _apply_numba(A: sp.csr_array, X: np.ndarray, c: np.ndarray, alpha: float,
                 beta: float, reorder: bool | str = False,
                 out: np.ndarray | None = None, method: str = "recurrence") -> np.ndarray:
    """``p(A) X`` by a fused recurrence; ``out``: a C-contiguous array for the result.

    ``method``: the three-term recurrence, or Clenshaw's (:func:`_clenshaw_numba`).
    """
    perm = None
    if reorder is True:
        perm = breadth_first_order(A)
    elif reorder == "auto":
        perm = locality_order(A, X.shape[1], c.size - 1, X.dtype.itemsize)
    if perm is not None:
        Y = _apply_numba(permute_symmetric(A, perm), take_rows(X, perm), c, alpha, beta,
                         method=method)
        return put_rows(Y, perm, out)
    dt = X.dtype
    data = A.data.astype(dt, copy=False)
    a, bb = dt.type(alpha), dt.type(beta)
    chunks = max(1, min(X.shape[0], 16 * nb.get_num_threads()))
    Y = np.empty_like(X) if out is None else out
    if method == "clenshaw":
        return _clenshaw_numba(A.indptr, A.indices, data, X, c, a, bb, Y, chunks)

    def step(T_cur: np.ndarray, T_prev: np.ndarray, T_out: np.ndarray, coef: float,
             c0: float, first: bool) -> None:
        _step(A.indptr, A.indices, data, a, bb, T_cur, T_prev, T_out, Y, dt.type(coef),
              dt.type(c0), first, chunks)

    # T_1 goes into a new buffer and Y = c_0 X + c_1 T_1; X is only read
    T_cur = np.empty_like(X)
    step(X, X, T_cur, c[1], c[0], True)
    if c.size == 2:
        return Y
    # T_2 = 2 A~ T_1 - X goes into a second buffer (X is not written); from then on
    # each step overwrites T_{k-2} with T_k in place and the two buffers swap roles
    T_prev = np.empty_like(X)
    step(T_cur, X, T_prev, c[2], 0.0, False)
    T_cur, T_prev = T_prev, T_cur
    for k in range(3, c.size):
        step(T_cur, T_prev, T_prev, c[k], 0.0, False)
        T_cur, T_prev = T_prev, T_cur
    return Y


def _clenshaw_numba(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
                    X: np.ndarray, c: np.ndarray, alpha: Any, beta: Any, Y: np.ndarray,
                    chunks: int) -> np.ndarray:
    """``sum_k c_k T_k(A~) X`` into ``Y`` by Clenshaw's recurrence, one fused pass a degree.

    ``b_k = c_k X + 2 A~ b_{k+1} - b_{k+2}`` from ``k = K`` down to 1, then ``Y = c_0 X +
    A~ b_1 - b_2`` (``A~ = alpha A + beta I``). Each pass gathers ``b_{k+1}`` and streams
    ``X`` and ``b_{k+2}``, which it overwrites with ``b_k``: three streams against the
    forward recurrence's four (``T_{k-1}`` read and overwritten, ``Y`` read and
    written), and two ``(n, channels)`` buffers, one of them ``Y``, against its three.
    ``b_K = c_K X`` and ``b_{K+1} = 0`` are folded into the first two passes, not
    formed. Heat diffusion, order 9 and 16 channels, here: 0.81x the forward
    recurrence's time on the normalised Laplacian of a 20k kNN graph, 0.92x on an O(3)
    sheaf's (60k rows), 0.77x on a 500 x 500 grid's. It agrees with the forward
    recurrence to rounding (within 100 ulps of the largest entry, in the tests).
    """
    dt = X.dtype
    K = c.size - 1

    def step(B1: np.ndarray, m: float, B2: np.ndarray | None, cx: float,
             OUT: np.ndarray) -> None:
        _clenshaw_step(indptr, indices, data, alpha, beta, B1, dt.type(m),
                       X if B2 is None else B2, B2 is not None, X, dt.type(cx), OUT, chunks)

    if K == 0:
        np.multiply(X, c[0], out=Y)
        return Y
    if K == 1:  # Y = c_0 X + A~ (c_1 X)
        step(X, c[1], None, c[0], Y)
        return Y
    # b_j goes to the buffer of b_{j+2}; Y takes b_0's place, so it is P for odd K
    other = np.empty_like(X)
    P, Q = (Y, other) if K % 2 else (other, Y)
    step(X, 2.0 * c[K], None, c[K - 1], P)  # b_{K-1} = c_{K-1} X + 2 A~ (c_K X)
    if K == 2:  # Y = c_0 X + A~ b_1 - c_2 X
        step(P, 1.0, None, c[0] - c[2], Q)
        return Y
    step(P, 2.0, None, c[K - 2] - c[K], Q)  # b_{K-2}, with b_K = c_K X
    newer, older = Q, P  # b_{j+1}, b_{j+2}
    for j in range(K - 3, 0, -1):
        step(newer, 2.0, older, c[j], older)
        newer, older = older, newer
    step(newer, 1.0, older, c[0], older)  # older is Y
    return Y


def _apply_generic(A: Any, X: Any, c: np.ndarray, alpha: float, beta: float,
                   method: str) -> Any:
    def shifted(V: Any) -> Any:
        return alpha * (A @ V) + beta * V

    if method == "clenshaw":
        b1 = 0 * X
        b2 = 0 * X
        for k in range(c.size - 1, 0, -1):
            b1, b2 = c[k] * X + 2 * shifted(b1) - b2, b1
        return c[0] * X + shifted(b1) - b2
    T_prev, T_cur = X, shifted(X)
    Y = c[0] * T_prev + c[1] * T_cur
    for k in range(2, c.size):
        T_prev, T_cur = T_cur, 2 * shifted(T_cur) - T_prev
        Y = Y + c[k] * T_cur
    return Y


def chebyshev_filter(
    A: Any,
    X: Any,
    g: Callable[[np.ndarray], np.ndarray] | ChebyshevApproximation,
    *,
    lambda_max: float | None = None,
    lambda_min: float = 0.0,
    order: int | None = None,
    tol: float | None = None,
    damping: Literal["none", "jackson"] = "none",
    method: Literal["recurrence", "clenshaw"] = "recurrence",
    check_interval: bool = True,
    reorder: bool | Literal["auto"] = "auto",
    rng: Any = None,
) -> Any:
    """Apply ``g(A)`` to signals by a Chebyshev expansion.

    Parameters
    ----------
    A : csr_array, LinearOperator, dense, or a CuPy sparse matrix, shape (n, n)
        Symmetric with spectrum in ``[lambda_min, lambda_max]``.
    X : array, shape (n,) or (n, channels)
        Signals; all channels in one pass. float32 stays float32.
    g : callable or ChebyshevApproximation
        A design (``filters.heat(t)``, ...) or a prepared expansion (then ``order``,
        ``tol``, ``damping`` and the interval come from it).
    lambda_max : float, optional
        Upper end of the interval. Default: the Gershgorin upper bound for a matrix
        (guaranteed; for a LinearOperator, the Lanczos estimate plus its residual bound
        from :func:`~spectral_sheaf.spectral.spectral_bounds`, widened by 1 percent,
        which is not). Passed explicitly, it is checked (``check_interval``): below a
        Ritz value of ``A`` (so certainly below the spectrum) is an error; below the
        Lanczos upper estimate, a warning. A Chebyshev polynomial grows fast outside
        its interval, so an interval that misses the top of the spectrum gives a wrong
        answer there.
    lambda_min : float
        Lower end (0 for Laplacians).
    order, tol, damping
        As in :func:`chebyshev_approximation`; default ``tol=1e-10``.
    method : {"recurrence", "clenshaw"}
        The three-term recurrence or Clenshaw's backward recurrence. For a sparse
        matrix on the CPU each is one fused parallel Numba pass per degree (product,
        recurrence and accumulation together); Clenshaw's moves less memory (three
        streams a pass against four, two work arrays against three): 0.77-0.92x the
        recurrence's time at order 9 (heat diffusion to 1e-8), 0.87-0.99x at order 30,
        here. The two agree to rounding.
    check_interval : bool
        Check a given ``lambda_max`` against the spectrum (20 Lanczos steps).
    reorder : bool or "auto"
        Run the fused recurrence on a breadth-first renumbering of ``A`` (and of the
        rows of ``X``), for cache locality; the answer is bitwise the same.
        ``"auto"``: when the rows that ``A`` gathers lie far apart and the work repays
        the renumbering (:func:`locality_order`). CSR on the CPU only.
    rng : Generator, int or None
        Start vector of the Lanczos bound.

    Returns
    -------
    array, shape of ``X``
    """
    check_option(method, "method", ("recurrence", "clenshaw"))
    if isinstance(reorder, np.bool_):
        reorder = bool(reorder)
    if not (isinstance(reorder, bool) or (isinstance(reorder, str) and reorder == "auto")):
        raise ValueError(f"reorder must be True, False or 'auto'; got {reorder!r}")
    if order is not None:
        check_int(order, "order", minimum=1)
    if tol is not None:
        check_positive_real(tol, "tol")
    gpu = is_cupy(A) or is_cupy(X)
    if gpu:  # both on the device, X checked there (a mix is a TypeError)
        Am = A
        Xa, n = device_signals(A, X)
    elif isinstance(A, LinearOperator):
        Am = A
        n = A.shape[0]
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be square; got shape {A.shape}")
    else:
        Am = as_csr(A, "A")
        n = check_square(Am, "A")
    if not gpu:
        Xa = np.asarray(X)
        if Xa.ndim not in (1, 2) or Xa.shape[0] != n:
            raise ValueError(f"X must have shape (n,) or (n, channels) with n = {n} rows "
                             f"to match A; got shape {Xa.shape}")
        dt = Xa.dtype if Xa.dtype == np.float32 else np.float64
        if np.iscomplexobj(Xa):
            raise TypeError("X must be real; got a complex array")
        Xa = Xa.astype(dt, copy=False)
        if not np.all(np.isfinite(Xa)):
            raise ValueError("X must contain only finite values; got NaN or inf")
    if isinstance(g, ChebyshevApproximation):
        approx = g
        if lambda_max is not None or order is not None or tol is not None:
            raise ValueError("lambda_max, order and tol come from the ChebyshevApproximation "
                             "given as g; do not pass them too")
        lmax: float | None = approx.lambda_max
        given = True
    else:
        given = lambda_max is not None
        lmax = lambda_max
    if lmax is None:
        lmax = upper_bound(Am, rng)
    elif given and check_interval:
        # a given interval needs only a certain inner bound: Lanczos without the
        # reorthogonalisation, whose cost would exceed the filter's on large matrices
        b = spectral_bounds(A, steps=20, rng=rng, reorthogonalize=False)
        if lmax < b.lambda_max - 1e-10 * max(1.0, abs(b.lambda_max)):
            raise ValueError(
                f"lambda_max={lmax:.6g} is below the spectrum: A has a Ritz value "
                f"{b.lambda_max:.6g} (an eigenvalue at least that large); pass "
                f"lambda_max >= {b.upper:.6g} or leave it out"
            )
        elif lmax < b.upper - 1e-10 * max(1.0, abs(b.upper)):
            warnings.warn(
                f"lambda_max={lmax:.6g} is below the Lanczos estimate {b.upper:.6g} of the "
                "top of the spectrum; the filter may be wrong there",
                RuntimeWarning, stacklevel=2)
    if not isinstance(g, ChebyshevApproximation):
        approx = chebyshev_approximation(
            g, float(lmax), lambda_min=lambda_min, order=order,
            tol=1e-10 if order is None and tol is None else tol, damping=damping)
    one = Xa.ndim == 1
    Y = apply_expansion(Am, Xa.reshape(n, 1) if one else Xa, approx, method=method,
                        reorder=reorder)
    return Y.reshape(-1) if one else Y


def upper_bound(A: Any, rng: Any = None) -> float:
    """Return an upper bound of the spectrum: Gershgorin for a matrix (certain), else Lanczos.

    For a LinearOperator: 20 Lanczos steps, the top Ritz value widened by its residual
    bound and by 1 % of the spread (an estimate).
    """
    if not isinstance(A, LinearOperator):
        return float(gershgorin_bounds(A)[1])
    b = spectral_bounds(A, steps=20, rng=rng)
    return b.upper + 0.01 * (b.upper - b.lower)


def apply_expansion(A: Any, X: Any, approx: ChebyshevApproximation, *,
                    method: str = "recurrence", reorder: bool | str = False,
                    out: np.ndarray | None = None) -> Any:
    """Apply a prepared expansion: ``p(A) X``, with no validation (callers have done it).

    ``X`` has shape (n, channels); ``A`` is a csr_array (any index order), a
    LinearOperator or CuPy. ``out`` (NumPy, C-contiguous, the shape and dtype of
    ``X``): where the result goes, when the fused recurrence runs (the return value
    is the result either way).
    """
    c = approx.coefficients
    a, b_ = approx.lambda_min, approx.lambda_max
    alpha, beta = 2.0 / (b_ - a), -(b_ + a) / (b_ - a)
    gpu = is_cupy(A) or is_cupy(X)
    if c.size == 1:
        return c[0] * X
    if not gpu and sp.issparse(A):
        if A.format != "csr":  # the kernels read CSR arrays (BSR indices are blocks)
            A = sp.csr_array(A)
        return _apply_numba(A, np.ascontiguousarray(X), c, alpha, beta, reorder, out,
                            method)
    Y = _apply_generic(A, X, c, alpha, beta, method)
    # float32 stays float32 (a float64 A promotes the products)
    return Y.astype(X.dtype, copy=False) if gpu else np.asarray(Y, dtype=X.dtype)
