"""A multilevel start for shift-invert: smooth eigenvectors from aggregated problems.

The smallest eigenvectors of a Laplacian on a grid, a mesh or a geometric graph vary
slowly from node to node, so a problem on aggregates of neighbouring nodes
(``A_c = P^T A P``, ``M_c = P^T M P`` with ``P`` the 0/1 aggregation matrix) has
nearly the same lowest eigenspace. Aggregating again and again gives a problem small
enough for LAPACK. Its eigenvectors are carried back up level by level: prolongated
by ``P``, then improved by a few sweeps of shift-invert subspace iteration with that
level's factorisation, a Rayleigh-Ritz step after each sweep. A level's factorisation
costs a fraction of the next finer one's, so on the finest level the start already
lies close to the wanted space, and one or two sweeps with the caller's factorisation
finish the job.

Subspace iteration with a block of ``p`` vectors shrinks the error in the ``j``-th
eigendirection by ``(lambda_j - s) / (lambda_{p+1} - s)`` a sweep. Its Rayleigh-Ritz
step is taken with ``A`` itself, not with the shift-inverted operator as a Krylov
method would, so that the rough part of the prolongated vectors (large Rayleigh
quotients) stays out of the Ritz vectors: from vectors prolongated straight from a
1166-row level (no intermediate sweeps, no smoothing), one sweep left the 700 x 700
grid's 20th pair at a residual of 6.5e-6 ||A||, and a second block Lanczos step on
the shift-inverted operator raised it to 9.0e-6. Since ``W = (A - s M)^{-1} M X``
has ``A W = M X + s M W``, that step needs Gram matrices only, no product with ``A``.

It is a start, not a method. One sweep leaves a residual of about
``(lambda_k - s) ||M e||``, ``e`` the rough part (a few percent), so it pays where the
wanted eigenvalues are small against the tolerance, as on fine grids and meshes at
moderate tolerances. The finest level is not tried where the coarse eigenvalues
predict too large a residual (``PREDICTED_MAX``), nor continued past a first sweep
far from converged (``HOPELESS``); the caller then runs its block Lanczos, having
spent the coarse levels' work and at most ``MAX_FINE_SWEEPS`` solves with the block.

The work is split in two so that the coarse levels need no factorisation of the
finest: :func:`coarse_start` runs while the caller factorises the finest level in
another thread (where CHOLMOD is called through ctypes), :func:`finest_sweeps`
after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba as nb
import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._factor import SymmetricFactor

__all__ = ["aggregate", "coarse_start", "finest_sweeps", "multilevel_pairs"]

MIN_ROWS = 50_000  # shift-invert tries the start from this many rows
COARSEST = 1_200  # aggregation stops at this many rows, LAPACK solves the level
MAX_COARSEST = 3_000  # or gives up where aggregation stopped above this many
LEVEL_SWEEPS = 3  # subspace iteration sweeps on each intermediate level
MAX_FINE_SWEEPS = 2  # on the finest level, before giving up
EXTRA = 8  # the block holds k + max(EXTRA, k // 2) vectors
HOPELESS = 8.0  # a finest sweep this far from atol gives up
#: the finest level is tried while its predicted first residual (the coarse k-th
#: eigenvalue less the shift, times sqrt(max M_ii), over the accepted residual) is at
#: most this: on the large suite (tol 1e-6) the grid's (k = 10, 20: 94, 188) and a
#: random geometric graph's (k = 10: 320) converged in one or two sweeps; a kNN
#: graph's (2000), the same RGG's at k = 20 (650), an icosphere's with its mass
#: matrix (9.7e4) and an O(3) sheaf's (1.6e5) did not
PREDICTED_MAX = 400.0
#: the same prediction from the coarsest level, checked before any coarse level is
#: factorised: grid 1100 and 2300, RGG 1400 (k = 10) and 2800 (k = 20), kNN 9200,
#: sheaf 2.6e5, icosphere 4.7e5
COARSEST_PREDICTED_MAX = 4000.0
SMOOTH = 2  # damped Jacobi steps after the finest prolongation


@nb.njit(cache=True)
def _aggregate(indptr: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Greedy aggregation of a graph given by its CSR pattern (Vanek's first two passes).

    First, each node whose neighbours are all free forms an aggregate with them; then
    each node left joins the aggregate of a neighbour placed in the first pass (every
    node left has one: it was not free because of it). Returns (aggregate of each node,
    number of aggregates).
    """
    agg = np.full(n, -1, dtype=np.int64)
    count = 0
    for i in range(n):
        if agg[i] >= 0:
            continue
        free = True
        for q in range(indptr[i], indptr[i + 1]):
            if agg[indices[q]] >= 0:
                free = False
                break
        if free:
            agg[i] = count
            for q in range(indptr[i], indptr[i + 1]):
                agg[indices[q]] = count
            count += 1
    first = agg.copy()
    for i in range(n):
        if first[i] < 0:
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                if first[j] >= 0:
                    agg[i] = first[j]
                    break
    return agg, count


