"""asv suites: graph Laplacian assembly, ours and scipy's, and sparse products.

Run from ``benchmarks/``: ``asv run`` (or ``asv run --python=same`` in a ready venv).
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import laplacian as scipy_laplacian

from spectral_sheaf.graphs import (
    graph_laplacian,
    grid_graph,
    knn_graph,
    permute,
    reverse_cuthill_mckee,
)


class LaplacianAssembly:
    params = (["knn", "grid"], ["combinatorial", "sym"])
    param_names = ["graph", "normalization"]

    def setup(self, graph, normalization):
        if graph == "knn":
            pts = np.random.default_rng(0).random((20_000, 3))
            self.A = knn_graph(pts, 10)
        else:
            self.A = grid_graph((200, 200))
        graph_laplacian(self.A, normalization=normalization)  # compile

    def time_ours(self, graph, normalization):
        graph_laplacian(self.A, normalization=normalization)

    def time_scipy_to_csr(self, graph, normalization):
        sp.csr_array(scipy_laplacian(self.A, normed=normalization == "sym"))

    def peakmem_ours(self, graph, normalization):
        graph_laplacian(self.A, normalization=normalization)


class SparseProduct:
    params = (["given", "rcm"], [1, 16])
    param_names = ["order", "channels"]

    def setup(self, order, channels):
        pts = np.random.default_rng(0).random((50_000, 3))
        L = graph_laplacian(knn_graph(pts, 10))
        if order == "rcm":
            L = permute(L, reverse_cuthill_mckee(L))
        self.L = L
        self.X = np.random.default_rng(1).standard_normal((L.shape[0], channels))

    def time_product(self, order, channels):
        self.L @ self.X


class Construction:
    def setup(self):
        self.pts = np.random.default_rng(0).random((20_000, 3))

    def time_knn_graph(self):
        knn_graph(self.pts, 10)

    def time_matrix_free_operator(self):
        op = graph_laplacian(grid_graph((200, 200)), form="operator")
        op @ np.ones(40_000)
