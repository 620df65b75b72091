"""Orthogonal matrices from unconstrained parameters, with hand-written derivatives.

Each parametrisation ``f`` comes with its vector-Jacobian product ``f_vjp(params, G)``,
the gradient of ``sum(G * f(params))`` with respect to ``params``: what a reverse pass
needs. All functions are batched over leading axes (one matrix per edge, say).

* :func:`householder`: products of Householder reflections, covering O(d) (``k``
  reflections give determinant ``(-1)^k``; ``k = d`` or ``d - 1`` reach every matrix
  of that determinant, by the Cartan-Dieudonne theorem).
* :func:`cayley`: ``(I - A)^{-1} (I + A)`` for skew ``A``; SO(d) without the
  rotations that have eigenvalue -1.
* :func:`expm_skew`: ``expm(A)`` for skew ``A``; all of SO(d).
* :func:`rotation_2d`: ``d = 2`` rotations by an angle.

Skew matrices are parametrised by their strict upper triangle, ``d (d - 1) / 2``
numbers in row-major order (:func:`skew_from_params`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from .._validation import as_float_array, check_finite

__all__ = [
    "cayley",
    "cayley_vjp",
    "expm_skew",
    "expm_skew_vjp",
    "householder",
    "householder_vjp",
    "rotation_2d",
    "rotation_2d_vjp",
    "skew_from_params",
]


def _params(x: Any, name: str, min_ndim: int) -> np.ndarray:
    arr = as_float_array(x, name)
    if arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions; got shape {arr.shape}")
    check_finite(arr, name)
    return arr


def _skew_dim(p: int) -> int:
    d = round((1 + np.sqrt(1 + 8 * p)) / 2)
    if d * (d - 1) // 2 != p:
        raise ValueError(
            f"params must have d (d - 1) / 2 entries in the last axis for some d >= 2; got {p}"
        )
    return d


def skew_from_params(params: Any) -> np.ndarray:
    """Skew-symmetric ``A`` (shape ``(..., d, d)``) from its strict upper triangle."""
    P = _params(params, "params", 1)
    d = _skew_dim(P.shape[-1])
    iu = np.triu_indices(d, k=1)
    A = np.zeros((*P.shape[:-1], d, d), dtype=P.dtype)
    A[..., iu[0], iu[1]] = P
    return A - np.swapaxes(A, -1, -2)


def _skew_grad_to_params(GA: np.ndarray) -> np.ndarray:
    d = GA.shape[-1]
    iu = np.triu_indices(d, k=1)
    return (GA - np.swapaxes(GA, -1, -2))[..., iu[0], iu[1]]


def _check_grad(G: Any, shape: tuple[int, ...]) -> np.ndarray:
    Ga = as_float_array(G, "grad")
    if Ga.shape != shape:
        raise ValueError(f"grad must have the shape of the output, {shape}; got {Ga.shape}")
    return Ga


def householder(vectors: Any) -> np.ndarray:
    """Product ``H_1 H_2 … H_k`` of reflections ``H_i = I - 2 v_i v_i^T / (v_i^T v_i)``.

    Parameters
    ----------
    vectors : array, shape (..., k, d)
        Nonzero reflection vectors ``v_1 .. v_k`` (their scale does not matter).

    Returns
    -------
    ndarray, shape (..., d, d)
        Orthogonal, determinant ``(-1)^k``.
    """
    V = _params(vectors, "vectors", 2)
    norms = np.einsum("...i,...i->...", V, V)
    if np.any(norms == 0):
        raise ValueError("vectors must be nonzero: a zero vector defines no reflection")
    k, d = V.shape[-2], V.shape[-1]
    Q = np.broadcast_to(np.eye(d, dtype=V.dtype), (*V.shape[:-2], d, d)).copy()
    for i in range(k):  # k reflections (the stalk dimension), batched over edges
        v = V[..., i, :]
        # Q <- Q H_i = Q - 2 (Q v) v^T / (v.v)
        Qv = np.einsum("...ab,...b->...a", Q, v)
        Q -= (2.0 / norms[..., i])[..., None, None] * Qv[..., :, None] * v[..., None, :]
    return Q


def householder_vjp(vectors: Any, grad: Any) -> np.ndarray:
    """Gradient of ``sum(grad * householder(vectors))`` with respect to ``vectors``."""
    V = _params(vectors, "vectors", 2)
    k, d = V.shape[-2], V.shape[-1]
    G = _check_grad(grad, (*V.shape[:-2], d, d)).astype(np.float64)
    V64 = V.astype(np.float64)
    norms = np.einsum("...i,...i->...", V64, V64)
    if np.any(norms == 0):
        raise ValueError("vectors must be nonzero: a zero vector defines no reflection")

    def reflection(i: int) -> np.ndarray:
        v = V64[..., i, :]
        return (np.eye(d) - (2.0 / norms[..., i])[..., None, None]
                * v[..., :, None] * v[..., None, :])

    Hs = [reflection(i) for i in range(k)]
    # prefix P_i = H_1..H_{i-1}; suffix S_i = H_{i+1}..H_k
    prefix = [np.broadcast_to(np.eye(d), (*V.shape[:-2], d, d))]
    for i in range(k - 1):
        prefix.append(prefix[-1] @ Hs[i])
    out = np.empty_like(V64)
    suffix = np.broadcast_to(np.eye(d), (*V.shape[:-2], d, d))
    for i in range(k - 1, -1, -1):
        Gi = np.swapaxes(prefix[i], -1, -2) @ G @ np.swapaxes(suffix, -1, -2)
        v = V64[..., i, :]
        s = norms[..., i]
        Gv = np.einsum("...ab,...b->...a", Gi + np.swapaxes(Gi, -1, -2), v)
        vGv = np.einsum("...a,...ab,...b->...", v, Gi, v)
        out[..., i, :] = -(2.0 / s)[..., None] * Gv + (4.0 * vGv / s**2)[..., None] * v
        suffix = Hs[i] @ suffix
    return out.astype(V.dtype)


def cayley(params: Any) -> np.ndarray:
    """Cayley transform ``(I - A)^{-1} (I + A)`` of the skew matrix of ``params``.

    Parameters
    ----------
    params : array, shape (..., d (d - 1) / 2)
        Strict upper triangle of ``A``.

    Returns
    -------
    ndarray, shape (..., d, d), in SO(d)
    """
    A = skew_from_params(params)
    eye = np.eye(A.shape[-1])
    return np.linalg.solve(eye - A, eye + A).astype(A.dtype)


def cayley_vjp(params: Any, grad: Any) -> np.ndarray:
    """Gradient of ``sum(grad * cayley(params))`` with respect to ``params``.

    From ``(I - A) Q = I + A``: ``dQ = (I - A)^{-1} dA (I + Q)``.
    """
    A = skew_from_params(params).astype(np.float64)
    d = A.shape[-1]
    G = _check_grad(grad, A.shape).astype(np.float64)
    eye = np.eye(d)
    M = eye - A
    Q = np.linalg.solve(M, eye + A)
    GA = np.linalg.solve(np.swapaxes(M, -1, -2), G) @ np.swapaxes(eye + Q, -1, -2)
    return _skew_grad_to_params(GA).astype(_params(params, "params", 1).dtype)


def expm_skew(params: Any) -> np.ndarray:
    """Matrix exponential of the skew matrix of ``params``: a rotation in SO(d)."""
    A = skew_from_params(params)
    return scipy.linalg.expm(A.astype(np.float64)).astype(A.dtype)


def expm_skew_vjp(params: Any, grad: Any) -> np.ndarray:
    """Gradient of ``sum(grad * expm_skew(params))`` with respect to ``params``.

    The adjoint of the Frechet derivative of ``expm`` at ``A`` is the Frechet
    derivative at ``A^T``, read off the upper-right block of
    ``expm([[A^T, G], [0, A^T]])``.
    """
    A = skew_from_params(params).astype(np.float64)
    d = A.shape[-1]
    G = _check_grad(grad, A.shape).astype(np.float64)
    At = np.swapaxes(A, -1, -2)
    big = np.zeros((*A.shape[:-2], 2 * d, 2 * d))
    big[..., :d, :d] = At
    big[..., d:, d:] = At
    big[..., :d, d:] = G
    GA = scipy.linalg.expm(big)[..., :d, d:]
    return _skew_grad_to_params(GA).astype(_params(params, "params", 1).dtype)


def rotation_2d(angles: Any) -> np.ndarray:
    """Rotations ``[[cos t, -sin t], [sin t, cos t]]``, shape ``(..., 2, 2)``."""
    t = as_float_array(angles, "angles")
    check_finite(t, "angles")
    c, s = np.cos(t), np.sin(t)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def rotation_2d_vjp(angles: Any, grad: Any) -> np.ndarray:
    """Gradient of ``sum(grad * rotation_2d(angles))`` with respect to ``angles``."""
    t = as_float_array(angles, "angles")
    G = _check_grad(grad, (*t.shape, 2, 2))
    c, s = np.cos(t), np.sin(t)
    # dR/dt = [[-s, -c], [c, -s]]
    return (-s * G[..., 0, 0] - c * G[..., 0, 1] + c * G[..., 1, 0] - s * G[..., 1, 1])
