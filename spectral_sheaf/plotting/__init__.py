"""Matplotlib figures.

plot_spectrum
    Sorted eigenvalues with a spectral-density inset.
"""

from ._spectrum import plot_spectrum

__all__ = ["plot_spectrum"]
