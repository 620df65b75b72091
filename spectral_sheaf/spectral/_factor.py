"""Symmetric sparse factorisation for shift-invert and inertia counts.

Two backends behind one class:

- **SuperLU** (always there). Symmetric mode with diagonal pivots
  (``diag_pivot_thresh=0``) factors ``P^T B P = L U`` with one permutation ``P``; for
  symmetric ``B`` that is ``L D L^T`` with ``D = diag(U)``. For a positive definite
  real ``B`` we keep ``L`` and ``D`` and solve with them in a Numba kernel that handles
  a block of right-hand sides in one sweep over ``L`` (the factor is read once per
  block, not once per column) and splits the columns between threads; SuperLU's own
  block solve reads its factors per column group on one thread and was two to three
  times slower per column at block size 8 on a 490k-row grid. Indefinite and complex
  Hermitian matrices, and factorisations where SuperLU had to pivot off the diagonal,
  keep SuperLU's solve. (``D`` is read off ``U`` rather than recomputed from ``L``:
  with growth, the recurrence ``d_j = b_jj - sum_k l_jk^2 d_k`` cancels
  catastrophically and can get the inertia wrong.)
- **CHOLMOD** (through scikit-sparse, the ``cholmod`` extra; used by ``"auto"`` for
  real matrices where it imports). A matrix expected to be positive definite gets a
  supernodal Cholesky ``P^T B P = L L^T`` under CHOLMOD's ordering (AMD, or METIS
  where AMD fills in badly): its dense supernodes run through BLAS, so it factorises
  several times faster than SuperLU on grids and kNN graphs and solves a block of
  right-hand sides at least as fast as the Numba kernel. The supernodal Cholesky is
  called through ctypes where CHOLMOD loads that way (``_cholmod``), since
  scikit-sparse holds the GIL while it factorises. When the Cholesky fails (the
  matrix is not positive definite), and for a matrix not expected to be, CHOLMOD's
  simplicial ``L D L^T`` without pivoting is computed instead, whose ``D`` gives the
  inertia as SuperLU's does.

Either way the negative pivots count the eigenvalues of ``B`` below zero (Sylvester's
law of inertia).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.sparse.linalg import splu

from .. import _backend
from .._validation import check_option
from . import _cholmod

__all__ = ["SymmetricFactor"]

#: Pre-order by reverse Cuthill-McKee when it shrinks the envelope this much.
RCM_PROFILE_RATIO = 0.05


# From this many rows CHOLMOD factorises with every BLAS thread (eigsh holds them to
# one: see _backend.one_blas_thread). Shift-invert (k = 20) with two threads for the
# factorisation against one, on this 2-core machine: 0.75x the time on a 450 x 450
# grid, 0.87x on the 700 x 700 grid (the factorisation alone 2.8 -> 1.8 s), 0.74x on a
# 3-D kNN graph of 100k nodes; on the medium suite's matrices of 2k-41k rows slower
# (threads left spinning after it take the cores from the solves). Gram-Schmidt with
# two threads as well gained on the 490k grid but lost 1.2x on the 202k one.
_WIDE_ROWS = 100_000


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


@nb.njit(cache=True)
def _column_counts(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Entries per column of the Cholesky factor of a symmetric pattern (CSC).

    The elimination tree is built first; then row ``k`` of ``L`` is the union of the
    paths from each ``i < k`` with ``b_ik != 0`` up the tree towards ``k``, walked
    until a node already marked for row ``k``: each step adds one entry ``l_ki`` to
    column ``i``. Linear in the entries of ``L``.
    """
    n = indptr.size - 1
    parent = np.full(n, -1, dtype=np.int64)
    ancestor = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        for p in range(indptr[k], indptr[k + 1]):
            i = indices[p]
            while i != -1 and i < k:
                nxt = ancestor[i]
                ancestor[i] = k
                if nxt == -1:
                    parent[i] = k
                i = nxt
    counts = np.ones(n, dtype=np.int64)
    mark = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        mark[k] = k
        for p in range(indptr[k], indptr[k + 1]):
            i = indices[p]
            while i != -1 and i < k and mark[i] != k:
                counts[i] += 1
                mark[i] = k
                i = parent[i]
    return counts


def _solve_cost(counts: np.ndarray) -> float:
    """Factorising's cost in single solves: ``sum c_j^2`` against ``4 nnz(L)``."""
    c = counts.astype(np.float64)
    return float(c @ c) / (4.0 * max(float(c.sum()), 1.0))


_BACKENDS = ("auto", "superlu", "cholmod")
_warned_api = False


