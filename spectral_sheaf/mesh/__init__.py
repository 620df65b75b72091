"""Triangle meshes: reading, checks and repair, cotangent Laplacians, mass matrices.

Reading and writing
    read_mesh, write_mesh
Checks and repairs
    validate_mesh, check_mesh, MeshReport, remove_unreferenced, weld_vertices,
    drop_degenerate_faces, remove_duplicate_faces, orient_faces, RepairedMesh
Operators
    cotangent_laplacian, mass_matrix, cotangent_laplacian_from_lengths,
    mass_matrix_from_lengths, mass_normalized_laplacian, edge_lengths, face_areas
Intrinsic Delaunay
    intrinsic_delaunay, intrinsic_delaunay_laplacian, IntrinsicTriangulation
Generators
    icosahedron, icosphere, rectangle_mesh, disk_mesh

Arrays: ``vertices (n, 3)`` float64 and ``faces (f, 3)`` int64, zero-based. Laplacians
are positive semi-definite (libigl's ``cotmatrix`` is the negative of ours). The
Laplace-Beltrami eigenbasis and the heat kernel signature are in
:mod:`spectral_sheaf.analysis` (they need :mod:`spectral_sheaf.spectral`, which sits
below this package).
"""

from ._checks import (
    MeshReport,
    RepairedMesh,
    check_mesh,
    drop_degenerate_faces,
    orient_faces,
    remove_duplicate_faces,
    remove_unreferenced,
    validate_mesh,
    weld_vertices,
)
from ._generators import disk_mesh, icosahedron, icosphere, rectangle_mesh
from ._intrinsic import IntrinsicTriangulation, intrinsic_delaunay, intrinsic_delaunay_laplacian
from ._io import read_mesh, write_mesh
from ._laplacian import (
    cotangent_laplacian,
    cotangent_laplacian_from_lengths,
    edge_lengths,
    face_areas,
    mass_matrix,
    mass_matrix_from_lengths,
    mass_normalized_laplacian,
)

__all__ = [
    "IntrinsicTriangulation",
    "MeshReport",
    "RepairedMesh",
    "check_mesh",
    "cotangent_laplacian",
    "cotangent_laplacian_from_lengths",
    "disk_mesh",
    "drop_degenerate_faces",
    "edge_lengths",
    "face_areas",
    "icosahedron",
    "icosphere",
    "intrinsic_delaunay",
    "intrinsic_delaunay_laplacian",
    "mass_matrix",
    "mass_matrix_from_lengths",
    "mass_normalized_laplacian",
    "orient_faces",
    "read_mesh",
    "rectangle_mesh",
    "remove_duplicate_faces",
    "remove_unreferenced",
    "validate_mesh",
    "weld_vertices",
    "write_mesh",
]
