"""Meshes with known spectra: geodesic icospheres, rectangles, disks."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive_real

__all__ = ["disk_mesh", "icosahedron", "icosphere", "rectangle_mesh"]


def icosahedron() -> tuple[np.ndarray, np.ndarray]:
    """Return the regular icosahedron in the unit sphere, faces oriented outward."""
    p = (1.0 + np.sqrt(5.0)) / 2.0
    V = np.array([
        [-1, p, 0], [1, p, 0], [-1, -p, 0], [1, -p, 0],
        [0, -1, p], [0, 1, p], [0, -1, -p], [0, 1, -p],
        [p, 0, -1], [p, 0, 1], [-p, 0, -1], [-p, 0, 1],
    ], dtype=np.float64)
    V /= np.linalg.norm(V, axis=1, keepdims=True)
    F = np.array([
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ], dtype=np.int64)
    return V, F


def icosphere(subdivisions: int = 3, *, radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic icosphere: the icosahedron subdivided ``subdivisions`` times.

    Each time, every triangle is split into four at its edge midpoints, which are
    pushed onto the sphere.
    Each level halves the mesh size ``h``: levels 6, 7 and 8 have 40962, 163842 and
    655362 vertices (81920, 327680 and 1310720 faces).

    Parameters
    ----------
    subdivisions : int
        At least 0 (the icosahedron itself).
    radius : float

    Returns
    -------
    vertices : ndarray, shape (10 * 4**subdivisions + 2, 3)
    faces : ndarray, shape (20 * 4**subdivisions, 3)
        Outward-oriented.
    """
    levels = check_int(subdivisions, "subdivisions", minimum=0)
    if levels > 10:
        raise ValueError(
            f"subdivisions must be at most 10 (20 * 4**10 = 21 million faces); got {levels}"
        )
    radius = check_positive_real(radius, "radius")
    V, F = icosahedron()
    for _ in range(levels):
        # edge opposite each corner, as a sorted pair; midpoints numbered after V
        a = F[:, [1, 2, 0]]
        b = F[:, [2, 0, 1]]
        key = np.minimum(a, b) * np.int64(len(V)) + np.maximum(a, b)
        _, first, inverse = np.unique(key.ravel(), return_index=True, return_inverse=True)
        mid = len(V) + inverse.reshape(-1, 3)
        P = V[a.ravel()[first]] + V[b.ravel()[first]]
        V = np.concatenate([V, P / np.linalg.norm(P, axis=1, keepdims=True)])
        v0, v1, v2 = F[:, 0], F[:, 1], F[:, 2]
        m0, m1, m2 = mid[:, 0], mid[:, 1], mid[:, 2]
        F = np.concatenate([
            np.column_stack([v0, m2, m1]),
            np.column_stack([v1, m0, m2]),
            np.column_stack([v2, m1, m0]),
            np.column_stack([m0, m1, m2]),
        ])
    return radius * V, np.ascontiguousarray(F)


def rectangle_mesh(nx: int, ny: int, *, width: float = 1.0,
                   height: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Cut the rectangle ``[0, width] x [0, height]`` into ``2 nx ny`` right triangles.

    Every cell is split along the same diagonal (a Delaunay triangulation: the two
    angles opposite each diagonal are right angles). Vertices are planar, ``z = 0``.
    """
    nx = check_int(nx, "nx", minimum=1)
    ny = check_int(ny, "ny", minimum=1)
    width = check_positive_real(width, "width")
    height = check_positive_real(height, "height")
    x, y = np.meshgrid(np.linspace(0, width, nx + 1), np.linspace(0, height, ny + 1),
                       indexing="ij")
    V = np.column_stack([x.ravel(), y.ravel(), np.zeros(x.size)])
    idx = np.arange((nx + 1) * (ny + 1)).reshape(nx + 1, ny + 1)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    F = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    return V, F


def disk_mesh(n_boundary: int = 64, *, radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Delaunay-triangulate the disk: points on the circle and a lattice inside.

    ``n_boundary`` points on the circle and a hexagonal lattice of about the same
    spacing inside; faces counterclockwise.
    """
    from scipy.spatial import Delaunay

    m = check_int(n_boundary, "n_boundary", minimum=6)
    radius = check_positive_real(radius, "radius")
    h = 2 * np.pi / m
    k = int(np.ceil(1.0 / h)) + 1
    i, j = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    x = h * (i + 0.5 * j).ravel()
    y = h * (np.sqrt(3) / 2 * j).ravel()
    inside = np.hypot(x, y) < 1.0 - 0.5 * h
    t = 2 * np.pi * np.arange(m) / m
    P = np.concatenate([np.column_stack([np.cos(t), np.sin(t)]),
                        np.column_stack([x[inside], y[inside]])])
    F = Delaunay(P).simplices.astype(np.int64)
    e1 = P[F[:, 1]] - P[F[:, 0]]
    e2 = P[F[:, 2]] - P[F[:, 0]]
    cw = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0] < 0
    F[cw] = F[cw][:, ::-1]
    V = np.column_stack([radius * P, np.zeros(len(P))])
    return V, np.ascontiguousarray(F)