def cholmod_module(required: bool = False) -> Any:
    """scikit-sparse's ``cholmod`` module (the 0.4 API), or None.

    With ``required``, a missing or unsupported scikit-sparse raises ImportError;
    without, an installed but unsupported one (0.5 renamed the API) warns once.
    """
    global _warned_api
    hint = ("pip install 'spectral_sheaf[cholmod]' (scikit-sparse 0.4, which builds "
            "against SuiteSparse 5 to 7, e.g. Debian's libsuitesparse-dev)")
    try:
        from sksparse import cholmod
    except ImportError as exc:
        if required:
            raise ImportError("factorization='cholmod' needs scikit-sparse (CHOLMOD): "
                              + hint) from exc
        return None
    if not all(hasattr(cholmod, a) for a in ("Factor", "cholesky",
                                              "CholmodNotPositiveDefiniteError")):
        msg = ("the installed scikit-sparse has an API other than 0.4's (0.5 renamed it), "
               "which factorization='cholmod' uses: " + hint)
        if required:
            raise ImportError(msg)
        if not _warned_api:
            _warned_api = True
            warnings.warn(msg + "; using SuperLU", RuntimeWarning, stacklevel=3)
        return None
    return cholmod


def resolve_backend(backend: str, real: bool) -> str:
    """Return the backend that ``backend`` means for a real or complex matrix.

    ``"cholmod"`` for a real matrix where scikit-sparse imports under ``"auto"``, or when
    asked for (an ImportError if it does not import); ``"superlu"`` otherwise, complex
    matrices always.
    """
    if not real or backend == "superlu":
        return "superlu"
    return "cholmod" if cholmod_module(required=backend == "cholmod") is not None \
        else "superlu"


def _pivot_floor(B: sp.csc_array) -> float:
    """Pivots this small are zero pivots whose sign is rounding noise.

    The last pivot of a singular matrix comes out at a few hundred to a few thousand
    ``eps ||B||`` (a graph Laplacian at shift 0: 5 to 107 times ``16 eps ||B||_inf``
    on grids of 50^2 to 200^2 nodes), so the floor scales with ``n``.
    """
    scale = float(abs(B).sum(axis=1).max()) if B.nnz else 0.0
    return max(16, B.shape[0]) * np.finfo(float).eps * scale


