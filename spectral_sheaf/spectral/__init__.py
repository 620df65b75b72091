"""Eigen-solvers behind one call, spectral bounds, graph Fourier transform.

Eigenpairs
    eigsh, EigenResult, EigenSolverError, eigenvalue_count
Bounds
    spectral_bounds, SpectralBounds, gershgorin_bounds
Fourier
    gft, igft, laplacian_kernel
"""

from ._bounds import SpectralBounds, gershgorin_bounds, spectral_bounds
from ._eigsh import EigenResult, EigenSolverError, eigenvalue_count, eigsh
from ._fourier import gft, igft, laplacian_kernel

__all__ = [
    "EigenResult",
    "EigenSolverError",
    "SpectralBounds",
    "eigenvalue_count",
    "eigsh",
    "gershgorin_bounds",
    "gft",
    "igft",
    "laplacian_kernel",
    "spectral_bounds",
]
