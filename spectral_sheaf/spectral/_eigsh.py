"""Eigen-solvers for symmetric problems behind one call, with verified answers."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal

import numba as nb
import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, LinearOperator, aslinearoperator, lobpcg
from scipy.sparse.linalg import eigsh as _arpack

from .. import _backend
from .._validation import (
    as_csr,
    as_float_array,
    check_int,
    check_option,
    check_positive_real,
    check_rng,
    check_square,
    check_symmetric,
)
from ..graphs._reorder import breadth_first_search
from . import _cholmod
from ._bounds import _norm_bound, gershgorin_bounds, spectral_bounds
from ._factor import _BACKENDS, SymmetricFactor, cholmod_module, resolve_backend
from ._factor import _WIDE_ROWS as WIDE_ROWS
from ._kernel import detect_laplacian_kernel
from ._krylov import block_lanczos_largest
from ._multilevel import MIN_ROWS as MULTILEVEL_MIN_ROWS
from ._multilevel import _csr_residuals, coarse_start, finest_sweeps

__all__ = ["EigenResult", "EigenSolverError", "eigenvalue_count", "eigsh"]

_METHODS = ("auto", "dense", "arpack", "shift_invert", "lobpcg", "lobpcg_amg", "primme",
            "chfsi")
DENSE_AUTO = 500  # auto uses LAPACK up to this size (and so does the missed check)


class EigenSolverError(RuntimeError):
    """No method returned verified eigenpairs (the message holds the residuals)."""


@dataclass(frozen=True)
class EigenResult:
    """Eigenpairs with what was measured about them.

    Attributes
    ----------
    eigenvalues : ndarray, shape (k,)
        Ascending.
    eigenvectors : ndarray, shape (n, k)
        M-orthonormal columns; the largest-magnitude entry of each is positive.
    residuals : ndarray, shape (k,)
        ``||A x - lambda M x||`` of each pair.
    converged : ndarray of bool, shape (k,)
        Whether each residual is within ``tol * norm_bound``.
    method : str
        The method whose answer this is.
    tol : float
        Relative tolerance the residuals were checked against.
    norm_bound : float
        The upper bound of ``||A||`` used to scale ``tol``.
    n_matvecs : int
        Operator applications (by the solver and the checks); for shift-invert, the
        solves with the factorisation.
    n_factorizations : int
        Sparse factorisations computed.
    wall_time : float
        Seconds.
    missed_check : str
        How members of a degenerate group that the solver could have skipped were
        looked for, and the outcome.
    attempts : tuple of str
        For ``method="auto"``: each method tried and why it was rejected.
    factorization : str or None
        The sparse factorisation behind shift-invert (``"superlu"`` or ``"cholmod"``),
        None where the method factorised nothing.
    known_kernel : str or None
        Where the kernel pairs returned without iterating came from (``"given, ..."``
        or ``"detected: a graph Laplacian with ..."``); None when none were.
    start : str or None
        For shift-invert on a large sparse matrix: whether the multilevel start
        (aggregated problems, then subspace iteration) gave the pairs, or the block
        Lanczos ran from a random start after it; None where it was not tried.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    method: str
    tol: float
    norm_bound: float
    n_matvecs: int
    n_factorizations: int
    wall_time: float
    missed_check: str
    attempts: tuple[str, ...] = field(default=())
    factorization: str | None = None
    known_kernel: str | None = None
    start: str | None = None

    @property
    def verified(self) -> bool:
        """All residuals within tolerance and no missed eigenvalue found."""
        return bool(self.converged.all()) and not self.missed_check.startswith("missed")


class _Counter:
    """Wrap an operator and count applications."""

    def __init__(self, A: Any) -> None:
        self.op = aslinearoperator(A)
        self.count = 0

    def linear_operator(self) -> LinearOperator:
        def mv(x: np.ndarray) -> np.ndarray:
            self.count += 1 if x.ndim == 1 else x.shape[1]
            return self.op @ x

        return LinearOperator(self.op.shape, matvec=mv, matmat=mv, dtype=self.op.dtype)


def _checked_operator(A: Any, name: str) -> Any:
    if isinstance(A, LinearOperator):
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"{name} must be square; got shape {A.shape}")
        return A
    M = as_csr(A, name, allow_complex=True)
    check_square(M, name)
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"{name} must contain only finite values; got NaN or inf entries")
    check_symmetric(M, name, context="for eigsh",
                    hint="eigsh solves symmetric (Hermitian) problems only")
    return M


def _check_mass(M: Any, n: int) -> Any:
    if M is None:
        return None
    Mm = _checked_operator(M, "M")
    if Mm.shape != (n, n):
        raise ValueError(f"M must have the shape of A, ({n}, {n}); got {Mm.shape}")
    if not isinstance(Mm, LinearOperator):
        d = Mm.diagonal()
        if np.any(d.real <= 0):
            raise ValueError(
                f"M must be positive definite; got a diagonal entry {float(d.real.min()):.3g} "
                "<= 0"
            )
        if n <= 4000:
            try:
                scipy.linalg.cholesky(Mm.toarray())
            except np.linalg.LinAlgError as exc:
                raise ValueError("M must be positive definite; its Cholesky factorisation "
                                 "failed") from exc
    return Mm


