"""Diffusion on graphs, meshes and sheaves.

Linear
    heat_diffusion, DiffusionResult, heat_chebyshev_coefficients
Neural sheaf diffusion (continuous)
    nsd_diffusion
"""

from ._linear import DiffusionResult, heat_chebyshev_coefficients, heat_diffusion
from ._nsd import nsd_diffusion

__all__ = ["DiffusionResult", "heat_chebyshev_coefficients", "heat_diffusion",
           "nsd_diffusion"]
