"""Smallest eigenpairs of graph Laplacians: our verified eigsh next to SciPy's solvers.

For a 2-D grid, a torus (degenerate groups), a kNN graph and a random geometric
graph, prints per method: wall time, operator applications, the largest relative
residual, the largest eigenvalue error against a dense reference (or against the
closed form for the grid), and whether our checks verify the answer. The peers are
``scipy.sparse.linalg.eigsh`` in shift-invert mode (sigma = -1e-6 ||A||, SuperLU
factorisation inside) and ``scipy.sparse.linalg.lobpcg`` without a preconditioner;
their answers are run through the same residual and missed-eigenvalue checks as ours.

Run: ``python benchmarks/compare_eigen.py`` (``--quick`` for small sizes; ``--big`` for
the issue's target problem alone: the 20 smallest pairs of the 700 x 700 grid Laplacian,
490k rows, to tol 1e-6, each solver timed twice and the faster run kept, since the
first run in a process pays for fresh memory, shift-invert with and without its
multilevel start; ``--factor`` for the two factorisations behind shift-invert side by
side, SuperLU and CHOLMOD, the latter where scikit-sparse is installed;
``--multilevel`` for shift-invert with and without its multilevel start on the large
eigen suite's matrices; ``--dimension`` for the evidence behind ``auto``'s choice
between ARPACK and LOBPCG on graphs of high estimated dimension (LOBPCG first from
20000 rows, dimension 3.5 and a degree spread of 2): ARPACK against LOBPCG on kNN
graphs of points in 5-D and 8-D, Erdos-Renyi graphs and film, with the estimated
dimension, the degree spread (largest diagonal entry over the median) and what
``auto`` tries first).
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from _timing import median_time  # benchmarks/_timing.py (run as a script)

from spectral_sheaf.graphs import graph_laplacian, grid_graph, knn_graph, random_geometric_graph
from spectral_sheaf.spectral import EigenSolverError, _eigsh, eigsh
from spectral_sheaf.spectral._bounds import _norm_bound
from spectral_sheaf.spectral._eigsh import _Counter, _missed_check, _residuals
from spectral_sheaf.spectral._factor import SymmetricFactor, cholmod_module
from spectral_sheaf.spectral._multilevel import MIN_ROWS as MULTILEVEL_MIN_ROWS


def grid_exact(side: int, k: int) -> np.ndarray:
    one = 2 - 2 * np.cos(np.pi * np.arange(side) / side)
    return np.sort((one[:, None] + one[None, :]).ravel())[:k]


def torus_exact(side: int, k: int) -> np.ndarray:
    one = 2 - 2 * np.cos(2 * np.pi * np.arange(side) / side)
    return np.sort((one[:, None] + one[None, :]).ravel())[:k]


def check(L, lam, X, tol, norm):
    """Our residual and missed-eigenvalue checks applied to a peer's answer."""
    res = _residuals(L, None, lam, X)
    missed = _missed_check(L, None, lam, X, "smallest", tol, norm, np.random.default_rng(0),
                           _Counter(L), {})
    ok = bool(np.all(res <= tol * norm)) and not missed.startswith("missed")
    return float(res.max() / norm), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--big", action="store_true", help="the 700 x 700 grid only")
    parser.add_argument("--factor", action="store_true",
                        help="SuperLU against CHOLMOD: factorising, and solving 8 columns")
    parser.add_argument("--dimension", action="store_true",
                        help="ARPACK against LOBPCG on graphs of high estimated dimension")
    parser.add_argument("--multilevel", action="store_true",
                        help="shift-invert with and without its multilevel start on the "
                             "large suite's matrices of 50000 rows or more")
    parser.add_argument("--data-dir", default=os.environ.get(
        "SPECTRAL_SHEAF_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
        / "graphs"), help="folder holding geom-gcn/ (film, for --dimension)")
    args = parser.parse_args()
    if args.dimension:
        dimension_table(args.quick, args.data_dir)
        return
    if args.big:
        big()
        return
    if args.multilevel:
        multilevel_table()
        return
    if args.factor:
        factor_table()
        return
    side = 40 if args.quick else 150
    n_pts = 2000 if args.quick else 20000
    k, tol = 10, 1e-6
    rng = np.random.default_rng(0)
    problems = {
        f"grid {side}x{side}": (graph_laplacian(grid_graph((side, side))),
                                grid_exact(side, k)),
        f"torus {side}x{side}": (graph_laplacian(grid_graph((side, side), periodic=True)),
                                 torus_exact(side, k)),
        f"kNN {n_pts} (k=10)": (graph_laplacian(knn_graph(rng.random((n_pts, 3)), 10)),
                                None),
        f"RGG {n_pts}": (graph_laplacian(random_geometric_graph(
            n_pts, 2.5 / np.sqrt(n_pts), rng=1)[0]), None),
    }
    print(f"k = {k} smallest eigenpairs, tol = {tol:g} (relative residual)")
    header = (f"{'problem':<18}{'method':<22}{'ms':>9}{'matvecs':>9}{'max rel res':>13}"
              f"{'max |err|':>11}{'verified':>10}")
    print(header)
    print("-" * len(header))
    for name, (L, exact) in problems.items():
        norm = _norm_bound(L)
        ref = exact if exact is not None else None
        rows = []
        for method in ("auto", "shift_invert", "arpack", "lobpcg"):
            try:
                r = eigsh(L, k, method=method, tol=tol, rng=0)
            except EigenSolverError as exc:
                rows.append((f"ours {method}", None, None, None, None, f"raised: {exc}"[:60]))
                continue
            t = median_time(lambda m=method, L=L: eigsh(L, k, method=m, tol=tol, rng=0), 3)
            if ref is None:
                ref = r.eigenvalues
            rows.append((f"ours {method} ({r.method})", t, r.n_matvecs,
                         float(r.residuals.max() / norm), float(np.abs(r.eigenvalues - ref).max()),
                         str(r.verified)))
        # peers, as a user would call them
        sigma = -1e-6 * norm
        t_si = median_time(
            lambda L=L, s=sigma: spla.eigsh(L, k, sigma=s, which="LM", tol=tol), 3)
        lam, X = spla.eigsh(L, k, sigma=sigma, which="LM", tol=tol)
        order = np.argsort(lam)
        rel, ok = check(L, lam[order], X[:, order], tol, norm)
        rows.append(("scipy eigsh sigma", t_si, None, rel,
                     float(np.abs(lam[order] - ref).max()), str(ok)))
        X0 = np.random.default_rng(0).standard_normal((L.shape[0], k))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_lo = median_time(lambda L=L, X0=X0, nm=norm: spla.lobpcg(
                L, X0, largest=False, tol=tol * nm, maxiter=500), 3)
            lam, X = spla.lobpcg(L, X0, largest=False, tol=tol * norm, maxiter=500)
        order = np.argsort(lam)
        rel, ok = check(L, lam[order], X[:, order], tol, norm)
        rows.append(("scipy lobpcg", t_lo, None, rel, float(np.abs(lam[order] - ref).max()),
                     str(ok)))
        for label, t, mv, rel, err, ver in rows:
            if t is None:
                print(f"{name:<18}{label:<22}{ver}")
                continue
            mvs = f"{mv:>9}" if mv is not None else f"{'-':>9}"
            print(f"{name:<18}{label:<22}{t * 1e3:>9.1f}{mvs}{rel:>13.2e}{err:>11.2e}"
                  f"{ver:>10}")
        print()


