"""Matplotlib figures.

plot_spectrum
    Sorted eigenvalues with a spectral-density inset.
plot_runs
    A measured value against a parameter over a sweep, one line per group.
plot_mesh
    A triangle mesh in 3-D coloured by a vertex signal.
"""

from ._mesh import plot_mesh
from ._runs import plot_runs
from ._spectrum import plot_spectrum

__all__ = ["plot_mesh", "plot_runs", "plot_spectrum"]
