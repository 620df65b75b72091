"""The continuous Neural Sheaf Diffusion model (Bodnar et al. 2022, eq. 3 / 4).

``dX/dt = -sigma(Delta_F(t) (I_n (x) W1) X W2)`` for a sheaf signal ``X`` of shape
``(n d, f)`` (stalk-major), a normalised sheaf Laplacian ``Delta_F`` (fixed, or a
function of time), weights ``W1`` (``d x d``, acting inside every stalk) and ``W2``
(``f x f``, mixing channels), and an activation ``sigma``. With ``W1 = I``,
``W2 = I`` and the identity activation it is linear sheaf diffusion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import numba as nb
import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from .. import _backend
from .._validation import as_csr, as_float_array, check_option, check_positive_real, check_square
from ..filters._chebyshev import row_times_block
from ..learn._kernels import _expm1_neg, _tanh
from ._linear import DiffusionResult, _times, explicit_step, march

__all__ = ["nsd_diffusion"]

_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda Z: Z,
    "tanh": np.tanh,
    "elu": lambda Z: np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0.0))),
}
_CODES = {"identity": 0, "tanh": 1, "elu": 2}  # the CPU kernels' activation switch


# --- the CPU right-hand side in two passes -------------------------------------------
# The array form costs one einsum, a BLAS product with an f x f matrix, SciPy's
# single-threaded sparse product, three passes for the ELU and the RK4 stages'
# temporaries: 40 ms per evaluation on the O(3) sheaf of a 20k kNN graph (60k rows,
# 8 channels) on one core. Here the stage's input Y + s K goes through the stalk and
# channel maps node by node (one pass), and the sparse product writes -sigma(.) of each
# row as it finishes it (a second pass), both parallel over rows.

@nb.njit(parallel=True, cache=True)
def _mix(Y, K, s, A, B, d, Z, n_chunks):  # pragma: no cover - compiled
    """``Z_v = A (Y_v + s K_v) B`` for every node's ``d x f`` block (stalk-major rows).

    Nodes go in ``n_chunks`` contiguous chunks, each with one scratch block.
    """
    n = Y.shape[0] // d
    f = Y.shape[1]
    size = (n + n_chunks - 1) // n_chunks
    for chunk in nb.prange(n_chunks):
        T = np.empty((d, f))
        for v in range(chunk * size, min(n, (chunk + 1) * size)):
            for i in range(d):  # T = A (Y_v + s K_v)
                for c in range(f):
                    T[i, c] = 0.0
                for j in range(d):
                    r = v * d + j
                    a = A[i, j]
                    for c in range(f):
                        T[i, c] += a * (Y[r, c] + s * K[r, c])
            for i in range(d):  # Z_v = T B
                r = v * d + i
                for c in range(f):
                    Z[r, c] = 0.0
                for e in range(f):
                    t = T[i, e]
                    for c in range(f):
                        Z[r, c] += t * B[e, c]


@nb.njit(parallel=True, cache=True)
def _product_activation(indptr, indices, data, Z, code, out, n_chunks):  # pragma: no cover
    """``out = -sigma(L Z)`` for a CSR ``L``, row by row, in ``n_chunks`` chunks.

    The rows by the Chebyshev filter's ``row_times_block``, into one accumulator per
    chunk; the ELU's expm1 and the tanh are the
    learner's inline ones (within 1 and 2.5 ulps), which vectorise where libm's do not.
    """
    n, f = out.shape
    size = (n + n_chunks - 1) // n_chunks
    for chunk in nb.prange(n_chunks):
        acc = np.empty(f)
        for i in range(chunk * size, min(n, (chunk + 1) * size)):
            for c in range(f):
                acc[c] = 0.0
            row_times_block(acc, indptr, indices, data, Z, i)
            if code == 2:
                for c in range(f):
                    x = acc[c]
                    out[i, c] = -x if x > 0.0 else -_expm1_neg(x)
            elif code == 1:
                for c in range(f):
                    out[i, c] = -_tanh(acc[c])
            else:
                for c in range(f):
                    out[i, c] = -acc[c]


@nb.njit(parallel=True, cache=True)
def _rk4_combine(Y, k1, k2, k3, k4, h, out):  # pragma: no cover - compiled
    """``out = Y + h/6 (k1 + 2 k2 + 2 k3 + k4)``."""
    f = Y.shape[1]
    w = h / 6.0
    for i in nb.prange(Y.shape[0]):
        for c in range(f):
            out[i, c] = Y[i, c] + w * (k1[i, c] + 2.0 * (k2[i, c] + k3[i, c]) + k4[i, c])


def nsd_diffusion(
    laplacian: Any,
    X0: Any,
    times: Any,
    *,
    d: int,
    W1: Any = None,
    W2: Any = None,
    activation: Literal["identity", "tanh", "elu"] = "elu",
    method: Literal["euler", "rk4", "rk45"] = "rk45",
    dt: float | None = None,
    tol: float = 1e-8,
    trace: bool = False,
) -> DiffusionResult:
    """Integrate the continuous NSD model from ``X(0) = X0``.

    Parameters
    ----------
    laplacian : sparse, shape (n d, n d), or callable
        The (normalised) sheaf Laplacian, or a function ``t -> Laplacian`` for a
        time-dependent sheaf (called at every stage of every step). A cupyx Laplacian
        (with CuPy ``X0``, ``W1``, ``W2``) runs on the device with ``"euler"`` or
        ``"rk4"`` and gives CuPy states.
    X0 : array, shape (n d, f) or (n d,)
    times : float or array
        Non-negative, non-decreasing output times.
    d : int
        Stalk dimension.
    W1 : array, shape (d, d), optional
        Default identity.
    W2 : array, shape (f, f), optional
        Default identity.
    activation : {"identity", "tanh", "elu"}
    method : {"euler", "rk4", "rk45"}
        Explicit steps of size ``dt`` (required), or adaptive Dormand-Prince with
        ``rtol = atol = tol``.
    dt : float, optional
    tol : float
    trace : bool
        Record ``tr(X^T Delta_F X)`` at the output times.

    Returns
    -------
    DiffusionResult
        ``n_matvecs`` counts products with the Laplacian (per channel).
    """
    t0 = time.perf_counter()
    check_option(activation, "activation", tuple(_ACTIVATIONS))
    check_option(method, "method", ("euler", "rk4", "rk45"))
    tol = check_positive_real(tol, "tol")
    if not isinstance(d, int | np.integer) or d < 1:
        raise ValueError(f"d must be an integer >= 1; got {d!r}")
    t = _times(times)
    first = laplacian(0.0) if callable(laplacian) else laplacian
    name = "laplacian(0)" if callable(laplacian) else "laplacian"
    if any(_backend.is_cupy(a) for a in (first, X0, W1, W2)):
        xp = _backend.array_namespace(first, X0, W1, W2)  # a CPU/GPU mix is a TypeError
        if method == "rk45":
            raise ValueError("method='rk45' runs on the CPU only (scipy's solve_ivp); for "
                             "CuPy input use method 'euler' or 'rk4' with dt, or move the "
                             "arrays to the host with spectral_sheaf._backend.to_numpy")
        shape: tuple[int, ...] = tuple(getattr(first, "shape", ()))
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"{name} must be a square matrix; got shape {shape}")
        N = shape[0]
        X = xp.asarray(X0)
        if X.ndim not in (1, 2):
            raise ValueError(f"X0 must be 1-D or 2-D; got {X.ndim}-D with shape {X.shape}")
        if xp.iscomplexobj(X) or not bool(xp.isfinite(X).all()):
            raise ValueError("X0 must hold finite real numbers; got complex, NaN or inf")
        A_in = None if W1 is None else xp.asarray(W1, dtype=xp.float64)
        B_in = None if W2 is None else xp.asarray(W2, dtype=xp.float64)
    else:
        xp = np
        first = as_csr(first, name)
        N = check_square(first, "laplacian")
        X = as_float_array(X0, "X0", ndim=(1, 2))
        A_in = None if W1 is None else as_float_array(W1, "W1", ndim=(2,))
        B_in = None if W2 is None else as_float_array(W2, "W2", ndim=(2,))
    if callable(laplacian):
        get = laplacian
    else:
        fixed = first

        def get(_: float) -> Any:
            return fixed

    if N % d:
        raise ValueError(f"laplacian has {N} rows, not a multiple of d = {d}")
    n = N // d
    if X.shape[0] != N:
        raise ValueError(f"X0 must have n d = {N} rows (stalk-major); got shape {X.shape}")
    one = X.ndim == 1
    X = X.reshape(N, -1).astype(xp.float64)
    f = X.shape[1]
    A = xp.eye(d) if A_in is None else A_in
    B = xp.eye(f) if B_in is None else B_in
    if A.shape != (d, d):
        raise ValueError(f"W1 must have shape (d, d) = ({d}, {d}); got {A.shape}")
    if B.shape != (f, f):
        raise ValueError(f"W2 must have shape (f, f) = ({f}, {f}) for {f} channels; got "
                         f"{B.shape}")
    sigma = _ACTIVATIONS[activation]
    count = {"mv": 0, "steps": 0}
    fast = xp is np and method != "rk45"  # the kernels above, where L(t) is CSR
    if fast:
        A, B = np.ascontiguousarray(A), np.ascontiguousarray(B)
        Zbuf = np.empty((N, f))

    def csr(Lt: Any) -> Any:
        """``Lt`` as a canonical float64 CSR array, or None where it is something else."""
        if not sp.issparse(Lt) or Lt.format != "csr" or Lt.dtype != np.float64:
            return None
        if not Lt.has_canonical_format:
            Lt = Lt.copy()
            Lt.sum_duplicates()
        return Lt

    def at(s_: float) -> Any:
        """Return the Laplacian at time ``s_``, its shape checked."""
        Lt = get(s_)
        if Lt.shape != (N, N):
            raise ValueError(f"laplacian({s_:g}) must have shape ({N}, {N}); got {Lt.shape}")
        return Lt

    def arrays(Lt: Any, Y: Any) -> Any:
        """Return the right-hand side in array form (NumPy/SciPy or CuPy)."""
        Z = xp.einsum("ij,vjf->vif", A, Y.reshape(n, d, f)).reshape(N, f)  # (I (x) W1) Y
        count["mv"] += f
        return -sigma(_backend.dense_product(Lt, Z @ B))

    def rhs_into(s_: float, Y: np.ndarray, K: np.ndarray, w: float,
                 out: np.ndarray) -> np.ndarray:
        """``out = rhs(s_, Y + w K)``, by the kernels where ``L(s_)`` is CSR."""
        Lt = at(s_)
        M = csr(Lt)
        if M is None:
            out[...] = arrays(Lt, Y + w * K)
            return out
        chunks = 4 * nb.get_num_threads()
        _mix(Y, K, w, A, B, d, Zbuf, chunks)
        count["mv"] += f
        _product_activation(M.indptr, M.indices, M.data, Zbuf, _CODES[activation], out,
                            chunks)
        return out

    def rhs(s: float, Y: np.ndarray) -> np.ndarray:
        return arrays(at(s), Y)

    if method == "rk45":
        sol = solve_ivp(lambda s, y: rhs(s, y.reshape(N, f)).ravel(), (0.0, float(t[-1])),
                        X.ravel(), method="RK45", t_eval=t, rtol=tol,
                        atol=tol * max(float(np.abs(X).max()), 1e-300))
        if not sol.success:
            raise RuntimeError(f"solve_ivp (RK45) failed: {sol.message}")
        states = sol.y.T.reshape(t.size, N, f)
        count["steps"] = int(sol.nfev)
    else:
        if dt is None:
            raise ValueError(f"method={method!r} needs dt (the step)")
        dt = check_positive_real(dt, "dt")
        k = [np.empty((N, f)) for _ in range(4)] if fast else []

        def fused(now: float, Y: np.ndarray, h: float) -> np.ndarray:
            Y = np.ascontiguousarray(Y)
            if method == "euler":
                return Y + h * rhs_into(now, Y, Y, 0.0, k[0])
            rhs_into(now, Y, Y, 0.0, k[0])
            rhs_into(now + h / 2, Y, k[0], h / 2, k[1])
            rhs_into(now + h / 2, Y, k[1], h / 2, k[2])
            rhs_into(now + h, Y, k[2], h, k[3])
            out = np.empty_like(Y)
            _rk4_combine(Y, k[0], k[1], k[2], k[3], h, out)
            return out

        advance = fused if fast else explicit_step(rhs, method)

        def step(now: float, Y: np.ndarray, h: float) -> np.ndarray:
            Y = advance(now, Y, h)
            if not bool(xp.isfinite(Y).all()):
                raise RuntimeError(f"the state became non-finite at t = {now + h:.6g}: "
                                   "the step is unstable; reduce dt or use 'rk45'")
            return Y

        states = march(X, t, dt, step, count)
    energy = None
    if trace:
        energy = np.array([float(xp.sum(S * _backend.dense_product(get(ti), S)))
                           for ti, S in zip(t, states, strict=True)])
    if one:
        states = states[:, :, 0]
    return DiffusionResult(t, states, f"nsd-{method}", energy, None, count["mv"],
                           count["steps"], time.perf_counter() - t0)