def dimension_table(quick: bool, data_dir: str) -> None:
    """ARPACK against LOBPCG where ``auto`` weighs them: graphs of high dimension.

    k = 10, tol 1e-6, the median of three seeds per method, on the combinatorial and
    the symmetric normalised Laplacian; ``auto first``: the method ``auto`` tries first.
    """
    from spectral_sheaf._cli_bench import _unweighted
    from spectral_sheaf.graphs import adjacency_from_edges, largest_component
    from spectral_sheaf.spectral._eigsh import _auto_order, degree_spread, graph_dimension
    from spectral_sheaf.spectral._factor import resolve_backend

    rng = np.random.default_rng(5)

    def simple(edges: np.ndarray) -> sp.csr_array:
        """The largest component of the 0/1 graph of ``edges`` (as the bench reads film)."""
        return largest_component(_unweighted(edges, adjacency_from_edges))[0]

    sizes = (2000,) if quick else (10000, 40000)
    graphs = {}
    for dim in (5, 8):
        for n in sizes:
            graphs[f"kNN {dim}-D {n}"] = knn_graph(rng.random((n, dim)), 10)
    for n in sizes:
        graphs[f"ER deg 8 {n}"] = simple(rng.integers(0, n, (4 * n, 2)))
    path = Path(data_dir) / "geom-gcn" / "new_data" / "film" / "out1_graph_edges.txt"
    if path.is_file() and not quick:
        edges = np.loadtxt(path, skiprows=1, dtype=np.int64)
        graphs["film"] = simple(edges)
    backend = resolve_backend("auto", real=True)
    print(f"k = 10, tol = 1e-6, median of 3 seeds; auto's first choice with {backend}")
    header = (f"{'graph':<18}{'Laplacian':<15}{'n':>7}{'dim':>6}{'spread':>8}"
              f"{'auto first':>14}{'ARPACK s':>10}{'LOBPCG s':>10}{'ratio':>7}")
    print(header)
    print("-" * len(header))
    for name, A in graphs.items():
        for norm in ("combinatorial", "sym"):
            L = graph_laplacian(A, normalization=norm)
            n = L.shape[0]
            first = _auto_order(L, n, "smallest", 10, backend=backend)[0]
            t = [median_seconds(L, m) for m in ("arpack", "lobpcg")]
            cells = "".join(f"{x:>10.3f}" if np.isfinite(x) else f"{'failed':>10}" for x in t)
            ratio = f"{t[0] / t[1]:>7.2f}" if np.all(np.isfinite(t)) else f"{'-':>7}"
            print(f"{name:<18}{norm:<15}{n:>7}{graph_dimension(L):>6.2f}"
                  f"{degree_spread(L):>8.2f}{first:>14}{cells}{ratio}")


