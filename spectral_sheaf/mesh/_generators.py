"""Meshes with known spectra: geodesic icospheres, rectangles, disks."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_positive_real
from ._checks import weld_vertices

__all__ = ["disk_mesh", "icosahedron", "icosphere", "rectangle_mesh"]


def icosahedron() -> tuple[np.ndarray, np.ndarray]:
    """The regular icosahedron inscribed in the unit sphere, outward-oriented faces."""
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


def _lattice(nu: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Barycentric lattice of one triangle split into ``nu^2`` triangles.

    Returns the weights (points, 3) and the local faces (nu^2, 3), counterclockwise
    when the corners are.
    """
    i, j = np.meshgrid(np.arange(nu + 1), np.arange(nu + 1), indexing="ij")
    keep = i + j <= nu
    i, j = i[keep], j[keep]
    W = np.column_stack([nu - i - j, i, j]) / nu
    index = -np.ones((nu + 2, nu + 2), dtype=np.int64)
    index[i, j] = np.arange(i.size)
    # up triangles (i, j), (i+1, j), (i, j+1); down (i+1, j), (i+1, j+1), (i, j+1)
    up = (i + j) < nu
    ui, uj = i[up], j[up]
    faces = [np.column_stack([index[ui, uj], index[ui + 1, uj], index[ui, uj + 1]])]
    dn = (i + j) < nu - 1
    di, dj = i[dn], j[dn]
    faces.append(
        np.column_stack([index[di + 1, dj], index[di + 1, dj + 1], index[di, dj + 1]])
    )
    return W, np.concatenate(faces), index


def icosphere(frequency: int = 8, *, radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic icosphere: every icosahedron edge split in ``frequency`` parts (class I).

    The ``20 * frequency^2`` faces are projected onto the sphere; doubling the
    frequency halves the mesh size ``h``. Frequencies 45, 90 and 180 give about 40k,
    160k and 650k faces.

    Parameters
    ----------
    frequency : int
        Subdivisions per icosahedron edge, at least 1.
    radius : float

    Returns
    -------
    vertices : ndarray, shape (10 frequency^2 + 2, 3)
    faces : ndarray, shape (20 frequency^2, 3)
        Outward-oriented.
    """
    nu = check_int(frequency, "frequency", minimum=1)
    radius = check_positive_real(radius, "radius")
    V0, F0 = icosahedron()
    W, local, _ = _lattice(nu)
    corners = V0[F0]  # (20, 3, 3)
    P = np.einsum("pk,fkd->fpd", W, corners).reshape(-1, 3)
    F = (local[None, :, :] + (np.arange(20) * W.shape[0])[:, None, None]).reshape(-1, 3)
    # points on shared icosahedron edges appear twice: weld them (lattice spacing ~1/nu)
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    V, F = weld_vertices(P, F, tol=0.1 / nu)
    return radius * V, F


def rectangle_mesh(nx: int, ny: int, *, width: float = 1.0,
                   height: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The rectangle ``[0, width] x [0, height]`` cut into ``2 nx ny`` right triangles.

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
    """A Delaunay triangulation of the disk: ``n_boundary`` points on the circle and a
    hexagonal lattice of about the same spacing inside, counterclockwise faces."""
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
