"""The ``spectral-sheaf`` command.

``spectral-sheaf info``
    Versions and what is available: CuPy and a GPU, Numba threads, petsc4py.
``spectral-sheaf demo [--out DIR] [--nodes N] [--seed S]``
    Builds a heterophilous contextual SBM, computes its Laplacian spectra, checks the
    Laplacian against closed forms, compares the separation power of sheaf diffusion,
    and writes ``report.txt`` and ``spectrum.png``.
``spectral-sheaf bench eigen [--size small|medium|large] [--out DIR] [-k K] [--tol T]
[--data-dir DIR] [--factorization auto|superlu|cholmod]``
    Runs every eigen-solver method on a suite (grid, kNN, random geometric graph, an
    O(3) sheaf Laplacian), prints a table, writes ``eigen.json`` and ``eigen.png``.
``spectral-sheaf learn --dataset NAME [--data-dir DIR] [--sheaf diag|orthogonal|general]
[--d D] [--layers L] ... [--splits 0-9] [--out report.json]``
    Trains the Neural Sheaf Diffusion classifier on each split of a data set (the
    paper's ten-split protocol), printing per-split accuracy and the summary, and
    writes a JSON report (see ``spectral-sheaf learn --help``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main"]

_OPTIONAL = ("cupy", "petsc4py", "slepc4py", "networkx", "hypothesis", "meshio", "pyamg",
             "primme", "sksparse", "torch")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _gpu_line() -> str:
    if importlib.util.find_spec("cupy") is None:
        return 'CuPy: not installed (pip install "spectral_sheaf[gpu]")'
    try:
        cp = importlib.import_module("cupy")
        count = int(cp.cuda.runtime.getDeviceCount())
    except Exception as exc:  # any CUDA failure means: no usable GPU
        return f"CuPy: installed, no usable GPU ({type(exc).__name__}: {exc})"
    return f"CuPy: installed, {count} GPU(s)"


def info_text() -> str:
    """Return the text printed by ``spectral-sheaf info``."""
    import numba

    from . import __version__

    lines = [
        f"spectral_sheaf {__version__}",
        f"python {platform.python_version()} ({sys.executable})",
    ]
    for dist in ("numpy", "scipy", "numba", "scikit-learn", "matplotlib"):
        lines.append(f"{dist} {_version(dist)}")
    max_threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    lines.append(f"numba threads: {numba.get_num_threads()} of {max_threads}")
    lines.append(_gpu_line())
    for mod in _OPTIONAL:
        if mod == "cupy":
            continue
        found = importlib.util.find_spec(mod) is not None
        lines.append(f"{mod}: {'available' if found else 'not installed'}")
    return "\n".join(lines)


def _class_means(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row replaced by the mean feature vector of its class."""
    counts = np.bincount(y)
    sums = np.zeros((counts.size, X.shape[1]))
    np.add.at(sums, y, X)
    return (sums / counts[:, None])[y]


def _sheaf_section(A: object, labels: np.ndarray, seed: int) -> list[str]:
    """Separation power of sheaf diffusion on the demo graph (Bodnar et al. 2022)."""
    from .analysis import separating_sheaf, separation_power
    from .graphs import largest_component
    from .sheaf import constant_sheaf, harmonic_space

    sub, keep = largest_component(A)
    y = labels[keep]
    d = 2
    rng = np.random.default_rng(seed)
    X0 = rng.standard_normal((sub.shape[0] * d, 4))
    out = [
        f"Sheaf diffusion on the largest component ({sub.shape[0]} nodes), stalks d = {d},",
        "random initial features; do the classes end up linearly separable",
        "(one class against the rest, decided by linear programming)?",
    ]
    for name, sheaf in (
        ("constant sheaf (ordinary graph diffusion)", constant_sheaf(sub, d)),
        ("O(2) sheaf of Prop. 13, Bodnar et al. 2022", separating_sheaf(
            sub, y, sheaf_class="orthogonal", d=d)),
    ):
        space = harmonic_space(sheaf, normalization="sym")
        report = separation_power(sheaf, X0, y, space=space)
        out.append(f"  {name:<44} dim H^0 = {space.dimension}, separable: "
                   f"{report.separable} (margin {report.separability.margin:.3g})")
    return [*out, ""]