def median_seconds(L: sp.csr_array, method: str) -> float:
    """Median ``wall_time`` over seeds 0-2, k = 10, tol 1e-6; inf if one fails."""
    try:
        return float(np.median([eigsh(L, 10, method=method, tol=1e-6, rng=seed,
                                      maxiter=1000).wall_time for seed in range(3)]))
    except EigenSolverError:  # the 1000-iteration cap: not verified, so not timed
        return float("inf")


def factor_table() -> None:
    """Factorise ``L + 1e-6 ||L|| I`` (shift-invert's matrix) with each backend.

    Our ``SymmetricFactor`` in both cases, as shift-invert calls it (positive definite
    expected); the SuperLU time includes reading ``L`` and ``D`` out of SuperLU's
    factors. Each number is the median of three runs; the solve is of 8 columns, the
    block that shift-invert's Lanczos solves with.
    """
    if cholmod_module() is None:
        print("scikit-sparse is not installed (the cholmod extra): nothing to compare")
        return
    rng = np.random.default_rng(0)
    problems = {
        "grid 700x700": graph_laplacian(grid_graph((700, 700))),
        "kNN 30000 (3-D, k=10)": graph_laplacian(knn_graph(rng.random((30000, 3)), 10)),
        "RGG 100000": graph_laplacian(random_geometric_graph(
            100000, 2.5 / np.sqrt(100000), rng=1)[0]),
    }
    header = (f"{'matrix':<24}{'backend':<10}{'factor s':>10}{'solve 8 ms':>12}"
              f"{'fill (cols)':>13}{'max |diff|':>12}")
    print(header)
    print("-" * len(header))
    for name, L in problems.items():
        n = L.shape[0]
        B = sp.csc_array(L + 1e-6 * _norm_bound(L) * sp.eye_array(n))
        R = rng.standard_normal((n, 8))
        out = {}
        for backend in ("superlu", "cholmod"):
            f = SymmetricFactor(B, definite=True, backend=backend)
            t_f = median_time(lambda b=backend, B=B: SymmetricFactor(B, definite=True,
                                                                      backend=b), 3)
            t_s = median_time(lambda f=f, R=R: f.solve(R), 3)
            X = f.solve(R)
            out[backend] = (t_f, t_s)
            diff = np.abs(B @ X - R).max()
            f.cost_in_solves  # noqa: B018 (computes the column counts of L)
            fill = int(f._counts.sum()) if f._counts is not None else 0
            print(f"{name:<24}{backend:<10}{t_f:>10.2f}{t_s * 1e3:>12.1f}{fill:>13}"
                  f"{diff:>12.1e}")
        print(f"{name:<24}SuperLU / CHOLMOD: factor {out['superlu'][0] / out['cholmod'][0]:.2f}x,"
              f" solve {out['superlu'][1] / out['cholmod'][1]:.2f}x")