def _fix_signs(X: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Make the real part of each column's entry of largest modulus non-negative.

    Column by column, so that a column-major block is read along its columns, with
    no temporary of the block's size; ``inplace`` flips the columns of ``X`` itself.
    """
    if X.size == 0:
        return X
    flip = [j for j in range(X.shape[1])
            if X[int(np.argmax(np.abs(X[:, j]))), j].real < 0]
    if flip:
        X = X if inplace and X.flags.writeable else X.copy()
        for j in flip:
            X[:, j] *= -1
    return X


def _residuals(A: Any, M: Any, lam: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Return ``||A x_j - lambda_j M x_j||`` per column, with no (n, k) temporaries.

    A column-major real block with a real CSR ``A`` and no ``M`` goes through a Numba
    kernel that reads it column by column (SciPy's product would copy it into
    row-major order first) and keeps no residual vectors.
    """
    if (M is None and X.flags.f_contiguous and not X.flags.c_contiguous
            and X.dtype == np.float64 and sp.issparse(A) and A.format == "csr"
            and A.dtype == np.float64 and np.isrealobj(lam)):
        sq = _csr_residuals(A.indptr, A.indices, A.data, X,
                            np.ascontiguousarray(lam, dtype=np.float64),
                            max(1, nb.get_num_threads()))
        return np.sqrt(np.maximum(sq, 0.0))
    R = np.asarray(A @ X)
    dtype = np.result_type(R.dtype, X.dtype, lam.dtype)
    if R.dtype != dtype or not R.flags.writeable or np.may_share_memory(R, X):
        R = R.astype(dtype)
    MX = X if M is None else np.asarray(M @ X)
    for i in range(0, R.shape[0], 4096):  # in row blocks that stay in cache
        R[i:i + 4096] -= MX[i:i + 4096] * lam
    return np.sqrt(np.einsum("ij,ij->j", R.conj(), R).real)


def eigsh(
    A: Any,
    k: int,
    *,
    M: Any = None,
    which: Literal["smallest", "largest"] = "smallest",
    method: Literal["auto", "dense", "arpack", "shift_invert", "lobpcg", "lobpcg_amg",
                    "primme", "chfsi"] = "auto",
    tol: float = 1e-8,
    maxiter: int | None = None,
    sigma: float | None = None,
    known_kernel: Any = "auto",
    on_failure: Literal["raise", "warn"] = "raise",
    factorization: Literal["auto", "superlu", "cholmod"] = "auto",
    rng: Any = None,
) -> EigenResult:
    """``k`` extreme eigenpairs of a symmetric (generalised) problem, verified.

    Solves ``A x = lambda M x`` (``M = I`` when omitted) for the ``k`` smallest or
    largest eigenvalues, then checks every pair's residual ``||A x - lambda M x||``
    against ``tol * ||A||`` and looks for eigenvalues the solver may have skipped
    (members of a degenerate group). Nothing unverified is returned silently.

    Parameters
    ----------
    A : sparse, dense or LinearOperator, shape (n, n)
        Symmetric (Hermitian).
    k : int
        Number of eigenpairs, ``1 <= k < n`` (``k <= n`` for ``method="dense"``).
    M : sparse, dense or LinearOperator, optional
        Symmetric positive definite mass matrix.
    which : {"smallest", "largest"}
        Which end of the spectrum.
    method : {"auto", "dense", "arpack", "shift_invert", "lobpcg", "lobpcg_amg", "primme", \
"chfsi"}
        ``"dense"``: LAPACK (``scipy.linalg.eigh``). ``"arpack"``: implicitly restarted
        Lanczos (``scipy.sparse.linalg.eigsh``); where the missed check below finds a
        gap, or cannot rule one out, deflation restarts (ARPACK again with the pairs
        found moved out of the way), and a second check where they found more.
        ``"shift_invert"`` (``which="smallest"``): thick-restart block Lanczos on
        ``(A - sigma M)^{-1} M`` with one sparse factorisation (see
        ``factorization``), solved a block at a time; ``sigma`` defaults to just below
        the spectrum, placed and confirmed by the inertia of the factorisation; it
        stops when every pair's residual ``||A x - lambda M x||``, read from the
        Lanczos relation at the cost of one product with ``A``, is below
        ``0.4 tol ||A||``; where the missed check finds a gap (a degenerate group with
        more members than the block of 8 holds, such as the kernel of a graph with many
        components: 78 for cora), deflation restarts on the same factorisation.
        From 50000 rows (a real sparse ``A``, ``M`` None or real sparse) it first
        tries a multilevel start (``spectral/_multilevel.py``): ``A`` and ``M`` are
        aggregated (neighbourhoods of nodes, ``P^T A P``) down to about 1200 rows,
        whose pairs LAPACK computes; they are carried up level by level, by three
        sweeps of shift-invert subspace iteration with each level's own factorisation,
        then smoothed by two damped Jacobi steps and finished by one or two sweeps
        with ``A``'s factorisation, and accepted when every residual formed from ``A``
        is below ``0.8 tol ||A||``. The finest level is not tried where the coarse
        eigenvalues predict a first residual more than 400 times that (4000 from the
        coarsest level, before any coarse factorisation): the smooth eigenvectors of
        fine grids at moderate tolerances pass; kNN graphs, sheaves with rotating
        maps, meshes with their small masses and tolerances far below the eigenvalues
        do not. The block Lanczos runs wherever the start does not give the pairs;
        ``start`` in the result says which ran and why. With CHOLMOD called through
        ctypes (``spectral/_cholmod.py``, CHOLMOD 3), the finest level is factorised
        in a worker thread while the coarse levels are worked through. On the
        700 x 700 grid (k = 20, tol 1e-6) it took 3.3-3.7 s against the block
        Lanczos's 7.8-8.2 s and SciPy's shift-invert's 11.0-11.5 s
        (``benchmarks/compare_eigen.py --big``).
        ``"lobpcg"``: block LOBPCG with a random start, the known kernel passed as
        constraints (shifted out of the way on small problems, where SciPy's LOBPCG
        solves densely). ``"lobpcg_amg"``: the same with a pyamg smoothed-aggregation V-cycle
        as preconditioner (the ``amg`` extra). ``"primme"``: PRIMME's default method
        (the ``primme`` extra), the known kernel locked out; never chosen by ``auto``.
        ``"chfsi"``: Chebyshev-filtered subspace iteration (a block of ``k`` plus
        ``max(8, k/2)`` vectors, each step's polynomial degree from the residuals,
        converged leading pairs locked; A a real matrix, M None or diagonal), made for
        the GPU, where it streams sparse-times-block products; on the CPU never
        chosen by ``auto``.
        ``"auto"``: dense up to 500 rows; else shift-invert for the smallest pairs of a
        matrix, except (k <= 50, no ``sigma``) on graphs of more
        than 5000 rows whose estimated dimension (``log n / log diameter``) is at least
        2.5, where the factorisation fills in and plain Lanczos (ARPACK) converges
        fast (with CHOLMOD, whose supernodal factor of such graphs is several times
        faster than SuperLU's, only from dimension 3.3 on, or where the matrix stores 24
        or more entries per row, a sheaf Laplacian's blocks; LOBPCG before ARPACK on
        graphs of 20000 rows or more, dimension 3.5 or more and irregular degrees, the
        largest diagonal entry at least twice the median), and ARPACK otherwise
        (the largest pairs, a LinearOperator); when a method fails verification the
        next one is tried (shift-invert, ARPACK, LOBPCG, then dense up to 20000 rows),
        and each attempt is recorded. The rule
        was tuned on ``spectral-sheaf bench eigen``.
    tol : float
        Relative residual tolerance, ``||A x - lambda M x|| <= tol * ||A||``.
    maxiter : int, optional
        Iteration cap of the iterative methods.
    sigma : float, optional
        Shift of ``"shift_invert"``.
    known_kernel : array, shape (n, r), "auto" or None
        A basis of ``ker A`` known beforehand (for a graph Laplacian, the component
        indicators: :func:`laplacian_kernel`). Returned exactly, without iterating,
        as the first ``r`` pairs when ``which="smallest"``; the solver works on the
        complement. ``"auto"`` (the default): for ``which="smallest"`` and a real
        sparse ``A`` that is recognisably a graph Laplacian (combinatorial, any
        weights, or the normalised Laplacian of an unweighted graph), its kernel
        (:func:`detect_laplacian_kernel`); where it has more than ``k`` dimensions,
        the first ``k`` of its basis are the answer. None: nothing known.
    on_failure : {"raise", "warn"}
        For an explicit ``method``: raise :class:`EigenSolverError` or warn and return
        the unverified result (``result.verified`` is False).
    factorization : {"auto", "superlu", "cholmod"}
        The sparse factorisation of shift-invert and of the inertia counts.
        ``"superlu"``: SuperLU's ``MMD_AT_PLUS_A`` ordering in symmetric mode with
        diagonal pivots, kept as ``L D L^T``. ``"cholmod"``: CHOLMOD through
        scikit-sparse (the ``cholmod`` extra), a supernodal Cholesky below the
        spectrum and a simplicial ``L D L^T`` for inertia counts; on this project's
        benchmark machine it factorised a 490k-row grid and a 3-D kNN graph about
        three times faster than SuperLU (``benchmarks/compare_eigen.py --factor``).
        ``"auto"``: CHOLMOD for real matrices where scikit-sparse imports, else
        SuperLU. Complex Hermitian matrices always use SuperLU.
    rng : Generator, int or None
        Start vectors of the iterative methods.

    Returns
    -------
    EigenResult

    Notes
    -----
    CuPy input (a cupyx sparse or CuPy dense ``A``; ``M`` and ``known_kernel`` on the
    device too) is solved on the device by Chebyshev-filtered subspace iteration
    (``method="chfsi"``; M None or diagonal), cupyx's thick-restart Lanczos
    (``method="arpack"``; M None or diagonal), LOBPCG, or dense ``eigh`` (n <= 5000),
    and verified there the same way; eigenvalues and eigenvectors come back as CuPy
    arrays, residuals on the host. ``auto`` is dense up to 500 rows, else ChFSI, then
    Lanczos, then LOBPCG. Shift-invert, ``lobpcg_amg`` and ``sigma`` are CPU-only. The
    device's missed check runs ChFSI on the complement of the found vectors (M None or
    diagonal; LOBPCG otherwise), and an inconclusive or failed check sends Lanczos to
    deflation restarts.

    The missed-eigenvalue check is independent of the solver: with ``X`` the found
    vectors, the smallest (largest) eigenvalue of ``A`` on the M-orthogonal
    complement of ``X`` is computed (LAPACK for n <= 500, else single-vector LOBPCG
    with ``X`` as constraints, whose Rayleigh quotient can only overestimate it, so a
    value below the last found eigenvalue proves a miss; an unconverged LOBPCG makes
    the check "inconclusive", which does not fail verification but is reported); it
    must not lie below (above) the last found eigenvalue by more than the tolerance.
    On the CPU, ``method="dense"`` needs none: LAPACK computes eigenvalues by index, so
    it takes one more than asked for and reports it as the next eigenvalue.
    """
    t0 = time.perf_counter()
    check_option(which, "which", ("smallest", "largest"))
    check_option(method, "method", _METHODS)
    check_option(on_failure, "on_failure", ("raise", "warn"))
    check_option(factorization, "factorization", _BACKENDS)
    if factorization == "cholmod":
        cholmod_module(required=True)
    tol = check_positive_real(tol, "tol")
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", minimum=1)
    detect = isinstance(known_kernel, str)
    if detect:
        if known_kernel != "auto":
            raise ValueError(f"known_kernel must be an array, 'auto' or None; got "
                             f"{known_kernel!r}")
        known_kernel = None
    if any(_backend.is_cupy(a) for a in (A, M, known_kernel)):
        from ._device import eigsh_device

        if sigma is not None:
            raise ValueError("sigma (shift-invert) runs on the CPU only; for CuPy input "
                             "leave it out")
        if factorization != "auto":
            raise ValueError("factorization (shift-invert) runs on the CPU only; for CuPy "
                             "input leave it out")
        return eigsh_device(A, k, M=M, which=which, method=method, tol=tol,
                            maxiter=maxiter, known_kernel=known_kernel,
                            on_failure=on_failure, rng=rng, t0=t0)
    g = check_rng(rng)
    Aop = _checked_operator(A, "A")
    n = Aop.shape[0]
    k = check_int(k, "k", minimum=1)
    if k > n or (k == n and method not in ("dense", "auto")):
        raise ValueError(
            f"k must be < n = {n} for iterative methods (<= n for method='dense'); got k={k}"
        )
    Mop = _check_mass(M, n)
    K = None
    kernel_note = None
    if detect and which == "smallest":
        K = detect_laplacian_kernel(Aop)
        if K is not None:
            kernel_note = (f"detected: a graph Laplacian with {K.shape[1]} connected "
                           f"component{'s' if K.shape[1] > 1 else ''}")
            if K.shape[1] > k:  # a degenerate group cut by k: any k of its basis
                kernel_note += f", the first {k} of its kernel basis returned"
                K = K[:, :k]
            K = _m_orthonormalize(K, Mop)
    if known_kernel is not None:
        K = as_float_array(known_kernel, "known_kernel", ndim=(1, 2))
        if K.shape[0] != n:
            raise ValueError(f"known_kernel must have n = {n} rows; got shape {K.shape}")
        K = K.reshape(n, -1)
        if which != "smallest":
            raise ValueError("known_kernel applies to which='smallest' only")
        K = _m_orthonormalize(K, Mop)
        if K.shape[1] > k:
            raise ValueError(f"known_kernel has {K.shape[1]} columns, more than k = {k}")
        kernel_note = f"given, {K.shape[1]} column{'s' if K.shape[1] > 1 else ''}"
    norm = _norm_bound(Aop)
    counter = _Counter(Aop)
    state: dict[str, Any] = {"factorizations": 0, "backend": factorization}
    order = (_auto_order(Aop, n, which, k, sigma, _resolved_backend(factorization, Aop))
             if method == "auto" else [method])
    attempts: list[str] = []
    last: EigenResult | None = None
    for m in order:
        # one BLAS thread for the iterative methods: their BLAS calls on tall blocks
        # alternate with single-threaded sparse work and factor solves, and the pools
        # loaded beside CHOLMOD (numpy's, SciPy's, SuiteSparse's OpenBLAS) spin
        # against each other (see _backend.one_blas_thread); LAPACK's dense eigh
        # keeps its threads
        with nullcontext() if m == "dense" else _backend.one_blas_thread():
            state.pop("start", None)  # a failed attempt's
            try:
                lam, X = _solve(m, Aop, Mop, counter, k, which, tol, maxiter, sigma, K, g,
                                norm, state)
            except (np.linalg.LinAlgError, RuntimeError, ValueError) as exc:
                if method != "auto" and isinstance(exc, ValueError):
                    raise
                attempts.append(f"{m}: failed ({type(exc).__name__}: {str(exc)[:120]})")
                continue
            known = state.pop("residuals", None)  # computed by the solver for these pairs
            res = known[1] if known is not None and np.array_equal(known[0], lam) \
                else _residuals(Aop, Mop, lam, X)
            missed = _missed_check(Aop, Mop, lam, X, which, tol, norm, g, counter, state)
            # (restarts, whether an inconclusive check calls for them too), if any
            repair, when_inconclusive = state.pop("repair", (None, False))
            if repair is not None and (missed.startswith("missed") or (
                    when_inconclusive and "inconclusive" in missed)):
                try:
                    repaired = repair()
                except (np.linalg.LinAlgError, RuntimeError) as exc:
                    attempts.append(f"{m}: repair failed ({type(exc).__name__}: "
                                    f"{str(exc)[:120]})")
                    continue
                if repaired is None:  # nothing new: the first check stands
                    missed += ("; a deflation restart, which it called for, found nothing "
                               "more")
                else:
                    lam, X = repaired
                    res = _residuals(Aop, Mop, lam, X)
                    if "start" in state:
                        state["start"] += "; deflation restarts completed the pairs"
                    missed = (_missed_check(Aop, Mop, lam, X, which, tol, norm, g,
                                            counter, state)
                              + "; after deflation restarts, which the first check called "
                                f"for: {missed}")
            conv = res <= tol * max(norm, np.finfo(float).tiny)
            # X is the solver's own array: its signs are fixed in place
            last = EigenResult(lam, _fix_signs(X, inplace=True), res, conv, m, tol, norm,
                               counter.count,
                               state["factorizations"], time.perf_counter() - t0, missed,
                               tuple(attempts), state.get("used_backend"), kernel_note,
                               state.pop("start", None))
            if last.verified:
                break
            attempts.append(rejected(m, res, tol, norm, missed))
    if last is None or not last.verified:
        return unverified(method, attempts, last, on_failure)
    return EigenResult(last.eigenvalues, last.eigenvectors, last.residuals, last.converged,
                       last.method, tol, norm, counter.count, state["factorizations"],
                       time.perf_counter() - t0, last.missed_check, tuple(attempts),
                       last.factorization, kernel_note, last.start)


#: ``auto`` runs plain Lanczos (ARPACK) before shift-invert on graphs of more than
#: AUTO_KRYLOV_MIN_N rows whose estimated dimension is at least AUTO_KRYLOV_DIMENSION.
AUTO_KRYLOV_DIMENSION = 2.5
AUTO_KRYLOV_MIN_N = 5000
AUTO_KRYLOV_MAX_K = 50  # and for at most this many pairs, with no sigma given
#: With CHOLMOD, plain Lanczos goes first only from this estimated dimension on: its
#: supernodal factor of a 3-D kNN graph (dimension 2.7) is quick enough that
#: shift-invert wins (kNN 30000: 1.6 s against ARPACK's 2.5 s; 60000: 3.9 against
#: 26.6 s; 120000: 7.5 against 60.7 s), while on film (3.6) ARPACK is still ahead.
AUTO_KRYLOV_DIMENSION_CHOLMOD = 3.3
#: ARPACK also goes first, whatever the backend, on a matrix storing at least this many
#: entries per row (a sheaf Laplacian's d x d blocks), whose factor fills in most.
#: k = 10, tol 1e-6, medians of three seeds, ARPACK / LOBPCG / shift-invert (CHOLMOD):
#: O(3) sheaves on 3-D kNN graphs of 8000 and 20000 nodes (24000 and 60000 rows, 38
#: entries a row) 1.29 / 3.16 / 2.74 s and 3.65 / 8.11 / 8.20 s; a general d = 4 one
#: (8000 nodes) 1.45 / 3.10 / 3.65 s. (Until ARPACK's deflation restarts ran only on
#: the missed check's call, LOBPCG went first here.)
AUTO_ARPACK_NNZ_PER_ROW = 24
#: Of the graphs where ARPACK goes first, LOBPCG goes before it on large ones
#: (AUTO_LOBPCG_MIN_N rows) of estimated dimension AUTO_LOBPCG_DIMENSION or more whose
#: degrees are irregular (largest diagonal entry at least AUTO_LOBPCG_DEGREE_SPREAD
#: times the median; a normalised Laplacian's is 1): there ARPACK's unpreconditioned
#: Lanczos slows down most. ``benchmarks/compare_eigen.py --dimension`` (k = 10, tol
#: 1e-6, medians of three seeds, ARPACK / LOBPCG): combinatorial Laplacians of 40000
#: nodes, kNN graphs of points in 5-D (dimension 3.6, spread 2.1) 6.30 / 4.86 s, in 8-D
#: (4.3, 2.4) 8.03 / 3.56 s, Erdos-Renyi of mean degree 8 (4.8, 2.8) 11.13 / 3.05 s;
#: their normalised Laplacians 4.68 / 4.65, 1.38 / 3.14 and 5.56 / 3.65 s (ARPACK's
#: time 1.3 to 5.8 times its time on the normalised one, LOBPCG's 0.8 to 1.1). At
#: 10000 nodes ARPACK was ahead on five of six (0.21-0.37 s against 0.37-1.01 s; the
#: Erdos-Renyi combinatorial one 1.13 / 0.73 s), and on film (7600 nodes, normalised)
#: 0.11 / 0.20 s.
AUTO_LOBPCG_DIMENSION = 3.5
AUTO_LOBPCG_MIN_N = 20000
AUTO_LOBPCG_DEGREE_SPREAD = 2.0


def _resolved_backend(factorization: str, A: Any) -> str:
    """Return the factorisation that shift-invert will use on ``A``."""
    return resolve_backend(factorization, real=np.dtype(A.dtype).kind != "c")


def graph_dimension(A: Any) -> float:
    """Estimate the dimension of the graph of a sparse matrix's pattern.

    A ``D``-dimensional mesh of ``n`` nodes has a diameter of about ``n^(1/D)``; this
    returns ``log(size) / log(diameter)`` for a breadth-first search from a
    pseudo-peripheral node (the last node of a search from a node of highest degree)
    over that node's component. It approaches ``D`` only slowly (a 20 x 20 x 20 grid gives 2.2, its
    diameter being 3 x 19); graphs with long edges come out higher. Measured on the
    eigen benchmark's suite: 1.8 for a 200 x 200 grid, 2.0 for triangle meshes, 2.2
    for a 2-D random geometric graph, 2.7 for a 3-D kNN graph, 3.0 for a sheaf on one,
    2.3 to 3.6 for the citation and Wikipedia graphs.
    """
    M = sp.csr_array(A)
    start = int(np.argmax(np.diff(M.indptr)))  # in a large component, not an isolated node
    order, _, size = breadth_first_search(M.indptr, M.indices, start, False)
    order, level, size = breadth_first_search(M.indptr, M.indices, int(order[size - 1]),
                                              False)
    levels = int(level[order[size - 1]]) + 1
    if size < 3:
        return 1.0
    if levels <= 2:
        return float("inf")  # a star or a clique: every node near every other
    return float(np.log(size) / np.log(levels - 1))


def degree_spread(A: Any) -> float:
    """Largest ``|A_ii|`` over the median (inf where the median is 0)."""
    d = np.abs(sp.csr_array(A).diagonal())
    med = float(np.median(d)) if d.size else 0.0
    return float(d.max()) / med if med > 0 else float("inf")


def _auto_order(A: Any, n: int, which: str, k: int = 1,
                sigma: float | None = None, backend: str = "superlu") -> list[str]:
    """Methods for ``method="auto"``, in the order they are tried (see eigsh's Notes)."""
    if n <= DENSE_AUTO and not isinstance(A, LinearOperator):
        return ["dense"]
    first = ["shift_invert"] if which == "smallest" and not isinstance(A, LinearOperator) \
        else ["arpack"]
    dim = graph_dimension(A) if first == ["shift_invert"] and sigma is None \
        and k <= AUTO_KRYLOV_MAX_K and n > AUTO_KRYLOV_MIN_N else 0.0
    if dim >= AUTO_KRYLOV_DIMENSION:
        # high-dimensional graphs: the factorisation fills in (fill 18 to 37 times nnz on
        # 3-D kNN graphs, their sheaves and the film graph, against 6 to 14 on 2-D ones)
        # while the bottom of the spectrum spreads out (lambda_k ~ (k / n)^(2 / D)), so
        # plain Lanczos converges in few steps
        costly = A.nnz >= AUTO_ARPACK_NNZ_PER_ROW * n
        if backend == "superlu" or dim >= AUTO_KRYLOV_DIMENSION_CHOLMOD or costly:
            first = ["arpack"]
            if (not costly and n >= AUTO_LOBPCG_MIN_N and dim >= AUTO_LOBPCG_DIMENSION
                    and degree_spread(A) >= AUTO_LOBPCG_DEGREE_SPREAD):
                first = ["lobpcg", "arpack"]
    rest = [m for m in ("shift_invert", "arpack", "lobpcg") if m not in first]
    if isinstance(A, LinearOperator):
        rest = [m for m in rest if m != "shift_invert"]
    tail = ["dense"] if n <= 20000 and not isinstance(A, LinearOperator) else []
    return first + rest + tail


def rejected(method: str, res: np.ndarray, tol: float, norm: float, missed: str) -> str:
    """Return the attempt line of a method whose answer failed verification."""
    return (f"{method}: not verified (max residual {res.max():.3g}, tol*||A|| = "
            f"{tol * norm:.3g}; {missed})")


def unverified(method: str, attempts: list[str], last: EigenResult | None,
               on_failure: str, stacklevel: int = 3) -> EigenResult:
    """Raise :class:`EigenSolverError` with every attempt, or warn and return ``last``.

    Warns only for an explicit method with ``on_failure="warn"`` and an answer to return.
    """
    msg = ("no method returned verified eigenpairs; " if method == "auto" else
           f"method={method!r} did not return verified eigenpairs; ") + "; ".join(attempts)
    if last is None or on_failure == "raise" or method == "auto":
        raise EigenSolverError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=stacklevel)
    return last


