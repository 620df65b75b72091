"""Sheaf Laplacian assembly side by side with a SciPy and a PyTorch construction.

For a kNN graph (uniform random 3-D points, k = 10, 50k nodes) with random general
restriction maps, prints median times of

* ours: ``spectral_sheaf.sheaf.sheaf_laplacian`` (Numba, block rows written directly
  into a canonical CSR array);
* scipy: the coboundary built as a COO matrix, converted to CSR, then
  ``delta.T @ delta``;
* torch: a sparse-index construction in the style of the Neural Sheaf Diffusion
  reference code (degree blocks by ``index_add_``, off-diagonal blocks
  ``-F_u^T F_v`` per edge, one index pair per block entry, ``sparse_coo_tensor`` then
  ``coalesce`` so the result is usable), written here for this comparison;
* copy: a plain numpy copy of as many bytes as our output arrays (values and column
  indices) into a reused buffer (bandwidth alone), and "fresh": ``np.copy`` into new
  memory, page faults included, as our assembly pays them for its new output;

for d = 1..5, with ratios; then the matrix-free product against the assembled CSR
product. Run: ``python benchmarks/compare_sheaf.py`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.sparse as sp
from _timing import median_time  # benchmarks/_timing.py (run as a script)

from spectral_sheaf.graphs import knn_graph
from spectral_sheaf.sheaf import Sheaf, random_sheaf, sheaf_laplacian


def scipy_construction(s: Sheaf) -> sp.csr_array:
    m, d, n = s.n_edges, s.d_v, s.n_nodes
    u, v = s.edges[:, 0], s.edges[:, 1]
    a = np.arange(d)
    rows = np.broadcast_to((np.arange(m)[:, None, None] * d + a[None, :, None]), (m, d, d))
    cols_u = np.broadcast_to(u[:, None, None] * d + a[None, None, :], (m, d, d))
    cols_v = np.broadcast_to(v[:, None, None] * d + a[None, None, :], (m, d, d))
    B = sp.coo_array(
        (np.concatenate([-s.maps[:, 0].ravel(), s.maps[:, 1].ravel()]),
         (np.concatenate([rows.ravel(), rows.ravel()]),
          np.concatenate([cols_u.ravel(), cols_v.ravel()]))),
        shape=(m * d, n * d),
    ).tocsr()
    return sp.csr_array(B.T @ B)


def torch_construction(torch, maps, u, v, n: int, d: int, coalesce: bool = True):
    Fu, Fv = maps[:, 0], maps[:, 1]
    diag = torch.zeros((n, d, d), dtype=maps.dtype)
    diag.index_add_(0, u, Fu.transpose(1, 2) @ Fu)
    diag.index_add_(0, v, Fv.transpose(1, 2) @ Fv)
    off = -(Fu.transpose(1, 2) @ Fv)  # block (u, v); block (v, u) is its transpose
    a = torch.arange(d)
    nodes = torch.arange(n)

    def block_index(bi, bj):
        r = (bi[:, None, None] * d + a[None, :, None]).expand(-1, d, d)
        c = (bj[:, None, None] * d + a[None, None, :]).expand(-1, d, d)
        return torch.stack([r.reshape(-1), c.reshape(-1)])

    idx = torch.cat([block_index(nodes, nodes), block_index(u, v), block_index(v, u)], dim=1)
    vals = torch.cat([diag.reshape(-1), off.reshape(-1), off.transpose(1, 2).reshape(-1)])
    L = torch.sparse_coo_tensor(idx, vals, (n * d, n * d), check_invariants=False)
    return L.coalesce() if coalesce else L


def copy_times(n_bytes: int) -> tuple[float, float]:
    """Copy of ``n_bytes`` into a reused buffer, and into a fresh one (``np.copy``).

    Our assembly allocates its output, so the fresh copy (page faults included) is the
    like-for-like floor; the reused-buffer copy is the bandwidth alone.
    """
    src = np.ones(max(n_bytes // 8, 1))
    dst = np.empty_like(src)
    return (median_time(lambda: np.copyto(dst, src), 7),
            median_time(lambda: np.copy(src), 7))


def assembly_row(s: Sheaf, torch, reps: int, n: int, d: int) -> str:
    L = sheaf_laplacian(s)
    ref = scipy_construction(s)
    err = abs(L - ref).max() if L.nnz else 0.0
    if err > 1e-10 * abs(ref).max():
        raise RuntimeError(f"d={d}: ours and scipy differ by {err}")
    t_ours = median_time(lambda: sheaf_laplacian(s), reps)
    t_scipy = median_time(lambda: scipy_construction(s), reps)
    t_copy, t_fresh = copy_times(L.data.nbytes + L.indices.nbytes)
    if torch is not None:
        tm = torch.from_numpy(np.array(s.maps))  # writable copy
        tu = torch.from_numpy(s.edges[:, 0].copy())
        tv = torch.from_numpy(s.edges[:, 1].copy())
        Lt = torch_construction(torch, tm, tu, tv, n, d)
        if n * d <= 4000 and not np.allclose(Lt.to_dense().numpy(), L.toarray()):
            raise RuntimeError(f"d={d}: torch construction differs from ours")
        t_torch = median_time(lambda: torch_construction(torch, tm, tu, tv, n, d), reps)
        torch_cols = f"{t_torch * 1e3:>10.1f}"
        torch_ratio = f"{t_torch / t_ours:>12.1f}"
    else:
        torch_cols, torch_ratio = f"{'-':>10}", f"{'-':>12}"
    return (f"{L.nnz:>11}{t_ours * 1e3:>9.1f}{t_scipy * 1e3:>10.1f}{torch_cols}"
            f"{t_copy * 1e3:>9.1f}{t_fresh * 1e3:>9.1f}{t_scipy / t_ours:>12.1f}{torch_ratio}"
            f"{t_ours / t_copy:>11.2f}{t_ours / t_fresh:>12.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    import numba

    try:
        import torch
    except ImportError:  # pragma: no cover - torch is in the bench extra
        torch = None
    n = 2_000 if args.quick else 50_000
    reps = 3 if args.quick else 5
    if torch is not None:
        torch.set_num_threads(numba.get_num_threads())
    print(f"numba threads {numba.get_num_threads()}, torch "
          f"{'threads ' + str(torch.get_num_threads()) if torch else 'not installed'}")
    pts = np.random.default_rng(0).random((n, 3))
    graphs = {"random": knn_graph(pts, 10), "rcm": knn_graph(pts, 10, reorder="rcm")[0]}
    A = graphs["random"]
    print(f"kNN graph: {n} nodes, {A.nnz // 2} edges (k = 10, symmetrised), general maps;")
    print("node order as generated (random points: random order) and after reverse "
          "Cuthill-McKee")
    header = (f"{'order':>7}{'d':>3}{'nnz(L)':>11}{'ours ms':>9}{'scipy ms':>10}"
              f"{'torch ms':>10}{'copy ms':>9}{'fresh ms':>9}{'scipy/ours':>12}"
              f"{'torch/ours':>12}{'ours/copy':>11}{'ours/fresh':>12}")
    print()
    print("Assembly of L_F (median of", reps, "runs)")
    print(header)
    print("-" * len(header))
    for order, G in graphs.items():
        for d in (1, 2, 3, 4, 5):
            s = random_sheaf(G, d, kind="general", rng=d)
            print(f"{order:>7}{d:>3}" + assembly_row(s, torch, reps, n, d))
    print()
    d = 3
    s = random_sheaf(A, d, kind="general", rng=0)
    L = sheaf_laplacian(s)
    op = sheaf_laplacian(s, form="operator")
    print(f"Product with L_F, d = {d}: assembled CSR (scipy) vs matrix-free (ours, edge by "
          "edge), median ms")
    print(f"{'channels':>9}{'csr ms':>9}{'matrix-free ms':>16}{'free/csr':>10}")
    rng = np.random.default_rng(1)
    for c in (1, 16):
        X = rng.standard_normal((n * d, c))
        np.testing.assert_allclose(op @ X, L @ X, atol=1e-9 * abs(L).max())
        t_csr = median_time(lambda X=X: L @ X, reps)
        t_free = median_time(lambda X=X: op @ X, reps)
        print(f"{c:>9}{t_csr * 1e3:>9.2f}{t_free * 1e3:>16.2f}{t_free / t_csr:>10.2f}")


if __name__ == "__main__":
    main()