def big() -> None:
    """The 700 x 700 grid, k = 20, tol = 1e-6: ours next to scipy eigsh shift-invert.

    Each solver runs twice and the faster run is reported (LOBPCG with AMG, at some
    40 s, once). On this VM the first touch of memory the process has not used before
    costs about 2.7 ms a MB (measured: 0.7 s to fill a fresh 266 MB array, 20 ms to
    fill the next one), so whichever solver ran first paid several seconds more:
    3.6 s on the same CHOLMOD shift-invert, 11.9 s first against 8.3 s third.
    """
    import time

    side, k, tol = 700, 20, 1e-6
    L = graph_laplacian(grid_graph((side, side)))
    exact = grid_exact(side, k)
    norm = _norm_bound(L)
    print(f"grid {side}x{side} ({L.shape[0]} rows), k = {k}, tol = {tol:g}; the faster of "
          f"two runs each")
    header = (f"{'solver':<56}{'seconds':>9}{'solves/matvecs':>16}{'max rel res':>13}"
              f"{'max |err|':>11}{'verified':>10}")
    print(header)
    print("-" * len(header))
    times = {}
    # (method, factorisation, multilevel start allowed); the start's row threshold is
    # raised past n for the rows without it: shift-invert's block Lanczos alone
    runs = [("auto", "auto", True), ("shift_invert", "superlu", True),
            ("lobpcg_amg", "auto", True)]
    if cholmod_module() is not None:
        runs[2:2] = [("shift_invert", "cholmod", True), ("shift_invert", "cholmod", False)]
    for method, backend, start in runs:
        _eigsh.MULTILEVEL_MIN_ROWS = MULTILEVEL_MIN_ROWS if start else L.shape[0] + 1
        t0 = time.perf_counter()
        try:
            r = eigsh(L, k, method=method, tol=tol, rng=0, factorization=backend)
        except EigenSolverError as exc:
            print(f"{'ours ' + method:<56}{time.perf_counter() - t0:>9.2f}  raised: "
                  f"{str(exc)[:70]}")
            continue
        if method != "lobpcg_amg":  # a second run, the faster kept (see big's notes)
            try:
                again = eigsh(L, k, method=method, tol=tol, rng=0, factorization=backend)
                r = min(r, again, key=lambda x: x.wall_time)
            except EigenSolverError as exc:
                print(f"{'ours ' + method:<56}second run raised (the first is reported): "
                      f"{str(exc)[:60]}")
        label = r.method if r.factorization is None else f"{r.method}/{r.factorization}"
        if method == "shift_invert" and not start:
            label += ", no multilevel start"
        times[f"{method} ({label})"] = r.wall_time
        name = f"ours {method} ({label})"
        print(f"{name:<56}{r.wall_time:>9.2f}"
              f"{r.n_matvecs:>16}{r.residuals.max() / norm:>13.2e}"
              f"{np.abs(r.eigenvalues - exact).max():>11.2e}{r.verified!s:>10}")
        print(f"{'':<56}missed check: {r.missed_check[:90]}")
        if r.start is not None:
            print(f"{'':<56}start: {r.start[:110]}")
    _eigsh.MULTILEVEL_MIN_ROWS = MULTILEVEL_MIN_ROWS
    t_sc = np.inf
    for _ in range(2):
        t0 = time.perf_counter()
        lam, X = spla.eigsh(L, k, sigma=-1e-6 * norm, which="LM", tol=tol)
        t_sc = min(t_sc, time.perf_counter() - t0)
    order = np.argsort(lam)
    rel, ok = check(L, lam[order], X[:, order], tol, norm)
    print(f"{'scipy eigsh sigma=-1e-6||A||':<56}{t_sc:>9.2f}{'-':>16}{rel:>13.2e}"
          f"{np.abs(lam[order] - exact).max():>11.2e}{ok!s:>10}")
    for method, t in times.items():
        print(f"scipy shift-invert / ours {method}: {t_sc / t:.2f}x")


def multilevel_table() -> None:
    """Shift-invert with its multilevel start and with the block Lanczos alone.

    The matrices of ``spectral-sheaf bench eigen --size large`` with 50000 rows or more
    (grid, kNN and random geometric graphs, an O(3) sheaf, an icosphere with its mass
    matrix), k = 10 and tol 1e-6 as in that suite; the faster of two runs each, the two
    variants in turn. ``start`` says whether the start gave the pairs or why not.
    """
    from spectral_sheaf._cli_bench import _suite

    k, tol = 10, 1e-6
    print(f"k = {k}, tol = {tol:g}, method='shift_invert'; the faster of two runs each")
    header = (f"{'matrix':<26}{'rows':>8}{'Lanczos s':>11}{'start s':>9}{'ratio':>7}"
              f"{'solves':>12}{'verified':>12}  start")
    print(header)
    print("-" * (len(header) + 40))
    for name, problem in _suite("large").items():
        L, M = problem if isinstance(problem, tuple) else (problem, None)
        if L.shape[0] < MULTILEVEL_MIN_ROWS:
            continue
        best = {}
        for allowed in (False, True):
            _eigsh.MULTILEVEL_MIN_ROWS = MULTILEVEL_MIN_ROWS if allowed else L.shape[0] + 1
            runs = [eigsh(L, k, M=M, method="shift_invert", tol=tol, rng=0)
                    for _ in range(2)]
            best[allowed] = min(runs, key=lambda r: r.wall_time)
        _eigsh.MULTILEVEL_MIN_ROWS = MULTILEVEL_MIN_ROWS
        plain, start = best[False], best[True]
        verified = f"{plain.verified}/{start.verified}"
        why = start.start.split("rows", 1)[-1].lstrip(",; ")
        print(f"{name:<26}{L.shape[0]:>8}{plain.wall_time:>11.2f}{start.wall_time:>9.2f}"
              f"{plain.wall_time / start.wall_time:>7.2f}"
              f"{f'{plain.n_matvecs}/{start.n_matvecs}':>12}{verified:>12}  {why[:70]}")


if __name__ == "__main__":
    main()
