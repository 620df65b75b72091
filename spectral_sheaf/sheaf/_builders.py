"""Sheaves on a graph: constant, weighted, diagonal, orthogonal, general and random."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from .._validation import (
    as_float_array,
    check_int,
    check_option,
    check_positive_real,
    check_rng,
    float_dtype,
)
from ..graphs._laplacian import _checked_adjacency
from ._sheaf import Sheaf

__all__ = [
    "constant_sheaf",
    "diagonal_sheaf",
    "general_sheaf",
    "orthogonal_sheaf",
    "random_sheaf",
    "sheaf_edges",
    "weighted_sheaf",
]

SHEAF_CLASSES = ("constant", "symmetric", "diagonal", "orthogonal", "general")


def sheaf_edges(adjacency: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Oriented edge list of an undirected graph, as every builder here uses it.

    Edges are the stored pairs ``(u, v)`` with ``u < v`` in row-major order (the order
    of ``graphs.incidence_matrix``); self-loops are dropped.

    Returns
    -------
    edges : ndarray of int64, shape (m, 2)
    weights : ndarray, shape (m,)
    n_nodes : int
    """
    A = _checked_adjacency(adjacency, dtype=None, symmetric=True,
                           context="for a sheaf on an undirected graph")
    n = A.shape[0]
    U = sp.csr_array(sp.triu(A, k=1, format="csr"))
    U.eliminate_zeros()
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(U.indptr))
    return np.stack([u, U.indices.astype(np.int64)], axis=1), U.data, n


def constant_sheaf(adjacency: Any, d: int = 1, *, dtype: Any = None) -> Sheaf:
    """Constant sheaf: every restriction map is the ``d x d`` identity.

    Its Laplacian is ``L (x) I_d`` with ``L`` the combinatorial Laplacian of the
    unweighted graph; ``dim H^0 = d x`` (number of components).
    """
    d = check_int(d, "d", minimum=1)
    edges, _, n = sheaf_edges(adjacency)
    dt = float_dtype(np.float64, dtype)
    maps = np.broadcast_to(np.eye(d, dtype=dt), (edges.shape[0], 2, d, d))
    return Sheaf(n, edges, maps)


def weighted_sheaf(adjacency: Any, d: int = 1, *, dtype: Any = None) -> Sheaf:
    """Sheaf from edge weights: maps ``sqrt(w_e) I_d`` at both ends.

    Its Laplacian is ``L_w (x) I_d`` with ``L_w`` the weighted combinatorial Laplacian.
    """
    d = check_int(d, "d", minimum=1)
    edges, w, n = sheaf_edges(adjacency)
    dt = float_dtype(w.dtype, dtype)
    maps = np.sqrt(w)[:, None, None, None] * np.eye(d)[None, None]
    maps = np.broadcast_to(maps, (edges.shape[0], 2, d, d)).astype(dt)
    return Sheaf(n, edges, maps)


def _edge_count_check(values: np.ndarray, m: int, name: str, tail: str) -> None:
    if values.shape[:2] != (m, 2):
        raise ValueError(
            f"{name} must have shape (m, 2, {tail}) with m = {m} edges of the graph; "
            f"got {values.shape}"
        )


def diagonal_sheaf(adjacency: Any, diagonals: Any) -> Sheaf:
    """Diagonal sheaf: ``F_{u <| e} = diag(diagonals[e, 0])``, likewise ``F_{v <| e}``.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Symmetric graph; edges in the order of :func:`sheaf_edges`.
    diagonals : array, shape (m, 2, d)
        Diagonal entries of the maps.
    """
    edges, _, n = sheaf_edges(adjacency)
    D = as_float_array(diagonals, "diagonals", ndim=(3,))
    _edge_count_check(D, edges.shape[0], "diagonals", "d")
    d = D.shape[2]
    maps = np.zeros((*D.shape[:2], d, d), dtype=D.dtype)
    maps[:, :, np.arange(d), np.arange(d)] = D
    return Sheaf(n, edges, maps)


