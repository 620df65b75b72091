"""Chebyshev-filtered subspace iteration (ChFSI) for the smallest eigenpairs.

The block method for a GPU: a block of ``p = k + guard`` vectors is multiplied by a
Chebyshev polynomial of the matrix that is at most 1 in absolute value on
``[a, b]`` (``a`` the block's largest Ritz value, ``b`` a Gershgorin bound of the
spectrum) and grows fast below ``a``, then a Rayleigh-Ritz step on the block gives
the next Ritz pairs and the next ``a`` (Zhou and Saad 2007; Zhou, Saad, Tiago and
Chelikowsky 2006, for the scaled recurrence). All the work is sparse-times-block
products and element-wise updates of the block, which a GPU streams at memory speed,
instead of the one-vector products and many small reductions of Lanczos.

Every step's polynomial is scaled to be 1 at the block's smallest Ritz value, so that
nothing overflows. Its degree is the one that would take the slowest unconverged
wanted pair's residual to the tolerance, from the filter's growth at its Ritz value,
capped so that the block stays well enough conditioned for the digits the tolerance
needs. Leading pairs that have converged are locked: kept, no longer filtered, and
projected out of the block. The same code runs on NumPy/SciPy and CuPy/cupyx arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _backend
from ._bounds import _gershgorin_generic

__all__ = ["chfsi", "chfsi_pairs"]

_FUSED: dict[str, Any] = {}


def _step(xp: Any, T: Any, Y: Any, Yp: Any, alpha: float, c: float, beta: float) -> Any:
    """Return ``alpha (T - c Y) - beta Yp``, written over ``Yp`` (one pass on a GPU)."""
    if xp is np:
        T -= c * Y
        T *= alpha
        if beta:
            T -= beta * Yp
        Yp[...] = T
        return Yp
    kernel = _FUSED.get("kernel")
    if kernel is None:
        kernel = _FUSED["kernel"] = xp.ElementwiseKernel(
            "float64 t, float64 y, float64 alpha, float64 c, float64 beta", "float64 yp",
            "yp = alpha * (t - c * y) - beta * yp", "spectral_sheaf_chebyshev_step")
    kernel(T, Y, alpha, c, beta, Yp)
    return Yp


def _orthonormalize(xp: Any, Y: Any, Q: Any) -> Any:
    """Return an orthonormal basis of ``Y`` after removing ``span(Q)`` (twice)."""
    if Q is not None:
        for _ in range(2):
            Y = Y - Q @ (Q.T @ Y)
    Y = xp.linalg.qr(Y)[0]
    if Q is not None:
        Y = Y - Q @ (Q.T @ Y)
        Y = xp.linalg.qr(Y)[0]
    return Y


def chfsi_pairs(xp: Any, A: Any, mdiag: Any, K: Any, k: int, which: str, tol: float,
                norm: float, maxiter: int | None, g: np.random.Generator,
                counter: dict) -> tuple[Any, Any]:
    """Return ``k`` extreme pairs of ``A x = lambda M x`` for a diagonal (or no) ``M``.

    ``mdiag`` is M's diagonal (None for ``M = I``); ``K`` an M-orthonormal basis of
    part of the kernel, which the answer leaves out. The iteration runs on
    ``M^-1/2 A M^-1/2`` (negated for ``which="largest"``), whose eigenvectors are
    ``M^1/2 x``. Returns the values ascending and their vectors.
    """
    s = None if mdiag is None else 1.0 / xp.sqrt(mdiag)
    B = A
    if s is not None:
        S = _backend.diagonal_matrix(s)
        B = S @ A @ S
    if which == "largest":
        B = -B
    Ks = None if K is None else (K if s is None else K / s[:, None])
    # ||A x - lambda M x|| = ||M^1/2 (B y - lambda y)|| <= sqrt(max m) ||B y - lambda y||
    scale = 1.0 if mdiag is None else float(xp.sqrt(mdiag.max()))
    lam, Y = chfsi(xp, B, k, K=Ks, tol=tol, norm=norm, maxiter=maxiter, g=g,
                   counter=counter, scale=scale)
    if which == "largest":
        lam = -lam
    order = xp.argsort(lam)
    lam, Y = lam[order], Y[:, order]
    return lam, (Y if s is None else s[:, None] * Y)


def chfsi(xp: Any, A: Any, k: int, *, K: Any, tol: float, norm: float, maxiter: int | None,
          g: np.random.Generator, counter: dict, scale: float = 1.0) -> tuple[Any, Any]:
    """Return the ``k`` smallest Ritz pairs of the symmetric matrix ``A``.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``, where ``A`` lives.
    A : sparse or dense matrix, shape (n, n)
        Symmetric, real.
    k : int
        Number of pairs wanted, besides ``K``'s.
    K : array, shape (n, r), or None
        An orthonormal basis of part of the kernel, known exactly; the block is kept
        orthogonal to it.
    tol, norm, scale : float
        A pair is converged when ``||A x - theta x|| <= 0.5 tol norm / scale``
        (``scale`` turns this residual into the caller's, as ``sqrt(max m)`` does for a
        diagonal mass matrix).
    maxiter : int or None
        Cap on the Rayleigh-Ritz steps (default 200). The iteration also stops, with
        what it has, when three steps in a row leave the largest residual of the wanted
        pairs above 0.9 times its best (a stall: a tolerance below rounding, say).
    g : Generator
        The random start block.
    counter : dict
        ``counter["mv"]`` counts the matrix-vector products.

    Returns
    -------
    theta, X : arrays
        The ``k`` smallest Ritz values (ascending) and their vectors, converged or not:
        the caller verifies them.
    """
    n = A.shape[0]
    r = 0 if K is None else K.shape[1]
    guard = max(8, k // 2)
    p = min(n - r, k + guard)
    order = "F" if xp is not np else "C"  # cuSPARSE's SpMM streams column-major blocks
    target = 0.5 * tol * norm / scale
    # conditioning cap: a column amplified ratio times less than the strongest keeps
    # about eps * ratio of its direction; the tolerance needs 0.05 tol of it
    ratio = max(10.0, min(1e8, 0.05 * tol / np.finfo(float).eps))
    lo, hi = _gershgorin_generic(A)
    b = hi + 1e-12 * max(abs(hi), abs(lo), 1.0)  # every eigenvalue is below b

    def product(V: Any) -> Any:
        counter["mv"] += V.shape[1]
        W = A @ V
        return W if _backend.is_cupy(W) else np.asarray(W)

    def ritz(Q: Any) -> tuple[Any, Any, Any]:
        AQ = product(Q)
        H = Q.T @ AQ
        theta, W = xp.linalg.eigh(0.5 * (H + H.T))
        return theta, xp.asarray(Q @ W, order=order), xp.asarray(AQ @ W, order=order)

    Y = xp.asarray(g.standard_normal((n, p)))
    Q = _orthonormalize(xp, Y, K)
    theta, X, AX = ritz(Q)
    locked_X: list[Any] = []
    locked_theta: list[Any] = []
    nl = 0
    best, stalled = np.inf, 0
    for _ in range(maxiter or 200):
        res = _backend.to_numpy(xp.linalg.norm(AX - X * theta[None, :], axis=0))
        th = _backend.to_numpy(theta)
        want = k - nl  # wanted pairs still in the active block
        done = res[:want] <= target
        if bool(done.all()):
            break
        worst = float(np.max(res[:want]))
        stalled = 0 if worst < 0.9 * best else stalled + 1
        best = min(best, worst)
        if stalled >= 3:
            break  # the caller's verification reports the residuals
        lead = int(np.argmin(done))  # the leading converged pairs (not all: see above)
        if lead:  # lock the leading converged pairs
            locked_X.append(X[:, :lead])
            locked_theta.append(theta[:lead])
            nl += lead
            X, AX, theta = X[:, lead:], AX[:, lead:], theta[lead:]
            th, res = th[lead:], res[lead:]
            want -= lead
        a, a0 = float(th[-1]), float(th[0])
        if not a0 < a < b:
            break  # a block of one eigenvalue (or one Ritz value): nothing to separate
        e, c = 0.5 * (b - a), 0.5 * (b + a)
        # growth of T_m at the Ritz values: cosh(m acosh|x|), |x| = (c - theta) / e
        rate = np.arccosh(np.maximum((c - th[:want]) / e, 1.0 + 1e-15))
        need = np.arccosh(np.maximum(res[:want] / target, 1.0))
        slow = ~(res[:want] <= target)
        m = float(np.max(need[slow] / rate[slow])) + 2.0
        spread = float(np.arccosh((c - a0) / e)) - float(rate[slow].min())
        m_cap = math.log(2.0 * ratio) / spread if spread > 0 else 1e9
        m = int(max(4, min(m, m_cap, 4000)))
        Qlock = None if not locked_X and K is None else xp.concatenate(
            ([K] if K is not None else []) + locked_X, axis=1)
        Y = _filter(xp, product, X, m, a, b, a0, order)
        Q = _orthonormalize(xp, Y, Qlock)
        theta, X, AX = ritz(xp.asarray(Q, order=order))
    if locked_X:
        X = xp.concatenate([*locked_X, X], axis=1)
        theta = xp.concatenate([*locked_theta, theta])
    return theta[:k], X[:, :k]


def _filter(xp: Any, product: Any, X: Any, m: int, a: float, b: float, a0: float,
            order: str) -> Any:
    """Return ``T_m(x(A)) X / T_m(x(a0))``, ``x(t) = (t - c) / e``, for ``[a, b]``.

    With ``s_j = T_{j-1}(x0) / T_j(x0)`` (``s_1 = 1 / x0``, ``s_{j+1} = 1 / (2 x0 -
    s_j)``) the scaled iterates ``Y_j = T_j(x(A)) X / T_j(x0)`` obey
    ``Y_{j+1} = 2 s_{j+1} x(A) Y_j - s_j s_{j+1} Y_{j-1}``.
    """
    e, c = 0.5 * (b - a), 0.5 * (b + a)
    x0 = (a0 - c) / e
    s = 1.0 / x0
    Yp = xp.array(X, order=order, copy=True)
    Y = product(X)
    Y = _step(xp, Y, X, xp.zeros_like(Yp), s / e, c, 0.0)
    for _ in range(1, m):
        s_next = 1.0 / (2.0 * x0 - s)
        T = product(Y)
        Yp = _step(xp, T, Y, Yp, 2.0 * s_next / e, c, s * s_next)
        Y, Yp = Yp, Y
        s = s_next
    return Y
