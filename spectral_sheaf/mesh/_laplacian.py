"""Cotangent Laplacian and mass matrices of triangle meshes, extrinsic and intrinsic.

Sign convention: our Laplacian is positive semi-definite, ``L = D - W`` with
``W_ij = (cot a_ij + cot b_ij) / 2`` summed over the faces on edge ``ij``; libigl's
``cotmatrix`` is ``-L``. A boundary gets the natural (Neumann) condition.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import as_csr, as_index_array, check_int, check_option, check_square
from ._checks import (
    ZERO_AREA_RTOL,
    _as_faces,
    as_lengths,
    validate_mesh,
    warn_dropped,
)
from ._kernels import (
    assemble_face_matrix,
    corner_sums,
    face_cotangents,
    length_cotangents,
    squared_lengths,
    voronoi_corner_areas,
)

__all__ = [
    "cotangent_laplacian",
    "cotangent_laplacian_from_lengths",
    "edge_lengths",
    "face_areas",
    "mass_matrix",
    "mass_matrix_from_lengths",
    "mass_normalized_laplacian",
]

MassKind = Literal["voronoi", "barycentric", "full"]
_MASS_KINDS = ("voronoi", "barycentric", "full")


class _Geometry:
    """Per-face cotangents, doubled areas and the faces they belong to (after checks)."""

    def __init__(self, F: np.ndarray, cot: np.ndarray, dbl: np.ndarray, n: int,
                 isolated: np.ndarray, l2: np.ndarray | None) -> None:
        self.F = F
        self.cot = cot
        self.dbl = dbl
        self.n = n
        self.isolated = isolated  # unreferenced vertices to give zero rows / unit mass
        self._l2 = l2
        self._V: np.ndarray | None = None

    def l2(self) -> np.ndarray:
        if self._l2 is None:
            self._l2 = squared_lengths(self._V, self.F)
        return self._l2


def _screen(F: np.ndarray, cot: np.ndarray, dbl: np.ndarray, n: int, degenerate: str,
            unreferenced: str, l2: np.ndarray | None) -> _Geometry:
    """Apply the zero-area and unreferenced-vertex policies."""
    # sum of the corner cotangents = (sum of squared edge lengths) / (2 * doubled area)
    with np.errstate(invalid="ignore"):
        s = cot.sum(axis=1)
    # (a negative or NaN doubled area: lengths that rounding makes violate the
    # triangle inequality)
    bad = ~(s < 0.5 / ZERO_AREA_RTOL) | ~(dbl > 0)
    if bad.any():
        nbad = int(bad.sum())
        if degenerate == "raise":
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"faces must have non-zero area; got {nbad} zero-area faces (first: face "
                f"{row} = {F[row].tolist()}). Remove them with drop_degenerate_faces, or "
                "pass degenerate='drop'."
            )
        warn_dropped(nbad, "zero-area faces dropped (degenerate='drop')")
        keep = ~bad
        F, cot, dbl = F[keep], cot[keep], dbl[keep]
        l2 = None if l2 is None else l2[keep]
        if F.shape[0] == 0:
            raise ValueError("faces must hold at least one face of non-zero area; got none")
    used = np.zeros(n, dtype=bool)
    used[F.ravel()] = True
    isolated = np.flatnonzero(~used)
    if isolated.size and unreferenced == "raise":
        raise ValueError(
            f"vertices must all be used by a face; got {isolated.size} unreferenced "
            f"vertices (first: {int(isolated[0])}). Remove them with remove_unreferenced, "
            "or pass unreferenced='isolate' (zero Laplacian rows and unit mass)."
        )
    return _Geometry(np.ascontiguousarray(F), np.ascontiguousarray(cot), dbl, n, isolated, l2)


def _options(degenerate: str, unreferenced: str) -> None:
    check_option(degenerate, "degenerate", ("raise", "drop"))
    check_option(unreferenced, "unreferenced", ("raise", "isolate"))


def _extrinsic(vertices: Any, faces: Any, degenerate: str, unreferenced: str) -> _Geometry:
    _options(degenerate, unreferenced)
    V, F = validate_mesh(vertices, faces)
    with np.errstate(divide="ignore", invalid="ignore"):
        cot, dbl = face_cotangents(V, F)
    g = _screen(F, cot, dbl, V.shape[0], degenerate, unreferenced, None)
    g._V = V
    return g


def _intrinsic(lengths: Any, faces: Any, n_vertices: int | None, degenerate: str,
               unreferenced: str) -> _Geometry:
    _options(degenerate, unreferenced)
    F0 = as_index_array(faces, "faces")
    if n_vertices is None:
        n = max(int(F0.max()) + 1, 1) if F0.size else 1
    else:
        n = check_int(n_vertices, "n_vertices", minimum=1)
    F = _as_faces(F0, n, allow_repeated=True)
    return _from_lengths(F, as_lengths(lengths, F), n, degenerate, unreferenced)


def _from_lengths(F: np.ndarray, ell: np.ndarray, n: int, degenerate: str,
                  unreferenced: str) -> _Geometry:
    """Geometry of checked faces and lengths."""
    cot, dbl = length_cotangents(ell)
    return _screen(F, cot, dbl, n, degenerate, unreferenced, ell * ell)


def _laplacian(g: _Geometry) -> sp.csr_array:
    w = 0.5 * g.cot
    diag = w[:, [1, 2, 0]] + w[:, [2, 0, 1]]
    indptr, indices, data = assemble_face_matrix(g.F, -w, diag, g.n)
    return sp.csr_array((data, indices, indptr), shape=(g.n, g.n))


def _mass(g: _Geometry, kind: str) -> sp.csr_array:
    check_option(kind, "kind", _MASS_KINDS)
    if kind == "full":
        off = g.dbl[:, None] / 24.0 * np.ones((1, 3))
        indptr, indices, data = assemble_face_matrix(g.F, off, 2.0 * off, g.n)
        if g.isolated.size:
            data[indptr[g.isolated]] = 1.0  # the diagonal comes first in an empty row
        return sp.csr_array((data, indices, indptr), shape=(g.n, g.n))
    if kind == "barycentric":
        corner = np.repeat(g.dbl[:, None] / 6.0, 3, axis=1)
    else:
        corner = voronoi_corner_areas(g.cot, g.dbl, g.l2())
    m = corner_sums(g.F, corner, g.n)
    m[g.isolated] = 1.0
    # the diagonal CSR written directly (diags_array(..., format="csr") goes through DIA:
    # a fifth of the intrinsic Delaunay Laplacian's time on a 1.3k-face mesh)
    diag = np.arange(g.n + 1, dtype=np.int32)
    return sp.csr_array((m, diag[:-1], diag), shape=(g.n, g.n))


def cotangent_laplacian(
    vertices: Any,
    faces: Any,
    *,
    degenerate: Literal["raise", "drop"] = "raise",
    unreferenced: Literal["raise", "isolate"] = "raise",
) -> sp.csr_array:
    """Cotangent Laplacian of a triangle mesh (positive semi-definite).

    ``L_ij = -(cot a_ij + cot b_ij) / 2`` for an edge ``ij`` with opposite angles
    ``a_ij``, ``b_ij`` (one on a boundary edge), ``L_ii = -sum_j L_ij``. This is the
    stiffness matrix of linear finite elements, with natural (Neumann) boundary
    conditions. libigl's ``cotmatrix`` returns ``-L``.

    Parameters
    ----------
    vertices : array, shape (n, 3) or (n, 2)
    faces : array of int, shape (f, 3)
    degenerate : {"raise", "drop"}
        Zero-area faces (cotangents undefined): raise with the repair to call, or drop
        them with a warning.
    unreferenced : {"raise", "isolate"}
        Vertices no face uses: raise, or give them zero rows (and unit mass in
        :func:`mass_matrix`, so that ``L x = lambda M x`` stays well-posed).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n), float64
        Symmetric, rows summing to zero, a diagonal entry in every row.

    Raises
    ------
    ValueError
        Bad shapes, an empty mesh, a non-finite coordinate, an index out of range, a
        face repeating a vertex; zero-area faces or unreferenced vertices under the
        default options.

    Examples
    --------
    >>> import numpy as np
    >>> from spectral_sheaf.mesh import cotangent_laplacian
    >>> V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    >>> cotangent_laplacian(V, [[0, 1, 2]]).toarray()
    array([[ 1. , -0.5, -0.5],
           [-0.5,  0.5,  0. ],
           [-0.5,  0. ,  0.5]])
    """
    return _laplacian(_extrinsic(vertices, faces, degenerate, unreferenced))


def mass_matrix(
    vertices: Any,
    faces: Any,
    *,
    kind: MassKind = "voronoi",
    degenerate: Literal["raise", "drop"] = "raise",
    unreferenced: Literal["raise", "isolate"] = "raise",
) -> sp.csr_array:
    """Mass matrix of a triangle mesh.

    Parameters
    ----------
    vertices, faces, degenerate, unreferenced
        As in :func:`cotangent_laplacian`.
    kind : {"voronoi", "barycentric", "full"}
        ``"voronoi"``: diagonal, the mixed Voronoi areas of Meyer et al. (2003),
        correct for obtuse triangles (libigl's ``MASSMATRIX_TYPE_VORONOI``).
        ``"barycentric"``: diagonal, a third of the area of each incident face.
        ``"full"``: the consistent linear finite-element mass matrix (``area/6`` on the
        diagonal and ``area/12`` off it, per face).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n), float64
        Its entries sum to the surface area (plus one per isolated vertex).
    """
    return _mass(_extrinsic(vertices, faces, degenerate, unreferenced), kind)


def cotangent_laplacian_from_lengths(
    lengths: Any,
    faces: Any,
    *,
    n_vertices: int | None = None,
    degenerate: Literal["raise", "drop"] = "raise",
    unreferenced: Literal["raise", "isolate"] = "raise",
) -> sp.csr_array:
    """Cotangent Laplacian from edge lengths alone (intrinsic geometry).

    Parameters
    ----------
    lengths : array, shape (f, 3)
        ``lengths[f, c]`` is the length of the edge opposite corner ``c`` of face ``f``
        (libigl's ``edge_lengths`` order); every face must satisfy the triangle
        inequality. Areas come from Heron's formula (Kahan's stable form), whose
        relative error grows like ``eps / q`` for a face of quality
        ``q = 2 area / (sum of squared lengths)``: slivers lose digits, which the
        positional :func:`cotangent_laplacian` does not.
    faces : array of int, shape (f, 3)
        Faces may repeat a vertex (the Delta-complexes that intrinsic triangulations
        produce, :func:`intrinsic_delaunay`).
    n_vertices : int, optional
        Number of vertices (default: the largest index plus one).
    degenerate, unreferenced
        As in :func:`cotangent_laplacian`.

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n)
    """
    return _laplacian(_intrinsic(lengths, faces, n_vertices, degenerate, unreferenced))


def mass_matrix_from_lengths(
    lengths: Any,
    faces: Any,
    *,
    kind: MassKind = "voronoi",
    n_vertices: int | None = None,
    degenerate: Literal["raise", "drop"] = "raise",
    unreferenced: Literal["raise", "isolate"] = "raise",
) -> sp.csr_array:
    """Mass matrix from edge lengths alone; options as :func:`mass_matrix`."""
    g = _intrinsic(lengths, faces, n_vertices, degenerate, unreferenced)
    return _mass(g, kind)


def edge_lengths(vertices: Any, faces: Any) -> np.ndarray:
    """Length of the edge opposite each corner, shape (f, 3)."""
    V, F = validate_mesh(vertices, faces)
    return np.sqrt(squared_lengths(V, F))


def face_areas(vertices: Any, faces: Any) -> np.ndarray:
    """Area of every face, shape (f,)."""
    V, F = validate_mesh(vertices, faces)
    return 0.5 * face_cotangents(V, F)[1]


def mass_normalized_laplacian(
    L: Any, M: Any, *, form: Literal["array", "lo"] = "array"
) -> sp.csr_array | LinearOperator:
    """``M^{-1/2} L M^{-1/2}`` for a diagonal (lumped) mass ``M``.

    Its eigenvalues are those of ``L x = lambda M x``, and eigenvectors ``y`` map back as
    ``x = M^{-1/2} y``: an ordinary symmetric problem for solvers that take no mass.

    Parameters
    ----------
    L : sparse or dense, shape (n, n)
    M : sparse or dense, shape (n, n)
        Diagonal with positive entries (``mass_matrix(kind="voronoi")`` or
        ``"barycentric"``).
    form : {"array", "lo"}
        A ``csr_array``, or a ``LinearOperator`` that scales on the fly.
    """
    check_option(form, "form", ("array", "lo"))
    Lc = as_csr(L, "L", dtype=np.float64)
    n = check_square(Lc, "L")
    Mc = as_csr(M, "M", dtype=np.float64)
    if Mc.shape != (n, n):
        raise ValueError(f"M must have the shape of L {(n, n)}; got {Mc.shape}")
    m = Mc.diagonal()
    n_off = sp.triu(Mc, k=1).count_nonzero() + sp.tril(Mc, k=-1).count_nonzero()
    if n_off:
        raise ValueError(
            "M must be diagonal (a lumped mass: kind='voronoi' or 'barycentric'); got "
            f"{n_off} non-zero entries off the diagonal"
        )
    if not (m > 0).all():
        raise ValueError(
            f"M must have a positive diagonal; got {int((m <= 0).sum())} entries <= 0 "
            "(unreferenced vertices? pass unreferenced='isolate' when building M)"
        )
    s = 1.0 / np.sqrt(m)
    if form == "array":
        S = sp.diags_array(s, format="csr")
        return (S @ Lc @ S).tocsr()

    def mv(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 1:
            return s * (Lc @ (s * x))
        return s[:, None] * (Lc @ (s[:, None] * x))

    return LinearOperator((n, n), matvec=mv, matmat=mv, rmatvec=mv, dtype=np.float64)
