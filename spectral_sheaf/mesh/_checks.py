"""Mesh checks (a report, never a silent fix) and explicit repairs.

``validate_mesh`` is what every builder calls first: it converts the arrays and raises
on what makes arithmetic meaningless (wrong shapes, an empty mesh, a NaN coordinate, an
index out of range, a face that repeats a vertex). ``check_mesh`` looks at everything
else and returns a :class:`MeshReport`; the repairs are separate functions that say
what they changed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import connected_components

from .._validation import (
    as_float_array,
    as_index_array,
    check_finite,
    check_nonnegative,
    check_positive_real,
)

__all__ = [
    "MeshReport",
    "RepairedMesh",
    "check_mesh",
    "drop_degenerate_faces",
    "orient_faces",
    "remove_duplicate_faces",
    "remove_unreferenced",
    "validate_mesh",
    "weld_vertices",
]

#: A face is numerically zero-area when twice its area is at most this times the sum
#: of its squared edge lengths (its cotangents are then dominated by rounding).
ZERO_AREA_RTOL = 64 * np.finfo(np.float64).eps


COORD_MAX = 1e60


def _as_vertices(vertices: Any) -> np.ndarray:
    V = as_float_array(vertices, "vertices", dtype=np.float64, ndim=(2,))
    if V.shape[1] not in (2, 3):
        raise ValueError(
            f"vertices must have shape (n, 3) (or (n, 2) for a planar mesh); got {V.shape}"
        )
    if V.shape[0] == 0:
        raise ValueError("vertices must hold at least one vertex; got an empty mesh")
    if V.shape[1] == 2:
        V = np.column_stack([V, np.zeros(V.shape[0])])
    return np.ascontiguousarray(V)


def _as_faces(faces: Any, n_vertices: int, *, allow_repeated: bool = False) -> np.ndarray:
    F = as_index_array(faces, "faces")
    if F.ndim != 2 or F.shape[1] != 3:
        raise ValueError(
            f"faces must have shape (f, 3) (triangles; read polygon meshes with "
            f"read_mesh, which fan-triangulates them); got {F.shape}"
        )
    if F.shape[0] == 0:
        raise ValueError("faces must hold at least one triangle; got an empty mesh")
    lo, hi = int(F.min()), int(F.max())
    if lo < 0 or hi >= n_vertices:
        bad = lo if lo < 0 else hi
        row = int(np.flatnonzero((F < 0).any(axis=1) | (n_vertices <= F).any(axis=1))[0])
        raise ValueError(
            f"faces must hold vertex indices in [0, {n_vertices}); got {bad} "
            f"(face {row}: {F[row].tolist()}). Faces index vertices from 0; subtract 1 "
            "from one-based (OBJ) indices."
        )
    if not allow_repeated:
        rep = (F[:, 0] == F[:, 1]) | (F[:, 1] == F[:, 2]) | (F[:, 2] == F[:, 0])
        if rep.any():
            row = int(np.flatnonzero(rep)[0])
            raise ValueError(
                f"faces must not repeat a vertex within a face; got {int(rep.sum())} such "
                f"faces (first: face {row} = {F[row].tolist()}). Remove them with "
                "drop_degenerate_faces."
            )
    return np.ascontiguousarray(F)


def validate_mesh(vertices: Any, faces: Any) -> tuple[np.ndarray, np.ndarray]:
    """Convert and check a triangle mesh; raise on what no computation can survive.

    Parameters
    ----------
    vertices : array, shape (n, 3) or (n, 2)
        Vertex positions (a planar mesh gets ``z = 0``).
    faces : array of int, shape (f, 3)
        Triangles as zero-based vertex indices.

    Returns
    -------
    vertices : ndarray, shape (n, 3), float64
    faces : ndarray, shape (f, 3), int64

    Raises
    ------
    ValueError
        Wrong shapes, an empty mesh, non-finite coordinates (or coordinates so large
        or small that areas overflow), indices out of range or negative, faces that
        repeat a vertex.
    """
    V = _as_vertices(vertices)
    check_finite(V, "vertices", where=f"vertex {_first_nonfinite(V)}")
    big = float(np.abs(V).max())
    if big > COORD_MAX or 0 < big < 1 / COORD_MAX:
        raise ValueError(
            f"vertices must have coordinates of magnitude between 1e-60 and 1e60 (areas "
            f"are squares of squares of them and would overflow or underflow); got max "
            f"|coordinate| = {big:.3g}. Rescale the mesh."
        )
    F = _as_faces(faces, V.shape[0])
    return V, F


def _first_nonfinite(V: np.ndarray) -> int:
    bad = ~np.isfinite(V).all(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else -1


def as_lengths(lengths: Any, faces: np.ndarray) -> np.ndarray:
    """Check per-face edge lengths: shape (f, 3), finite, positive, triangle inequality."""
    ell = as_float_array(lengths, "lengths", dtype=np.float64, ndim=(2,))
    if ell.shape != faces.shape:
        raise ValueError(
            f"lengths must have shape (f, 3) matching faces {faces.shape}; got {ell.shape}"
        )
    check_finite(ell, "lengths")
    check_nonnegative(ell, "lengths")
    a, b, c = ell[:, 0], ell[:, 1], ell[:, 2]
    bad = (a > b + c) | (b > c + a) | (c > a + b)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"lengths must satisfy the triangle inequality in every face; got "
            f"{int(bad.sum())} faces that do not (first: face {row}, lengths "
            f"{ell[row].tolist()})"
        )
    return np.ascontiguousarray(ell)


# ---------------------------------------------------------------------------- topology


@dataclass(frozen=True)
class _Edges:
    """Undirected edges of a face list and the halfedges on each.

    Halfedge ``h = 3 f + c`` runs from ``faces[f, (c+1)%3]`` to ``faces[f, (c+2)%3]``
    (the edge opposite corner ``c``). ``order`` sorts halfedges by edge; the halfedges
    of edge ``e`` are ``order[start[e]:start[e+1]]``.
    """

    edges: np.ndarray  # (E, 2), sorted pairs
    edge_of: np.ndarray  # (3f,) edge id of each halfedge
    order: np.ndarray
    start: np.ndarray
    count: np.ndarray  # (E,) faces on each edge


def _halfedge_ends(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tail = F[:, [1, 2, 0]].ravel()
    head = F[:, [2, 0, 1]].ravel()
    return tail, head


def edge_structure(F: np.ndarray, n: int) -> _Edges:
    """Group the halfedges of ``F`` by undirected edge."""
    tail, head = _halfedge_ends(F)
    lo = np.minimum(tail, head)
    hi = np.maximum(tail, head)
    key = lo * np.int64(n) + hi
    order = np.argsort(key, kind="stable")
    sk = key[order]
    new = np.empty(sk.size, dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    edge_sorted = np.cumsum(new) - 1
    edge_of = np.empty_like(edge_sorted)
    edge_of[order] = edge_sorted
    start = np.append(np.flatnonzero(new), sk.size)
    first = order[start[:-1]]
    edges = np.column_stack([lo[first], hi[first]])
    return _Edges(edges, edge_of, order, start, np.diff(start))


def _corner_components(F: np.ndarray, E: _Edges) -> np.ndarray:
    """Component id of every corner in the graph joining corners across shared edges."""
    nf = F.shape[0]
    tail, _ = _halfedge_ends(F)
    h = np.arange(3 * nf)
    corner_tail = 3 * (h // 3) + (h % 3 + 1) % 3
    corner_head = 3 * (h // 3) + (h % 3 + 2) % 3
    # consecutive halfedges of the same edge
    a = E.order[:-1]
    b = E.order[1:]
    same = E.edge_of[a] == E.edge_of[b]
    a, b = a[same], b[same]
    aligned = tail[a] == tail[b]
    c1 = np.where(aligned, corner_tail[b], corner_head[b])
    c2 = np.where(aligned, corner_head[b], corner_tail[b])
    rows = np.concatenate([corner_tail[a], corner_head[a]])
    cols = np.concatenate([c1, c2])
    G = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(3 * nf, 3 * nf)).tocsr()
    return connected_components(G, directed=False)[1]


@njit(cache=True)
def _chains(nxt, tail, head):  # pragma: no cover - compiled
    """Vertex sequences of the chains and cycles of a successor map on halfedges.

    Open chains (from a halfedge nothing leads to) end with their last head vertex;
    cycles list each vertex once.
    """
    m = nxt.size
    has_pred = np.zeros(m, dtype=np.bool_)
    for b in range(m):
        if nxt[b] >= 0:
            has_pred[nxt[b]] = True
    used = np.zeros(m, dtype=np.bool_)
    out = np.empty(2 * m + 1, dtype=np.int64)
    starts = np.empty(m + 1, dtype=np.int64)
    n_out = 0
    n_chains = 0
    for sweep in range(2):  # open chains first, then what is left is cycles
        for b in range(m):
            if used[b] or (sweep == 0 and has_pred[b]):
                continue
            starts[n_chains] = n_out
            n_chains += 1
            cur = b
            last = b
            while cur >= 0 and not used[cur]:
                used[cur] = True
                out[n_out] = tail[cur]
                n_out += 1
                last = cur
                cur = nxt[cur]
            if cur != b:  # open: it ran out or ran into another chain
                out[n_out] = head[last]
                n_out += 1
    starts[n_chains] = n_out
    return out[:n_out], starts[: n_chains + 1]


@dataclass(frozen=True)
class MeshReport:
    """What :func:`check_mesh` found. Index arrays are empty when all is well.

    Attributes
    ----------
    n_vertices, n_faces, n_edges : int
    nonfinite_vertices : ndarray
        Vertices with a NaN or inf coordinate.
    out_of_range_faces : ndarray
        Faces with an index outside ``[0, n_vertices)``. When there are any, the
        topological fields below are not computed (``None``).
    degenerate_faces : ndarray
        Faces that repeat a vertex (index-degenerate).
    zero_area_faces : ndarray
        Faces whose area is zero to rounding: ``2 area <= 64 eps * s`` with ``s`` the
        sum of the face's squared edge lengths.
    near_zero_area_faces : ndarray
        Other faces with ``2 area < area_rtol * s`` (slivers and caps).
    unreferenced_vertices : ndarray
        Vertices no face uses.
    duplicate_vertices : ndarray
        Vertices at exactly the position of a lower-numbered vertex.
    duplicate_faces : ndarray
        Faces on the same vertex set as a lower-numbered face.
    non_manifold_edges : ndarray, shape (k, 2)
        Edges on more than two faces.
    non_manifold_vertices : ndarray
        Vertices whose faces form more than one fan (bow ties).
    inconsistent_edges : ndarray, shape (k, 2)
        Two-face edges that both faces traverse in the same direction.
    orientable : bool or None
        Whether the faces can be oriented consistently (ignoring non-manifold edges).
    boundary_loops : list of ndarray
        Boundary vertices, one array per loop, in walking order.
    n_components : int or None
        Connected components of the surface (faces that repeat a vertex left out).
    euler_characteristic : int or None
        ``V - E + F`` of the same surface.
    """

    n_vertices: int
    n_faces: int
    n_edges: int | None
    nonfinite_vertices: np.ndarray
    out_of_range_faces: np.ndarray
    degenerate_faces: np.ndarray
    zero_area_faces: np.ndarray
    near_zero_area_faces: np.ndarray
    unreferenced_vertices: np.ndarray
    duplicate_vertices: np.ndarray
    duplicate_faces: np.ndarray
    non_manifold_edges: np.ndarray | None
    non_manifold_vertices: np.ndarray | None
    inconsistent_edges: np.ndarray | None
    orientable: bool | None
    boundary_loops: list[np.ndarray] | None = field(default=None)
    n_components: int | None = None
    euler_characteristic: int | None = None

    @property
    def is_closed(self) -> bool:
        """No boundary edges."""
        return self.boundary_loops is not None and len(self.boundary_loops) == 0

    @property
    def is_manifold(self) -> bool:
        """No non-manifold edges or vertices."""
        return (self.non_manifold_edges is not None and self.non_manifold_vertices is not None
                and len(self.non_manifold_edges) == 0 and len(self.non_manifold_vertices) == 0)

    def problems(self) -> list[str]:
        """One line per finding that affects a Laplacian, with the repair to call."""
        out = []

        def add(arr: Any, what: str, fix: str) -> None:
            if arr is not None and len(arr):
                out.append(f"{len(arr)} {what}: {fix}")

        add(self.nonfinite_vertices, "vertices with non-finite coordinates",
            "fix or remove them (no repair can guess them)")
        add(self.out_of_range_faces, "faces with out-of-range indices",
            "faces index vertices from 0 and below n_vertices")
        add(self.degenerate_faces, "faces that repeat a vertex", "drop_degenerate_faces")
        add(self.zero_area_faces, "zero-area faces", "drop_degenerate_faces")
        add(self.unreferenced_vertices, "unreferenced vertices", "remove_unreferenced")
        add(self.duplicate_vertices, "duplicate vertex positions", "weld_vertices")
        add(self.duplicate_faces, "duplicate faces", "remove_duplicate_faces")
        add(self.non_manifold_edges, "non-manifold edges",
            "cotangent_laplacian accepts them; intrinsic_delaunay does not")
        add(self.non_manifold_vertices, "non-manifold vertices",
            "cotangent_laplacian and intrinsic_delaunay accept them")
        add(self.inconsistent_edges, "inconsistently oriented edges", "orient_faces")
        return out

    def summary(self) -> str:
        """Return a short human-readable report."""
        lines = [f"{self.n_vertices} vertices, {self.n_faces} faces"
                 + (f", {self.n_edges} edges" if self.n_edges is not None else "")]
        if self.n_components is not None:
            lines.append(
                f"{self.n_components} components, {len(self.boundary_loops or [])} boundary "
                f"loops, Euler characteristic {self.euler_characteristic}, "
                f"{'orientable' if self.orientable else 'not orientable'}"
            )
        near = len(self.near_zero_area_faces)
        if near:
            lines.append(f"{near} near-zero-area faces (slivers; left alone)")
        lines += self.problems() or ["no problems found"]
        return "\n".join(lines)


def check_mesh(vertices: Any, faces: Any, *, area_rtol: float = 1e-8) -> MeshReport:
    """Look at a triangle mesh and report what is wrong with it, fixing nothing.

    Parameters
    ----------
    vertices : array, shape (n, 3) or (n, 2)
    faces : array of int, shape (f, 3)
    area_rtol : float
        Faces with ``2 area < area_rtol * s`` count as near-zero-area, ``s`` being the
        sum of the face's squared edge lengths.

    Returns
    -------
    MeshReport
    """
    area_rtol = check_positive_real(area_rtol, "area_rtol")
    V = _as_vertices(vertices)
    F = as_index_array(faces, "faces")
    if F.ndim != 2 or F.shape[1] != 3:
        raise ValueError(f"faces must have shape (f, 3); got {F.shape}")
    n, nf = V.shape[0], F.shape[0]
    empty = np.zeros(0, dtype=np.int64)
    nonfinite = np.flatnonzero(~np.isfinite(V).all(axis=1))
    oor = np.flatnonzero(((F < 0) | (n <= F)).any(axis=1))
    dup_v = _duplicate_rows(V)
    if oor.size:
        return MeshReport(n, nf, None, nonfinite, oor, empty, empty, empty, empty, dup_v,
                          empty, None, None, None, None)
    rep = np.flatnonzero((F[:, 0] == F[:, 1]) | (F[:, 1] == F[:, 2]) | (F[:, 2] == F[:, 0]))
    used = np.zeros(n, dtype=bool)
    used[F.ravel()] = True
    unref = np.flatnonzero(~used)
    dup_f = _duplicate_rows(np.sort(F, axis=1)) if nf else empty
    zero, near = _small_faces(V, F, area_rtol, rep)
    if nf == 0:
        return MeshReport(n, 0, 0, nonfinite, oor, rep, zero, near, unref, dup_v, dup_f,
                          np.zeros((0, 2), np.int64), empty, np.zeros((0, 2), np.int64),
                          True, [], 0, 0)
    good = np.setdiff1d(np.arange(nf), rep)
    Fg = F[good]
    if Fg.shape[0] == 0:  # every face repeats a vertex: no surface to look at
        none = np.zeros((0, 2), np.int64)
        return MeshReport(n, nf, 0, nonfinite, oor, rep, zero, near, unref, dup_v, dup_f,
                          none, empty, none, True, [], 0, 0)
    E = edge_structure(Fg, n)
    nm_edges = E.edges[E.count > 2]
    # non-manifold vertices: more than one fan of corners
    comp = _corner_components(Fg, E)
    pairs = np.unique(np.column_stack([Fg.ravel(), comp]), axis=0)
    fans = np.bincount(pairs[:, 0], minlength=n)
    nm_verts = np.flatnonzero(fans > 1)
    # orientation of two-face edges
    tail, _ = _halfedge_ends(Fg)
    two = np.flatnonzero(E.count == 2)
    h1 = E.order[E.start[two]]
    h2 = E.order[E.start[two] + 1]
    same_dir = tail[h1] == tail[h2]
    inconsistent = E.edges[two[same_dir]]
    orientable = _orientable(Fg, E)
    # boundary loops
    loops = _boundary_loops(Fg, E, comp)
    # components of referenced vertices
    G = sp.coo_array((np.ones(len(E.edges)), (E.edges[:, 0], E.edges[:, 1])),
                     shape=(n, n)).tocsr()
    n_comp, labels = connected_components(G, directed=False)
    on_surface = np.zeros(n, dtype=bool)
    on_surface[Fg.ravel()] = True  # vertices only index-degenerate faces use do not count
    n_comp = len(np.unique(labels[on_surface]))
    chi = int(on_surface.sum()) - len(E.edges) + len(Fg)
    return MeshReport(n, nf, len(E.edges), nonfinite, oor, rep, zero, near, unref, dup_v,
                      dup_f, nm_edges, nm_verts, inconsistent, orientable, loops, n_comp, chi)


def _duplicate_rows(X: np.ndarray) -> np.ndarray:
    """Rows equal to an earlier row."""
    if X.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(X, axis=0, return_index=True, return_inverse=True)
    return np.flatnonzero(first[inverse.ravel()] != np.arange(X.shape[0]))


def _face_quality(V: np.ndarray, F: np.ndarray) -> np.ndarray:
    """``2 area / (sum of squared edge lengths)`` per face (0 for a flat face)."""
    from ._kernels import squared_lengths

    p0, p1, p2 = V[F[:, 0]], V[F[:, 1]], V[F[:, 2]]
    dbl = np.linalg.norm(np.cross(p1 - p0, p2 - p0), axis=1)
    s = squared_lengths(V, F).sum(axis=1)
    return np.divide(dbl, s, out=np.zeros_like(dbl), where=s > 0)


def _small_faces(V: np.ndarray, F: np.ndarray, area_rtol: float,
                 skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if F.shape[0] == 0 or not np.isfinite(V).all():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    q = _face_quality(V, F)
    zero = q <= ZERO_AREA_RTOL
    zero[skip] = False
    near = (q < area_rtol) & ~zero
    near[skip] = False
    return np.flatnonzero(zero), np.flatnonzero(near)


def _boundary_loops(F: np.ndarray, E: _Edges, comp: np.ndarray) -> list[np.ndarray]:
    """Boundary loops, walking boundary halfedges from fan to fan.

    At a vertex where several boundary loops meet (a bow tie), the walk continues
    with the boundary halfedge of the same fan of faces, so that the loops do not
    depend on the vertex numbering. A boundary that cannot be walked through (around
    a non-manifold edge, or where neighbouring faces disagree on orientation) comes
    out as open chains.
    """
    bh = np.flatnonzero(E.count[E.edge_of] == 1)
    if bh.size == 0:
        return []
    f, c = bh // 3, bh % 3
    c_tail, c_head = 3 * f + (c + 1) % 3, 3 * f + (c + 2) % 3
    tail, head = F.ravel()[c_tail], F.ravel()[c_head]
    K = np.int64(comp.max() + 1)
    key_out = tail * K + comp[c_tail]
    key_in = head * K + comp[c_head]
    order = np.argsort(key_out, kind="stable")
    ks = key_out[order]
    pos = np.minimum(np.searchsorted(ks, key_in), ks.size - 1)
    nxt = np.where(ks[pos] == key_in, order[pos], -1)
    walk, starts = _chains(nxt, tail, head)
    return [walk[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]


@njit(cache=True)
def _orient_bfs(nf, indptr, nbr, same):  # pragma: no cover - compiled
    """Flip flags making every neighbour pair traverse its shared edge oppositely.

    Returns the flags and whether that was possible (False: not orientable).
    """
    flip = np.full(nf, -1, dtype=np.int8)
    queue = np.empty(nf, dtype=np.int64)
    ok = True
    for s in range(nf):
        if flip[s] >= 0:
            continue
        flip[s] = 0
        head = 0
        tail = 0
        queue[tail] = s
        tail += 1
        while head < tail:
            f = queue[head]
            head += 1
            for p in range(indptr[f], indptr[f + 1]):
                g = nbr[p]
                want = flip[f] ^ same[p]
                if flip[g] < 0:
                    flip[g] = want
                    queue[tail] = g
                    tail += 1
                elif flip[g] != want:
                    ok = False
    return flip, ok


def _face_adjacency(F: np.ndarray, E: _Edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces across two-face edges, in CSR, with 1 where both traverse it alike."""
    tail, _ = _halfedge_ends(F)
    two = np.flatnonzero(E.count == 2)
    h1 = E.order[E.start[two]]
    h2 = E.order[E.start[two] + 1]
    same = (tail[h1] == tail[h2]).astype(np.int8)
    f1, f2 = h1 // 3, h2 // 3
    rows = np.concatenate([f1, f2])
    cols = np.concatenate([f2, f1])
    flags = np.concatenate([same, same])
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(F.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=F.shape[0]), out=indptr[1:])
    return indptr, cols[order], flags[order]


