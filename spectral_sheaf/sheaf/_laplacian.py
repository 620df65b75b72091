"""Coboundary, sheaf Laplacians (plain, normalised, augmented), degree blocks, energy."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import as_float_array, check_finite, check_option
from . import _kernels
from ._sheaf import Sheaf

__all__ = [
    "block_degree",
    "coboundary",
    "normalization_blocks",
    "sheaf_dirichlet_energy",
    "sheaf_laplacian",
]

_NORMALIZATIONS = ("none", "sym", "augmented")


def _check_sheaf(sheaf: Any) -> Sheaf:
    if not isinstance(sheaf, Sheaf):
        raise TypeError(f"sheaf must be a spectral_sheaf.sheaf.Sheaf; got {type(sheaf).__name__}")
    return sheaf


def coboundary(sheaf: Sheaf) -> sp.csr_array:
    """Coboundary ``delta`` of shape ``(m d_e, n d_v)``: ``(delta x)_e = F_v x_v - F_u x_u``.

    Row ``e * d_e + a`` holds row ``a`` of ``-F_{u <| e}`` in the columns of node ``u``
    and row ``a`` of ``F_{v <| e}`` in those of ``v``.
    """
    sheaf = _check_sheaf(sheaf)
    m, de, dv, n = sheaf.n_edges, sheaf.d_e, sheaf.d_v, sheaf.n_nodes
    u = sheaf.edges[:, 0]
    v = sheaf.edges[:, 1]
    first_is_u = (u < v)[:, None, None]
    cols_u = (u[:, None] * dv + np.arange(dv))[:, None, :]  # (m, 1, dv)
    cols_v = (v[:, None] * dv + np.arange(dv))[:, None, :]
    Fu = -sheaf.maps[:, 0]
    Fv = sheaf.maps[:, 1]
    # order each row's two blocks by column so the CSR is canonical
    cols = np.concatenate([np.where(first_is_u, cols_u, cols_v).repeat(de, axis=1),
                           np.where(first_is_u, cols_v, cols_u).repeat(de, axis=1)], axis=2)
    data = np.concatenate([np.where(first_is_u, Fu, Fv), np.where(first_is_u, Fv, Fu)], axis=2)
    indptr = np.arange(0, m * de * 2 * dv + 1, 2 * dv, dtype=np.int64)
    B = sp.csr_array((data.reshape(-1), cols.reshape(-1), indptr), shape=(m * de, n * dv))
    B.has_canonical_format = True
    return B


def block_degree(sheaf: Sheaf) -> np.ndarray:
    """Degree blocks ``D_i = sum over edges e at i of F_{i <| e}^T F_{i <| e}``.

    Returns
    -------
    ndarray, shape (n_nodes, d_v, d_v)
        The diagonal blocks of the sheaf Laplacian, in the sheaf's dtype.
    """
    sheaf = _check_sheaf(sheaf)
    indptr, _, eid, side = _kernels.node_incidence(sheaf.edges, sheaf.n_nodes)
    D = _kernels.degree_blocks(indptr, eid, side, sheaf.maps, sheaf.n_nodes)
    return D.astype(sheaf.dtype)


def _inverse_sqrt_blocks(D: np.ndarray, *, rtol: float) -> tuple[np.ndarray, int]:
    """``D_i^{-1/2}`` of symmetric PSD blocks, pseudo-inverse on the null directions.

    Diagonal blocks (diagonal and orthogonal sheaves, the constant sheaf) take an
    elementwise shortcut and come back with shape (n, d, 1) and mode SCALE_DIAG;
    others use a batched eigendecomposition and come back (n, d, d), SCALE_FULL.
    Eigenvalues at or below ``rtol * max eigenvalue`` are treated as zero.
    """
    _n, d, _ = D.shape
    off = D.copy()
    idx = np.arange(d)
    off[:, idx, idx] = 0.0
    scale = float(np.abs(D).max()) if D.size else 0.0
    if not np.any(off):
        diag = D[:, idx, idx]
        keep = diag > rtol * scale
        out = np.zeros_like(diag)
        out[keep] = diag[keep] ** -0.5
        return out[:, :, None], _kernels.SCALE_DIAG
    w, V = np.linalg.eigh(0.5 * (D + np.swapaxes(D, 1, 2)))
    keep = w > rtol * scale
    inv = np.zeros_like(w)
    inv[keep] = w[keep] ** -0.5
    return (V * inv[:, None, :]) @ np.swapaxes(V, 1, 2), _kernels.SCALE_FULL


def normalization_blocks(
    sheaf: Sheaf, *, normalization: Literal["sym", "augmented"] = "sym", rtol: float = 1e-12
) -> np.ndarray:
    """Blocks ``S_i`` of ``D^{-1/2}`` (``"sym"``) or ``(D + I)^{-1/2}`` (``"augmented"``).

    ``D`` is :func:`block_degree`. Null directions of a singular degree block (an
    isolated node, or maps with a common kernel) get zero, never inf.

    Returns
    -------
    ndarray, shape (n_nodes, d_v, d_v), float64
    """
    check_option(normalization, "normalization", ("sym", "augmented"))
    S, mode = _scale(sheaf, normalization, rtol)
    if mode == _kernels.SCALE_DIAG:
        d = S.shape[1]
        full = np.zeros((S.shape[0], d, d))
        full[:, np.arange(d), np.arange(d)] = S[:, :, 0]
        return full
    return S


def _scale(sheaf: Sheaf, normalization: str, rtol: float) -> tuple[np.ndarray, int]:
    indptr, _, eid, side = _kernels.node_incidence(sheaf.edges, sheaf.n_nodes)
    D = _kernels.degree_blocks(indptr, eid, side, sheaf.maps, sheaf.n_nodes)
    if normalization == "augmented":
        D = D + np.eye(sheaf.d_v)[None]
    return _inverse_sqrt_blocks(D, rtol=rtol)


def sheaf_laplacian(
    sheaf: Sheaf,
    *,
    normalization: Literal["none", "sym", "augmented"] = "none",
    form: Literal["array", "operator"] = "array",
) -> Any:
    """Sheaf Laplacian ``L_F = delta^T delta``, assembled block by block.

    Parameters
    ----------
    sheaf : Sheaf
        The sheaf.
    normalization : {"none", "sym", "augmented"}
        ``"none"``: ``L_F``. ``"sym"``: ``D^{-1/2} L_F D^{-1/2}`` with ``D`` the block
        degree (:func:`block_degree`); for O(d) sheaves its spectrum lies in [0, 2].
        ``"augmented"``: ``(D + I)^{-1/2} L_F (D + I)^{-1/2}``, the form the Neural
        Sheaf Diffusion reference code uses. Block inverse square roots come from a
        batched eigendecomposition, with an elementwise shortcut when every degree
        block is diagonal (diagonal and orthogonal sheaves).
    form : {"array", "operator"}
        ``"array"``: a canonical ``csr_array`` of shape ``(n d_v, n d_v)`` whose rows
        hold ``d_v x d_v`` blocks, assembled directly by a Numba kernel (no sparse
        matrix product). ``"operator"``: a ``LinearOperator`` applying the same matrix
        edge by edge without assembling it.

    Returns
    -------
    csr_array or LinearOperator
        Symmetric positive semi-definite, dtype of the maps.

    Examples
    --------
    >>> from spectral_sheaf.graphs import cycle_graph
    >>> from spectral_sheaf.sheaf import constant_sheaf, sheaf_laplacian
    >>> L = sheaf_laplacian(constant_sheaf(cycle_graph(3), 1))
    >>> L.toarray()
    array([[ 2., -1., -1.],
           [-1.,  2., -1.],
           [-1., -1.,  2.]])
    """
    sheaf = _check_sheaf(sheaf)
    check_option(normalization, "normalization", _NORMALIZATIONS)
    check_option(form, "form", ("array", "operator"))
    n, dv = sheaf.n_nodes, sheaf.d_v
    if normalization == "none":
        scale, mode = np.zeros((1, 1, 1)), _kernels.SCALE_NONE
    else:
        scale, mode = _scale(sheaf, normalization, 1e-12)
    if form == "operator":
        return _sheaf_operator(sheaf, scale, mode)
    indptr, nbr, eid, side = _kernels.node_incidence(sheaf.edges, n)
    blocks_per_row = np.repeat(np.diff(indptr) + 1, dv) * dv
    out_indptr = np.zeros(n * dv + 1, dtype=np.int64)
    np.cumsum(blocks_per_row, out=out_indptr[1:])
    nnz = int(out_indptr[-1])
    idx_dtype = np.int32 if max(nnz, n * dv) < np.iinfo(np.int32).max else np.int64
    out_indices = np.empty(nnz, dtype=idx_dtype)
    out_data = np.empty(nnz, dtype=sheaf.dtype)
    _kernels.assemble_laplacian(indptr, nbr, eid, side, sheaf.maps, scale, mode,
                                out_indptr, out_indices, out_data)
    if mode == _kernels.SCALE_FULL:  # S_i B S_j and S_j B^T S_i differ by rounding
        # (L_F's blocks and diagonally scaled ones do not: the same products, in an
        # order that commutes)
        _kernels.symmetrize_sorted_csr(out_indptr, out_indices, out_data)
    L = sp.csr_array((out_data, out_indices, out_indptr.astype(idx_dtype)),
                     shape=(n * dv, n * dv))
    L.has_canonical_format = True
    return L


def _sheaf_operator(sheaf: Sheaf, scale: np.ndarray, mode: int) -> LinearOperator:
    n, dv = sheaf.n_nodes, sheaf.d_v
    indptr, _, eid, side = _kernels.node_incidence(sheaf.edges, n)
    maps, edges = sheaf.maps, sheaf.edges

    def matmat(X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        squeeze = X.ndim == 1
        Xb = np.ascontiguousarray(X.reshape(n, dv, -1), dtype=np.float64)
        if mode != _kernels.SCALE_NONE:
            Xb = _kernels.apply_block_scale(scale, Xb, mode)
        R = _kernels.edge_residuals(edges, maps, Xb)
        Y = _kernels.gather_coboundary_transpose(indptr, eid, side, maps, R, n)
        if mode != _kernels.SCALE_NONE:
            Y = _kernels.apply_block_scale(scale, Y, mode)
        out = Y.reshape(n * dv, -1).astype(sheaf.dtype, copy=False)
        return out.ravel() if squeeze else out

    return LinearOperator((n * dv, n * dv), matvec=matmat, matmat=matmat, rmatvec=matmat,
                          rmatmat=matmat, dtype=sheaf.dtype)


def _as_sheaf_signal(sheaf: Sheaf, signal: Any, name: str = "signal") -> np.ndarray:
    X = as_float_array(signal, name, ndim=(1, 2))
    N = sheaf.n_nodes * sheaf.d_v
    if X.shape[0] != N:
        raise ValueError(
            f"{name} must have n_nodes * d_v = {N} rows (stalk-major); got shape {X.shape}"
        )
    check_finite(X, name)
    return X


def sheaf_dirichlet_energy(
    sheaf: Sheaf,
    signal: Any,
    *,
    normalization: Literal["none", "sym", "augmented"] = "none",
    per_edge: bool = False,
) -> Any:
    """Sheaf Dirichlet energy ``x^T L x = sum_e ||F_v y_v - F_u y_u||^2``.

    ``y = x`` for ``normalization="none"`` and ``y = S x`` with the blocks of
    :func:`normalization_blocks` otherwise, so the value equals the quadratic form of
    :func:`sheaf_laplacian` with the same normalisation. Computed edge by edge: never
    negative.

    Parameters
    ----------
    sheaf : Sheaf
        The sheaf.
    signal : array, shape (n d_v,) or (n d_v, c)
        Stalk-major sheaf signal.
    normalization : {"none", "sym", "augmented"}
        Which Laplacian's quadratic form.
    per_edge : bool
        Return the energy of each edge, shape (m,), instead of the total.

    Returns
    -------
    float or ndarray of shape (m,)
    """
    sheaf = _check_sheaf(sheaf)
    check_option(normalization, "normalization", _NORMALIZATIONS)
    X = _as_sheaf_signal(sheaf, signal)
    Xb = np.ascontiguousarray(X.reshape(sheaf.n_nodes, sheaf.d_v, -1), dtype=np.float64)
    if normalization != "none":
        scale, mode = _scale(sheaf, normalization, 1e-12)
        Xb = _kernels.apply_block_scale(scale, Xb, mode)
    R = _kernels.edge_residuals(sheaf.edges, sheaf.maps, Xb)
    per = np.einsum("eat,eat->e", R, R)
    return per if per_edge else float(per.sum())
