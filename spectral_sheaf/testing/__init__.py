"""Hypothesis strategies for property tests (public API; needs ``hypothesis``).

graphs
    Random graphs as :class:`EdgeList` (size, density, connectedness, weights,
    directedness, isolated nodes, self-loops).
adjacency_matrices
    Their adjacency matrices, sparse or dense.
meshes
    Random triangulated surfaces ``(vertices, faces)``: height-field grids, convex
    hulls, planar Delaunay triangulations.
node_signals
    Finite node signals of shape (n,) or (n, channels).
sheaves
    Random sheaves of a class (constant, symmetric, diagonal, orthogonal, general)
    with chosen stalk dimensions on drawn graphs.
EdgeList
    The drawn graph: ``n_nodes``, ``edges``, ``weights``, ``directed``.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - hypothesis is in the test extra
    raise ImportError(
        'spectral_sheaf.testing needs hypothesis: pip install "spectral_sheaf[test]"'
    ) from exc

from ._strategies import EdgeList, adjacency_matrices, graphs, meshes, node_signals, sheaves

__all__ = ["EdgeList", "adjacency_matrices", "graphs", "meshes", "node_signals", "sheaves"]
