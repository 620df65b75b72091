"""Graph Laplacian assembly and sparse products, side by side with peers.

Builds the same graphs (kNN on uniform random 3-D points with k = 10, 20k and 200k
nodes, in random node order; a 500 x 500 grid) and prints median times of

* ``spectral_sheaf.graphs.graph_laplacian`` (validated input, CSR output),
* ``scipy.sparse.csgraph.laplacian`` (no validation, returns COO for CSR input; the
  column "scipy->csr" adds the conversion to CSR that ours includes),
* ``networkx.laplacian_matrix`` (on a networkx graph built beforehand, not timed),

with ratios, then the time of ``L @ X`` before and after reverse Cuthill-McKee
reordering, and the fraction of the measured memory bandwidth the product reaches.

Run: ``python benchmarks/compare_graphs.py`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp
from _timing import median_time  # benchmarks/_timing.py (run as a script)
from scipy.sparse.csgraph import laplacian as scipy_laplacian

from spectral_sheaf.graphs import (
    graph_laplacian,
    grid_graph,
    knn_graph,
    permute,
    reverse_cuthill_mckee,
)


def copy_bandwidth(n_bytes: int = 256 * 2**20) -> float:
    """Bytes per second moved by a plain numpy copy (read + write counted)."""
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    t = median_time(lambda: np.copyto(dst, src), 5)
    return 2 * n_bytes / t


def build_graphs(quick: bool) -> dict[str, sp.csr_array]:
    rng = np.random.default_rng(0)
    sizes = (2_000, 20_000) if quick else (20_000, 200_000)
    graphs = {}
    for n in sizes:
        pts = rng.random((n, 3))
        graphs[f"kNN {n // 1000}k (k=10)"] = knn_graph(pts, 10)
    side = 50 if quick else 500
    graphs[f"grid {side}x{side}"] = grid_graph((side, side))
    return graphs


def laplacian_table(graphs: dict[str, sp.csr_array], quick: bool) -> None:
    import networkx as nx

    print("Laplacian assembly, L = D - A (median ms; ratio < 1 means ours is faster)")
    header = (f"{'graph':<18}{'nodes':>9}{'nnz':>10}{'ours':>9}{'scipy':>9}{'scipy->csr':>12}"
              f"{'networkx':>10}{'ours/scipy':>12}{'ours/scipy->csr':>17}{'networkx/ours':>15}")
    print(header)
    print("-" * len(header))
    for name, A in graphs.items():
        n = A.shape[0]
        reps = 7 if n <= 50_000 else 5
        ours = median_time(lambda A=A: graph_laplacian(A), reps)
        sc = median_time(lambda A=A: scipy_laplacian(A), reps)
        sc_csr = median_time(lambda A=A: sp.csr_array(scipy_laplacian(A)), reps)
        G = nx.from_scipy_sparse_array(A)
        nx_reps = 3 if n <= 50_000 or quick else 1
        t_nx = median_time(lambda G=G: nx.laplacian_matrix(G), nx_reps)
        print(f"{name:<18}{n:>9}{A.nnz:>10}{ours * 1e3:>9.1f}{sc * 1e3:>9.1f}"
              f"{sc_csr * 1e3:>12.1f}{t_nx * 1e3:>10.0f}{ours / sc:>12.2f}"
              f"{ours / sc_csr:>17.2f}{t_nx / ours:>15.0f}")
    print()
    print("Normalised Laplacian I - D^-1/2 A D^-1/2 (median ms)")
    print(f"{'graph':<18}{'ours':>9}{'scipy':>9}{'ours/scipy':>12}")
    for name, A in graphs.items():
        ours = median_time(lambda A=A: graph_laplacian(A, normalization="sym"), 5)
        sc = median_time(lambda A=A: scipy_laplacian(A, normed=True), 5)
        print(f"{name:<18}{ours * 1e3:>9.1f}{sc * 1e3:>9.1f}{ours / sc:>12.2f}")
    print()


def spmv_table(graphs: dict[str, sp.csr_array], bandwidth: float, channels: int) -> None:
    print(f"Sparse product L @ X, X of shape (n, {channels}), before and after RCM "
          "(median ms)")
    print(f"copy bandwidth of this machine: {bandwidth / 1e9:.1f} GB/s (numpy copy, read + "
          "write)")
    header = (f"{'graph':<18}{'order':>10}{'bandwidth':>11}{'ms':>9}{'GB/s':>8}"
              f"{'of copy':>9}{'random/rcm':>12}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(1)
    for name, A in graphs.items():
        L = graph_laplacian(A)
        perm = reverse_cuthill_mckee(L)
        Lr = permute(L, perm)
        n = L.shape[0]
        X = rng.standard_normal((n, channels))
        Xr = X[perm]
        rows = []
        for label, M, V in (("given", L, X), ("rcm", Lr, Xr)):
            t = median_time(lambda M=M, V=V: M @ V, 7)
            moved = (M.data.nbytes + M.indices.nbytes + M.indptr.nbytes + 2 * V.nbytes)
            bw = int(np.abs(np.repeat(np.arange(n), np.diff(M.indptr)) - M.indices).max())
            rows.append((label, bw, t, moved / t))
        ratio = rows[0][2] / rows[1][2]
        for label, bw, t, rate in rows:
            extra = f"{ratio:>12.2f}" if label == "rcm" else ""
            print(f"{name:<18}{label:>10}{bw:>11}{t * 1e3:>9.2f}{rate / 1e9:>8.2f}"
                  f"{rate / bandwidth:>9.0%}{extra}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    import numba

    print(f"numba threads: {numba.get_num_threads()}")
    graphs = build_graphs(args.quick)
    laplacian_table(graphs, args.quick)
    bw = copy_bandwidth(32 * 2**20 if args.quick else 256 * 2**20)
    spmv_table(graphs, bw, channels=1)
    spmv_table(graphs, bw, channels=16)


if __name__ == "__main__":
    main()
