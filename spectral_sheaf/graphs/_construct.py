"""Adjacency matrices from edge lists, networkx graphs, PyG edge_index and point clouds."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from .._validation import (
    as_csr,
    as_float_array,
    as_index_array,
    check_finite,
    check_index_range,
    check_int,
    check_nonnegative,
    check_option,
    check_positive_real,
    check_shape,
    check_square,
    check_symmetric,
    float_dtype,
)
from ._reorder import permute, reverse_cuthill_mckee

__all__ = [
    "adjacency_from_edge_index",
    "adjacency_from_edges",
    "adjacency_from_networkx",
    "adjacency_to_edges",
    "knn_graph",
    "radius_graph",
]

_SYMMETRIZE = ("max", "sum", "none")
_REORDER = ("none", "rcm")


def _maybe_reorder(A: sp.csr_array, reorder: str) -> Any:
    """Apply the ``reorder`` option: return A, or (A_permuted, perm) for ``"rcm"``."""
    if reorder == "none":
        return A
    perm = reverse_cuthill_mckee(A)
    return permute(A, perm), perm


def _symmetrized(A: sp.csr_array, symmetrize: str) -> sp.csr_array:
    if symmetrize == "none":
        return A
    At = A.T.tocsr()
    S = A.maximum(At) if symmetrize == "max" else A + At
    S = sp.csr_array(S)
    S.sum_duplicates()
    return S


def adjacency_from_edges(
    edges: Any,
    n_nodes: int | None = None,
    *,
    weights: Any = None,
    duplicates: Literal["sum", "error"] = "sum",
    self_loops: Literal["drop", "keep", "error"] = "drop",
    symmetrize: Literal["max", "sum", "none"] = "max",
    reorder: Literal["none", "rcm"] = "none",
    dtype: Any = None,
) -> Any:
    """Sparse adjacency matrix from an edge list.

    Parameters
    ----------
    edges : array of int, shape (m, 2)
        Pairs ``(u, v)``; ``(u, v)`` means ``u -> v`` for a directed graph.
    n_nodes : int, optional
        Number of nodes; defaults to ``edges.max() + 1``. Required when ``edges`` is
        empty. Nodes without edges are isolated nodes.
    weights : array of float, shape (m,), optional
        Non-negative finite weights; 1 when omitted. Zero-weight edges are dropped.
    duplicates : {"sum", "error"}
        What to do with an ordered pair listed more than once: sum the weights, or
        raise. ``(u, v)`` and ``(v, u)`` are different ordered pairs.
    self_loops : {"drop", "keep", "error"}
        Pairs ``(u, u)``: drop them, keep them on the diagonal, or raise.
    symmetrize : {"max", "sum", "none"}
        ``"max"``: ``A = max(W, W^T)`` entrywise, so an undirected edge may be listed
        once or in both directions (as in PyG) with the same result. ``"sum"``:
        ``A = W + W^T``. ``"none"``: a directed graph, ``A = W``.
    reorder : {"none", "rcm"}
        ``"rcm"`` renumbers the nodes by reverse Cuthill-McKee for locality in sparse
        products and returns ``(A, perm)``: node ``i`` of ``A`` is node ``perm[i]`` of
        the input (reorder node data with ``X[perm]``).
    dtype : {None, float32, float64}
        dtype of the weights; ``None`` gives float32 for float32 weights, else float64.

    Returns
    -------
    csr_array, shape (n_nodes, n_nodes), or (csr_array, ndarray) with ``reorder="rcm"``

    Examples
    --------
    >>> import numpy as np
    >>> from spectral_sheaf.graphs import adjacency_from_edges
    >>> A = adjacency_from_edges(np.array([[0, 1], [1, 2]]))
    >>> A.toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """
    check_option(duplicates, "duplicates", ("sum", "error"))
    check_option(self_loops, "self_loops", ("drop", "keep", "error"))
    check_option(symmetrize, "symmetrize", _SYMMETRIZE)
    check_option(reorder, "reorder", _REORDER)
    E = as_index_array(edges, "edges")
    if E.ndim == 1 and E.size == 0:
        E = E.reshape(0, 2)
    check_shape(E, (None, 2), "edges")
    m = E.shape[0]
    if n_nodes is None:
        if m == 0:
            raise ValueError("n_nodes must be given when edges is empty; got n_nodes=None")
        n = int(E.max()) + 1
        if n > 2**34:
            raise ValueError(
                f"edges hold node index {n - 1}, so n_nodes would be inferred as {n}, too "
                "many for one machine; pass n_nodes or renumber the nodes consecutively"
            )
    else:
        n = check_int(n_nodes, "n_nodes", minimum=1)
    check_index_range(E, n, "edges")
    if weights is None:
        w = np.ones(m, dtype=float_dtype(np.float64, dtype))
    else:
        w = as_float_array(weights, "weights", dtype=dtype, ndim=(1,))
        if w.shape[0] != m:
            raise ValueError(
                f"weights must have one entry per edge, {m}; got shape {w.shape}"
            )
        check_finite(w, "weights")
        check_nonnegative(w, "weights")
    u, v = E[:, 0], E[:, 1]
    loops = u == v
    if loops.any():
        if self_loops == "error":
            k = int(np.flatnonzero(loops)[0])
            raise ValueError(
                f"edges must not contain self-loops with self_loops='error'; got "
                f"({u[k]}, {v[k]}) at row {k}. Pass self_loops='drop' or 'keep'"
            )
        if self_loops == "drop":
            keep = ~loops
            u, v, w = u[keep], v[keep], w[keep]
    if duplicates == "error" and u.size:
        key = np.sort(u * n + v)
        dup = np.flatnonzero(key[1:] == key[:-1])
        if dup.size:
            k = int(key[dup[0]])
            raise ValueError(
                f"edges must not repeat a pair with duplicates='error'; got "
                f"({k // n}, {k % n}) more than once. Pass duplicates='sum' to add weights"
            )
    A = sp.coo_array((w, (u, v)), shape=(n, n)).tocsr()
    A.sum_duplicates()
    A.eliminate_zeros()
    A = _symmetrized(sp.csr_array(A), symmetrize)
    return _maybe_reorder(A, reorder)


def adjacency_to_edges(
    adjacency: Any, *, part: Literal["upper", "all"] = "upper"
) -> tuple[np.ndarray, np.ndarray]:
    """Edge list and weights of an adjacency matrix.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Adjacency matrix.
    part : {"upper", "all"}
        ``"upper"``: each undirected edge once, as ``(u, v)`` with ``u <= v`` (for
        symmetric input). ``"all"``: every stored entry, for directed graphs.

    Returns
    -------
    edges : ndarray of int64, shape (m, 2)
        In row-major order.
    weights : ndarray, shape (m,)
    """
    check_option(part, "part", ("upper", "all"))
    A = as_csr(adjacency, "adjacency")
    check_square(A, "adjacency")
    if part == "upper":
        check_symmetric(A, "adjacency", context="for part='upper'",
                        hint="Pass part='all' for a directed graph")
        A = sp.csr_array(sp.triu(A, format="csr"))
    A = A.copy()
    A.eliminate_zeros()
    n = A.shape[0]
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
    v = A.indices.astype(np.int64)
    return np.stack([u, v], axis=1), A.data.copy()


def adjacency_from_networkx(
    graph: Any,
    *,
    weight: str | None = "weight",
    nodelist: Any = None,
    dtype: Any = None,
) -> sp.csr_array:
    """Adjacency matrix of a networkx graph.

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        Directed graphs give non-symmetric matrices (row = source).
    weight : str or None
        Edge attribute holding the weight; ``None`` gives weight 1 for every edge.
    nodelist : sequence, optional
        Node order of the rows; defaults to ``list(graph)``.
    dtype : {None, float32, float64}
        Result dtype.

    Returns
    -------
    csr_array, shape (n, n)
    """
    try:
        import networkx as nx
    except ImportError as exc:  # pragma: no cover - networkx is in the test extra
        raise ImportError(
            'networkx is needed for adjacency_from_networkx: pip install "spectral_sheaf[test]"'
        ) from exc
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx Graph or DiGraph; got {type(graph).__name__}")
    if graph.number_of_nodes() == 0:
        raise ValueError("graph must have at least one node; got an empty graph")
    try:
        M = nx.to_scipy_sparse_array(graph, nodelist=nodelist, weight=weight, format="csr")
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"graph edge weights (attribute {weight!r}) must be numbers; networkx could not "
            f"build a numeric matrix ({exc})"
        ) from exc
    A = as_csr(M, "graph", dtype=dtype)
    check_finite(A.data, "graph edge weights")
    check_nonnegative(A.data, "graph edge weights")
    A.eliminate_zeros()
    return A


def _to_numpy_any(x: Any) -> Any:
    """Numpy view of a numpy array, list or torch tensor (torch is never imported)."""
    if type(x).__module__.split(".")[0] == "torch":
        return x.detach().cpu().numpy()
    return x


def adjacency_from_edge_index(
    edge_index: Any,
    n_nodes: int | None = None,
    *,
    edge_weight: Any = None,
    duplicates: Literal["sum", "error"] = "sum",
    self_loops: Literal["drop", "keep", "error"] = "drop",
    symmetrize: Literal["max", "sum", "none"] = "max",
    reorder: Literal["none", "rcm"] = "none",
    dtype: Any = None,
) -> Any:
    """Adjacency matrix from a PyTorch Geometric style ``edge_index`` of shape (2, m).

    Accepts numpy arrays and torch tensors (moved to the CPU; torch is not imported
    by this library). PyG stores an undirected edge in both directions; the default
    ``symmetrize="max"`` then gives each edge its weight once. The other options are
    those of :func:`adjacency_from_edges`.

    Parameters
    ----------
    edge_index : array or torch.Tensor of int, shape (2, m)
        Source nodes in row 0, targets in row 1.
    n_nodes : int, optional
        Number of nodes (PyG's ``num_nodes``).
    edge_weight : array or torch.Tensor, shape (m,), optional
        Edge weights.
    duplicates, self_loops, symmetrize, reorder, dtype
        As in :func:`adjacency_from_edges`.

    Returns
    -------
    csr_array, or (csr_array, perm) with ``reorder="rcm"``
    """
    ei = as_index_array(_to_numpy_any(edge_index), "edge_index")
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, m); got {ei.shape}")
    weights = None if edge_weight is None else _to_numpy_any(edge_weight)
    return adjacency_from_edges(
        ei.T, n_nodes, weights=weights, duplicates=duplicates, self_loops=self_loops,
        symmetrize=symmetrize, reorder=reorder, dtype=dtype,
    )


def _weighted_from_distances(
    D: sp.csr_array, weighting: str, sigma: float | None, dtype: np.dtype
) -> sp.csr_array:
    """Turn a sparse distance graph into weights; stored zeros are real neighbours."""
    d = D.data.astype(np.float64)
    if weighting == "binary":
        w = np.ones_like(d)
    else:
        if sigma is None:
            sigma = float(np.median(d)) if d.size else 1.0
            if sigma == 0.0:
                raise ValueError(
                    "sigma could not be chosen: the median neighbour distance is 0 "
                    "(many duplicate points); pass sigma explicitly"
                )
        w = np.exp(-(d * d) / (2.0 * sigma * sigma))
        lost = int(np.sum(w.astype(dtype) == 0.0))
        if lost:
            warnings.warn(
                f"{lost} of {w.size} Gaussian weights underflow to 0 with sigma={sigma:.3g} "
                f"and are dropped (median neighbour distance {np.median(d):.3g}); "
                "pass a larger sigma",
                RuntimeWarning, stacklevel=3,
            )
    A = sp.csr_array((w.astype(dtype), D.indices, D.indptr), shape=D.shape)
    A.eliminate_zeros()
    return A


def _points(points: Any, dtype: Any) -> np.ndarray:
    X = as_float_array(points, "points", ndim=(2,))
    if X.shape[0] < 2:
        raise ValueError(f"points must hold at least 2 points; got shape {X.shape}")
    check_finite(X, "points")
    big = float(np.abs(X).max()) if X.size else 0.0
    if big > 1e150:
        raise ValueError(
            f"points must have coordinates below 1e150 in magnitude so that squared "
            f"distances stay finite; got {big:.3g}. Rescale the points"
        )
    return X if dtype is None else X.astype(float_dtype(X.dtype, dtype))


def knn_graph(
    points: Any,
    k: int,
    *,
    weighting: Literal["gaussian", "binary"] = "gaussian",
    sigma: float | None = None,
    symmetrize: Literal["max", "mutual", "none"] = "max",
    reorder: Literal["none", "rcm"] = "none",
    n_jobs: int | None = None,
    dtype: Any = None,
) -> Any:
    """k-nearest-neighbour graph of a point cloud (Euclidean, via scikit-learn).

    Parameters
    ----------
    points : array, shape (n, dim)
        Finite coordinates.
    k : int
        Neighbours per point, ``1 <= k < n``; a point is not its own neighbour.
    weighting : {"gaussian", "binary"}
        ``"gaussian"``: ``w = exp(-d^2 / (2 sigma^2))``; ``"binary"``: ``w = 1``.
    sigma : float, optional
        Kernel width; defaults to the median distance over all kNN pairs.
    symmetrize : {"max", "mutual", "none"}
        ``"max"``: keep an edge when either end lists the other (union);
        ``"mutual"``: only when both do; ``"none"``: directed, row ``i`` holds the
        neighbours of point ``i``.
    reorder : {"none", "rcm"}
        As in :func:`adjacency_from_edges` (returns ``(A, perm)`` for ``"rcm"``).
    n_jobs : int, optional
        Passed to scikit-learn's neighbour search.
    dtype : {None, float32, float64}
        Weight dtype; ``None`` follows the points' dtype.

    Returns
    -------
    csr_array, shape (n, n), or (csr_array, perm) with ``reorder="rcm"``
    """
    from sklearn.neighbors import NearestNeighbors

    check_option(weighting, "weighting", ("gaussian", "binary"))
    check_option(symmetrize, "symmetrize", ("max", "mutual", "none"))
    check_option(reorder, "reorder", _REORDER)
    X = _points(points, dtype)
    n = X.shape[0]
    k = check_int(k, "k", minimum=1)
    if k >= n:
        raise ValueError(f"k must be smaller than the number of points, {n}; got k={k}")
    if sigma is not None:
        sigma = check_positive_real(sigma, "sigma")
    nn = NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(X)
    D = sp.csr_array(nn.kneighbors_graph(mode="distance"))
    D.sort_indices()
    A = _weighted_from_distances(D, weighting, sigma, float_dtype(X.dtype))
    if symmetrize != "none":
        At = A.T.tocsr()
        A = sp.csr_array(A.maximum(At) if symmetrize == "max" else A.minimum(At))
        A.sum_duplicates()
        A.eliminate_zeros()
    return _maybe_reorder(A, reorder)


def radius_graph(
    points: Any,
    radius: float,
    *,
    weighting: Literal["gaussian", "binary"] = "gaussian",
    sigma: float | None = None,
    reorder: Literal["none", "rcm"] = "none",
    n_jobs: int | None = None,
    dtype: Any = None,
) -> Any:
    """Graph joining every pair of points closer than ``radius`` (Euclidean).

    Parameters
    ----------
    points : array, shape (n, dim)
        Finite coordinates.
    radius : float
        Connection radius, > 0; pairs with distance ``<= radius`` are joined.
    weighting : {"gaussian", "binary"}
        ``"gaussian"``: ``w = exp(-d^2 / (2 sigma^2))``; ``"binary"``: ``w = 1``.
    sigma : float, optional
        Kernel width; defaults to ``radius / 2``.
    reorder : {"none", "rcm"}
        As in :func:`adjacency_from_edges`.
    n_jobs : int, optional
        Passed to scikit-learn.
    dtype : {None, float32, float64}
        Weight dtype.

    Returns
    -------
    csr_array, shape (n, n), or (csr_array, perm) with ``reorder="rcm"``
    """
    from sklearn.neighbors import NearestNeighbors

    check_option(weighting, "weighting", ("gaussian", "binary"))
    check_option(reorder, "reorder", _REORDER)
    X = _points(points, dtype)
    radius = check_positive_real(radius, "radius")
    sigma = radius / 2.0 if sigma is None else check_positive_real(sigma, "sigma")
    nn = NearestNeighbors(radius=radius, n_jobs=n_jobs).fit(X)
    D = sp.csr_array(nn.radius_neighbors_graph(mode="distance"))
    D.sort_indices()
    A = _weighted_from_distances(D, weighting, sigma, float_dtype(X.dtype))
    # the radius relation is symmetric; enforce it exactly against rounding
    A = sp.csr_array(A.maximum(A.T.tocsr()))
    A.sum_duplicates()
    return _maybe_reorder(A, reorder)
