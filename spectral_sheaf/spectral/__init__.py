"""Eigen-solvers behind one call, spectral bounds, graph Fourier transform.

Eigenpairs
    eigsh, EigenResult, EigenSolverError, eigenvalue_count
Bounds
    spectral_bounds, SpectralBounds, gershgorin_bounds, scaled_gershgorin_upper,
    detect_block_size
Fourier
    gft, igft, laplacian_kernel, detect_laplacian_kernel
Density
    spectral_density, SpectralDensity
"""

from ._bounds import (
    SpectralBounds,
    detect_block_size,
    gershgorin_bounds,
    scaled_gershgorin_upper,
    spectral_bounds,
)
from ._density import SpectralDensity, spectral_density
from ._eigsh import EigenResult, EigenSolverError, eigenvalue_count, eigsh
from ._fourier import gft, igft, laplacian_kernel
from ._kernel import detect_laplacian_kernel

__all__ = [
    "EigenResult",
    "EigenSolverError",
    "SpectralBounds",
    "SpectralDensity",
    "detect_block_size",
    "detect_laplacian_kernel",
    "eigenvalue_count",
    "eigsh",
    "gershgorin_bounds",
    "gft",
    "igft",
    "laplacian_kernel",
    "scaled_gershgorin_upper",
    "spectral_bounds",
    "spectral_density",
]
