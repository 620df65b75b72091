"""Linear diffusion ``M dX/dt = -L X``: exact, polynomial, Krylov and time-stepping methods.

``L`` is any symmetric positive semi-definite operator (graph, mesh or sheaf Laplacian),
``M`` an optional positive definite mass matrix (meshes). Every method returns the
solution at the requested times in a :class:`DiffusionResult`, with the Dirichlet
energy ``tr(X^T L X)`` and the distance to the harmonic projection along the way on
request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.special
from scipy.integrate import solve_ivp
from scipy.sparse.linalg import LinearOperator, aslinearoperator, expm_multiply, splu

from .. import _backend
from .._validation import (
    as_csr,
    as_float_array,
    as_operator,
    as_signals,
    check_bool,
    check_int,
    check_option,
    check_positive_real,
    device_signals,
)
from ..filters._chebyshev import (
    ChebyshevApproximation,
    apply_expansion,
    locality_order,
)
from ..filters._exact import EXACT_MAX, full_eigenbasis
from ..graphs._reorder import permute_symmetric, put_rows, take_rows
from ..spectral import EigenResult, gershgorin_bounds, spectral_bounds
from ..spectral._bounds import _gershgorin_csr, _scaled_upper

__all__ = ["DiffusionResult", "heat_chebyshev_coefficients", "heat_diffusion"]

Method = Literal["auto", "eigen", "chebyshev", "expm_multiply", "euler", "rk4", "rk45",
                 "implicit_euler", "crank_nicolson"]
_METHODS = ("auto", "eigen", "chebyshev", "expm_multiply", "euler", "rk4", "rk45",
            "implicit_euler", "crank_nicolson")
_STABLE = {"euler": 2.0, "rk4": 2.785293563405282}  # |1 + z + ...| <= 1 on [-c, 0]


@dataclass(frozen=True)
class DiffusionResult:
    """States of a diffusion at the requested times.

    Attributes
    ----------
    times : ndarray, shape (T,)
    states : ndarray, shape (T, n) or (T, n, channels)
        A CuPy array for CuPy input.
    method : str
    energy : ndarray, shape (T,) or None
        Dirichlet energy ``tr(X(t)^T L X(t))`` (``trace=True``).
    distance_to_harmonic : ndarray, shape (T,) or None
        ``||X(t) - P X(0)||_M`` with ``P`` the M-orthogonal projection onto ``ker L``
        (given as ``kernel``).
    n_matvecs : int
        Products with ``L``, per channel (for the implicit methods with
        ``solver="factor"``, solves).
    n_steps : int
        Time steps (explicit and implicit methods) or polynomial degree in total
        (Chebyshev).
    wall_time : float
        Seconds.
    """

    times: np.ndarray
    states: np.ndarray
    method: str
    energy: np.ndarray | None
    distance_to_harmonic: np.ndarray | None
    n_matvecs: int
    n_steps: int
    wall_time: float


def heat_chebyshev_coefficients(t: float, lambda_max: float, tol: float) -> np.ndarray:
    """Chebyshev coefficients of ``exp(-t lambda)`` on ``[0, lambda_max]``, tail below ``tol``.

    With ``z = t lambda_max / 2`` and ``x = 2 lambda / lambda_max - 1``,
    ``exp(-t lambda) = e^{-z} e^{-z x} = sum_k c_k T_k(x)`` with ``c_0 = e^{-z} I_0(z)``
    and ``c_k = 2 (-1)^k e^{-z} I_k(z)`` (modified Bessel functions, through the
    exponentially scaled ``scipy.special.ive``). The degree is the smallest whose
    coefficient tail bound ``sum_{j > K} |c_j|`` is below ``tol``.
    """
    z = 0.5 * float(t) * float(lambda_max)
    K = max(8, int(np.ceil(z + 10 * np.sqrt(z + 1) + 30)))
    while True:
        k = np.arange(K + 1)
        c = 2.0 * (-1.0) ** k * scipy.special.ive(k, z)
        c[0] *= 0.5
        tail = np.cumsum(np.abs(c)[::-1])[::-1]
        ok = np.nonzero(tail <= tol)[0]
        if ok.size and ok[0] > 0:
            return c[: ok[0]]
        K *= 2


def _times(times: Any) -> np.ndarray:
    t = as_float_array(times, "times", ndim=(0, 1)).reshape(-1)
    if t.size == 0:
        raise ValueError("times must hold at least one time; got an empty array")
    if np.any(t < 0):
        raise ValueError(f"times must be >= 0; got {float(t.min()):.6g}")
    if np.any(np.diff(t) < 0):
        raise ValueError("times must be non-decreasing; sort them first")
    return t


def heat_diffusion(
    L: Any,
    X0: Any,
    times: Any,
    *,
    M: Any = None,
    method: Method = "auto",
    tol: float = 1e-8,
    dt: float | None = None,
    lambda_max: float | None = None,
    basis: EigenResult | None = None,
    kernel: Any = None,
    trace: bool = False,
    solver: Literal["factor", "cg"] = "factor",
    maxiter: int = 1000,
    check_interval: bool = True,
) -> DiffusionResult:
    """Integrate ``M dX/dt = -L X`` from ``X(0) = X0`` and return ``X`` at ``times``.

    CuPy input (a cupyx sparse or CuPy dense ``L``, a CuPy ``X0``, a diagonal cupyx
    ``M``) stays on the device and gives CuPy states. There the methods that need only
    products with ``L`` run: ``"chebyshev"`` (the default; the generic three-term
    recurrence), ``"euler"``, ``"rk4"``, ``"eigen"`` (dense ``eigh``, n <= 5000, no
    ``basis``) and the implicit methods with ``solver="cg"``; the others are an error
    that says so. The Gershgorin bound and the Lanczos check of ``lambda_max`` run on
    the device too.

    Parameters
    ----------
    L : sparse, dense or LinearOperator, shape (n, n)
        Symmetric positive semi-definite.
    X0 : array, shape (n,) or (n, channels)
    times : float or array of float
        Non-negative, non-decreasing output times.
    M : sparse or dense, optional
        Positive definite mass matrix; diagonal (lumped) for ``"chebyshev"``,
        ``"euler"`` and ``"rk4"``.
    method : str
        ``"eigen"``: exact through a complete eigenbasis (``basis``, or dense for
        n <= 5000). ``"chebyshev"``: the Chebyshev expansion of ``exp(-t L)`` with
        Bessel coefficients, degree from ``tol``, stepping from one output time to the
        next (on the CPU, for a sparse ``L``, the fused Numba Clenshaw passes of
        :mod:`~spectral_sheaf.filters`).
        ``"expm_multiply"``: SciPy's truncated Taylor method. ``"euler"``, ``"rk4"``:
        explicit steps of size ``dt`` (default 0.9 of the stability limit
        ``c / lambda_max``; a larger ``dt`` is an error). ``"rk45"``: adaptive
        Dormand-Prince through ``solve_ivp`` with ``rtol = atol = tol``.
        ``"implicit_euler"``, ``"crank_nicolson"``: unconditionally stable steps of
        size ``dt`` (required) solving with ``M + theta dt L`` (``solver``).
        ``"auto"``: ``"chebyshev"`` (``"expm_multiply"`` when ``M`` is not diagonal).
    tol : float
        Accuracy of ``"chebyshev"`` (coefficient tail, relative to ``|X0|``),
        ``"rk45"``, and of each ``solver="cg"`` solve (residual relative to the
        right-hand side, per channel).
    solver : {"factor", "cg"}
        Linear solves of the implicit methods: one sparse LU factorisation of
        ``M + theta dt L`` reused for every step, or conjugate gradients (all channels
        in one block, Jacobi-preconditioned for a matrix, warm-started from the
        current state), which needs no factorisation, so ``L`` may be a
        LinearOperator (with ``M`` None or diagonal).
    maxiter : int
        Cap on the CG iterations of one solve; a solve that does not reach ``tol`` in
        it is an error.
    dt : float, optional
        Step of the time-stepping methods.
    lambda_max : float, optional
        Upper bound of the spectrum of ``M^-1 L``; default for a matrix a guaranteed
        bound: Gershgorin's, or for ``"chebyshev"`` with enough work to pay for it the
        tighter scaled block Gershgorin bound (:func:`spectral.scaled_gershgorin_upper`,
        near 2 for a normalised graph or sheaf Laplacian); for a LinearOperator a
        Lanczos estimate. A given value is checked
        (``check_interval``): below a Ritz value of the operator is an error.
    check_interval : bool
        Check a given ``lambda_max`` by 20 Lanczos steps. On the benchmark problems the
        check costs more than the degree a tight bound saves; pass False when the bound
        is known (2 for a normalised Laplacian), since an interval that misses the top
        of the spectrum gives a wrong answer there.
    basis : EigenResult, optional
        A complete eigenbasis for ``"eigen"``.
    kernel : array, shape (n, r), optional
        A basis of ``ker L``; enables ``distance_to_harmonic`` (the ``t -> infinity``
        limit is the M-orthogonal projection of ``X0`` onto it).
    trace : bool
        Record the Dirichlet energy at each output time.

    Returns
    -------
    DiffusionResult
    """
    t0 = time.perf_counter()
    check_option(method, "method", _METHODS)
    tol = check_positive_real(tol, "tol")
    t = _times(times)
    if dt is not None:
        dt = check_positive_real(dt, "dt")
    check_option(solver, "solver", ("factor", "cg"))
    check_int(maxiter, "maxiter", minimum=1)
    check = check_bool(check_interval, "check_interval")
    if any(_backend.is_cupy(a) for a in (L, X0, M, kernel)):
        return _heat_diffusion_generic(L, X0, t, M=M, method=method, tol=tol, dt=dt,
                                       lambda_max=lambda_max, basis=basis, kernel=kernel,
                                       trace=trace, solver=solver, maxiter=maxiter, t0=t0,
                                       check_interval=check)
    Lop, n = as_operator(L, "L")
    X = as_signals(X0, n, "X0", match="L")
    one = X.ndim == 1
    X = X.reshape(n, -1).astype(np.float64, copy=False)  # read, never written
    Mm = None
    mdiag = None
    if M is not None:
        Mm = as_csr(M, "M")
        if Mm.shape != (n, n):
            raise ValueError(f"M must have the shape of L, ({n}, {n}); got {Mm.shape}")
        off = Mm - sp.diags_array(Mm.diagonal())
        if off.count_nonzero() == 0:
            mdiag = Mm.diagonal().astype(np.float64)
        if np.any(Mm.diagonal() <= 0):
            raise ValueError("M must be positive definite; got a diagonal entry <= 0")
    if method == "auto":
        method = "chebyshev" if (Mm is None or mdiag is not None) else "expm_multiply"
    if method in ("chebyshev", "euler", "rk4") and Mm is not None and mdiag is None:
        raise ValueError(f"method={method!r} needs a diagonal (lumped) M; use "
                         "'expm_multiply', 'rk45' or an implicit method for a full M")
    K = None
    if kernel is not None:
        K = as_float_array(kernel, "kernel", ndim=(1, 2)).reshape(n, -1)
    counter = {"mv": 0, "steps": 0}

    # symmetric form for a lumped M: Y = M^1/2 X, dY/dt = -M^-1/2 L M^-1/2 Y
    if mdiag is not None and method in ("chebyshev", "euler", "rk4", "eigen"):
        s = np.sqrt(mdiag)
        S = sp.diags_array(1.0 / s)
        A = S @ Lop @ S if not isinstance(Lop, LinearOperator) else \
            aslinearoperator(S) @ Lop @ aslinearoperator(S)
        Y0 = X * s[:, None]
        unscale = 1.0 / s[:, None]
    else:
        A, Y0, unscale = Lop, X, None

    if method == "eigen":
        states = _eigen(A, Y0, t, basis, Mm if mdiag is None else None)
    elif method == "chebyshev":
        lmax, top_diagonal = _interval(A, lambda_max, check)
        states = _chebyshev(A, Y0, t, lmax, tol, counter, top_diagonal=top_diagonal)
    elif method in ("euler", "rk4"):
        states = _explicit(A, Y0, t, _lambda_max(A, lambda_max, check), dt, method,
                           counter)
    elif method == "expm_multiply":
        states = _expm(Lop, X, t, Mm, counter)
    elif method == "rk45":
        states = _rk45(Lop, X, t, Mm, tol, counter)
    else:
        dt = _need_dt(method, dt, t)
        if isinstance(Lop, LinearOperator) and solver == "factor":
            raise ValueError(f"method={method!r} with solver='factor' factorises M + theta "
                             "dt L; L must be a matrix, not a LinearOperator (or use "
                             "solver='cg')")
        if solver == "cg" and Mm is not None and mdiag is None:
            raise ValueError("solver='cg' needs M None or diagonal (lumped); use "
                             "solver='factor' for a full M")
        states = _implicit(Lop, X, t, Mm, mdiag, dt, method, solver, tol, maxiter, counter)
    if unscale is not None and method in ("chebyshev", "euler", "rk4", "eigen"):
        states = states * unscale[None]
    return _result(t, states, method, Lop, Mm, X, K, trace, one, counter, t0)


_DEVICE_METHODS = ("auto", "chebyshev", "euler", "rk4", "eigen", "implicit_euler",
                   "crank_nicolson")


def _heat_diffusion_generic(L: Any, X0: Any, t: np.ndarray, *, M: Any, method: str,
                            tol: float, dt: float | None, lambda_max: float | None,
                            basis: EigenResult | None, kernel: Any, trace: bool,
                            solver: str, maxiter: int, t0: float,
                            check_interval: bool = True) -> DiffusionResult:
    """:func:`heat_diffusion` for CuPy input, by products only (tested on SciPy input).

    The methods that need nothing but products with ``L`` run where the arrays are:
    Chebyshev, explicit Euler and RK4, dense ``eigh`` (n <= 5000), and the implicit
    methods with block CG. ``M`` must be None or diagonal.
    """
    xp = _backend.array_namespace(L, X0, M, kernel)  # a CPU/GPU mix is a TypeError
    if method not in _DEVICE_METHODS or (method in ("implicit_euler", "crank_nicolson")
                                         and solver != "cg"):
        what = f"method={method!r}" + (f" with solver={solver!r}" if solver != "cg"
                                       and method in ("implicit_euler", "crank_nicolson")
                                       else "")
        raise ValueError(
            f"{what} runs on the CPU only; for CuPy input use method 'chebyshev', "
            "'euler', 'rk4', 'eigen', or 'implicit_euler'/'crank_nicolson' with "
            "solver='cg', or move L and X0 to the host with spectral_sheaf._backend.to_numpy")
    if method == "auto":
        method = "chebyshev"
    if basis is not None:
        raise ValueError("basis (a host EigenResult) is not taken with CuPy input; "
                         "method='eigen' diagonalises on the device")
    X, n = device_signals(L, X0, a_name="L", x_name="X0")
    one = X.ndim == 1
    X = X.reshape(n, -1).astype(xp.float64)
    mdiag = None
    if M is not None:
        if getattr(M, "shape", ()) != (n, n) or not hasattr(M, "tocoo"):
            raise ValueError(f"M must be a sparse matrix with the shape of L, ({n}, {n}); "
                             f"got {type(M).__name__} of shape {getattr(M, 'shape', ())}")
        Mc = M.tocoo()
        if bool((Mc.data[Mc.row != Mc.col] != 0).any()):
            raise ValueError("M must be diagonal (lumped) for CuPy input; use a lumped mass "
                             "matrix, or the CPU for a full M")
        mdiag = xp.asarray(M.diagonal()).astype(xp.float64)
        if bool((mdiag <= 0).any()):
            raise ValueError("M must be positive definite; got a diagonal entry <= 0")
    K = None
    if kernel is not None:
        K = xp.asarray(kernel).astype(xp.float64).reshape(n, -1)
    counter = {"mv": 0, "steps": 0}
    A, Y0, unscale = L, X, None
    if mdiag is not None and method != "implicit_euler" and method != "crank_nicolson":
        sinv = 1.0 / xp.sqrt(mdiag)
        if hasattr(L, "tocsr"):
            S = _backend.diagonal_matrix(sinv)
            A = S @ L @ S
        else:
            A = L * sinv[:, None] * sinv[None, :]
        Y0, unscale = X / sinv[:, None], sinv[:, None]
    if method == "eigen":
        if n > EXACT_MAX:
            raise ValueError(f"method='eigen' diagonalises densely up to {EXACT_MAX} rows; "
                             f"got n = {n}: use method='chebyshev'")
        lam, U = xp.linalg.eigh(A.toarray() if hasattr(A, "toarray") else A)
        coef = U.T @ Y0
        lam = xp.maximum(lam, 0.0)
        states = xp.stack([U @ (xp.exp(-float(ti) * lam)[:, None] * coef) for ti in t])
    elif method == "chebyshev":
        states = _chebyshev(A, Y0, t, _lambda_max(A, lambda_max, check_interval), tol,
                            counter)
    elif method in ("euler", "rk4"):
        states = _explicit(A, Y0, t, _lambda_max(A, lambda_max, check_interval), dt,
                           method, counter)
    else:
        dt = _need_dt(method, dt, t)
        states = _implicit(L, X, t, None, mdiag, dt, method, "cg", tol, maxiter, counter)
    if unscale is not None:
        states = states * unscale[None]
    return _result(t, states, method, L, M, X, K, trace, one, counter, t0)


def _interval(A: Any, given: float | None, check: bool = True) -> tuple[float, float | None]:
    """Return :func:`_lambda_max` and, with it, the largest diagonal entry or None.

    The diagonal entry comes with Gershgorin's bound of a real sparse matrix (the same
    pass reads it); otherwise it is None.
    """
    if given is None and sp.issparse(A):
        M = as_csr(A, "L")
        if not np.iscomplexobj(M.data) and M.shape[0] > 0:
            _, hi, top = _gershgorin_csr(M.indptr, M.indices, M.data)
            return max(float(hi), 1e-300), float(top)
    return _lambda_max(A, given, check), None


def _lambda_max(A: Any, given: float | None, check: bool = True) -> float:
    """Return the top of the interval: a given ``lambda_max`` (Lanczos-checked) or a bound."""
    if given is not None:
        lm = check_positive_real(given, "lambda_max")
        if not check:
            return lm
        ritz = spectral_bounds(A, steps=20, rng=0, reorthogonalize=False).lambda_max
        if lm < ritz - 1e-10 * max(1.0, ritz):
            raise ValueError(f"lambda_max={lm:.6g} is below the spectrum: L has a Ritz "
                             f"value {ritz:.6g}; leave lambda_max out for a guaranteed "
                             "bound")
        return lm
    if not isinstance(A, LinearOperator):
        return max(float(gershgorin_bounds(A)[1]), 1e-300)
    b = spectral_bounds(A, steps=30, rng=0)
    return max(b.upper + 0.01 * (b.upper - b.lower), 1e-300)


# the scaled block Gershgorin bound costs some seven passes over the matrix with one
# channel: about 1.7 products with 16 channels on the normalised Laplacian of an O(3)
# sheaf (60k rows); it is computed where the products it may save, times the
# channels, reach this (3 products with 16 channels)
_TIGHTEN_WORK = 48


def _need_dt(method: str, dt: float | None, t: np.ndarray) -> float:
    if dt is None:
        raise ValueError(f"method={method!r} needs dt (the step); e.g. dt = "
                         f"{max(float(t[-1]), 1.0) / 100:.3g}")
    return dt


def _result(t: np.ndarray, states: Any, method: str, L: Any, M: Any, X: Any, K: Any,
            trace: bool, one: bool, counter: dict, t0: float) -> DiffusionResult:
    """Energies, distances to the harmonic projection, and the result (numpy or CuPy)."""
    xp = _backend.array_namespace(states)
    energy = None
    if trace:
        energy = np.array([float(xp.sum(Xt * _backend.dense_product(L, Xt)))
                           for Xt in states])
    dist = None
    if K is not None:
        MK = K if M is None else _backend.dense_product(M, K)
        G = K.T @ MK
        P0 = K @ xp.linalg.solve(G, MK.T @ X)
        diffs = states - P0[None]
        if M is None:
            sq = [float(xp.sum(d * d)) for d in diffs]
        else:
            sq = [float(xp.sum(d * _backend.dense_product(M, d))) for d in diffs]
        dist = np.sqrt(np.array(sq))
    if one:
        states = states[:, :, 0]
    return DiffusionResult(t, states, method, energy, dist, counter["mv"], counter["steps"],
                           time.perf_counter() - t0)


def _eigen(A: Any, Y0: np.ndarray, t: np.ndarray, basis: EigenResult | None,
           M: Any) -> np.ndarray:
    lam, U = full_eigenbasis(A, basis, M=M, who="method='eigen'",
                             instead="method='chebyshev'")
    coef = U.T @ (Y0 if M is None else np.asarray(M @ Y0))
    lam = np.maximum(lam, 0.0)
    return np.stack([U @ (np.exp(-ti * lam)[:, None] * coef) for ti in t])


def _chebyshev(A: Any, Y0: np.ndarray, t: np.ndarray, lmax: float, tol: float,
               counter: dict, top_diagonal: float | None = None) -> np.ndarray:
    """Heat expansions on ``[0, lmax]``, one per time step, applied in turn.

    ``top_diagonal`` (given when ``lmax`` is the Gershgorin bound of a real sparse
    matrix: its largest diagonal entry): replace ``lmax`` by the scaled block
    Gershgorin bound (:func:`spectral.scaled_gershgorin_upper`) where the work pays
    for it. The degree grows with ``t lambda_max``; Gershgorin's discs of a normalised
    Laplacian reach past 2 on irregular graphs (2.3 on a kNN graph) and far past it
    for a sheaf (3.0 on an O(3) sheaf), while the scaled bound stays near 2. It is
    computed, after any renumbering (its passes then stay in cache), when the products
    it may save (the degree at Gershgorin's bound against the degree at twice the
    largest diagonal entry) times the channels repay its own passes over the matrix:
    long diffusion times, many channels. Both bounds are guaranteed.
    """
    steps = np.diff(np.r_[0.0, t])
    # errors of the steps add up (exp(-tL) is a contraction): split tol
    n_steps = max(1, int(np.count_nonzero(steps > 0)))

    def expansions(top: float) -> list[np.ndarray | None]:
        return [heat_chebyshev_coefficients(s, top, tol / n_steps) if s > 0 else None
                for s in steps]

    def degree(coefs: list[np.ndarray | None]) -> int:
        return sum(c.size - 1 for c in coefs if c is not None)

    coefs = expansions(lmax)
    products = degree(coefs)
    # one renumbering for locality for all the steps (bitwise the same answer)
    perm = None
    fused = sp.issparse(A)  # the fused Numba passes, writing into the states
    if fused:
        A = as_csr(A, "L")
        perm = locality_order(A, Y0.shape[1], products)
        if perm is not None:
            A, Y0 = permute_symmetric(A, perm), take_rows(Y0, perm)
        # what the tighter interval could save: the degree at Gershgorin's bound
        # against that at twice the largest diagonal entry, where the scaled bound of
        # a normalised Laplacian lands (an estimate that decides, not a bound)
        target = 2.0 * top_diagonal if top_diagonal is not None else 0.0
        if (products * Y0.shape[1] >= _TIGHTEN_WORK and 0.0 < target < lmax and
                (products - degree(expansions(target))) * Y0.shape[1] >= _TIGHTEN_WORK):
            tight = max(min(lmax, _scaled_upper(A, iterations=4, gershgorin=lmax)),
                        1e-300)
            if tight < lmax:
                lmax, coefs = tight, expansions(tight)
    # p(0) = 1 exactly (a shift of c_0 by less than the tail bound), so that the
    # harmonic part, and a graph signal's mass, are kept exactly
    for c in coefs:
        if c is not None:
            c[0] += 1.0 - float(np.sum(c * (-1.0) ** np.arange(c.size)))
    # each state is written where it is returned from (no stacking copy; the fused
    # passes write their result there)
    states = _backend.array_namespace(Y0).empty((len(coefs), *Y0.shape), dtype=Y0.dtype)
    Y = Y0
    for k, coef in enumerate(coefs):
        state = states[k]
        if coef is None:
            state[...] = Y
        else:
            approx = ChebyshevApproximation(coef, 0.0, lmax, "none", float("nan"))
            # on the CPU Clenshaw's fused passes (fewer streams than the recurrence's)
            result = apply_expansion(A, Y, approx, out=state if fused else None,
                                     method="clenshaw" if fused else "recurrence")
            if result is not state:  # another path, or a constant expansion (c_0 Y)
                state[...] = result
            counter["mv"] += (coef.size - 1) * Y.shape[1]
            counter["steps"] += coef.size - 1
        Y = state
    if perm is None:
        return states
    unpermuted = np.empty_like(states)
    for k in range(len(coefs)):
        put_rows(states[k], perm, out=unpermuted[k])
    return unpermuted


def _explicit(A: Any, Y0: np.ndarray, t: np.ndarray, lmax: float, dt: float | None,
              method: str, counter: dict) -> np.ndarray:
    limit = _STABLE[method] / lmax
    if dt is None:
        dt = 0.9 * limit
    elif dt > limit:
        raise ValueError(
            f"dt={dt:.6g} exceeds the stability limit of method={method!r}, "
            f"{_STABLE[method]:.4g} / lambda_max = {limit:.6g}: use a smaller dt or an "
            "implicit method"
        )

    def f(_: float, Y: np.ndarray) -> np.ndarray:
        counter["mv"] += Y.shape[1]
        return -_backend.dense_product(A, Y)

    return march(Y0, t, dt, explicit_step(f, method), counter)


def march(Y0: np.ndarray, t: np.ndarray, dt: float,
          step: Callable[[float, np.ndarray, float], np.ndarray],
          counter: dict) -> np.ndarray:
    """Take fixed steps of at most ``dt`` from 0 through the output times ``t``.

    ``step(now, Y, h)`` advances ``Y`` from ``now`` by ``h``; the last step before each
    output time is shortened to land on it. Returns the states at ``t``.
    """
    out = []
    Y, now = Y0.copy(), 0.0
    for ti in t:
        while now < ti:
            h = min(dt, ti - now)
            Y = step(now, Y, h)
            now += h
            counter["steps"] += 1
            if ti - now < 1e-14 * max(1.0, ti):
                now = ti
        out.append(Y)
    return _backend.array_namespace(Y0).stack(out)


def explicit_step(f: Callable[[float, np.ndarray], np.ndarray],
                  method: str) -> Callable[[float, np.ndarray, float], np.ndarray]:
    """One explicit Euler or classical RK4 step of ``dY/dt = f(t, Y)``."""
    if method == "euler":
        return lambda now, Y, h: Y + h * f(now, Y)

    def rk4(now: float, Y: np.ndarray, h: float) -> np.ndarray:
        k1 = f(now, Y)
        k2 = f(now + h / 2, Y + h / 2 * k1)
        k3 = f(now + h / 2, Y + h / 2 * k2)
        k4 = f(now + h, Y + h * k3)
        return Y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return rk4


def _mass_solver(M: Any) -> Any:
    if M is None:
        return None
    lu = splu(sp.csc_array(M))
    return lu.solve


def _expm(L: Any, X: np.ndarray, t: np.ndarray, M: Any, counter: dict) -> np.ndarray:
    n = X.shape[0]
    msolve = _mass_solver(M)

    def apply(V: np.ndarray) -> np.ndarray:
        counter["mv"] += 1 if V.ndim == 1 else V.shape[1]
        W = np.asarray(L @ V)
        return -(W if msolve is None else msolve(W))

    def apply_t(V: np.ndarray) -> np.ndarray:  # (M^-1 L)^T = L M^-1
        counter["mv"] += 1 if V.ndim == 1 else V.shape[1]
        return -np.asarray(L @ (V if msolve is None else msolve(V)))

    neg = LinearOperator((n, n), matvec=apply, matmat=apply, rmatvec=apply_t,
                         rmatmat=apply_t, dtype=np.float64)
    trace = -_trace(L, M)
    out = []
    Y, prev = X, 0.0
    for ti in t:
        step = ti - prev
        if step > 0 and M is None and not isinstance(L, LinearOperator):
            Y = expm_multiply(-step * L, Y)  # SciPy's own use, on the sparse matrix
        elif step > 0:
            Y = expm_multiply(neg * step, Y, traceA=trace * step)
        out.append(np.asarray(Y))
        prev = ti
    return np.stack(out)


def _trace(L: Any, M: Any) -> float:
    """``tr(M^-1 L)`` for a matrix with a diagonal-dominated M (expm_multiply's shift)."""
    if isinstance(L, LinearOperator):
        return 0.0  # only the shift of the Taylor method uses it, not the accuracy
    d = np.asarray(L.diagonal(), dtype=float)
    if M is not None:
        d = d / np.asarray(M.diagonal(), dtype=float)
    return float(d.sum())


def _rk45(L: Any, X: np.ndarray, t: np.ndarray, M: Any, tol: float,
          counter: dict) -> np.ndarray:
    n, c = X.shape
    msolve = _mass_solver(M)

    def rhs(_: float, y: np.ndarray) -> np.ndarray:
        Y = y.reshape(n, c)
        counter["mv"] += c
        F = -np.asarray(L @ Y)
        return (F if msolve is None else msolve(F)).ravel()

    scale = max(float(np.abs(X).max()), 1e-300)
    sol = solve_ivp(rhs, (0.0, float(t[-1])), X.ravel(), method="RK45", t_eval=t,
                    rtol=tol, atol=tol * scale)
    if not sol.success:
        raise RuntimeError(f"solve_ivp (RK45) failed: {sol.message}")
    counter["steps"] += int(sol.nfev)
    return sol.y.T.reshape(t.size, n, c)


def _implicit(L: Any, X: np.ndarray, t: np.ndarray, M: Any, mdiag: np.ndarray | None,
              dt: float, method: str, solver: str, tol: float, maxiter: int,
              counter: dict) -> np.ndarray:
    n = X.shape[0]
    theta = 1.0 if method == "implicit_euler" else 0.5
    if solver == "cg":
        xp = _backend.array_namespace(X)
        m = xp.ones(n) if mdiag is None else mdiag
        ldiag = None if isinstance(L, LinearOperator) else \
            xp.asarray(L.diagonal()).astype(xp.float64)

        def cg_step(_: float, Y: np.ndarray, h: float) -> np.ndarray:
            rhs = m[:, None] * Y
            if theta < 1.0:
                rhs = rhs - (1.0 - theta) * h * _backend.dense_product(L, Y)
                counter["mv"] += Y.shape[1]

            def apply(V: np.ndarray) -> np.ndarray:
                counter["mv"] += V.shape[1]
                return m[:, None] * V + (theta * h) * _backend.dense_product(L, V)

            dinv = None if ldiag is None else 1.0 / (m + theta * h * ldiag)
            return block_cg(apply, rhs, Y, dinv, tol, maxiter)

        return march(X, t, dt, cg_step, counter)
    Msp = sp.eye_array(n, format="csc") if M is None else sp.csc_array(M)
    cache: dict[float, Any] = {}

    def factor(h: float) -> Any:
        if h not in cache:
            cache[h] = splu(sp.csc_array(Msp + (theta * h) * L)).solve
        return cache[h]

    def step(_: float, Y: np.ndarray, h: float) -> np.ndarray:
        rhs = np.asarray(Msp @ Y)
        if theta < 1.0:
            rhs = rhs - (1.0 - theta) * h * np.asarray(L @ Y)
        counter["mv"] += Y.shape[1]
        return factor(h)(rhs)

    return march(X, t, dt, step, counter)


def block_cg(apply: Callable[[np.ndarray], np.ndarray], B: np.ndarray, X0: np.ndarray,
             dinv: np.ndarray | None, tol: float, maxiter: int) -> np.ndarray:
    """Solve ``A X = B`` for symmetric positive definite ``A``, one CG per column in lockstep.

    ``apply(V)`` is ``A V`` for a block ``V`` (n, c); ``dinv`` a Jacobi preconditioner
    (the inverse diagonal) or None; ``X0`` the starting guess. Column ``j`` stops when
    ``||B_j - A X_j|| <= tol ||B_j||``; a column that does not within ``maxiter``
    iterations raises RuntimeError with its residual.
    """
    xp = _backend.array_namespace(B)
    X = X0.copy()
    R = B - apply(X)
    target = tol * xp.linalg.norm(B, axis=0)
    Z = R if dinv is None else dinv[:, None] * R
    P = Z.copy()
    rz = xp.einsum("ij,ij->j", R, Z)
    for _ in range(maxiter):
        res = xp.linalg.norm(R, axis=0)
        active = res > target
        if not active.any():
            return X
        AP = apply(P)
        pap = xp.einsum("ij,ij->j", P, AP)
        alpha = xp.where(active & (pap > 0), rz / xp.where(pap > 0, pap, 1.0), 0.0)
        X += alpha * P
        R -= alpha * AP
        Z = R if dinv is None else dinv[:, None] * R
        rz_new = xp.einsum("ij,ij->j", R, Z)
        beta = xp.where(rz > 0, rz_new / xp.where(rz > 0, rz, 1.0), 0.0)
        P = Z + beta * P
        rz = rz_new
    res = xp.linalg.norm(R, axis=0)
    if xp.any(res > target):
        worst = int(xp.argmax(res / xp.maximum(target, 1e-300)))
        rel = float(res[worst]) / max(float(xp.linalg.norm(B[:, worst])), 1e-300)
        raise RuntimeError(
            f"CG did not reach tol={tol:.3g} in maxiter={maxiter} iterations: channel "
            f"{worst} has relative residual {rel:.3g}; raise maxiter or tol, or use "
            "solver='factor'")
    return X
