"""Heat filtering by a Chebyshev expansion: ours next to PyGSP and a plain SciPy loop.

Heat kernel ``exp(-tau lambda / lambda_max)`` (PyGSP's ``filters.Heat`` with
``scale=tau``), Chebyshev order 30, 16 channels, on the symmetric normalised Laplacian
of kNN graphs (20k and 200k points in the unit cube, k = 10) and a 500 x 500 grid.
Printed per graph, in one process:

* ours: ``chebyshev_filter`` with the interval given (``check_interval=False``, as
  PyGSP does not check it either) and with the default 20-step Lanczos check;
* PyGSP: ``Filter.filter(X, method="chebyshev", order=30)`` on the same interval.
  Both use ``[0, lambda_max]`` with ``lambda_max`` our Gershgorin bound, set on the
  PyGSP graph before timing: PyGSP's own ``estimate_lmax`` (ARPACK, tol 5e-3, times
  1.01) is printed for reference; on the grid it falls below the true ``lambda_max =
  2`` (a bipartite graph), which would make any Chebyshev filter wrong at the top;
* SciPy: the same three-term recurrence written with ``csr_array @ ndarray``;
* the bound: 30 sparse-dense products ``A @ X`` (SciPy), the work any order-30
  recurrence must do; ratios below 1 mean faster than it.

The maximal difference of each answer from ours is printed beside the times.
Run: ``python benchmarks/compare_filters.py`` (``--quick`` for small sizes).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import scipy.sparse as sp
from _timing import median_time  # benchmarks/_timing.py (run as a script)

from spectral_sheaf.filters import chebyshev_approximation, chebyshev_filter, heat
from spectral_sheaf.graphs import graph_laplacian, grid_graph, knn_graph
from spectral_sheaf.spectral import gershgorin_bounds, spectral_bounds


def scipy_recurrence(L, X, c, lmax):
    alpha, beta = 2.0 / lmax, -1.0
    T_prev, T_cur = X, alpha * (L @ X) + beta * X
    Y = c[0] * T_prev + c[1] * T_cur
    for k in range(2, c.size):
        T_prev, T_cur = T_cur, 2.0 * (alpha * (L @ T_cur) + beta * T_cur) - T_prev
        Y += c[k] * T_cur
    return Y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    import pygsp  # the bench extra

    order, channels, tau = 30, 16, 10.0
    rng = np.random.default_rng(0)
    sizes = (2000, 5000) if args.quick else (20000, 200000)
    side = 60 if args.quick else 500
    graphs = {f"kNN {n}": knn_graph(rng.random((n, 3)), 10) for n in sizes}
    graphs[f"grid {side}x{side}"] = grid_graph((side, side))
    repeats = 3 if args.quick else 5
    print(f"heat filter exp(-{tau:g} lambda / lambda_max), Chebyshev order {order}, "
          f"{channels} channels, sym normalised Laplacian")
    header = (f"{'graph':<16}{'method':<30}{'ms':>10}{'vs ours':>9}{'vs bound':>10}"
              f"{'max |diff|':>12}")
    print(header)
    print("-" * len(header))
    for name, A in graphs.items():
        L = graph_laplacian(A, normalization="sym")
        X = rng.standard_normal((L.shape[0], channels))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyGSP's own deprecation noise
            G = pygsp.graphs.Graph(sp.csr_matrix(A))
            G.compute_laplacian("normalized")
            G.estimate_lmax()
            pygsp_lmax = float(G.lmax)
            lmax = float(gershgorin_bounds(L)[1])
            G._lmax = lmax  # the same, valid interval for both
            pf = pygsp.filters.Heat(G, scale=tau)
        print(f"{name}: lambda_max used {lmax:.4f} (Gershgorin); PyGSP's estimate "
              f"{pygsp_lmax:.4f}; Ritz value after 60 Lanczos steps "
              f"{spectral_bounds(L, steps=60, rng=0).lambda_max:.4f}")
        g = heat(tau / lmax)
        p = chebyshev_approximation(g, lmax, order=order)
        ours = chebyshev_filter(L, X, p, check_interval=False)
        t_ours = median_time(lambda L=L, X=X, p=p: chebyshev_filter(
            L, X, p, check_interval=False), repeats)
        t_checked = median_time(lambda L=L, X=X, g=g, lm=lmax: chebyshev_filter(
            L, X, g, lambda_max=lm, order=order, rng=0), repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y_pg = pf.filter(X, method="chebyshev", order=order)
            t_pg = median_time(lambda pf=pf, X=X: pf.filter(X, method="chebyshev",
                                                              order=order), repeats)
        y_sc = scipy_recurrence(L, X, p.coefficients, lmax)
        t_sc = median_time(lambda L=L, X=X, c=p.coefficients, lm=lmax: scipy_recurrence(
            L, X, c, lm), repeats)

        def bound(L=L, X=X):
            for _ in range(order):
                L @ X

        t_bound = median_time(bound, repeats)
        rows = [("ours (interval given)", t_ours, 0.0),
                ("ours (interval checked)", t_checked, 0.0),
                ("PyGSP Filter.filter", t_pg, float(np.abs(y_pg - ours).max())),
                ("SciPy recurrence", t_sc, float(np.abs(y_sc - ours).max())),
                (f"bound: {order} x (A @ X)", t_bound, float("nan"))]
        for label, t, diff in rows:
            d = f"{diff:>12.1e}" if np.isfinite(diff) else f"{'-':>12}"
            print(f"{name:<16}{label:<30}{t * 1e3:>10.1f}{t / t_ours:>9.2f}"
                  f"{t / t_bound:>10.2f}{d}")
        print(f"{name:<16}PyGSP / ours = {t_pg / t_ours:.2f}x, ours / bound = "
              f"{t_ours / t_bound:.2f}")
        print()


if __name__ == "__main__":
    main()
