"""Cellular sheaves on graphs: restriction maps, coboundary, Laplacians, cohomology.

Container
    Sheaf
Builders
    constant_sheaf, weighted_sheaf, diagonal_sheaf, orthogonal_sheaf, general_sheaf,
    random_sheaf, sheaf_edges
Orthogonal parametrisations (with vector-Jacobian products)
    householder, householder_vjp, cayley, cayley_vjp, expm_skew, expm_skew_vjp,
    rotation_2d, rotation_2d_vjp, skew_from_params
Operators
    coboundary, sheaf_laplacian, block_degree, normalization_blocks,
    sheaf_dirichlet_energy
Cohomology
    harmonic_space, HarmonicSpace, cohomology_dimensions, harmonic_projection
"""

from ._builders import (
    constant_sheaf,
    diagonal_sheaf,
    general_sheaf,
    orthogonal_sheaf,
    random_sheaf,
    sheaf_edges,
    weighted_sheaf,
)
from ._cohomology import HarmonicSpace, cohomology_dimensions, harmonic_projection, harmonic_space
from ._laplacian import (
    block_degree,
    coboundary,
    normalization_blocks,
    sheaf_dirichlet_energy,
    sheaf_laplacian,
)
from ._orthogonal import (
    cayley,
    cayley_vjp,
    expm_skew,
    expm_skew_vjp,
    householder,
    householder_vjp,
    rotation_2d,
    rotation_2d_vjp,
    skew_from_params,
)
from ._sheaf import Sheaf

__all__ = [
    "HarmonicSpace",
    "Sheaf",
    "block_degree",
    "cayley",
    "cayley_vjp",
    "coboundary",
    "cohomology_dimensions",
    "constant_sheaf",
    "diagonal_sheaf",
    "expm_skew",
    "expm_skew_vjp",
    "general_sheaf",
    "harmonic_projection",
    "harmonic_space",
    "householder",
    "householder_vjp",
    "normalization_blocks",
    "orthogonal_sheaf",
    "random_sheaf",
    "rotation_2d",
    "rotation_2d_vjp",
    "sheaf_dirichlet_energy",
    "sheaf_edges",
    "sheaf_laplacian",
    "skew_from_params",
    "weighted_sheaf",
]