def _mesh_section(out: Path) -> list[str]:
    """Laplace-Beltrami spectra: the unit sphere against l(l+1), and Spot (shipped)."""
    import matplotlib.pyplot as plt

    from .analysis import laplace_beltrami_basis
    from .datasets import load_spot
    from .mesh import check_mesh, icosphere, intrinsic_delaunay
    from .plotting import plot_mesh

    exact = np.repeat([ell * (ell + 1.0) for ell in range(4)], [1, 3, 5, 7])
    V, F = icosphere(4)
    sphere = laplace_beltrami_basis(V, F, 16, rng=0)
    err = np.abs(sphere.eigenvalues - exact)
    V, F = load_spot()
    report = check_mesh(V, F)
    basis = laplace_beltrami_basis(V, F, 10, rng=0)
    flips = intrinsic_delaunay(V, F).n_flips
    fig = plt.figure(figsize=(5, 4.5))
    ax = fig.add_subplot(projection="3d")
    # Spot's up axis is y: the cyclic (z, x, y) stands it upright, a rotation (swapping
    # two axes would mirror it and turn its normals, and so its shading, inside out)
    plot_mesh(V[:, [2, 0, 1]], F, basis.eigenvectors[:, 1], ax=ax, view=(10.0, -50.0),
              title=f"Spot: Fiedler vector, lambda_1 = {basis.eigenvalues[1]:.3f}")
    fig.savefig(out / "mesh.png", dpi=110)
    plt.close(fig)
    return [
        f"Unit sphere (icosphere, {len(sphere.eigenvectors)} vertices), cotangent "
        "Laplacian with Voronoi mass:",
        "  16 smallest eigenvalues against l(l+1), multiplicities 1, 3, 5, 7",
        f"  max error l=1 {err[1:4].max():.2e}, l=2 {err[4:9].max():.2e}, "
        f"l=3 {err[9:].max():.2e} (falls like h^2)",
        f"  solver {sphere.method}, verified {sphere.verified}",
        "Spot (shipped, public domain):",
        "  " + report.summary().replace("\n", "\n  "),
        f"  Laplace-Beltrami eigenvalues {np.array2string(basis.eigenvalues[:6], precision=3)}",
        f"  intrinsic Delaunay: {flips} edge flips; figure mesh.png",
        "",
    ]


def _step(msg: str, t0: float) -> None:
    print(f"[{time.perf_counter() - t0:6.2f}s] {msg}", flush=True)


