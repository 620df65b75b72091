"""Symmetric sparse factorisation for shift-invert: SuperLU's ordering, LDL^T solves.

SuperLU in symmetric mode with diagonal pivots (``diag_pivot_thresh=0``) factors
``P^T B P = L U`` with one permutation ``P``; for symmetric ``B`` that is
``L D L^T`` with ``D = diag(U)``. We keep ``L`` and ``D`` and solve with them in a
Numba kernel that handles a block of right-hand sides in one sweep over ``L`` (the
factor is read once per block, not once per column) and splits the columns between
threads. SuperLU's own block solve reads its factors per column group and runs on one
thread; on a 490k-row grid the kernel is two to three times faster per column at
block size 8 (``benchmarks/compare_eigen.py``). ``D`` also gives the inertia: by
Sylvester's law the negative pivots count the eigenvalues of ``B`` below zero.

Only positive definite real matrices (the shift-invert case, a shift below the
spectrum) are solved this way: there is no element growth, so ``L D L^T`` is as
accurate as ``L U``. Indefinite and complex Hermitian matrices, and factorisations
where SuperLU had to pivot off the diagonal, keep SuperLU's solve. (``D`` is read off
``U`` rather than recomputed from ``L``: with growth, the recurrence
``d_j = b_jj - sum_k l_jk^2 d_k`` cancels catastrophically and can get the inertia
wrong.)
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.sparse.linalg import splu

__all__ = ["SymmetricFactor"]

#: Pre-order by reverse Cuthill-McKee when it shrinks the envelope this much.
RCM_PROFILE_RATIO = 0.05


def _profile(B: sp.csc_array) -> float:
    """Envelope size ``sum_j (j - first row of column j)`` of a symmetric pattern."""
    n = B.shape[0]
    nonempty = np.diff(B.indptr) > 0
    first = np.where(nonempty, B.indices[np.minimum(B.indptr[:-1], B.indices.size - 1)],
                     np.arange(n))
    return float(np.maximum(np.arange(n) - first, 0).sum())


def _preorder(B: sp.csc_array) -> np.ndarray | None:
    """Return an RCM permutation if the given order's envelope is far larger, else None.

    SuperLU's minimum-degree ordering depends on the order it starts from. A
    hierarchically numbered mesh (an icosphere: coarse vertices first, each level's
    midpoints after) has an envelope a hundred times RCM's, and there the fill came out
    4x larger and factorising 16x slower (163842 vertices: 94M entries in 60 s against
    20M in 3.7 s). Where RCM gains less (grids, kNN graphs, scanned meshes, envelope
    ratios 0.09 to 0.67) starting from RCM made no difference or was slower, so the
    pre-order is used only below ``RCM_PROFILE_RATIO``.
    """
    if B.shape[0] < 1000:
        return None
    B = B.copy()
    B.sort_indices()
    perm = reverse_cuthill_mckee(sp.csr_array(B), symmetric_mode=True)
    P = B[perm][:, perm].tocsc()
    P.sort_indices()
    if _profile(P) < RCM_PROFILE_RATIO * _profile(B):
        return np.asarray(perm, dtype=np.int64)
    return None


@nb.njit(parallel=True, cache=True)
def _ldl_solve(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, d: np.ndarray,
               perm: np.ndarray, B: np.ndarray, chunks: int) -> np.ndarray:  # pragma: no cover
    n, b = B.shape
    X = np.empty_like(B)
    per = (b + chunks - 1) // chunks
    for t in nb.prange(chunks):
        c0 = t * per
        c1 = min(b, c0 + per)
        if c0 >= c1:
            continue
        w = c1 - c0
        Z = np.empty((n, w))
        for i in range(n):
            for c in range(w):
                Z[perm[i], c] = B[i, c0 + c]
        for j in range(n):  # L z = P^T b, column-oriented
            for p in range(indptr[j], indptr[j + 1]):
                i = indices[p]
                if i > j:
                    lij = data[p]
                    for c in range(w):
                        Z[i, c] -= lij * Z[j, c]
        for j in range(n):
            inv = 1.0 / d[j]
            for c in range(w):
                Z[j, c] *= inv
        for j in range(n - 1, -1, -1):  # L^T x = z, dot products down column j
            for p in range(indptr[j], indptr[j + 1]):
                i = indices[p]
                if i > j:
                    lij = data[p]
                    for c in range(w):
                        Z[j, c] -= lij * Z[i, c]
        for i in range(n):
            for c in range(w):
                X[i, c0 + c] = Z[perm[i], c]
    return X


class SymmetricFactor:
    """Factorisation of a symmetric (Hermitian) sparse matrix for repeated solves.

    Parameters
    ----------
    B : sparse, shape (n, n)
        Symmetric; not checked here.

    Raises
    ------
    numpy.linalg.LinAlgError
        When ``B`` is exactly singular.

    Attributes
    ----------
    negative_pivots : int or None
        Eigenvalues of ``B`` below zero (inertia), or None when SuperLU pivoted off the
        diagonal or hit a zero pivot and the count is unknown.
    nnz : int
        Stored entries of the factors ``L`` and ``U``.
    cost_in_solves : float
        The factorisation's cost in solves with it, from the column counts of ``L``
        (``sum_j c_j^2 / (4 nnz(L))``); inf where not computed (indefinite or complex).
    """

    def __init__(self, B: Any) -> None:
        Bc = sp.csc_array(B)
        self.shape = Bc.shape
        self._pre = _preorder(Bc)
        if self._pre is not None:
            Bc = Bc[self._pre][:, self._pre].tocsc()
        try:
            self._lu = splu(Bc, permc_spec="MMD_AT_PLUS_A",
                            options={"SymmetricMode": True, "Equil": False},
                            diag_pivot_thresh=0.0)
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise np.linalg.LinAlgError(f"the matrix is singular ({exc})") from exc
        self._ldl: tuple[np.ndarray, ...] | None = None
        self.negative_pivots: int | None = None
        self.nnz = int(self._lu.nnz)
        self.cost_in_solves = np.inf
        if not np.array_equal(self._lu.perm_r, self._lu.perm_c):
            return
        d = self._lu.U.diagonal().real
        if not (np.all(d != 0) and np.all(np.isfinite(d))):
            return
        self.negative_pivots = int(np.count_nonzero(d < 0))
        if self.negative_pivots == 0 and not np.iscomplexobj(Bc.data):
            # positive definite: no element growth, so L D L^T with D = diag(U) is as
            # accurate as L U, and half the data
            Lf = sp.csc_array(self._lu.L)
            counts = np.diff(Lf.indptr).astype(np.float64)
            # column-count model: factorising costs sum c_j^2, a solve 4 nnz(L)
            self.cost_in_solves = float(counts @ counts) / (4.0 * max(Lf.nnz, 1))
            self._ldl = (Lf.indptr.astype(np.int64), Lf.indices.astype(np.int64), Lf.data,
                         d, np.asarray(self._lu.perm_c, dtype=np.int64))

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``B^{-1} rhs`` for a vector or an ``(n, b)`` block."""
        if self._pre is None:
            return self._solve(rhs)
        X = self._solve(rhs[self._pre])
        out = np.empty_like(X)
        out[self._pre] = X
        return out

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        if self._ldl is None or np.iscomplexobj(rhs):
            return self._lu.solve(np.asfortranarray(rhs))
        one = rhs.ndim == 1
        R = np.ascontiguousarray(rhs.reshape(rhs.shape[0], -1), dtype=np.float64)
        indptr, indices, data, d, perm = self._ldl
        # threads only pay on large factors: waking them (while BLAS threads may still
        # spin) costs milliseconds, a small solve tens of microseconds
        big = data.size * R.shape[1] > 4_000_000
        chunks = max(1, min(nb.get_num_threads(), R.shape[1])) if big else 1
        X = _ldl_solve(indptr, indices, data, d, perm, R, chunks)
        return X[:, 0] if one else X