@nb.njit(inline="always")
def _row4(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, Z: np.ndarray, i: int,
          q0: int, w: int) -> tuple[float, float, float, float]:  # pragma: no cover
    """Row ``i`` of ``A`` times columns ``q0 .. q0 + w - 1`` of ``Z`` (``w <= 4``)."""
    a0 = a1 = a2 = a3 = 0.0
    for t in range(indptr[i], indptr[i + 1]):
        j = indices[t]
        v = data[t]
        a0 += v * Z[j, q0]
        if w > 1:
            a1 += v * Z[j, q0 + 1]
        if w > 2:
            a2 += v * Z[j, q0 + 2]
        if w > 3:
            a3 += v * Z[j, q0 + 3]
    return a0, a1, a2, a3


@nb.njit(parallel=True, cache=True)
def _csr_columns(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, Z: np.ndarray,
                 alpha: float, scale: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """``out = alpha Z + diag(scale) A Z`` for a CSR ``A`` and column-major ``Z``, ``out``.

    Four columns to a pass over ``A``, each read where it lies: SciPy's product copies
    a column-major block into row-major order first (a strided copy of the whole
    block, 0.2 s for 30 columns of 490k rows), and one pass per column reads ``A``
    four times as often (the residuals of 19 columns on that grid: 0.10 s against
    0.04 s).
    """
    b = Z.shape[1]
    for q0 in range(0, b, 4):
        w = min(4, b - q0)
        for i in nb.prange(Z.shape[0]):
            acc = _row4(indptr, indices, data, Z, i, q0, w)
            for c in range(w):
                out[i, q0 + c] = alpha * Z[i, q0 + c] + scale[i] * acc[c]


@nb.njit(parallel=True, cache=True)
def _csr_residuals(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, Z: np.ndarray,
                   lam: np.ndarray, chunks: int) -> np.ndarray:  # pragma: no cover
    """Return ``||A z_j - lam_j z_j||^2`` per column of a column-major ``Z``, CSR ``A``.

    As :func:`_csr_columns`, four columns to a pass over ``A``, and no ``(n, b)``
    array: each thread sums the squares over its rows.
    """
    n, b = Z.shape
    per = (n + chunks - 1) // chunks
    part = np.zeros((chunks, b))
    for t in nb.prange(chunks):
        for q0 in range(0, b, 4):
            w = min(4, b - q0)
            for i in range(t * per, min(n, (t + 1) * per)):
                acc = _row4(indptr, indices, data, Z, i, q0, w)
                for c in range(w):
                    r = acc[c] - lam[q0 + c] * Z[i, q0 + c]
                    part[t, q0 + c] += r * r
    return part.sum(axis=0)


def _times(A: sp.csr_array, Z: np.ndarray) -> np.ndarray:
    """Return ``A @ Z`` for a real CSR ``A``, column-major in and out."""
    out = np.empty(Z.shape, order="F")
    _csr_columns(A.indptr, A.indices, A.data, np.asfortranarray(Z), 0.0,
                 np.ones(A.shape[0]), out)
    return out


def _subtract_product(X: np.ndarray, K: np.ndarray, C: np.ndarray) -> None:
    """``X -= K C`` in place, with no ``(n, b)`` temporary where ``X`` is column-major.

    ``K @ C`` on the 700 x 700 grid's block of 28 (a 110 MB array in fresh pages) took
    0.27 s; BLAS's ``gemm`` into ``X`` takes a few hundredths.
    """
    if X.dtype == np.float64 and X.flags.f_contiguous:
        scipy.linalg.blas.dgemm(-1.0, K, C, beta=1.0, c=X, overwrite_c=True)
    else:
        X -= K @ C


def aggregate(A: Any) -> tuple[np.ndarray, int]:
    """Aggregate the graph of ``A``'s nonzeros; see ``_aggregate``."""
    A = sp.csr_array(A)
    return _aggregate(A.indptr.astype(np.int64), A.indices.astype(np.int64), A.shape[0])


def _rayleigh_ritz(X: np.ndarray, MX: np.ndarray, W: np.ndarray, MW: np.ndarray, s: float,
                   M: sp.csr_array | None, K: np.ndarray | None,
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ritz pairs of ``(A, M)`` on the span of ``W`` (less ``K``), with residual norms.

    ``W = (A - s M)^{-1} M X``, so that ``A W = M X + s M W``: the Rayleigh quotient
    and the residuals need only Gram matrices of ``X``, ``W`` and their M-images, and
    no product with ``A``. ``K`` (M-orthonormal, in ``A``'s kernel) was projected out of
    ``X``, and so out of ``W`` but for rounding, which is projected out here (in place).
    The basis is M-orthonormalised through the eigendecomposition of ``W^T M W`` (its
    columns scaled to unit length), dropping the directions it lacks. The Ritz vectors
    are written over ``X`` (its leading columns), which must not share memory with
    ``W``; both are column-major.
    """
    if K is not None:
        _subtract_product(W, K, K.T @ MW)
        MW = W if M is None else _times(M, W)
    G = W.T @ MW
    # columns scaled to unit M-norm first: the shift-inverted kernel direction is
    # 1 / |s| times longer than the rest, and would hide them from the rank test
    d = 1.0 / np.sqrt(np.maximum(np.diag(G), np.finfo(float).tiny))
    w, U = np.linalg.eigh(0.5 * (G + G.T) * d * d[:, None])
    keep = w > 1e-12 * max(float(w[-1]), np.finfo(float).tiny)
    C = d[:, None] * U[:, keep] / np.sqrt(w[keep])  # W C is M-orthonormal
    WX = W.T @ MX  # W^T M X
    H = C.T @ (WX + s * G) @ C  # C^T W^T A W C
    theta, Y = np.linalg.eigh(0.5 * (H + H.T))
    CY = C @ Y
    # (A W - theta M W) c = (M X - (theta - s) M W) c, so that the squared residual is
    # c^T (X^T M^2 X - 2 (theta - s) W^T M^2 X + (theta - s)^2 W^T M^2 W) c: terms of
    # the size of (theta - s)^2, which cancel to rounding at that scale, not at that
    # of theta^2 (a spectrum far from 0, as a sheaf Laplacian's, or A + c I)
    XX = MX.T @ MX
    MM = G if M is None else MW.T @ MW
    WMX = WX if M is None else MW.T @ MX
    shifted = theta - s
    res2 = (np.einsum("ij,ij->j", CY, XX @ CY)
            - 2.0 * shifted * np.einsum("ij,ij->j", CY, WMX @ CY)
            + shifted ** 2 * np.einsum("ij,ij->j", CY, MM @ CY))
    Xr = np.matmul(W, CY, out=X[:, :CY.shape[1]])
    return theta, Xr, np.sqrt(np.maximum(res2, 0.0))


def _prolong(agg: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``P X`` for the aggregation ``agg`` (row ``i`` of ``X`` at ``agg[i]``), column-major."""
    return np.take(X.T, agg, axis=1).T


def _smooth(A: sp.csr_array, X: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped Jacobi on ``A x = 0``: ``X <- X - (2/3) D^{-1} A X``, ``steps`` times.

    The prolongation's piecewise-constant vectors jump between aggregates; one solve
    leaves a residual proportional to the size of that rough part, which each step
    shrinks (on the 700 x 700 grid, a block of 36, after three sweeps on each coarser
    level, the 20th pair's residual after one sweep: 6.2e-7 ||A|| without smoothing,
    2.1e-7 after one step, 1.5e-7 after two). ``X`` is column-major; returns the
    result (in ``X`` or in one other array) and the array of the two it is not in,
    free for other use.
    """
    d = A.diagonal()
    scale = -(2.0 / 3.0) / np.where(d > 0, d, np.inf)
    other = np.empty(X.shape, order="F")
    for _ in range(steps):
        _csr_columns(A.indptr, A.indices, A.data, X, 1.0, scale, other)
        X, other = other, X
    return X, other


def _hierarchy(A: sp.csr_array, M: sp.csr_array | None, p: int,
               ) -> list[tuple[sp.csr_array, sp.csr_array | None, np.ndarray | None]]:
    """Levels ``(A_l, M_l, agg_l)``, finest first; ``agg_l`` maps level ``l`` to ``l + 1``.

    Aggregation stops at ``COARSEST`` rows, when it no longer halves the rows (many
    isolated rows, or rows whose neighbours were all taken), or before a level would
    have fewer than ``3 p`` rows. The coarse ``M`` of
    ``M = I`` is the diagonal of aggregate sizes.
    """
    levels: list[tuple[sp.csr_array, sp.csr_array | None, np.ndarray | None]] = []
    A_l, M_l = A, M
    while A_l.shape[0] > COARSEST:
        n_l = A_l.shape[0]
        agg, count = aggregate(A_l)
        if count > n_l // 2 or count < 3 * p:
            break
        levels.append((A_l, M_l, agg))
        P = sp.csr_array((np.ones(n_l), (np.arange(n_l), agg)), shape=(n_l, count))
        A_l = sp.csr_array(P.T @ A_l @ P)
        M_l = (sp.diags_array(np.bincount(agg, minlength=count).astype(float), format="csr")
               if M_l is None else sp.csr_array(P.T @ M_l @ P))
    levels.append((A_l, M_l, None))
    return levels


def _sweeps(M: sp.csr_array | None, K: np.ndarray | None, X: np.ndarray,
            solve: Callable[..., np.ndarray], s: float, sweeps: int, k: int,
            atol: float, scratch: np.ndarray | None = None,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Shift-invert subspace iteration from ``X``: a solve and a Rayleigh-Ritz step a sweep.

    ``solve`` applies ``(A - s M)^{-1}``. ``X`` (column-major) is overwritten. With
    ``atol > 0``, stops early once the ``k`` leading residuals are at most ``atol``, or
    when they are more than ``HOPELESS`` times it (a start this far off does not
    converge in the sweeps it is allowed); returns the last (theta, X, residuals), all
    columns, and the number of sweeps. ``scratch``: a column-major array of ``X``'s
    shape for the solves to write into, as ``solve(B, out)``.
    """
    MK = None if K is None else (K if M is None else np.asarray(M @ K))
    done = 0
    while done < sweeps:
        done += 1
        if K is not None:  # so that W = (A - s M)^{-1} M X is M-orthogonal to K too
            _subtract_product(X, K, MK.T @ X)  # type: ignore[union-attr]
            # a column the projection all but removed (the coarse kernel's) is dropped,
            # not solved with: its rounding noise would join the basis
            MX = X if M is None else _times(M, X)
            norms = np.sqrt(np.abs(np.einsum("ij,ij->j", X, MX)))
            if np.any(norms < 1e-6):
                keep = norms >= 1e-6
                X = np.asfortranarray(X[:, keep])
                MX = X if M is None else np.asfortranarray(MX[:, keep])
        else:
            MX = X if M is None else _times(M, X)
        if scratch is not None:
            W = solve(MX, scratch[:, :MX.shape[1]])
        else:
            W = np.asfortranarray(solve(MX))
        MW = W if M is None else _times(M, W)
        theta, X, res = _rayleigh_ritz(X, MX, W, MW, s, M, K)
        if atol > 0 and (np.all(res[:k] <= atol) or np.any(res[:k] > HOPELESS * atol)):
            break
    return theta, X, res, done


def multilevel_pairs(A: Any, M: Any, K: np.ndarray | None, k: int,
                     solve: Callable[[np.ndarray], np.ndarray], s: float, atol: float,
                     backend: str, state: dict,
                     residuals: Callable[[np.ndarray, np.ndarray], np.ndarray],
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Compute the ``k`` smallest pairs of ``(A, M)`` beyond ``K`` by the multilevel start.

    ``A`` and ``M`` are real sparse. ``solve`` applies ``(A - s M)^{-1}`` (the caller's
    factorisation, ``s`` below the spectrum); ``residuals(lam, X)`` forms
    ``||A x - lambda M x||`` from ``A``, on which the pairs are accepted. Returns
    (eigenvalues, M-orthonormal vectors, residual norms), ascending, once every
    residual is at most ``atol``; None where :func:`coarse_start` gives no start or
    :func:`finest_sweeps` does not converge. ``state["factorizations"]`` counts the
    coarse factorisations too, and ``state["start"]`` says what happened.
    """
    start = coarse_start(A, M, K, k, s, atol, backend, state)
    return None if start is None else finest_sweeps(A, M, K, k, *start, solve, s, atol,
                                                    state, residuals)


def coarse_start(A: Any, M: Any, K: np.ndarray | None, k: int, s: float, atol: float,
                 backend: str, state: dict,
                 on_coarsest: Callable[[bool], None] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """Do the multilevel start's work below the finest level; return its finest block.

    Needs no factorisation of the finest level, so that it can run while that one is
    computed. Coarse levels are factorised with the same shift ``s``: positive
    definite there as on the finest level (if it is), since a coarse Rayleigh quotient
    is a fine one. Returns the prolongated and smoothed block (column-major) with a
    free array of its shape (for the first sweep's solve to write into), or None
    when ``A`` does not coarsen or the coarse eigenvalues predict too large a residual
    for the finest level (``COARSEST_PREDICTED_MAX``, ``PREDICTED_MAX``).
    ``on_coarsest(going_on)`` is called once the coarsest level has decided whether
    the start goes on (before any coarse factorisation), or as it gives up before that.
    """
    def decided(going_on: bool) -> bool:
        if on_coarsest is not None:
            on_coarsest(going_on)
        return going_on


    A = sp.csr_array(A, dtype=np.float64)
    M = None if M is None else sp.csr_array(M, dtype=np.float64)
    r = 0 if K is None else K.shape[1]
    p = k + max(EXTRA, k // 2)  # block: the extra vectors set the convergence ratio
    levels = _hierarchy(A, M, p + r)
    if len(levels) < 2:
        state["start"] = "random (the multilevel start found no coarser level)"
        decided(False)
        return None
    A_c, M_c, _ = levels[-1]
    if A_c.shape[0] > MAX_COARSEST:
        state["start"] = (f"random (aggregation stopped at {A_c.shape[0]} rows, more than "
                          f"the {MAX_COARSEST} LAPACK solves for the multilevel start)")
        decided(False)
        return None
    width = min(p + r, A_c.shape[0])
    theta, X = scipy.linalg.eigh(A_c.toarray(), None if M_c is None else M_c.toarray(),
                                 subset_by_index=[0, width - 1])
    sizes = " > ".join(str(A_l.shape[0]) for A_l, _, _ in levels)
    state["start"] = f"multilevel: aggregated levels of {sizes} rows"
    # one sweep on the finest level leaves a residual of about (lambda_k - s) ||M e||,
    # e the rough part of the prolongated vector (a few percent of it); a coarse
    # eigenvalue overestimates lambda_k (3-4 times one level up on the suite's graphs,
    # 6-20 times on the coarsest), so that it predicts that residual from above
    mscale = 1.0 if M is None else float(np.sqrt(np.abs(M.diagonal()).max()))

    def hopeless(theta: np.ndarray, limit: float, where: str) -> bool:
        predicted = (float(theta[min(k + r, theta.size) - 1]) - s) * mscale / atol
        if predicted > limit:
            state["start"] += (f"; not tried on the finest ({where} predicts a first "
                               f"residual of {predicted:.3g} times the tolerance, > "
                               f"{limit:g}): block Lanczos from a random start instead")
        return predicted > limit

    if not decided(not hopeless(theta, COARSEST_PREDICTED_MAX, "the coarsest level")):
        return None
    for level in range(len(levels) - 2, 0, -1):
        A_l, M_l, agg = levels[level]
        X = _prolong(agg, X)  # type: ignore[arg-type]
        shifted = A_l - s * M_l  # type: ignore[operator]
        # BLAS threads left as they are: the finest level may be being factorised
        # in another thread meanwhile, and their number is the process's
        F = SymmetricFactor(shifted, definite=True, backend=backend, blas_threads=False)
        state["factorizations"] += 1
        theta, X, _, _ = _sweeps(M_l, None, X, F.solve, s, LEVEL_SWEEPS, 0, 0.0)
    if len(levels) > 2 and hopeless(theta, PREDICTED_MAX, "the level above it"):
        return None
    return _smooth(A, _prolong(levels[0][2], X), SMOOTH)  # type: ignore[arg-type]


def finest_sweeps(A: Any, M: Any, K: np.ndarray | None, k: int, X: np.ndarray,
                  scratch: np.ndarray, solve: Callable[..., np.ndarray], s: float, atol: float,
                  state: dict, residuals: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Finish :func:`coarse_start`'s block ``X`` on the finest level.

    See :func:`multilevel_pairs`; None when ``MAX_FINE_SWEEPS`` sweeps do not get to
    ``atol``.
    """
    M = None if M is None else sp.csr_array(M, dtype=np.float64)
    theta, X, res, done = _sweeps(M, K, X, solve, s, MAX_FINE_SWEEPS, k, atol, scratch)
    state["start"] += (f", {done} sweep{'s' if done > 1 else ''} of {X.shape[1]} columns "
                       f"on the finest")
    if theta.size >= k and np.all(res[:k] <= atol):
        # the Gram matrices' residuals lose digits to cancellation where the residual
        # is far below ||A x||: the pairs are accepted on residuals formed from A
        lam, X = theta[:k], X[:, :k]
        res = residuals(lam, X)
        if np.all(res <= atol):
            return lam, X, res
    state["start"] += (f", not converged (largest residual {res[:k].max():.3g} > "
                       f"{atol:.3g}): block Lanczos from a random start instead")
    return None