def _orientable(F: np.ndarray, E: _Edges) -> bool:
    indptr, nbr, same = _face_adjacency(F, E)
    return bool(_orient_bfs(F.shape[0], indptr, nbr, same)[1])


# ----------------------------------------------------------------------------- repairs


@dataclass(frozen=True)
class RepairedMesh:
    """A repaired mesh and how it maps to the input.

    Unpacks as ``vertices, faces = repaired``.

    Attributes
    ----------
    vertices : ndarray, shape (n', 3)
    faces : ndarray, shape (f', 3)
    vertex_map : ndarray, shape (n,)
        New index of every input vertex (``-1``: removed).
    face_index : ndarray, shape (f',)
        Input face each output face came from.
    message : str
        What was changed.
    """

    vertices: np.ndarray
    faces: np.ndarray
    vertex_map: np.ndarray
    face_index: np.ndarray
    message: str

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.vertices
        yield self.faces


def _checked_for_repair(vertices: Any, faces: Any) -> tuple[np.ndarray, np.ndarray]:
    V = _as_vertices(vertices)
    F = _as_faces(faces, V.shape[0], allow_repeated=True)
    return V, F


def remove_unreferenced(vertices: Any, faces: Any) -> RepairedMesh:
    """Drop vertices no face uses and renumber the faces."""
    V, F = _checked_for_repair(vertices, faces)
    used = np.zeros(V.shape[0], dtype=bool)
    used[F.ravel()] = True
    vmap = np.full(V.shape[0], -1, dtype=np.int64)
    vmap[used] = np.arange(int(used.sum()))
    k = V.shape[0] - int(used.sum())
    return RepairedMesh(V[used], vmap[F], vmap, np.arange(F.shape[0]),
                        f"removed {k} unreferenced vertices")


