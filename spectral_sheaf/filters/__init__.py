"""Polynomial spectral filters: Chebyshev expansions, designs, banks, ChebNet.

Chebyshev
    chebyshev_approximation, ChebyshevApproximation, chebyshev_filter
Lanczos
    lanczos_filter
Designs (functions of lambda)
    heat, wave, low_pass, high_pass, band_pass, mexican_hat, meyer, abspline
Checking and banks
    exact_filter, filter_bank, frame_bounds
Graph networks
    chebnet_propagate
"""

from ._chebyshev import ChebyshevApproximation, chebyshev_approximation, chebyshev_filter
from ._designs import abspline, band_pass, heat, high_pass, low_pass, mexican_hat, meyer, wave
from ._exact import chebnet_propagate, exact_filter, filter_bank, frame_bounds
from ._lanczos import lanczos_filter

__all__ = [
    "ChebyshevApproximation",
    "abspline",
    "band_pass",
    "chebnet_propagate",
    "chebyshev_approximation",
    "chebyshev_filter",
    "exact_filter",
    "filter_bank",
    "frame_bounds",
    "heat",
    "high_pass",
    "lanczos_filter",
    "low_pass",
    "mexican_hat",
    "meyer",
    "wave",
]