def _m_orthonormalize(X: np.ndarray, M: Any) -> np.ndarray:
    if M is None:
        # nearly orthonormal already (Ritz vectors, ARPACK's output): one Cholesky QR
        # step, two passes over X against Householder QR's several (0.03 s against
        # 0.25 s on 490k x 20); otherwise Householder QR, whatever X's condition
        G = X.conj().T @ X
        if X.shape[1] and np.abs(G - np.eye(X.shape[1])).max() <= 1e-10:
            C = np.linalg.cholesky(0.5 * (G + G.conj().T))
            return X @ np.linalg.inv(C).conj().T
        return np.linalg.qr(X)[0]
    G = X.T @ (M @ X)
    C = np.linalg.cholesky(0.5 * (G + G.T))
    return np.linalg.solve(C, X.T).T


def _deflated(A: Any, M: Any, K: np.ndarray | None, shift: float) -> Any:
    """Return ``A + shift * (M K)(M K)^T``, which moves span(K) to eigenvalue ``shift``."""
    if K is None or K.shape[1] == 0:
        return A
    MK = K if M is None else np.asarray(M @ K)
    if isinstance(A, LinearOperator):
        return LinearOperator(A.shape, matvec=lambda x: A @ x + shift * (MK @ (MK.T @ x)),
                              matmat=lambda X: A @ X + shift * (MK @ (MK.T @ X)),
                              dtype=A.dtype)
    return A.toarray() + shift * (MK @ MK.T)


