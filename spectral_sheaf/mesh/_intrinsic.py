"""Intrinsic Delaunay triangulations by edge flips on edge lengths.

The surface's metric is kept; only which geodesic edges triangulate it changes
(Bobenko and Springborn 2007; Sharp, Soliman and Crane 2019). Every flip makes a
non-Delaunay edge Delaunay and the process terminates, but it may take many flips on
bad meshes, so the work is bounded by a flip budget with a clear error or warning.
Input that flipping cannot survive (a zero-area face, a non-finite coordinate, an edge
on three faces) is rejected before any flip.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numba import njit

from .._validation import check_int, check_option, check_positive_real
from ._checks import (
    _face_adjacency,
    _orient_bfs,
    edge_structure,
    validate_mesh,
)
from ._kernels import _heron_double_area, length_cotangents, squared_lengths
from ._laplacian import MassKind, _from_lengths, _laplacian, _mass

__all__ = ["IntrinsicTriangulation", "intrinsic_delaunay", "intrinsic_delaunay_laplacian"]

#: Faces thinner than this (2 area / sum of squared lengths) are refused by
#: intrinsic_delaunay: Heron's formula gives areas to a relative accuracy of about
#: eps / quality, and flips compound it (a fan of slivers of quality 1e-9 came out of
#: flipping with negative areas). The same threshold as check_mesh's near-zero faces.
THIN_FACE_RTOL = 1e-8


@dataclass(frozen=True)
class IntrinsicTriangulation:
    """An intrinsic triangulation: faces over the input vertices and their edge lengths.

    Faces may repeat a vertex and two faces may share two vertices without sharing an
    edge (a Delta-complex); pass ``lengths`` and ``faces`` to
    :func:`cotangent_laplacian_from_lengths` and :func:`mass_matrix_from_lengths`.

    Attributes
    ----------
    faces : ndarray, shape (f, 3)
        Consistently oriented (each connected piece as its lowest-numbered input face).
    lengths : ndarray, shape (f, 3)
        Length of the edge opposite each corner.
    n_vertices : int
    n_flips : int
        Edge flips performed.
    is_delaunay : bool
        Every interior edge satisfies ``cot a + cot b >= -tol`` (False only when the
        flip budget ran out and ``on_budget="warn"``).
    """

    faces: np.ndarray
    lengths: np.ndarray
    n_vertices: int
    n_flips: int
    is_delaunay: bool


@njit(cache=True, error_model="numpy")
def _flip_to_delaunay(Fv, Lh, twin, max_flips, tol):  # pragma: no cover - compiled
    """Flip non-Delaunay edges until none is left or the budget runs out.

    Halfedge ``h = 3 f + c`` runs from ``Fv[f, c]`` to ``Fv[f, (c+1) % 3]`` and has
    length ``Lh[h]``; ``twin[h]`` is the opposite halfedge (``-1`` on the boundary).
    Returns the number of flips, whether the stack emptied, and how many edges were
    left unchecked because rounding made one of their faces flat.
    """
    nh = Lh.size
    # a stack of halfedges whose edges need a check; no dedup marks: a flip renumbers
    # the halfedges of its two faces, so a mark on an old number would be stale, and a
    # stale entry only costs a check of whatever edge the number denotes now
    stack = np.empty(max(nh, 16), dtype=np.int64)
    top = 0
    for h in range(nh):
        if twin[h] > h:
            stack[top] = h
            top += 1
    flips = 0
    skipped = 0
    old = np.empty(4, dtype=np.int64)
    new = np.empty(4, dtype=np.int64)
    old_tw = np.empty(4, dtype=np.int64)
    old_len = np.empty(4, dtype=np.float64)
    while top > 0:
        top -= 1
        h0 = stack[top]
        t0 = twin[h0]
        if t0 < 0:
            continue
        f = h0 // 3
        g = t0 // 3
        if f == g:
            continue
        c0 = h0 % 3
        d0 = t0 % 3
        h1 = 3 * f + (c0 + 1) % 3
        h2 = 3 * f + (c0 + 2) % 3
        t1 = 3 * g + (d0 + 1) % 3
        t2 = 3 * g + (d0 + 2) % 3
        l_ab = Lh[h0]
        l_bc = Lh[h1]
        l_ca = Lh[h2]
        l_ad = Lh[t1]
        l_db = Lh[t2]
        dbl_f = _heron_double_area(l_ab, l_bc, l_ca)
        dbl_g = _heron_double_area(l_ab, l_ad, l_db)
        if dbl_f <= 0.0 or dbl_g <= 0.0:
            skipped += 1  # rounding made a face flat: leave it rather than divide by 0
            continue
        ab2 = l_ab * l_ab
        cot_c = (l_bc * l_bc + l_ca * l_ca - ab2) / (2.0 * dbl_f)
        cot_d = (l_ad * l_ad + l_db * l_db - ab2) / (2.0 * dbl_g)
        if cot_c + cot_d >= -tol:
            continue
        if flips >= max_flips:
            return flips, False, skipped
        # lay the quad out in the plane: a = 0, b on the x axis, c above, d below
        cx = (ab2 + l_ca * l_ca - l_bc * l_bc) / (2.0 * l_ab)
        cy = dbl_f / l_ab
        dx = (ab2 + l_ad * l_ad - l_db * l_db) / (2.0 * l_ab)
        dy = -dbl_g / l_ab
        l_cd = np.sqrt((cx - dx) ** 2 + (cy - dy) ** 2)
        a = Fv[f, c0]
        b = Fv[f, (c0 + 1) % 3]
        c = Fv[f, (c0 + 2) % 3]
        d = Fv[g, (d0 + 2) % 3]
        old[0] = h2
        old[1] = t1
        old[2] = t2
        old[3] = h1
        new[0] = 3 * f
        new[1] = 3 * f + 1
        new[2] = 3 * g
        new[3] = 3 * g + 1
        for k in range(4):
            old_tw[k] = twin[old[k]]
            old_len[k] = Lh[old[k]]
        # face f = (c, a, d), face g = (d, b, c); the new edge is d->c in f, c->d in g
        Fv[f, 0] = c
        Fv[f, 1] = a
        Fv[f, 2] = d
        Fv[g, 0] = d
        Fv[g, 1] = b
        Fv[g, 2] = c
        for k in range(4):
            tw = old_tw[k]
            inside = False
            for m in range(4):
                if tw == old[m]:
                    tw = new[m]
                    inside = True
                    break
            if not inside and tw >= 0:
                twin[tw] = new[k]
            twin[new[k]] = tw
            Lh[new[k]] = old_len[k]
        twin[3 * f + 2] = 3 * g + 2
        twin[3 * g + 2] = 3 * f + 2
        Lh[3 * f + 2] = l_cd
        Lh[3 * g + 2] = l_cd
        flips += 1
        if top + 4 > stack.size:
            grown = np.empty(2 * stack.size, dtype=np.int64)
            grown[:top] = stack[:top]
            stack = grown
        for k in range(4):
            if twin[new[k]] >= 0:
                stack[top] = new[k]
                top += 1
    return flips, True, skipped


@njit(cache=True)
def _match_twins(F, n):  # pragma: no cover - compiled
    """Twins of halfedges ``3 f + c: F[f, c] -> F[f, (c+1) % 3]`` by vertex buckets.

    Returns the twins (-1 on the boundary), the number of edges, and the numbers of
    halfedges on a non-manifold edge (more than two faces) and of halfedges whose
    neighbour runs the same way (inconsistent orientation); twins are only meaningful
    when both are zero.
    """
    nh = 3 * F.shape[0]
    start = np.zeros(n + 1, dtype=np.int64)
    for h in range(nh):
        start[F[h // 3, h % 3] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    out = np.empty(nh, dtype=np.int64)  # halfedges by tail vertex
    fill = start[:-1].copy()
    for h in range(nh):
        u = F[h // 3, h % 3]
        out[fill[u]] = h
        fill[u] += 1
    twin = np.full(nh, -1, dtype=np.int64)
    nonmanifold = 0
    inconsistent = 0
    n_edges = 0
    for h in range(nh):
        u = F[h // 3, h % 3]
        v = F[h // 3, (h % 3 + 1) % 3]
        opposite = 0
        for p in range(start[v], start[v + 1]):
            g = out[p]
            if F[g // 3, (g % 3 + 1) % 3] == u:
                opposite += 1
                twin[h] = g
        alike = 0
        first_alike = nh
        for p in range(start[u], start[u + 1]):
            g = out[p]
            if g != h and F[g // 3, (g % 3 + 1) % 3] == v:
                alike += 1
                first_alike = min(first_alike, g)
        if opposite + alike > 1:
            nonmanifold += 1
        elif alike == 1:
            inconsistent += 1
        # count each edge once: at its smaller halfedge, or alone on the boundary
        if (opposite + alike == 0 or (opposite == 1 and twin[h] > h)
                or (alike == 1 and first_alike > h)):
            n_edges += 1
    return twin, n_edges, nonmanifold, inconsistent


def intrinsic_delaunay(
    vertices: Any,
    faces: Any,
    *,
    max_flips: int | None = None,
    on_budget: Literal["raise", "warn"] = "raise",
    tol: float = 1e-12,
) -> IntrinsicTriangulation:
    """Intrinsic Delaunay triangulation of a triangle mesh by edge flips.

    Parameters
    ----------
    vertices : array, shape (n, 3) or (n, 2)
    faces : array of int, shape (f, 3)
        Edge-manifold (no edge on more than two faces) and orientable; faces need
        not be consistently oriented (they are oriented first).
    max_flips : int, optional
        Flip budget (default ``10 * edges + 1000``).
    on_budget : {"raise", "warn"}
        When the budget runs out: raise ``RuntimeError``, or warn and return the
        triangulation reached (``is_delaunay=False``).
    tol : float
        An edge counts as Delaunay when ``cot a + cot b >= -tol``.

    Returns
    -------
    IntrinsicTriangulation

    Raises
    ------
    ValueError
        Everything :func:`validate_mesh` rejects; faces with ``2 area <= 1e-8 x (sum
        of squared edge lengths)`` (what :func:`check_mesh` reports as near-zero-area),
        whose areas from lengths are too inaccurate to flip (remove them with
        ``drop_degenerate_faces(..., area_rtol=1e-8)`` first);
        edges on more than two faces; a non-orientable surface.
    """
    check_option(on_budget, "on_budget", ("raise", "warn"))
    tol = check_positive_real(tol, "tol", allow_zero=True)
    V, F = validate_mesh(vertices, faces)
    n = V.shape[0]
    l2 = squared_lengths(V, F)
    ell = np.sqrt(l2)
    # flipping works on lengths: a face must keep a trustworthy area from its lengths
    # alone (Heron loses about eps / quality relative accuracy on slivers)
    # (both areas: Heron's from the rounded lengths of a flat face is ~sqrt(eps) s)
    _, dbl = length_cotangents(ell)
    cross = np.linalg.norm(np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]]),
                           axis=1)
    s = l2.sum(axis=1)
    thin = ~(dbl > THIN_FACE_RTOL * s) | ~(cross > THIN_FACE_RTOL * s)
    if thin.any():
        row = int(np.flatnonzero(thin)[0])
        raise ValueError(
            f"faces must not be (near-)degenerate for intrinsic_delaunay; got "
            f"{int(thin.sum())} faces with 2 area <= {THIN_FACE_RTOL:g} x (sum of squared "
            f"edge lengths), where areas from edge lengths are rounding noise (first: "
            f"face {row} = {F[row].tolist()}). Remove them with "
            f"drop_degenerate_faces(vertices, faces, area_rtol={THIN_FACE_RTOL:g})."
        )
    twin, n_edges, nonmanifold, inconsistent = _match_twins(F, n)
    if nonmanifold:
        E = edge_structure(F, n)
        bad = E.edges[E.count > 2]
        raise ValueError(
            f"faces must be edge-manifold for intrinsic_delaunay; got {len(bad)} edges on "
            f"more than two faces (first: {bad[0].tolist()}). cotangent_laplacian accepts "
            "non-manifold meshes."
        )
    if max_flips is None:
        max_flips = 10 * n_edges + 1000
    max_flips = check_int(max_flips, "max_flips", minimum=0)
    F = F.copy()
    if inconsistent:
        E = edge_structure(F, n)
        indptr, nbr, same = _face_adjacency(F, E)
        flip, ok = _orient_bfs(F.shape[0], indptr, nbr, same)
        if not ok:
            raise ValueError(
                "faces must describe an orientable surface for intrinsic_delaunay; got a "
                "non-orientable one (a Moebius strip)"
            )
        rev = flip == 1
        F[rev] = F[rev][:, ::-1]
        ell[rev] = ell[rev][:, ::-1]
        twin = _match_twins(F, n)[0]
    # halfedge 3f+c runs corner c -> c+1, opposite corner c+2
    Lh = np.ascontiguousarray(ell[:, [2, 0, 1]]).ravel()
    n_flips, done, skipped = _flip_to_delaunay(F, Lh, twin, max_flips, tol)
    if not done:
        msg = (
            f"intrinsic_delaunay stopped after max_flips={max_flips} flips with "
            "non-Delaunay edges left; raise max_flips, or pass on_budget='warn' to "
            "use the triangulation reached"
        )
        if on_budget == "raise":
            raise RuntimeError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    lengths = Lh.reshape(-1, 3)[:, [1, 2, 0]]
    if skipped:
        warnings.warn(
            f"intrinsic_delaunay left {skipped} edge checks undone where rounding made a "
            "face flat; the result may not be Delaunay there", RuntimeWarning, stacklevel=2)
    return IntrinsicTriangulation(F, np.ascontiguousarray(lengths), n, int(n_flips),
                                  bool(done and not skipped))


def intrinsic_delaunay_laplacian(
    vertices: Any,
    faces: Any,
    *,
    mass: MassKind = "voronoi",
    max_flips: int | None = None,
    on_budget: Literal["raise", "warn"] = "raise",
    unreferenced: Literal["raise", "isolate"] = "raise",
) -> tuple[sp.csr_array, sp.csr_array]:
    """Cotangent Laplacian and mass matrix of the intrinsic Delaunay triangulation.

    Its off-diagonal entries are non-positive on every interior edge (the weights are
    non-negative), so it satisfies a maximum principle on any input mesh; on a mesh
    that is already Delaunay it equals :func:`cotangent_laplacian`.

    Parameters
    ----------
    vertices, faces, max_flips, on_budget
        As in :func:`intrinsic_delaunay`.
    mass : {"voronoi", "barycentric", "full"}
        Mass matrix of the intrinsic triangulation (:func:`mass_matrix`).
    unreferenced : {"raise", "isolate"}
        As in :func:`cotangent_laplacian`.

    Returns
    -------
    L, M : scipy.sparse.csr_array, shape (n, n)
    """
    tri = intrinsic_delaunay(vertices, faces, max_flips=max_flips, on_budget=on_budget)
    check_option(unreferenced, "unreferenced", ("raise", "isolate"))
    g = _from_lengths(tri.faces, tri.lengths, tri.n_vertices, "raise", unreferenced)
    return _laplacian(g), _mass(g, mass)
