"""Diffusion on graphs, meshes and sheaves.

Linear
    heat_diffusion, DiffusionResult, heat_chebyshev_coefficients
"""

from ._linear import DiffusionResult, heat_chebyshev_coefficients, heat_diffusion

__all__ = ["DiffusionResult", "heat_chebyshev_coefficients", "heat_diffusion"]