def orthogonal_sheaf(adjacency: Any, maps: Any, *, atol: float = 1e-6) -> Sheaf:
    """O(d) sheaf (discrete O(d) bundle): every map orthogonal.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Symmetric graph; edges in the order of :func:`sheaf_edges`.
    maps : array, shape (m, 2, d, d)
        Orthogonal matrices; checked to ``max |F^T F - I| <= atol``.
    atol : float
        Tolerance of the orthogonality check.
    """
    edges, _, n = sheaf_edges(adjacency)
    F = as_float_array(maps, "maps", ndim=(4,))
    _edge_count_check(F, edges.shape[0], "maps", "d, d")
    if F.shape[2] != F.shape[3]:
        raise ValueError(f"maps of an O(d) sheaf must be square; got {F.shape[2:]} blocks")
    atol = check_positive_real(atol, "atol")
    if F.size:
        err = float(np.abs(np.swapaxes(F, 2, 3) @ F - np.eye(F.shape[2])).max())
        if err > atol:
            raise ValueError(
                f"maps must be orthogonal; got max |F^T F - I| = {err:.3g} > atol = {atol:g}. "
                "Use sheaf.householder or sheaf.cayley to build orthogonal maps"
            )
    return Sheaf(n, edges, F)


def general_sheaf(adjacency: Any, maps: Any) -> Sheaf:
    """Sheaf with arbitrary maps ``(m, 2, d_e, d_v)`` on the edges of ``adjacency``."""
    edges, _, n = sheaf_edges(adjacency)
    F = as_float_array(maps, "maps", ndim=(4,))
    _edge_count_check(F, edges.shape[0], "maps", "d_e, d_v")
    return Sheaf(n, edges, F)


def _haar_orthogonal(rng: np.random.Generator, shape: tuple[int, ...], d: int) -> np.ndarray:
    """Haar-distributed orthogonal matrices (QR of Gaussians with the sign fix)."""
    Z = rng.standard_normal((*shape, d, d))
    Q, R = np.linalg.qr(Z)
    signs = np.sign(np.diagonal(R, axis1=-2, axis2=-1))
    signs[signs == 0] = 1.0
    return Q * signs[..., None, :]


def random_sheaf(
    adjacency: Any,
    d_v: int,
    *,
    kind: Literal["constant", "symmetric", "diagonal", "orthogonal", "general"] = "general",
    d_e: int | None = None,
    rng: Any = None,
    dtype: Any = None,
) -> Sheaf:
    """Random sheaf of a given class on the edges of ``adjacency``.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Symmetric graph.
    d_v : int
        Vertex stalk dimension.
    kind : {"constant", "symmetric", "diagonal", "orthogonal", "general"}
        ``"constant"``: identity maps. ``"symmetric"``: one standard Gaussian matrix
        per edge used at both ends (``F_u = F_v``; for ``d = 1`` the weighted graph
        Laplacians, the class of GCN). ``"diagonal"``: independent Gaussian diagonals.
        ``"orthogonal"``: independent Haar-random O(d) matrices. ``"general"``:
        independent Gaussian ``d_e x d_v`` matrices.
    d_e : int, optional
        Edge stalk dimension; only ``"general"`` and ``"symmetric"`` allow
        ``d_e != d_v``. Defaults to ``d_v``.
    rng : Generator, int or None
        Random source.
    dtype : {None, float32, float64}
        Map dtype (float64 by default).
    """
    check_option(kind, "kind", SHEAF_CLASSES)
    dv = check_int(d_v, "d_v", minimum=1)
    de = dv if d_e is None else check_int(d_e, "d_e", minimum=1)
    if de != dv and kind not in ("general", "symmetric"):
        raise ValueError(f"d_e must equal d_v = {dv} for kind={kind!r}; got d_e = {de}")
    g = check_rng(rng)
    edges, _, n = sheaf_edges(adjacency)
    m = edges.shape[0]
    dt = float_dtype(np.float64, dtype)
    if kind == "constant":
        maps = np.broadcast_to(np.eye(dv), (m, 2, dv, dv))
    elif kind == "symmetric":
        one = g.standard_normal((m, 1, de, dv))
        maps = np.concatenate([one, one], axis=1)
    elif kind == "diagonal":
        maps = np.zeros((m, 2, dv, dv))
        maps[:, :, np.arange(dv), np.arange(dv)] = g.standard_normal((m, 2, dv))
    elif kind == "orthogonal":
        maps = _haar_orthogonal(g, (m, 2), dv)
    else:
        maps = g.standard_normal((m, 2, de, dv))
    return Sheaf(n, edges, np.asarray(maps, dtype=dt))