def weld_vertices(vertices: Any, faces: Any, *, tol: float = 0.0) -> RepairedMesh:
    """Merge vertices within distance ``tol`` (exactly equal positions for ``tol=0``).

    Each group of merged vertices keeps the position of its lowest-numbered member
    (groups are the connected components of the "distance <= tol" relation). Faces
    that welding collapses (a repeated vertex) are dropped and counted in the message.
    """
    tol = check_positive_real(tol, "tol", allow_zero=True)
    V, F = _checked_for_repair(vertices, faces)
    check_finite(V, "vertices", where=f"vertex {_first_nonfinite(V)}")
    n = V.shape[0]
    if tol == 0:
        _, first, inverse = np.unique(V, axis=0, return_index=True, return_inverse=True)
        rep = first[inverse.ravel()]
    else:
        from scipy.spatial import cKDTree

        pairs = cKDTree(V).query_pairs(tol, output_type="ndarray")
        G = sp.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, labels = connected_components(G.tocsr(), directed=False)
        first = np.full(labels.max() + 1, n, dtype=np.int64)
        np.minimum.at(first, labels, np.arange(n))
        rep = first[labels]
    keep = rep == np.arange(n)
    newid = np.cumsum(keep) - 1
    vmap = newid[rep]
    F2 = vmap[F]
    alive = (F2[:, 0] != F2[:, 1]) & (F2[:, 1] != F2[:, 2]) & (F2[:, 2] != F2[:, 0])
    msg = f"welded {n - int(keep.sum())} vertices"
    if not alive.all():
        msg += f"; dropped {int((~alive).sum())} faces that collapsed"
    return RepairedMesh(V[keep], F2[alive], vmap, np.flatnonzero(alive), msg)


