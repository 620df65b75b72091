"""spectral_sheaf: spectral graph theory and sheaf diffusion on sparse matrices.

The names a new user reaches for first are re-exported here; everything else lives
in the subpackages (``spectral_sheaf.graphs``, ...), each listing its public names.
"""

__version__ = "0.1.0"

from .graphs import (
    adjacency_from_edges,
    connected_components,
    dirichlet_energy,
    graph_laplacian,
    knn_graph,
)

__all__ = [
    "__version__",
    "adjacency_from_edges",
    "connected_components",
    "dirichlet_energy",
    "graph_laplacian",
    "knn_graph",
]