class SymmetricFactor:
    """Factorisation of a symmetric (Hermitian) sparse matrix for repeated solves.

    Parameters
    ----------
    B : sparse, shape (n, n)
        Symmetric; not checked here.
    definite : bool
        Whether ``B`` is expected to be positive definite (a shift below the spectrum).
        CHOLMOD then tries its supernodal Cholesky first; otherwise it goes straight
        to the ``L D L^T`` that gives the inertia.
    backend : {"auto", "superlu", "cholmod"}
        ``"auto"``: CHOLMOD for real matrices where scikit-sparse imports, else
        SuperLU. Complex Hermitian matrices always use SuperLU.
    blas_threads : bool
        Whether a large supernodal Cholesky may raise the BLAS threads to all cores
        (a process-wide setting: False when factorising in a worker thread).
    between : callable, optional
        Called between CHOLMOD's symbolic analysis and its numeric factorisation,
        where CHOLMOD is called through ctypes (see :class:`_cholmod.Cholesky`).

    Raises
    ------
    numpy.linalg.LinAlgError
        When ``B`` is exactly singular (SuperLU).

    Attributes
    ----------
    backend : str
        ``"superlu"`` or ``"cholmod"``.
    negative_pivots : int or None
        Eigenvalues of ``B`` below zero (inertia), or None when the count is unknown
        (a zero pivot, or SuperLU pivoted off the diagonal).
    zero_pivot : bool
        Whether a pivot was zero or at rounding level (``max(16, n) eps ||B||_inf``):
        ``B`` is singular to working precision. The supernodal Cholesky (CHOLMOD,
        ``definite=True``) does not check its pivots; a near-singular ``B`` can pass
        there, as a shift at an eigenvalue does in exact shift-invert.
    cost_in_solves : float
        The factorisation's cost in single-column solves with it, from the column
        counts of ``L`` (``sum_j c_j^2 / (4 nnz(L))``); inf where not computed
        (SuperLU's indefinite or complex factors). Computed on first use.
    """

    def __init__(self, B: Any, *, definite: bool = False, backend: str = "auto",
                 blas_threads: bool = True,
                 between: Callable[[], object] | None = None) -> None:
        check_option(backend, "factorization", _BACKENDS)
        Bc = sp.csc_array(B)
        self.shape = Bc.shape
        self._pre: np.ndarray | None = None
        self._ldl: tuple[np.ndarray, ...] | None = None
        self._chol: Any = None
        self._counts: np.ndarray | None = None
        self._cost: float | None = None
        self.negative_pivots: int | None = None
        self.zero_pivot = False
        self.backend = resolve_backend(backend, real=not np.iscomplexobj(Bc.data))
        if self.backend == "cholmod":
            self._factor_cholmod(cholmod_module(), Bc, definite, blas_threads, between)
        else:
            self._factor_superlu(Bc)

    def _factor_cholmod(self, cholmod: Any, Bc: sp.csc_array, definite: bool,
                        blas_threads: bool, between: Callable[[], object] | None) -> None:
        Bm = sp.csc_matrix(Bc, dtype=np.float64)
        Bm.sum_duplicates()
        Bm.sort_indices()
        self._pattern: sp.csc_matrix | None = Bm
        if definite:
            # on a large matrix its dense supernodal updates pay for BLAS threads,
            # which eigsh otherwise holds to one (not from a worker thread: the
            # setting is the process's)
            wide = blas_threads and Bm.shape[0] >= _WIDE_ROWS
            try:
                with _backend.all_blas_threads() if wide else nullcontext():
                    # through ctypes where it loads: other threads run meanwhile
                    self._chol = (_cholmod.Cholesky(Bm, between) if _cholmod.available()
                                  else cholmod.cholesky(Bm, mode="supernodal"))
                self.negative_pivots = 0
                if isinstance(self._chol, _cholmod.Cholesky):
                    # CHOLMOD's own column counts: the cost model needs no pattern
                    self._counts, self._pattern = self._chol.column_counts, None
                return
            except (cholmod.CholmodNotPositiveDefiniteError,
                    _cholmod.NotPositiveDefiniteError):
                pass
        try:
            F = cholmod.cholesky(Bm, mode="simplicial")  # L D L^T, no pivoting
        except cholmod.CholmodNotPositiveDefiniteError:
            # CHOLMOD stops at an exact zero pivot (an eigenvalue at the shift, or
            # exact cancellation in an integer-valued matrix): inertia unknown
            self.zero_pivot = True
            return
        d = F.D()
        self._chol = F
        if np.all(np.isfinite(d)) and np.all(np.abs(d) > _pivot_floor(Bc)):
            self.negative_pivots = int(np.count_nonzero(d < 0))
        else:
            self.zero_pivot = True

    def _factor_superlu(self, Bc: sp.csc_array) -> None:
        self._pre = _preorder(Bc)
        if self._pre is not None:
            Bc = Bc[self._pre][:, self._pre].tocsc()
        try:
            self._lu = splu(Bc, permc_spec="MMD_AT_PLUS_A",
                            options={"SymmetricMode": True, "Equil": False},
                            diag_pivot_thresh=0.0)
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise np.linalg.LinAlgError(f"the matrix is singular ({exc})") from exc
        if not np.array_equal(self._lu.perm_r, self._lu.perm_c):
            return
        d = self._lu.U.diagonal().real
        if not (np.all(np.abs(d) > _pivot_floor(Bc)) and np.all(np.isfinite(d))):
            self.zero_pivot = True
            return
        self.negative_pivots = int(np.count_nonzero(d < 0))
        if self.negative_pivots == 0 and not np.iscomplexobj(Bc.data):
            # positive definite: no element growth, so L D L^T with D = diag(U) is as
            # accurate as L U, and half the data
            Lf = sp.csc_array(self._lu.L)
            self._counts = np.diff(Lf.indptr)
            self._ldl = (Lf.indptr.astype(np.int64), Lf.indices.astype(np.int64), Lf.data,
                         d, np.asarray(self._lu.perm_c, dtype=np.int64))

    @property
    def cost_in_solves(self) -> float:
        if self._cost is None:
            if self._counts is None and self._chol is not None:
                # CHOLMOD's fill under its own ordering, from the permuted pattern
                P = np.asarray(self._chol.P(), dtype=np.int64)
                B = self._pattern[P][:, P].tocsc()  # type: ignore[index]
                self._counts = _column_counts(B.indptr.astype(np.int64),
                                              B.indices.astype(np.int64))
            self._cost = np.inf if self._counts is None else _solve_cost(self._counts)
        return self._cost

    def solve(self, rhs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``B^{-1} rhs`` for a vector or an ``(n, b)`` block; into ``out`` if given.

        ``out`` (column-major, of the block's shape) is written by CHOLMOD directly
        where it is called through ctypes, and copied into otherwise.
        """
        if out is not None:
            if isinstance(self._chol, _cholmod.Cholesky) and not np.iscomplexobj(rhs):
                return self._chol.solve(rhs, out)
            if out.shape != np.shape(rhs) or np.may_share_memory(out, rhs):
                raise ValueError(f"out must have the shape of rhs, {np.shape(rhs)}, apart "
                                 f"from it; got {out.shape}")
            out[...] = self.solve(rhs)
            return out
        if self._pre is None:
            return self._solve(rhs)
        X = self._solve(rhs[self._pre])
        out = np.empty_like(X)
        out[self._pre] = X
        return out

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        if self.backend == "cholmod":
            if self._chol is None:
                raise np.linalg.LinAlgError("CHOLMOD's L D L^T stopped at a zero pivot")
            if np.iscomplexobj(rhs):
                return self._chol(rhs.real) + 1j * self._chol(rhs.imag)
            return self._chol(np.asarray(rhs, dtype=np.float64))
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