def drop_degenerate_faces(vertices: Any, faces: Any, *,
                          area_rtol: float = ZERO_AREA_RTOL) -> RepairedMesh:
    """Drop faces that repeat a vertex or whose area is zero to ``area_rtol``.

    A face counts as zero-area when ``2 area <= area_rtol * s``, ``s`` the sum of its
    squared edge lengths. Vertices
    are left alone (some may become unreferenced: :func:`remove_unreferenced`).
    """
    area_rtol = check_positive_real(area_rtol, "area_rtol")
    V, F = _checked_for_repair(vertices, faces)
    check_finite(V, "vertices", where=f"vertex {_first_nonfinite(V)}")
    rep = (F[:, 0] == F[:, 1]) | (F[:, 1] == F[:, 2]) | (F[:, 2] == F[:, 0])
    bad = rep | (_face_quality(V, F) <= area_rtol)
    kept = np.flatnonzero(~bad)
    return RepairedMesh(V, F[kept], np.arange(V.shape[0]), kept,
                        f"dropped {int(bad.sum())} degenerate faces")


def remove_duplicate_faces(vertices: Any, faces: Any) -> RepairedMesh:
    """Keep the first of faces on the same vertex set (either orientation)."""
    V, F = _checked_for_repair(vertices, faces)
    dup = _duplicate_rows(np.sort(F, axis=1))
    kept = np.setdiff1d(np.arange(F.shape[0]), dup)
    return RepairedMesh(V, F[kept], np.arange(V.shape[0]), kept,
                        f"removed {dup.size} duplicate faces")


def orient_faces(vertices: Any, faces: Any) -> RepairedMesh:
    """Reverse faces so that neighbours traverse their shared edges oppositely.

    Each connected piece keeps the orientation of its lowest-numbered face. Edges on
    more than two faces do not constrain anything.

    Raises
    ------
    ValueError
        When the surface is not orientable (a Moebius strip).
    """
    V, F = validate_mesh(vertices, faces)
    E = edge_structure(F, V.shape[0])
    indptr, nbr, same = _face_adjacency(F, E)
    flip, ok = _orient_bfs(F.shape[0], indptr, nbr, same)
    if not ok:
        raise ValueError(
            "faces cannot be oriented consistently: the surface is not orientable "
            "(it contains a Moebius strip)"
        )
    F2 = F.copy()
    rev = flip == 1
    F2[rev] = F2[rev][:, ::-1]
    return RepairedMesh(V, F2, np.arange(V.shape[0]), np.arange(F.shape[0]),
                        f"reversed {int(rev.sum())} faces")


def warn_dropped(count: int, what: str) -> None:
    """Warn that a builder dropped something by the caller's explicit option."""
    warnings.warn(f"{count} {what}", RuntimeWarning, stacklevel=3)
