"""Analysis: homophily, separation power of sheaves, oversmoothing diagnostics.

Homophily
    edge_homophily, node_homophily, class_homophily, adjusted_homophily
Separation
    linear_separability, Separability, separation_power, SeparationReport,
    separating_sheaf
Oversmoothing
    energy_decay
Meshes
    laplace_beltrami_basis, heat_kernel_signature
"""

from ._constructions import separating_sheaf
from ._energy import energy_decay
from ._homophily import adjusted_homophily, class_homophily, edge_homophily, node_homophily
from ._mesh import heat_kernel_signature, laplace_beltrami_basis
from ._separation import Separability, SeparationReport, linear_separability, separation_power

__all__ = [
    "Separability",
    "SeparationReport",
    "adjusted_homophily",
    "class_homophily",
    "edge_homophily",
    "energy_decay",
    "heat_kernel_signature",
    "laplace_beltrami_basis",
    "linear_separability",
    "node_homophily",
    "separating_sheaf",
    "separation_power",
]
