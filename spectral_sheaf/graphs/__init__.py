"""Graphs as sparse adjacency matrices, and their Laplacians.

Constructors
    adjacency_from_edges, adjacency_from_edge_index, adjacency_from_networkx,
    adjacency_to_edges, knn_graph, radius_graph
Generators
    path_graph, cycle_graph, grid_graph, complete_graph, star_graph, hypercube_graph,
    erdos_renyi_graph, random_geometric_graph, stochastic_block_model, contextual_sbm,
    ContextualSBM
Laplacians and friends
    graph_laplacian, directed_laplacian, magnetic_laplacian, incidence_matrix,
    degrees, dirichlet_energy, connected_components, largest_component
Reordering
    reverse_cuthill_mckee, permute, bandwidth
"""

from ._construct import (
    adjacency_from_edge_index,
    adjacency_from_edges,
    adjacency_from_networkx,
    adjacency_to_edges,
    knn_graph,
    radius_graph,
)
from ._generators import (
    ContextualSBM,
    complete_graph,
    contextual_sbm,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
    hypercube_graph,
    path_graph,
    random_geometric_graph,
    star_graph,
    stochastic_block_model,
)
from ._laplacian import (
    connected_components,
    degrees,
    directed_laplacian,
    dirichlet_energy,
    graph_laplacian,
    incidence_matrix,
    largest_component,
    magnetic_laplacian,
)
from ._reorder import bandwidth, permute, reverse_cuthill_mckee

__all__ = [
    "ContextualSBM",
    "adjacency_from_edge_index",
    "adjacency_from_edges",
    "adjacency_from_networkx",
    "adjacency_to_edges",
    "bandwidth",
    "complete_graph",
    "connected_components",
    "contextual_sbm",
    "cycle_graph",
    "degrees",
    "directed_laplacian",
    "dirichlet_energy",
    "erdos_renyi_graph",
    "graph_laplacian",
    "grid_graph",
    "hypercube_graph",
    "incidence_matrix",
    "knn_graph",
    "largest_component",
    "magnetic_laplacian",
    "path_graph",
    "permute",
    "radius_graph",
    "random_geometric_graph",
    "reverse_cuthill_mckee",
    "star_graph",
    "stochastic_block_model",
]