def run_demo(out: Path, *, n_nodes: int = 600, seed: int = 0) -> Path:
    """Run the demo and return the path of the report it wrote."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .graphs import (
        connected_components,
        contextual_sbm,
        cycle_graph,
        dirichlet_energy,
        graph_laplacian,
        hypercube_graph,
    )
    from .plotting import plot_spectrum

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = ["spectral_sheaf demo", "=" * 19, ""]

    _step("closed-form checks (cycle C_64, hypercube Q_6)", t0)
    k = np.arange(64)
    exact_cycle = np.sort(2 - 2 * np.cos(2 * np.pi * k / 64))
    err_cycle = np.abs(np.linalg.eigvalsh(graph_laplacian(cycle_graph(64)).toarray())
                       - exact_cycle).max()
    from math import comb

    exact_cube = np.repeat(2.0 * np.arange(7), [comb(6, j) for j in range(7)])
    err_cube = np.abs(np.linalg.eigvalsh(graph_laplacian(hypercube_graph(6)).toarray())
                      - exact_cube).max()
    lines += [
        "Closed forms (max |computed - exact| eigenvalue):",
        f"  cycle C_64       2 - 2cos(2 pi k/64)    {err_cycle:.2e}",
        f"  hypercube Q_6    2j, mult. C(6, j)      {err_cube:.2e}",
        "",
    ]

    _step("meshes: unit sphere l(l+1), Spot's Laplace-Beltrami basis", t0)
    lines += _mesh_section(out)

    _step(f"contextual SBM with {n_nodes} nodes, 3 classes, homophily 0.2", t0)
    data = contextual_sbm(n_nodes, n_classes=3, avg_degree=8.0, homophily=0.2, n_features=16,
                          class_separation=2.0, rng=seed)
    A = data.adjacency
    n_comp, _ = connected_components(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    same = data.labels[rows] == data.labels[A.indices]
    lines += [
        f"Graph: contextual SBM, seed {seed}",
        f"  nodes {A.shape[0]}, undirected edges {A.nnz // 2}, components {n_comp}",
        f"  edge homophily {same.mean():.3f} (requested 0.2), "
        f"p_in {data.p_in:.4f}, p_out {data.p_out:.4f}",
        "",
    ]

    noise = data.features - _class_means(data.features, data.labels)

    def rq(X: np.ndarray) -> float:
        return dirichlet_energy(A, X, normalization="sym") / float(np.sum(X * X))

    _step("Laplacian spectra (dense eigh)", t0)
    spectra = {}
    for norm in ("combinatorial", "sym"):
        L = graph_laplacian(A, normalization=norm)
        spectra[norm] = np.linalg.eigvalsh(L.toarray())
    lc, ls = spectra["combinatorial"], spectra["sym"]
    lines += [
        "Spectrum:",
        f"  combinatorial  lambda_2 {lc[1]:.4f}, "
        f"lambda_max {lc[-1]:.4f}",
        f"  sym-normalised lambda_2 {ls[1]:.4f}, lambda_max {ls[-1]:.4f} (in [0, 2]: "
        f"{bool(ls[0] > -1e-10 and ls[-1] < 2 + 1e-10)})",
        f"  zero eigenvalues (tol 1e-9): {int((np.abs(lc) < 1e-9).sum())} = components "
        f"{n_comp}",
        "",
        "Features: Rayleigh quotient E(X) / ||X||^2 of the sym-normalised Laplacian",
        "(0 = constant on components, 2 = bipartite oscillation):",
        f"  class means only {rq(data.features - noise):.3f}, "
        f"features {rq(data.features):.3f}",
        "",
    ]

    _step("sheaf diffusion: separation power in the limit t -> infinity", t0)
    lines += _sheaf_section(A, data.labels, seed)

    _step("plotting", t0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    plot_spectrum(lc, ax=axes[0], title="combinatorial L = D - A")
    plot_spectrum(ls, ax=axes[1], title=r"normalised $I - D^{-1/2} A D^{-1/2}$")
    fig.suptitle(f"Contextual SBM, n={A.shape[0]}, homophily {same.mean():.2f}")
    png = out / "spectrum.png"
    fig.savefig(png, dpi=120)
    plt.close(fig)

    lines += [f"Figure: {png.name}", f"Total time {time.perf_counter() - t0:.2f} s"]
    report = out / "report.txt"
    report.write_text("\n".join(lines) + "\n")
    _step(f"wrote {report} and {png}", t0)
    return report


def _parse_splits(text: str) -> list[int]:
    """``"0-9"`` or ``"0,3,5"`` (or both mixed) as a list; a range must not descend."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        first, last = int(lo), int(hi or lo)
        if last < first:
            raise ValueError(f"the range {part!r} descends")
        out.extend(range(first, last + 1))
    if len(set(out)) != len(out):
        raise ValueError("a split is named twice")
    return out


