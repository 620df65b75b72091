"""Hypothesis strategies for graphs, adjacency matrices and node signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .._validation import (
    check_bool,
    check_in_range,
    check_int,
    check_option,
    check_positive_real,
    float_dtype,
)
from ..graphs._construct import adjacency_from_edges

__all__ = ["EdgeList", "adjacency_matrices", "graphs", "meshes", "node_signals", "sheaves"]


@dataclass(frozen=True)
class EdgeList:
    """A drawn graph as an edge list.

    Attributes
    ----------
    n_nodes : int
    edges : ndarray of int64, shape (m, 2)
        Each undirected edge once (``u < v``, or ``u == v`` for a self-loop); for a
        directed graph each ordered pair once.
    weights : ndarray, shape (m,)
        Positive weights (all 1 when unweighted).
    directed : bool
    """

    n_nodes: int
    edges: np.ndarray
    weights: np.ndarray
    directed: bool

    def to_adjacency(self) -> sp.csr_array:
        """Adjacency matrix (symmetric unless ``directed``), self-loops kept."""
        return adjacency_from_edges(
            self.edges, self.n_nodes, weights=self.weights, self_loops="keep",
            symmetrize="none" if self.directed else "max",
        )


def graphs(
    *,
    min_nodes: int = 1,
    max_nodes: int = 12,
    density: tuple[float, float] = (0.0, 1.0),
    connected: bool = False,
    weighted: bool = True,
    directed: bool = False,
    isolated_nodes: bool = True,
    self_loops: bool = False,
    dtype: Any = np.float64,
) -> st.SearchStrategy[EdgeList]:
    """Strategy for random graphs as :class:`EdgeList`.

    Options are checked when the strategy is made, not when it is drawn from.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Range of the node count (``1 <= min_nodes <= max_nodes``).
    density : (float, float)
        Range of the probability that a pair is an edge.
    connected : bool
        If True, a random spanning tree is added first, so the (undirected or weakly
        connected directed) graph is connected.
    weighted : bool
        Positive weights in ``[0.1, 10]`` if True, else all 1.
    directed : bool
        Ordered pairs ``u -> v`` drawn independently.
    isolated_nodes : bool
        If False, every node gets at least one edge to another node (needs
        ``min_nodes >= 2``).
    self_loops : bool
        Allow loops ``(u, u)``.
    dtype : float32 or float64
        dtype of the weights.

    Examples
    --------
    >>> from hypothesis import given
    >>> from spectral_sheaf.testing import graphs
    >>> @given(graphs(connected=True))
    ... def test_connected(g):
    ...     ...
    """
    lo = check_int(min_nodes, "min_nodes", minimum=1)
    hi = check_int(max_nodes, "max_nodes", minimum=lo)
    if not isinstance(density, tuple) or len(density) != 2:
        raise TypeError(f"density must be a pair (low, high); got {density!r}")
    d_lo = check_in_range(density[0], "density[0]", 0.0, 1.0)
    d_hi = check_in_range(density[1], "density[1]", d_lo, 1.0)
    wdtype = float_dtype(dtype, dtype)
    flags = {"connected": connected, "weighted": weighted, "directed": directed,
             "isolated_nodes": isolated_nodes, "self_loops": self_loops}
    for flag, value in flags.items():
        check_bool(value, flag)
    if not isolated_nodes and lo < 2:
        raise ValueError("min_nodes must be >= 2 when isolated_nodes=False; got 1")
    return _draw_graph(lo, hi, d_lo, d_hi, connected, weighted, directed, isolated_nodes,
                       self_loops, wdtype)


@st.composite
def _draw_graph(
    draw: Any, lo: int, hi: int, d_lo: float, d_hi: float, connected: bool, weighted: bool,
    directed: bool, isolated_nodes: bool, self_loops: bool, wdtype: np.dtype,
) -> EdgeList:
    n = draw(st.integers(lo, hi))
    p = draw(st.floats(d_lo, d_hi))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if directed:
        mask = rng.random((n, n)) < p
        if not self_loops:
            np.fill_diagonal(mask, False)
    else:
        mask = np.triu(rng.random((n, n)) < p, k=0 if self_loops else 1)
    if connected and n > 1:
        order = rng.permutation(n)
        parents = order[(rng.random(n - 1) * np.arange(1, n)).astype(np.int64)]
        a, b = np.minimum(parents, order[1:]), np.maximum(parents, order[1:])
        mask[a, b] = True
    if not isolated_nodes and n > 1:
        offdiag = mask & ~np.eye(n, dtype=bool)
        lonely = np.flatnonzero(~(offdiag.any(axis=0) | offdiag.any(axis=1)))
        partner = (lonely + 1 + rng.integers(n - 1, size=lonely.size)) % n
        mask[np.minimum(lonely, partner), np.maximum(lonely, partner)] = True
    u, v = np.nonzero(mask)
    m = u.size
    w = draw(hnp.arrays(np.float64, m, elements=st.floats(0.1, 10.0))) if weighted else np.ones(m)
    edges = np.stack([u, v], axis=1).astype(np.int64).reshape(m, 2)
    return EdgeList(n, edges, w.astype(wdtype), directed)


def adjacency_matrices(*, container: str = "csr", **graph_options: Any) -> st.SearchStrategy:
    """Strategy for adjacency matrices of :func:`graphs`.

    Parameters
    ----------
    container : {"csr", "dense"}
        ``scipy.sparse.csr_array`` or a dense ``ndarray``.
    **graph_options
        Passed to :func:`graphs` (``min_nodes``, ``connected``, ``directed``, ...).
    """
    check_option(container, "container", ("csr", "dense"))
    if container == "csr":
        return graphs(**graph_options).map(lambda g: g.to_adjacency())
    return graphs(**graph_options).map(lambda g: g.to_adjacency().toarray())


def node_signals(
    n_nodes: int,
    channels: int | None = None,
    *,
    dtype: Any = np.float64,
    magnitude: float = 1e3,
) -> st.SearchStrategy[np.ndarray]:
    """Strategy for finite node signals of shape ``(n,)`` or ``(n, channels)``.

    Parameters
    ----------
    n_nodes : int
        Number of rows.
    channels : int, optional
        Number of columns; ``None`` gives 1-D signals.
    dtype : float32 or float64
        Element dtype.
    magnitude : float
        Entries lie in ``[-magnitude, magnitude]``.
    """
    n = check_int(n_nodes, "n_nodes", minimum=0)
    shape: tuple[int, ...] = (n,) if channels is None else (n, check_int(channels, "channels",
                                                                         minimum=1))
    dt = float_dtype(dtype, dtype)
    limit = float(np.finfo(dt).max)
    magnitude = check_positive_real(magnitude, "magnitude")
    if magnitude > limit:
        raise ValueError(f"magnitude must be <= {limit:.3g} for {dt.name}; got {magnitude:.3g}")
    width: Literal[32, 64] = 32 if dt == np.float32 else 64
    return hnp.arrays(
        dt, shape,
        elements=st.floats(-magnitude, magnitude, allow_nan=False, allow_infinity=False,
                           width=width),
    )


def sheaves(
    *,
    kind: str | None = None,
    d_v: tuple[int, int] = (1, 3),
    d_e: tuple[int, int] | None = None,
    dtype: Any = np.float64,
    **graph_options: Any,
) -> st.SearchStrategy:
    """Strategy for random :class:`~spectral_sheaf.sheaf.Sheaf` objects.

    Parameters
    ----------
    kind : {None, "constant", "symmetric", "diagonal", "orthogonal", "general"}
        Sheaf class (see ``sheaf.random_sheaf``); ``None`` draws one of them.
    d_v : (int, int)
        Range of the vertex stalk dimension.
    d_e : (int, int), optional
        Range of the edge stalk dimension for ``"general"`` and ``"symmetric"``
        sheaves; other classes (and ``None``) use ``d_e = d_v``.
    dtype : float32 or float64
        Map dtype.
    **graph_options
        Passed to :func:`graphs` (undirected; self-loops are never drawn).
    """
    from ..sheaf._builders import SHEAF_CLASSES

    if kind is not None:
        check_option(kind, "kind", SHEAF_CLASSES)
    if not isinstance(d_v, tuple) or len(d_v) != 2:
        raise TypeError(f"d_v must be a pair (low, high); got {d_v!r}")
    lo = check_int(d_v[0], "d_v[0]", minimum=1)
    hi = check_int(d_v[1], "d_v[1]", minimum=lo)
    if d_e is not None:
        if not isinstance(d_e, tuple) or len(d_e) != 2:
            raise TypeError(f"d_e must be a pair (low, high); got {d_e!r}")
        e_lo = check_int(d_e[0], "d_e[0]", minimum=1)
        e_hi = check_int(d_e[1], "d_e[1]", minimum=e_lo)
    for bad in ("directed", "self_loops"):
        if graph_options.get(bad):
            raise ValueError(f"{bad}=True is not possible for sheaves on graphs")
    dt = float_dtype(dtype, dtype)
    kinds = st.just(kind) if kind is not None else st.sampled_from(SHEAF_CLASSES)

    @st.composite
    def draw_sheaf(draw: Any) -> Any:
        from ..sheaf import random_sheaf

        g = draw(graphs(**graph_options))
        k = draw(kinds)
        dv = draw(st.integers(lo, hi))
        de = dv
        if d_e is not None and k in ("general", "symmetric"):
            de = draw(st.integers(e_lo, e_hi))
        seed = draw(st.integers(0, 2**32 - 1))
        return random_sheaf(g.to_adjacency(), dv, kind=k, d_e=de, rng=seed, dtype=dt)

    return draw_sheaf()


def meshes(
    *,
    kind: Literal["grid", "hull", "planar"] | None = None,
    min_size: int = 2,
    max_size: int = 8,
) -> st.SearchStrategy:
    """Strategy for random triangulated surfaces ``(vertices, faces)``.

    Every drawn mesh is a valid input of the mesh Laplacians: finite coordinates, no
    face repeating a vertex or of near-zero area, every vertex used, edge-manifold,
    consistently oriented, connected.

    Parameters
    ----------
    kind : {"grid", "hull", "planar"}, optional
        ``"grid"``: a ``size x size`` rectangle mesh, jittered in the plane and lifted
        to a random height field (a disk-like surface with boundary). ``"hull"``: the
        convex hull of a jittered, anisotropically scaled icosphere (0, 1 or 2
        subdivisions as size grows; a closed genus-0 surface, outward-oriented). ``"planar"``: the
        Delaunay triangulation of jittered planar points (so that the intrinsic
        Delaunay Laplacian equals the plain one). ``None`` draws one of them.
    min_size, max_size : int
        Range of the size parameter (grid cells per side; the icosphere level),
        ``2 <= min_size <= max_size``.
    """
    from ..mesh import icosphere, rectangle_mesh

    kinds = ("grid", "hull", "planar")
    if kind is not None:
        check_option(kind, "kind", kinds)
    lo = check_int(min_size, "min_size", minimum=2)
    hi = check_int(max_size, "max_size", minimum=lo)

    @st.composite
    def draw_mesh(draw: Any) -> tuple[np.ndarray, np.ndarray]:
        k = kind if kind is not None else draw(st.sampled_from(kinds))
        size = draw(st.integers(lo, hi))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        if k == "hull":
            from scipy.spatial import ConvexHull

            level = 0 if size < 4 else 1 if size < 7 else 2
            P, _ = icosphere(level)
            P = P + 0.05 / 2**level * rng.standard_normal(P.shape)
            # back onto the sphere, then an ellipsoid: every point stays a hull vertex
            P /= np.linalg.norm(P, axis=1, keepdims=True)
            P *= rng.uniform(0.5, 2.0, size=3)
            F = ConvexHull(P).simplices.astype(np.int64)
            normal = np.cross(P[F[:, 1]] - P[F[:, 0]], P[F[:, 2]] - P[F[:, 0]])
            inward = np.einsum("ij,ij->i", normal, P[F[:, 0]] - P.mean(axis=0)) < 0
            F[inward] = F[inward][:, ::-1]
            return P, np.ascontiguousarray(F)
        V, F = rectangle_mesh(size, size)
        h = 1.0 / size
        interior = (V[:, 0] > 0) & (V[:, 0] < 1) & (V[:, 1] > 0) & (V[:, 1] < 1)
        V[interior, :2] += rng.uniform(-0.2 * h, 0.2 * h, size=(int(interior.sum()), 2))
        if k == "planar":
            from scipy.spatial import Delaunay

            F = Delaunay(V[:, :2]).simplices.astype(np.int64)
            e1, e2 = V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]]
            cw = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] < 0
            F[cw] = F[cw][:, ::-1]
            return V, np.ascontiguousarray(F)
        V[:, 2] = 0.3 * rng.standard_normal() * np.sin(np.pi * V[:, 0]) + 0.1 * rng.standard_normal(
            len(V)) * h
        return V, F

    return draw_mesh()