def _solve(method: str, A: Any, M: Any, counter: _Counter, k: int, which: str, tol: float,
           maxiter: int | None, sigma: float | None, K: np.ndarray | None,
           g: np.random.Generator, norm: float, state: dict) -> tuple[np.ndarray, np.ndarray]:
    n = A.shape[0]
    r = 0 if K is None else K.shape[1]
    kk = k - r  # pairs to compute beyond the known kernel
    spare: np.ndarray | None = None  # a block of the solver's that _finish may write into
    if kk == 0 and K is not None:
        return np.zeros(r), K
    # the known kernel is moved to just above the spectrum (norm bounds ||A||): a
    # shift far above it widens the spectrum the Krylov and LOBPCG iterations see, and
    # slows them (2 ||A|| + 1 took LOBPCG 3x the time on a kNN graph of 30000 nodes).
    # With M, the pencil's spectrum is not bounded by ||A||: the kernel goes far above
    shift = _kernel_shift(norm, M)
    if method == "dense":
        Ad = A.toarray() if sp.issparse(A) else np.asarray(A @ np.eye(n))
        Md = None if M is None else (M.toarray() if sp.issparse(M) else np.asarray(M @ np.eye(n)))
        if K is not None:
            MK = K if Md is None else Md @ K
            Ad = Ad + shift * (MK @ MK.T)
        # one eigenvalue beyond those asked for, where there is one: LAPACK finds them by
        # index, so the missed check needs no solver of its own (it ran LOBPCG on the
        # complement). A known kernel sits above the spectrum: for "largest" the next
        # one down would be found beside it.
        more = int(kk < n - r and (which == "smallest" or K is None))
        idx = [0, kk - 1 + more] if which == "smallest" else [n - kk - more, n - 1]
        lam, X = scipy.linalg.eigh(Ad, Md, subset_by_index=idx)
        if more and which == "smallest":
            state["next_eigenvalue"] = float(lam[-1])
            lam, X = lam[:-1], X[:, :-1]
        elif more:
            state["next_eigenvalue"] = float(lam[0])
            lam, X = lam[1:], X[:, 1:]
        counter.count += n
    elif method == "arpack":
        op = counter.linear_operator() if K is None else aslinearoperator(
            _deflated(counter.linear_operator(), M, K, shift))
        lam, X = _arpack_once(op, M, kk, n, which, tol, maxiter, g)

        def repair(lam: np.ndarray = lam, X: np.ndarray = X,
                   ) -> tuple[np.ndarray, np.ndarray] | None:
            found = _arpack_restarts(op, M, lam, X, kk, n, which, tol, maxiter, g, norm)
            return None if found is None else _finish(*found, K, M)

        # run by eigsh when the missed check finds a gap, or cannot rule one out
        state["repair"] = (repair, True)
    elif method == "shift_invert":
        if which != "smallest":
            raise ValueError("method='shift_invert' is for which='smallest'; use 'arpack'")
        if isinstance(A, LinearOperator):
            raise ValueError("method='shift_invert' needs A as a matrix to factorise; got a "
                             "LinearOperator")
        start = None
        if _multilevel_applies(A, M, n) and _block_size(kk, n - r):
            lu, s, start = _coarse_beside_factor(A, M, K, kk, sigma, tol, norm, n, state)
        else:
            lu, s = _factor_below(A, M, sigma, norm, n, state)
        state["factor"], state["used_backend"] = lu, lu.backend

        def solve(B: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
            counter.count += 1 if B.ndim == 1 else B.shape[1]  # a solve per column
            return lu.solve(B, out)

        state["solve"], state["sigma"] = solve, s
        b = _block_size(kk, n - r)
        if b == 0:  # too small for blocks: single-vector ARPACK on the same factorisation
            opinv = LinearOperator((n, n), matvec=solve, dtype=A.dtype)
            lam, X = _arpack(counter.linear_operator(), k=_buffered(kk + r, n), M=M,
                             sigma=s, which="LM", OPinv=opinv, tol=tol * 1e-2,
                             maxiter=maxiter, v0=g.standard_normal(n))
            lam, X = _keep(lam, X, kk + r, "smallest")
            if K is not None:
                X = X - K @ (K.conj().T @ (X if M is None else M @ X))
                keep = np.sort(np.argsort(-np.linalg.norm(X, axis=0))[:kk])
                lam, X = lam[keep], _m_orthonormalize(X[:, keep], M)
        else:
            # smooth eigenvectors from aggregated problems, finished by subspace
            # iteration with this factorisation; None where that did not converge
            found = None if start is None else finest_sweeps(
                A, M, K, kk, *start, solve, s, MULTILEVEL_MARGIN * tol * norm, state,
                lambda lam, X: _residuals(A, M, lam, X))
            if found is not None:
                lam, X, res = found  # ascending
                spare = start[1]  # type: ignore[index]  # the finest solve's, free now
                if K is None:
                    state["residuals"] = (lam, res)
                elif _orthogonal_to_kernel(X, K, M):  # as _finish will put them (it
                    # keeps X as it is then)
                    state["residuals"] = (np.concatenate([np.zeros(r), lam]), np.concatenate(
                        [_residuals(A, M, np.zeros(r), K), res]))
            else:
                accepted: list[tuple[np.ndarray, np.ndarray]] = []  # the last (X, res)

                def accept(theta: np.ndarray, X: np.ndarray) -> bool:
                    res = _residuals(A, M, s + 1.0 / theta, X)
                    accepted[:] = [(X, res)]
                    return bool(np.all(res <= 0.5 * tol * norm))

                theta, X, _, _ = block_lanczos_largest(
                    solve, n, kk, M=M, K=K, block=b, accept=accept,
                    **_lanczos_stop(A, M, s, tol, norm, maxiter, b),
                    dtype=np.result_type(A.dtype, float), apply_into=True, rng=g)
                lam = s + 1.0 / theta
                if accepted and accepted[0][0] is X and K is None:
                    # eigsh reports these residuals rather than computing them again
                    order = np.argsort(lam)  # as _finish sorts
                    state["residuals"] = (lam[order], accepted[0][1][order])

            def repair_si(lam: np.ndarray = lam, X: np.ndarray = X,
                          ) -> tuple[np.ndarray, np.ndarray] | None:
                found = _shift_invert_restarts(solve, s, A, M, K, lam, X, kk, b, tol, norm,
                                               maxiter, g)
                return None if found is None else _finish(*found, K, M)

            # run by eigsh when the missed check finds a gap (a degenerate group with
            # more members than the block holds, such as the kernel of a graph with
            # many components). Not where it cannot rule one out, as for ARPACK: the
            # block holds groups of up to 8, and the Krylov check, often inconclusive
            # on large graphs, would then double the solves (kNN 30000: 144 -> 272)
            state["repair"] = (repair_si, False)
    elif method == "primme":
        try:
            import primme
        except ImportError as exc:
            raise ImportError("method='primme' needs primme: pip install "
                              "'spectral_sheaf[primme]' (it builds from source, with a C "
                              "compiler and LAPACK, e.g. Debian's liblapack-dev)") from exc
        lam, X = _primme_restarted(primme, counter.linear_operator(), M, K, kk, n, which,
                                   tol, norm, maxiter, g, np.result_type(A.dtype, float))
    elif method == "lobpcg_amg":
        if isinstance(A, LinearOperator) or np.iscomplexobj(A.data):
            raise ValueError("method='lobpcg_amg' needs A as a real matrix to build the "
                             "multigrid hierarchy")
        try:
            import pyamg
        except ImportError as exc:
            raise ImportError("method='lobpcg_amg' needs pyamg: pip install "
                              "'spectral_sheaf[amg]'") from exc
        # smoothed aggregation on A + eps I (A is often singular), one V-cycle per
        # application; a few extra block vectors speed up the edge of the wanted set
        eps = 1e-8 * norm
        ml = pyamg.smoothed_aggregation_solver(sp.csr_matrix(A + eps * sp.eye_array(n)))
        prec = ml.aspreconditioner(cycle="V")
        if K is not None:
            # the V-cycle approximates (A + eps)^{-1}, huge on the kernel that the
            # operator has shifted away: project the kernel out of its input and output
            MK = K if M is None else np.asarray(M @ K)
            vcycle = prec

            def projected(R: np.ndarray) -> np.ndarray:
                R = R - MK @ (K.conj().T @ R)
                Y = np.column_stack([vcycle @ R[:, j] for j in range(R.shape[1])]) \
                    if R.ndim == 2 else vcycle @ R
                return Y - K @ (MK.conj().T @ Y)

            prec = LinearOperator((n, n), matvec=projected, matmat=projected,
                                  dtype=np.float64)
        extra = min(max(2, kk // 4), n - kk - 1)
        X0 = g.standard_normal((n, kk + extra))
        op, Y = _lobpcg_kernel(counter, M, K, shift, n, kk + extra)
        lam, X = _lobpcg_restarted(op, X0, M, prec, which, tol * norm, maxiter or 300, Y)
        lam, X = _keep(lam, X, kk, which)
    elif method == "chfsi":
        from ._chfsi import chfsi_pairs

        if isinstance(A, LinearOperator) or np.iscomplexobj(A.data):
            raise ValueError("method='chfsi' needs A as a real matrix (its Gershgorin "
                             "bound places the filter)")
        mdiag = None
        if M is not None:
            if isinstance(M, LinearOperator) or (M - sp.diags_array(M.diagonal())).count_nonzero():
                raise ValueError("method='chfsi' takes M None or diagonal; use "
                                 "method='lobpcg' for a full M")
            mdiag = M.diagonal().real
        mv = {"mv": 0}
        lam, X = chfsi_pairs(np, A, mdiag, K, kk, which, tol, norm, maxiter, g, mv)
        counter.count += mv["mv"]
    else:  # lobpcg
        X0 = g.standard_normal((n, kk))
        op, Y = _lobpcg_kernel(counter, M, K, shift, n, kk)
        lam, X = _lobpcg_restarted(op, X0, M, None, which, tol * norm, maxiter or 500, Y)
    return _finish(lam, X, K, M, spare)


def _lobpcg_kernel(counter: _Counter, M: Any, K: np.ndarray | None, shift: float,
                   n: int, block: int) -> tuple[Any, np.ndarray | None]:
    """LOBPCG's operator and constraints for a known kernel ``K``.

    Constraints where SciPy's LOBPCG runs its iterations (a block of at most a fifth
    of ``n``; below that it falls back to a dense solver, which refuses them): the
    kernel shifted away instead cost it 1.3x the products on a kNN graph of 30000
    nodes, 3x with the AMG preconditioner (a 1-dimensional kernel, k = 20).
    """
    if K is None:
        return counter.linear_operator(), None
    if 5 * (block + K.shape[1]) < n:
        return counter.linear_operator(), K
    return aslinearoperator(_deflated(counter.linear_operator(), M, K, shift)), None


def _kernel_shift(norm: float, M: Any) -> float:
    """Where a deflated known kernel goes: above the spectrum of ``A`` (or the pencil)."""
    if M is None:
        return 1.01 * norm + np.finfo(float).tiny
    return 2.0 * norm + 1.0


def _finish(lam: np.ndarray, X: np.ndarray, K: np.ndarray | None, M: Any = None,
            out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sort the pairs and put the known kernel (eigenvalue 0) in front.

    The pairs are made M-orthogonal to the kernel: a solver that shifted the kernel
    away (rather than constraining against it) leaves its vectors orthogonal to it
    only to its tolerance (LOBPCG at tol 1e-6: 1e-8 on 40 disjoint paths). Pairs
    orthogonal to it to rounding already (the multilevel start's) are kept as they
    are. The result is column-major; with a known kernel, it is written into the
    leading columns of ``out`` where that is a column-major array of ``n`` rows and
    enough columns (a block the solver no longer needs, whose pages are mapped).
    """
    order = np.argsort(lam)
    lam, X = np.asarray(lam)[order].real, np.asarray(X)
    if not np.array_equal(order, np.arange(order.size)):
        X = X[:, order]
    if K is None:
        return lam, X
    r = K.shape[1]
    shape, dtype = (X.shape[0], r + X.shape[1]), np.result_type(K, X)
    orthogonal = _orthogonal_to_kernel(X, K, M)
    if (out is not None and out.shape[0] == shape[0] and out.shape[1] >= shape[1]
            and out.dtype == dtype and out.flags.f_contiguous
            and not np.may_share_memory(out, X)):
        out = out[:, :shape[1]]
    else:
        out = np.empty(shape, dtype=dtype, order="F")
    out[:, :r] = K
    if X.shape[1]:
        if not orthogonal:
            X = _m_orthonormalize(X - K @ (K.conj().T @ (X if M is None else M @ X)), M)
        out[:, r:] = X
    return np.concatenate([np.zeros(r), lam]), out


def _orthogonal_to_kernel(X: np.ndarray, K: np.ndarray, M: Any) -> bool:
    """Whether ``K^H M X`` vanishes to rounding (1e-12), so that ``_finish`` keeps ``X``."""
    if not X.shape[1]:
        return True
    return bool(np.abs(K.conj().T @ (X if M is None else M @ X)).max() <= 1e-12)


def _lobpcg_restarted(op: Any, X0: np.ndarray, M: Any, prec: Any, which: str,
                      target: float, maxiter: int, Y: np.ndarray | None = None,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """LOBPCG, restarted once from its own output when a residual misses ``target``.

    SciPy's LOBPCG can stall a little above its tolerance (its Gram matrices grow
    ill-conditioned); a restart from the current block, with fresh search directions,
    usually finishes the job. Non-convergence is judged by the caller's check. ``Y``:
    constraints (the iterates stay M-orthogonal to its columns).
    """
    X = X0
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lam, X = lobpcg(op, X, B=M, M=prec, Y=Y, largest=which == "largest",
                            tol=0.1 * target, maxiter=maxiter)
        lam, X = np.asarray(lam).real, np.asarray(X)
        if np.all(_residuals(op, M, lam, X) <= 0.5 * target):
            break
    return lam, X


def _arpack_once(op: Any, M: Any, k: int, n: int, which: str, tol: float,
                 maxiter: int | None, g: np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One ARPACK run for ``k`` pairs (a few more asked for, the wanted ``k`` kept)."""
    lam, X = _arpack_call(op, M, _buffered(k, n), n, which, tol, maxiter, g)
    lam, X = _keep(lam, X, k, which)
    return lam, _m_orthonormalize(X, M)


def _arpack_call(op: Any, M: Any, k: int, n: int, which: str, tol: float,
                 maxiter: int | None, g: np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """SciPy's ARPACK for ``k`` pairs at the ``which`` end, from a random start.

    On ARPACK's error 3 ("no shifts could be applied during a cycle", where a
    degenerate group fills the Krylov space: seen once in CI on the 7 largest pairs of
    the 6-cube, whose second eigenvalue has multiplicity 6) it runs once more with twice
    SciPy's default number of Lanczos vectors and a fresh start vector; any other
    error, or error 3 again, goes to the caller.
    """
    def run(ncv: int | None) -> tuple[np.ndarray, np.ndarray]:
        return _arpack(op, k=k, M=M, which="SA" if which == "smallest" else "LA",
                       tol=tol * 1e-2, maxiter=maxiter, v0=g.standard_normal(n), ncv=ncv)

    try:
        return run(None)
    except ArpackError as exc:
        if not str(exc).startswith("ARPACK error 3:"):
            raise
    return run(min(n, 2 * max(2 * k + 1, 20)))


def _arpack_restarts(op: Any, M: Any, lam: np.ndarray, X: np.ndarray, k: int, n: int,
                     which: str, tol: float, maxiter: int | None, g: np.random.Generator,
                     norm: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Deflation restarts of ARPACK for the members of degenerate groups it skipped.

    A single-vector Krylov method finds one vector per distinct eigenvalue in exact
    arithmetic, so members of a degenerate group can be missing. The pairs found are
    moved out of the way (shifted beyond the wanted end of the spectrum) and ARPACK
    runs again on what is left; the union is kept while new runs still find
    eigenvalues inside the wanted set (at most four restarts). ``eigsh`` runs this only
    where the missed check, independent of ARPACK, finds a gap or cannot rule one out.
    Returns None when the first restart finds nothing inside the wanted set.
    """
    sa = which == "smallest"

    def run(X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        shift = (2.0 * norm + 1.0) * (1.0 if sa else -1.0)
        kk = min(k, n - 1 - X.shape[1])
        if kk < 1:
            return None
        return _arpack_call(aslinearoperator(_deflated(op, M, X, shift)), M, kk, n, which,
                            tol, maxiter, g)

    return _restarted(run, lam, X, k, which, _gap(tol, norm), 4, M)


# The shift-invert Lanczos stops when every wanted pair's residual of A itself, read
# from the Lanczos relation, is below this share of tol ||A|| (the pairs are then
# checked at half of tol ||A||, and eigsh's verification at all of it). Its own
# criterion, ||S x - theta x|| <= tol theta, bounds that residual by about
# tol ||A - sigma M|| ||V||_2 at worst (V the open block; tol ||A|| for M = I and a shift
# near 0) and ran on: the 700 x 700 grid's 20 pairs came out at 3e-8 ||A|| for 1e-6.
_LANCZOS_MARGIN = 0.4


def _lanczos_stop(A: Any, M: Any, s: float, tol: float, norm: float,
                  maxiter: int | None, b: int) -> dict[str, Any]:
    """Return the stopping rule of the shift-invert Lanczos as its keyword arguments.

    A's residuals, formed by one product of ``A - s M`` with the open block, below
    ``_LANCZOS_MARGIN * tol * norm``. The product is formed only once the Lanczos's own
    residuals reach ``1000 tol`` (``rtol``, a gate): those overestimate A's by 10-100x
    on graph Laplacians (the 700 x 700 grid: 1e-4 theta against 5e-6 ||A||), and the
    product costs a third of a solve there (SciPy's CSR kernel, 8 columns).
    """
    def shifted(V: np.ndarray) -> np.ndarray:
        R = np.asarray(A @ V)  # a new array: updated in place
        R = R.astype(np.result_type(R.dtype, V.dtype), copy=False)
        R -= s * (V if M is None else np.asarray(M @ V))
        return R

    return {"rtol": min(1e-2, 1e3 * tol), "residual_of": shifted,
            "atol": _LANCZOS_MARGIN * tol * norm, "max_applies": (maxiter or 300) * b}


def _shift_invert_restarts(solve: Callable[[np.ndarray], np.ndarray], s: float, A: Any,
                           M: Any, K: np.ndarray | None, lam: np.ndarray, X: np.ndarray,
                           k: int, b: int, tol: float, norm: float, maxiter: int | None,
                           g: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
    """Deflation restarts of the shift-invert block Lanczos for skipped group members.

    A block Krylov space of block ``b`` holds at most ``b`` vectors of one eigenspace
    (in exact arithmetic), so a group of more than ``b`` members at the wanted end (the
    kernel of a graph with many components: 78 for cora) is cut short and the next
    eigenvalues fill in. The pairs found (with the known kernel) are deflated and the
    Lanczos runs again on the same factorisation; the union is kept while a run still
    finds eigenvalues inside the wanted set (enough runs to fill ``k`` from a group
    ``b`` at a time, at least four). Returns None when the first restart finds nothing.
    """
    def run(X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        def accept(theta: np.ndarray, Y: np.ndarray) -> bool:
            return bool(np.all(_residuals(A, M, s + 1.0 / theta, Y) <= 0.5 * tol * norm))

        try:
            theta, Y, _, ok = block_lanczos_largest(
                solve, A.shape[0], k, M=M, K=X if K is None else np.hstack([K, X]),
                block=b, accept=accept, **_lanczos_stop(A, M, s, tol, norm, maxiter, b),
                dtype=X.dtype, rng=g)
        except ValueError:  # the complement is too small for another run
            return None
        return (s + 1.0 / theta, Y) if ok else None

    return _restarted(run, lam, X, k, "smallest", _gap(tol, norm),
                      max(4, -(-k // b) + 1), M)


def _restarted(run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray] | None],
               lam: np.ndarray, X: np.ndarray, k: int, which: str, margin: float,
               passes: int, M: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Merge what ``run`` (a solver with the found vectors deflated) finds, pass by pass.

    Stops after ``passes``, or when a run returns None or nothing inside the wanted set.
    ``X`` is M-orthonormal on entry and after each merge. Returns None when nothing
    was merged.
    """
    changed = False
    for _ in range(passes):
        found = run(X)
        if found is None:
            break
        merged = _merge_new(lam, X, *found, k, which, margin)
        if merged is None:
            break
        lam, X = merged
        X = _m_orthonormalize(X, M)
        changed = True
    return (lam, X) if changed else None


def _merge_new(lam: np.ndarray, X: np.ndarray, mu: np.ndarray, Y: np.ndarray, k: int,
               which: str, margin: float) -> tuple[np.ndarray, np.ndarray] | None:
    """Add a restart's pairs that fall inside the wanted set; None when none do.

    Inside means beyond the edge of the found set by more than ``margin`` (the missed
    check's gap): more members of a group at the edge, equal to it up to rounding,
    would only swap one valid answer for another.
    """
    inside = mu < lam.max() - margin if which == "smallest" else mu > lam.min() + margin
    if not inside.any():
        return None
    return _keep(np.concatenate([lam, mu[inside]]), np.hstack([X, Y[:, inside]]), k, which)


def _primme_restarted(primme: Any, op: Any, M: Any, K: np.ndarray | None, k: int, n: int,
                      which: str, tol: float, norm: float, maxiter: int | None,
                      g: np.random.Generator, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """PRIMME, in blocks of up to 8, with lock restarts for degenerate groups.

    With one vector a step PRIMME skipped members of a group of multiplicity 4 on a
    torus; blocks find them. After a run the pairs found are locked (PRIMME keeps its
    search orthogonal to them, and to the known kernel) and it runs again; the union is
    kept while new runs find eigenvalues inside the wanted set (at most two restarts).
    PRIMME is told our criterion, ``||A x - lambda M x|| <= tol ||A||`` with half the
    margin (its own ``tol`` scales by the largest eigenvalue of the pencil, which for a
    mass matrix is far above ``||A||``); a run that ends above ``tol * norm`` is a
    failure.
    """
    sa = which == "smallest"

    def run(kk: int, lock: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, Y = primme.eigsh(op, kk, M=M, which="SA" if sa else "LA",
                                 convtest=lambda _v, _x, r: bool(r <= 0.5 * tol * norm),
                                 v0=g.standard_normal((n, 1)).astype(dtype), lock=lock,
                                 maxBlockSize=min(8, kk), maxiter=maxiter,
                                 return_unconverged=True, raise_for_unconverged=False)
        mu, Y = np.asarray(mu).real, np.asarray(Y)
        res = _residuals(op, M, mu, Y)
        if Y.shape[1] < kk or not np.all(res <= tol * norm):
            worst = float(res.max()) if res.size else float("inf")
            raise RuntimeError(f"PRIMME stopped with residuals up to {worst:.3g} > tol "
                               f"||A|| = {tol * norm:.3g} (maxiter={maxiter})")
        return mu, Y

    lam, X = run(k, K)
    for _ in range(2):
        locked = _m_orthonormalize(X if K is None else np.hstack([K, X]), M)
        kk = min(k, n - 1 - locked.shape[1])
        if kk < 1:
            break
        try:
            mu, Y = run(kk, locked)
        except RuntimeError:
            break  # nothing more to find here (the missed check has the last word)
        merged = _merge_new(lam, X, mu, Y, k, which, _gap(tol, norm))
        if merged is None:
            break
        lam, X = merged
    return lam, X


#: The multilevel start's pairs are accepted on residuals formed from ``A`` (not
#: estimated, as the Lanczos's are), so that its margin to the tolerance is smaller
MULTILEVEL_MARGIN = 0.8


def _multilevel_applies(A: Any, M: Any, n: int) -> bool:
    """Say whether shift-invert tries the multilevel start (``_multilevel``).

    It does on a large real sparse ``A``, with ``M`` None or real sparse.
    """
    def real_sparse(B: Any) -> bool:
        return sp.issparse(B) and not np.iscomplexobj(B.data)

    return n >= MULTILEVEL_MIN_ROWS and real_sparse(A) and (M is None or real_sparse(M))


def _block_size(k: int, n: int) -> int:
    """Block of the shift-invert Lanczos: 8 where the problem is large enough, else 0."""
    for b in (8, 4, 2):
        if n >= max(3 * k, k + 4 * b) + 2 * b:
            return b
    return 0


def _shift_candidates(A: Any, M: Any, sigma: float | None, norm: float, n: int,
                      ) -> list[float | None]:
    """Return the shifts :func:`_factor_below` tries, in turn (None: the guaranteed bound)."""
    if sigma is not None:
        return [float(sigma)]
    default = -1e-6 * norm
    shifts: list[float | None] = [default]
    if M is None:
        ones = np.ones(n)
        if abs(float(np.real(ones @ (A @ ones)))) / n > 1e-8 * norm:
            b = spectral_bounds(A, steps=20, rng=0)
            est = b.lower - 1e-3 * (b.upper - b.lower)
            shifts = [est, default] if default < est else [est]
    shifts.append(None)  # the guaranteed bound, computed only if needed
    return shifts


def _factor_below(A: Any, M: Any, sigma: float | None, norm: float, n: int,
                  state: dict, shifts: list[float | None] | None = None,
                  first: Callable[[], SymmetricFactor] | None = None,
                  ) -> tuple[SymmetricFactor, float]:
    """Factorisation of ``A - s M`` with ``s`` just below the spectrum.

    A successful Cholesky (CHOLMOD) shows that no eigenvalue lies below ``s``; where it
    fails, or with SuperLU, ``P^T (A - s M) P = L D L^T`` without pivoting, and by
    Sylvester's law of inertia the negative entries of ``D`` count the eigenvalues
    below ``s``. Shifts are tried in turn until that count is zero:

    1. where the Rayleigh quotient of the all-ones vector is not ~0 (so the bottom of
       the spectrum is not known to be 0, as it is for a graph Laplacian), a Lanczos
       estimate of ``lambda_min`` less its residual bound and a margin (a sheaf
       Laplacian whose spectrum starts at 4.7 would otherwise be shift-inverted
       about 0, where its smallest eigenvalues are hard to tell apart; an indefinite
       matrix would have eigenvalues below 0);
    2. ``-1e-6 ||A||``, when below the first;
    3. a guaranteed (Gershgorin) lower bound.

    A user's ``sigma`` is factorised as given, and eigenvalues below it are an error.
    ``shifts``: :func:`_shift_candidates`, if computed already; ``first``: returns the
    factorisation at the first of them, if one was started elsewhere.
    """
    Msp = sp.eye_array(n, format="csc") if M is None else sp.csc_array(M)
    if shifts is None:
        shifts = _shift_candidates(A, M, sigma, norm, n)
    for i, s in enumerate(shifts):
        if s is None:
            s = _lower_bound(A, M, norm) - 1e-6 * norm
        try:
            lu = first() if i == 0 and first is not None else \
                SymmetricFactor(A - s * Msp, definite=True, backend=state["backend"])
            below = lu.negative_pivots
            singular = lu.zero_pivot
        except np.linalg.LinAlgError:
            below, singular = None, True
        if singular and sigma is not None:
            raise ValueError(f"sigma={sigma:.6g} is an eigenvalue: A - sigma M is "
                             "singular; move it below the spectrum")
        state["factorizations"] += 1
        if below == 0:
            return lu, s
        if sigma is not None:
            what = "an unknown number of" if below is None else str(below)
            raise ValueError(
                f"sigma={sigma:.6g} must lie below the spectrum for which='smallest'; "
                f"{what} eigenvalues lie below it (inertia of A - sigma M)"
            )
    raise RuntimeError("could not place the shift below the spectrum")


def _coarse_beside_factor(A: Any, M: Any, K: np.ndarray | None, kk: int, sigma: float | None,
                          tol: float, norm: float, n: int, state: dict,
                          ) -> tuple[SymmetricFactor, float,
                                     tuple[np.ndarray, np.ndarray] | None]:
    """Factorise below the spectrum and build the multilevel start's coarse block.

    Where CHOLMOD is called through ctypes (which releases the GIL), the finest level
    is factorised in a worker thread at the first candidate shift while this thread
    works through the coarse levels at the same shift (on the 700 x 700 grid, 1.2 s
    of factorisation beside 1.0 s of coarse levels, on two cores); the block is
    dropped (the start reported as such) if the factorisation had to move the shift.
    Otherwise one after the other, the coarse levels at the shift factorised.

    The BLAS threads are the process's. They are settled on this thread while the
    worker is in CHOLMOD's symbolic analysis, which calls no BLAS, and the worker
    waits for that before its numeric factorisation: all threads where the
    factorisation runs alone (the coarsest level predicts that the start will not be
    tried, as on kNN graphs and sheaves) or where the machine has more than two
    cores; one on two cores beside the coarse levels, where two threads factorised
    the 490k grid hardly faster (1.0 s against 1.1 s) and would take their core.
    """
    atol = MULTILEVEL_MARGIN * tol * norm
    backend = resolve_backend(state["backend"], real=True)

    def coarse(s: float, decided: Callable[[bool], None] | None = None,
               ) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            return coarse_start(A, M, K, kk, s, atol, backend, state, decided)
        except (np.linalg.LinAlgError, RuntimeError, MemoryError) as exc:
            # a coarse factorisation that failed costs the start, not the method
            state["start"] = (f"multilevel start failed ({type(exc).__name__}: "
                              f"{str(exc)[:80]}): block Lanczos from a random start")
            return None

    if not (backend == "cholmod" and _cholmod.available()):
        lu, s = _factor_below(A, M, sigma, norm, n, state)
        return lu, s, coarse(s)
    shifts = _shift_candidates(A, M, sigma, norm, n)
    s0 = shifts[0]
    assert s0 is not None
    Msp = sp.eye_array(n, format="csc") if M is None else sp.csc_array(M)
    go = threading.Event()  # the BLAS threads are settled: the worker may factorise
    with ExitStack() as blas:

        def settle(going_on: bool) -> None:
            if not go.is_set():
                if n >= WIDE_ROWS and (not going_on or (os.cpu_count() or 1) > 2):
                    blas.enter_context(_backend.all_blas_threads())
                go.set()

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(lambda: SymmetricFactor(
                A - s0 * Msp, definite=True, backend=backend, blas_threads=False,
                between=go.wait))
            try:
                X0 = coarse(s0, settle)
            finally:
                settle(False)  # where the coarse levels stopped before deciding
            lu, s = _factor_below(A, M, sigma, norm, n, state, shifts, future.result)
    if X0 is not None and s != s0:
        state["start"] += (f"; dropped (built at the shift {s0:.6g}, but A - s M was "
                           f"factorised at {s:.6g}): block Lanczos from a random start")
        X0 = None
    return lu, s, X0


INERTIA_MAX_COST = 30.0  # refactorise for the check while it costs <= this many solves


def _inertia_is_cheaper(state: dict) -> bool:
    """Whether the missed check should refactorise for an exact inertia count.

    The alternative, a deflated Krylov pass, costs about 30 solves with the factor.
    The factorisation's cost is modelled from the column counts of ``L`` (not
    measured), so that the choice is deterministic.
    """
    factor = state.get("factor")
    return factor is not None and bool(factor.cost_in_solves <= INERTIA_MAX_COST)


def _inertia_count(A: Any, M: Any, tau: float, norm: float, backend: str = "auto",
                   ) -> int | None:
    """Eigenvalues of ``A x = lambda M x`` below ``tau``; None if zero pivots persist."""
    n = A.shape[0]
    Msp = sp.eye_array(n, format="csc") if M is None else sp.csc_array(M)

    def inertia(shift: float) -> int | None:
        try:
            return SymmetricFactor(A - shift * Msp, backend=backend).negative_pivots
        except np.linalg.LinAlgError:
            return None

    count = inertia(tau)
    if count is None:
        # an exact zero pivot (an eigenvalue at tau, or exact cancellation in an
        # integer matrix): nudge the shift both ways and accept an agreement
        delta = 1e-10 * max(1.0, abs(tau), norm)
        lo, hi = inertia(tau - delta), inertia(tau + delta)
        count = lo if lo is not None and lo == hi else None
    return count


def _lower_bound(A: Any, M: Any, norm: float) -> float:
    """Return a guaranteed lower bound of the (generalised) spectrum."""
    low = float(gershgorin_bounds(A)[0])
    if M is None:
        return low
    if low >= 0:
        return 0.0  # A is positive semi-definite, so is the pencil for any SPD M
    # x^H A x >= low |x|^2 and x^H M x >= mlow |x|^2 give lambda >= min(low, 0) / mlow
    mlow = float(gershgorin_bounds(M)[0])
    if mlow <= 0:
        raise RuntimeError("no lower bound of the generalised spectrum (M's Gershgorin "
                           "bound is not positive); pass sigma")
    return min(low, 0.0) / mlow


def _buffered(k: int, n: int) -> int:
    """Ask a Krylov solver for a few more pairs than needed.

    Clusters at the edge of the wanted set are where ARPACK skips group members.
    """
    return min(n - 1, k + max(4, k // 2))


def _keep(lam: np.ndarray, X: np.ndarray, k: int, which: str) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(lam)
    order = order[:k] if which == "smallest" else order[-k:]
    return lam[order], X[:, order]


def _gap(tol: float, norm: float) -> float:
    """How far beyond the last found eigenvalue another one counts as missed."""
    return max(tol * norm * 10, 1e-12 * norm)


def _missed_check(A: Any, M: Any, lam: np.ndarray, X: np.ndarray, which: str, tol: float,
                  norm: float, g: np.random.Generator, counter: _Counter,
                  state: dict) -> str:
    n = A.shape[0]
    k = X.shape[1]
    if k >= n:
        return "complete spectrum: nothing to miss"
    gap_tol = _gap(tol, norm)
    edge = lam[-1] if which == "smallest" else lam[0]
    known_next = state.pop("next_eigenvalue", None)
    if known_next is not None:
        # the dense solve's: the k extreme eigenvalues by index, and the one after them
        beyond = known_next
        how = "LAPACK's eigh, by index, one eigenvalue further"
    elif n <= DENSE_AUTO:
        # exact: eigenvalues of A on the M-orthogonal complement of X
        Ad = A.toarray() if sp.issparse(A) else np.asarray(A @ np.eye(n))
        Md = None if M is None else (M.toarray() if sp.issparse(M) else np.asarray(M @ np.eye(n)))
        MX = X if Md is None else Md @ X
        Q = scipy.linalg.null_space(MX.T)  # orthonormal basis of the complement
        if Md is None:
            mu = scipy.linalg.eigh(Q.T @ Ad @ Q, eigvals_only=True)
        else:
            mu = scipy.linalg.eigh(Q.T @ Ad @ Q, Q.T @ Md @ Q, eigvals_only=True)
        beyond = mu[0] if which == "smallest" else mu[-1]
        how = "dense complement"
    elif (state.get("solve") is not None and which == "smallest" and n - k >= 40
          and not isinstance(A, LinearOperator) and _inertia_is_cheaper(state)):
        # spectrum slicing: the number of eigenvalues below tau = edge - gap, from the
        # inertia of A - tau M, must equal the number found below tau
        tau = edge - gap_tol
        expected = int(np.count_nonzero(lam < tau))
        try:
            count = _inertia_count(A, M, tau, norm,
                                   state.get("used_backend", state.get("backend", "auto")))
        except np.linalg.LinAlgError:
            count = None
        state["factorizations"] += 1
        if count is None:
            return (f"none missed (inertia count at {tau:.12g}, inconclusive: zero pivots; "
                    f"next eigenvalue unknown)")
        if count > expected:
            return (f"missed: the inertia of A - tau M counts {count} eigenvalues below "
                    f"tau = {tau:.12g}, {count - expected} more than found")
        if count < expected:
            return (f"missed: the inertia of A - tau M counts {count} eigenvalues below "
                    f"tau = {tau:.12g}, fewer than the {expected} found (spurious pairs)")
        return f"none missed (inertia count: exactly {count} eigenvalues below {tau:.12g})"
    elif state.get("solve") is not None and which == "smallest" and n - k >= 40:
        # an extra block Krylov pass on the shift-inverted operator, the found vectors
        # (and the known kernel) deflated, from a fresh random start: its largest Ritz
        # value theta is a lower bound of the largest on the complement, so
        # sigma + 1/theta bounds the next eigenvalue from above
        s = state["sigma"]
        # orthonormal to rounding already (the solvers' vectors, as a rule): used as
        # they are, without a copy of the size of X
        D = X if M is None and np.abs(X.conj().T @ X - np.eye(k)).max() <= 1e-12 \
            else _m_orthonormalize(X, M)
        b = 4
        theta, _, used, ok = block_lanczos_largest(
            state["solve"], n, 1, M=M, K=D, block=b, max_dim=8 * b, rtol=1e-2,
            max_applies=8 * b, dtype=X.dtype, k_passes=1, apply_into=True, rng=g)
        beyond = s + 1.0 / float(theta[0])
        how = f"block Krylov pass on the deflated shift-inverted operator, {used} solves"
        if not ok:
            how += ", inconclusive: its top Ritz value did not settle to 1e-2"
    else:
        X0 = g.standard_normal((n, 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mu, V = lobpcg(counter.linear_operator(), X0, B=M, Y=X,
                           largest=which == "largest", tol=tol * norm, maxiter=200)
        beyond = float(np.asarray(mu).ravel()[0])
        res = float(_residuals(A, M, np.asarray(mu).ravel()[:1], V[:, :1])[0])
        how = "LOBPCG on the complement"
        if res > 10 * tol * norm:
            how += f", inconclusive: its residual {res:.3g} > 10 tol ||A||"
    if which == "smallest" and beyond < edge - gap_tol:
        return f"missed: {how} has eigenvalue {beyond:.12g} below the last found {edge:.12g}"
    if which == "largest" and beyond > edge + gap_tol:
        return f"missed: {how} has eigenvalue {beyond:.12g} above the last found {edge:.12g}"
    return f"none missed ({how}: next eigenvalue {beyond:.12g})"


def eigenvalue_count(A: Any, upper: float, *, M: Any = None,
                     factorization: Literal["auto", "superlu", "cholmod"] = "auto") -> int:
    """Count the eigenvalues of ``A x = lambda M x`` below ``upper``, exactly.

    Spectrum slicing by Sylvester's law of inertia: ``A - upper M`` is factorised as
    ``P^T (A - upper M) P = L D L^T`` without pivoting (SuperLU in symmetric mode with
    diagonal pivots, or CHOLMOD's simplicial ``L D L^T``) and the negative entries of
    ``D`` are counted. No eigenvector is computed; the count is
    exact up to eigenvalues within rounding of ``upper``. Where the factorisation meets
    a zero pivot (exactly zero, or below ``max(16, n) eps ||A - upper M||_inf``, where
    its sign is rounding noise), the shift is nudged by ``1e-10 max(1, |upper|, ||A||)``
    both ways and the two counts must agree.

    Parameters
    ----------
    A : sparse or dense, shape (n, n)
        Symmetric (Hermitian).
    upper : float
        The count is of eigenvalues ``< upper``.
    M : sparse or dense, optional
        Symmetric positive definite mass matrix.
    factorization : {"auto", "superlu", "cholmod"}
        As for :func:`eigsh`.

    Returns
    -------
    int

    Raises
    ------
    EigenSolverError
        When ``upper`` is (numerically) an eigenvalue, or SuperLU had to pivot off the
        diagonal, so that the inertia is unknown; move ``upper`` slightly.
    """
    Aop = _checked_operator(A, "A")
    if isinstance(Aop, LinearOperator):
        raise ValueError("eigenvalue_count needs A as a matrix to factorise; got a "
                         "LinearOperator")
    n = Aop.shape[0]
    Mop = _check_mass(M, n)
    if isinstance(Mop, LinearOperator):
        raise ValueError("eigenvalue_count needs M as a matrix; got a LinearOperator")
    upper = float(upper)
    if not np.isfinite(upper):
        raise ValueError(f"upper must be finite; got {upper}")
    check_option(factorization, "factorization", _BACKENDS)
    count = _inertia_count(Aop, Mop, upper, _norm_bound(Aop), factorization)
    if count is None:
        raise EigenSolverError(
            f"the inertia of A - {upper:.6g} M is unknown (a zero pivot, or a factorisation "
            "that pivoted off the diagonal): upper is at or next to an eigenvalue; move it "
            "slightly"
        )
    return count