def _learn(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``spectral-sheaf learn``: the ten-split protocol with a JSON report."""
    import json

    from .datasets import load_dataset
    from .learn import SheafDiffusionClassifier, evaluate_splits

    try:
        splits = _parse_splits(args.splits)
    except ValueError as exc:
        parser.error(f"--splits must look like '0-9' or '0,3,5' (ascending ranges, each "
                     f"split once); got {args.splits!r}: {exc}")
    try:
        data = load_dataset(args.dataset, args.data_dir, features=args.features)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    if not data.splits:
        parser.error(f"--dataset {args.dataset} has no splits"
                     + (f" ({data.split_note})" if data.split_note else ""))
    bad = [s for s in splits if not 0 <= s < len(data.splits)]
    if bad:
        parser.error(f"--splits must lie in 0..{len(data.splits) - 1}; got {bad}")
    est = SheafDiffusionClassifier(
        sheaf=args.sheaf, d=args.d, hidden=args.hidden, layers=args.layers,
        dropout=args.dropout, input_dropout=args.input_dropout, lr=args.lr,
        weight_decay=args.weight_decay, sheaf_decay=args.sheaf_decay, epochs=args.epochs,
        patience=args.patience, stop_on=args.stop_on, low_pass=args.low_pass,
        high_pass=args.high_pass, shared_maps=args.shared_maps, edge_weights=args.edge_weights,
        second_linear=args.second_linear, random_state=args.seed)
    print(f"{data.name}: {data.n_nodes} nodes, {data.n_edges} edges, {data.n_classes} "
          f"classes, homophily {data.homophily:.3f}; {args.sheaf} sheaf, d={args.d}",
          flush=True)
    try:
        res = evaluate_splits(data, est, splits=splits, progress=True)
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    for s in res.splits:
        print(f"split {s.split}: test {100 * s.test_acc:6.2f}%  val {100 * s.val_acc:6.2f}%  "
              f"best epoch {s.best_epoch:4d}  {s.seconds:6.1f} s")
    print(f"{data.name} {args.sheaf}: {res.mean:.2f} +- {res.std:.2f} % over "
          f"{len(res.splits)} splits")
    if args.out is not None:
        report = {"dataset": data.name, "features": args.features,
                  "params": est.get_params(), "mean": res.mean,
                  "std": res.std, "splits": [vars(s) for s in res.splits]}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spectral-sheaf`` console script."""
    parser = argparse.ArgumentParser(
        prog="spectral-sheaf",
        description="Spectral graph theory and sheaf diffusion toolkit.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions and available back ends")
    demo = sub.add_parser("demo", help="run the demo and write a report")
    demo.add_argument("--out", type=Path, default=Path("spectral_sheaf_demo"),
                      help="folder for report.txt and spectrum.png (default: %(default)s)")
    demo.add_argument("--nodes", type=int, default=600, help="graph size (default: 600)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    bench = sub.add_parser("bench", help="benchmark suites")
    bench.add_argument("suite", choices=["eigen"], help="which suite")
    bench.add_argument("--size", choices=["small", "medium", "large"], default="small",
                       help="problem sizes (default: %(default)s; small takes about a minute)")
    bench.add_argument("--out", type=Path, default=Path("spectral_sheaf_bench"),
                       help="folder for eigen.json and eigen.png (default: %(default)s)")
    bench.add_argument("-k", type=int, default=10, help="eigenpairs (default: 10)")
    bench.add_argument("--data-dir", type=Path, default=None,
                       help="folder holding geom-gcn/ (real graphs: chameleon, film, cora, "
                            "citeseer); default: $SPECTRAL_SHEAF_DATA, else none")
    bench.add_argument("--tol", type=float, default=1e-6,
                       help="relative residual tolerance (default: 1e-6)")
    bench.add_argument("--factorization", choices=["auto", "superlu", "cholmod"],
                       default="auto", help="sparse factorisation of shift-invert "
                       "(default: %(default)s: CHOLMOD where scikit-sparse imports)")
    learn = sub.add_parser("learn", help="Neural Sheaf Diffusion on a data set's splits")
    learn.add_argument("--dataset", required=True, help="texas, cornell, film, chameleon, "
                       "cora, citeseer, ... (read from --data-dir)")
    learn.add_argument("--data-dir", type=Path, default=None,
                       help="folder holding geom-gcn/ (default: $SPECTRAL_SHEAF_DATA)")
    learn.add_argument("--sheaf", choices=["diag", "orthogonal", "general", "identity"],
                       default="diag")
    learn.add_argument("--d", type=int, default=3, help="stalk dimension (default: 3)")
    learn.add_argument("--hidden", type=int, default=20, help="channels per stalk dim")
    learn.add_argument("--layers", type=int, default=4)
    learn.add_argument("--dropout", type=float, default=0.2)
    learn.add_argument("--input-dropout", type=float, default=0.0)
    learn.add_argument("--low-pass", action="store_true",
                       help="one more stalk dimension with maps fixed to 1 (plain graph "
                            "diffusion beside the learned sheaf)")
    learn.add_argument("--high-pass", action="store_true",
                       help="one more stalk dimension with maps fixed to 1 and -1 "
                            "(diffusion by the signless Laplacian D + A)")
    learn.add_argument("--shared-maps", action="store_true",
                       help="one sheaf learner for all layers (the reference's "
                            "--linear=True)")
    learn.add_argument("--edge-weights", action="store_true",
                       help="with --sheaf orthogonal: learn a weight per edge beside the "
                            "maps (the reference's default for its O(d) model)")
    learn.add_argument("--second-linear", action="store_true",
                       help="a second linear map after the encoder's (the reference's "
                            "second_linear)")
    learn.add_argument("--features", choices=["row_normalised", "raw"],
                       default="row_normalised",
                       help="feature preprocessing (raw: the published 0/1 features)")
    learn.add_argument("--lr", type=float, default=0.02)
    learn.add_argument("--weight-decay", type=float, default=5e-3)
    learn.add_argument("--sheaf-decay", type=float, default=5e-4)
    learn.add_argument("--epochs", type=int, default=500)
    learn.add_argument("--patience", type=int, default=100)
    learn.add_argument("--stop-on", choices=["acc", "loss"], default="acc",
                       help="the best epoch: highest validation accuracy or lowest "
                            "validation loss (default: %(default)s)")
    learn.add_argument("--splits", type=str, default="0-9",
                       help="which splits: '0-9', '0,3,5' (default: %(default)s)")
    learn.add_argument("--seed", type=int, default=0)
    learn.add_argument("--out", type=Path, default=None, help="JSON report path")
    args = parser.parse_args(argv)
    if args.command == "learn":
        return _learn(parser, args)
    if args.command == "info":
        print(info_text())
        return 0
    if args.command == "bench":
        if args.k < 1:
            parser.error(f"-k must be >= 1; got {args.k}")
        if not args.tol > 0:
            parser.error(f"--tol must be > 0; got {args.tol}")
        from ._cli_bench import auto_summary, format_table, run_eigen_bench

        data_dir = args.data_dir
        if data_dir is None and os.environ.get("SPECTRAL_SHEAF_DATA"):
            data_dir = Path(os.environ["SPECTRAL_SHEAF_DATA"])
        if data_dir is not None and not (data_dir / "geom-gcn").is_dir():
            parser.error(f"--data-dir must hold a geom-gcn/ folder; none in {data_dir}")
        if args.factorization == "cholmod":
            from .spectral._factor import cholmod_module

            try:
                cholmod_module(required=True)
            except ImportError as exc:
                parser.error(f"--factorization cholmod: {exc}")
        rows = run_eigen_bench(args.out, size=args.size, k=args.k, tol=args.tol,
                               data_dir=data_dir, factorization=args.factorization)
        print(format_table(rows))
        print(auto_summary(rows))
        print(f"wrote {args.out / 'eigen.json'} and {args.out / 'eigen.png'}")
        return 0
    if args.nodes < 30:
        parser.error(f"--nodes must be >= 30; got {args.nodes}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0; got {args.seed}")
    report = run_demo(args.out, n_nodes=args.nodes, seed=args.seed)
    print(report.read_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
