"""Diffusion on graphs, meshes and sheaves.

Linear
    heat_diffusion, DiffusionResult, heat_chebyshev_coefficients
Neural sheaf diffusion (continuous)
    nsd_diffusion
Simulations
    run_grid, save_runs (plots: spectral_sheaf.plotting.plot_runs)
"""

from ._linear import DiffusionResult, heat_chebyshev_coefficients, heat_diffusion
from ._nsd import nsd_diffusion
from ._runner import run_grid, save_runs

__all__ = ["DiffusionResult", "heat_chebyshev_coefficients", "heat_diffusion",
           "nsd_diffusion", "run_grid", "save_runs"]
