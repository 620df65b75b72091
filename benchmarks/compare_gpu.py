"""The CuPy paths on a GPU next to the same calls on the CPU (and SciPy), in one process.

Each row is timed on the device (the median of several runs after a warm-up, the GPU
synchronised before the clock stops) and compared with the CPU answer: the maximal
absolute difference for filters and diffusion, the eigenvalues' difference and the
residuals for eigen-solvers. Sections:

* ``filters``: the heat filter of ``compare_filters.py`` (Chebyshev order 30, 16
  channels, sym normalised Laplacian of kNN graphs of 20k and 200k points and a 500 x
  500 grid): ours on the GPU, ours on the CPU, and the GPU bound of 30 cuSPARSE
  products ``A @ X``;
* ``diffusion``: ``X(1) = exp(-L) X0`` (16 channels) by our Chebyshev method at
  ``tol=1e-9`` on the GPU and the CPU, next to SciPy's ``expm_multiply`` on the CPU,
  on the same graphs and the normalised Laplacian of a random O(3) sheaf on a 20k kNN
  graph; and the NSD model (RK4, ELU) on that sheaf;
* ``eigen``: the 20 smallest eigenpairs of grid Laplacians (300 x 300, 700 x 700) to
  tol 1e-6, and of the kNN and sheaf Laplacians: each device method of ``eigsh``
  (``chfsi``, ``arpack``: cupyx's Lanczos, ``lobpcg``) on the GPU and ``auto`` there,
  next to SciPy's ``eigsh`` in shift-invert mode (``sigma=-1e-3``) on the CPU.

Run: ``python benchmarks/compare_gpu.py [--quick] [--sections filters,diffusion,eigen]
[--light]`` on a machine with CuPy and a CUDA device (``--light``: the eigen section on
the grids only, without SciPy's timing). An eigen-solver that fails is reported on its
row and the run goes on; a section that fails is reported and the exit status is 1.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback

import numpy as np
import scipy.sparse.linalg as spla
from _timing import median_time  # benchmarks/_timing.py (a script)

from spectral_sheaf import _backend
from spectral_sheaf.diffusion import heat_diffusion, nsd_diffusion
from spectral_sheaf.filters import chebyshev_approximation, chebyshev_filter, heat
from spectral_sheaf.graphs import graph_laplacian, grid_graph, knn_graph
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import eigsh, gershgorin_bounds

# SPECTRAL_SHEAF_FAKE_GPU=1 runs every "GPU" row on the CPU arrays (eigsh through its
# device branch, on SciPy input): a smoke test of this script on a machine without a
# device (its timings mean nothing)
FAKE = os.environ.get("SPECTRAL_SHEAF_FAKE_GPU") == "1"


def to_gpu(a):
    return a if FAKE else _backend.to_cupy(a)


def gpu_eigsh(L, k, method, tol):
    """``eigsh`` on the device; in the fake mode its device branch on SciPy input."""
    if not FAKE:
        return eigsh(L, k, method=method, tol=tol, rng=0, on_failure="warn")
    from spectral_sheaf.spectral._device import eigsh_device

    return eigsh_device(L, k, M=None, which="smallest", method=method, tol=tol,
                        maxiter=None, known_kernel=None, on_failure="warn", rng=0,
                        t0=time.perf_counter())


def synced(fn):
    """Wrap ``fn`` so that it returns only after the device has finished its work."""
    if FAKE:
        return fn
    import cupy as cp

    def run():
        out = fn()
        cp.cuda.Device().synchronize()
        return out

    return run


def row(problem: str, label: str, seconds: float, ref: float, note: str = "") -> None:
    print(f"{problem:<22}{label:<34}{seconds * 1e3:>11.2f}{ref / seconds:>10.2f}  {note}",
          flush=True)


def header(title: str) -> None:
    print(f"\n{title}")
    h = f"{'problem':<22}{'method':<34}{'ms':>11}{'speed-up':>10}  note"
    print(h)
    print("-" * (len(h) + 30), flush=True)


def graphs(quick: bool) -> dict:
    rng = np.random.default_rng(0)
    sizes = (2000, 5000) if quick else (20000, 200000)
    side = 60 if quick else 500
    out = {f"kNN {n}": graph_laplacian(knn_graph(rng.random((n, 3)), 10),
                                       normalization="sym") for n in sizes}
    out[f"grid {side}x{side}"] = graph_laplacian(grid_graph((side, side)),
                                                 normalization="sym")
    return out


def sheaf_problem(quick: bool):
    rng = np.random.default_rng(1)
    n = 1000 if quick else 20000
    A = knn_graph(rng.random((n, 3)), 10, reorder="rcm")[0]
    return f"O(3) sheaf, kNN {n}", sheaf_laplacian(
        random_sheaf(A, 3, kind="orthogonal", rng=1), normalization="sym")


def filters_section(quick: bool) -> None:
    order, channels, tau = 30, 16, 10.0
    header(f"heat filter, Chebyshev order {order}, {channels} channels "
           "(speed-up: CPU time / this row's)")
    rng = np.random.default_rng(2)
    for name, L in graphs(quick).items():
        X = rng.standard_normal((L.shape[0], channels))
        lmax = float(gershgorin_bounds(L)[1])
        p = chebyshev_approximation(heat(tau / lmax), lmax, order=order)
        Lg, Xg = to_gpu(L), to_gpu(X)
        cpu = chebyshev_filter(L, X, p, check_interval=False)
        gpu = _backend.to_numpy(chebyshev_filter(Lg, Xg, p, check_interval=False))
        diff = float(np.abs(gpu - cpu).max())
        t_cpu = median_time(lambda L=L, X=X, p=p: chebyshev_filter(
            L, X, p, check_interval=False), 5)
        t_gpu = median_time(synced(lambda L=Lg, X=Xg, p=p: chebyshev_filter(
            L, X, p, check_interval=False)), 20)

        def bound(L=Lg, X=Xg):
            for _ in range(order):
                L @ X

        t_bound = median_time(synced(bound), 20)
        row(name, "ours, CPU", t_cpu, t_cpu)
        row(name, "ours, GPU", t_gpu, t_cpu, f"max |GPU - CPU| = {diff:.1e}")
        row(name, f"GPU bound: {order} x (A @ X)", t_bound, t_cpu,
            f"ours / bound = {t_gpu / t_bound:.2f}")


def diffusion_section(quick: bool) -> None:
    header("X(1) = exp(-L) X0, 16 channels (speed-up: expm_multiply's CPU time / this row's)")
    rng = np.random.default_rng(3)
    problems = graphs(quick)
    name, Ls = sheaf_problem(quick)
    problems[name] = Ls
    for name, L in problems.items():
        X = rng.standard_normal((L.shape[0], 16))
        Lg, Xg = to_gpu(L), to_gpu(X)
        ref = heat_diffusion(L, X, [1.0], tol=1e-15).states[0]
        scale = np.linalg.norm(ref)
        gpu = _backend.to_numpy(heat_diffusion(Lg, Xg, [1.0], method="chebyshev",
                                               tol=1e-9).states[0])
        cpu = heat_diffusion(L, X, [1.0], method="chebyshev", tol=1e-9).states[0]
        ex = spla.expm_multiply(-L, X)
        t_ex = median_time(lambda L=L, X=X: spla.expm_multiply(-L, X), 3)
        t_cpu = median_time(lambda L=L, X=X: heat_diffusion(
            L, X, [1.0], method="chebyshev", tol=1e-9), 5)
        t_gpu = median_time(synced(lambda L=Lg, X=Xg: heat_diffusion(
            L, X, [1.0], method="chebyshev", tol=1e-9)), 10)
        row(name, "scipy expm_multiply, CPU", t_ex, t_ex,
            f"rel. error {np.linalg.norm(ex - ref) / scale:.1e}")
        row(name, "ours (chebyshev), CPU", t_cpu, t_ex,
            f"rel. error {np.linalg.norm(cpu - ref) / scale:.1e}")
        row(name, "ours (chebyshev), GPU", t_gpu, t_ex,
            f"rel. error {np.linalg.norm(gpu - ref) / scale:.1e}, GPU vs CPU "
            f"{t_cpu / t_gpu:.2f}x")
    header("NSD model, RK4, dt = 0.01 to t = 1, ELU, 8 channels (speed-up: CPU / this row)")
    name, L = sheaf_problem(quick)
    g = np.random.default_rng(4)
    X = g.standard_normal((L.shape[0], 8))
    W1, W2 = g.standard_normal((3, 3)) / 3, g.standard_normal((8, 8)) / 8
    kw = {"d": 3, "activation": "elu", "method": "rk4", "dt": 0.01}
    cpu = nsd_diffusion(L, X, [1.0], W1=W1, W2=W2, **kw).states[0]
    args = (to_gpu(L), to_gpu(X))
    Wg = {"W1": to_gpu(W1), "W2": to_gpu(W2)}
    gpu = _backend.to_numpy(nsd_diffusion(*args, [1.0], **Wg, **kw).states[0])
    t_cpu = median_time(lambda: nsd_diffusion(L, X, [1.0], W1=W1, W2=W2, **kw), 3)
    t_gpu = median_time(synced(lambda: nsd_diffusion(*args, [1.0], **Wg, **kw)), 5)
    row(name, "nsd_diffusion, CPU", t_cpu, t_cpu)
    row(name, "nsd_diffusion, GPU", t_gpu, t_cpu,
        f"max |GPU - CPU| = {np.abs(gpu - cpu).max():.1e}")


def eigen_section(quick: bool, light: bool = False) -> None:
    header("20 smallest eigenpairs, tol 1e-6 (speed-up: SciPy shift-invert's CPU time / "
           "this row's; one run each)")
    sides = (60, 100) if quick else (300, 700)
    problems = {f"grid {s}x{s}": graph_laplacian(grid_graph((s, s))) for s in sides}
    if not light:
        # the 200k kNN graph is left out: its 3-D factorisation fills in far too much
        first = next(iter(graphs(quick).items()))
        problems[first[0]] = graph_laplacian(knn_graph(
            np.random.default_rng(0).random((first[1].shape[0], 3)), 10))
        name, Ls = sheaf_problem(quick)
        problems[name] = Ls
    k, tol = 20, 1e-6
    warm = to_gpu(graph_laplacian(grid_graph((30, 30) if quick else (100, 100))))
    for method in ("chfsi", "arpack", "lobpcg"):  # compile the device kernels first
        gpu_eigsh(warm, k, method, tol)
    for name, L in problems.items():
        big = L.shape[0] > 100000  # LOBPCG without a preconditioner: far too slow there
        methods = ("auto", "chfsi", "arpack") + (() if big else ("lobpcg",))
        if light:  # SciPy's time and the slow methods measured before; Lanczos on 90k
            methods = ("auto", "chfsi") if big else ("arpack",)
            lam_si = np.sort(spla.eigsh(L, k, sigma=-1e-3, which="LM", tol=tol)[0]) \
                if not big else None
            t_si = float("nan")
            print(f"{name:<22}(light: SciPy shift-invert not timed; speed-up column "
                  "empty)", flush=True)
        else:
            t0 = time.perf_counter()
            lam_si = spla.eigsh(L, k, sigma=-1e-3, which="LM", tol=tol)[0]
            t_si = time.perf_counter() - t0
            lam_si = np.sort(lam_si)
            row(name, "scipy eigsh shift-invert, CPU", t_si, t_si)
        Lg = to_gpu(L)
        for method in methods:
            try:
                t0 = time.perf_counter()
                r = synced(lambda Lg=Lg, m=method: gpu_eigsh(Lg, k, m, tol))()
                t = time.perf_counter() - t0
                lam = _backend.to_numpy(r.eigenvalues)
                agree = "-" if lam_si is None else f"{np.abs(lam - lam_si).max():.1e}"
                row(name, f"eigsh {method}, GPU", t, t_si,
                    f"{r.method}, verified {r.verified}, {r.n_matvecs} products, max "
                    f"res {r.residuals.max():.1e}, max |lam - SciPy's| {agree}; "
                    f"{r.missed_check}")
            except Exception as exc:  # report and go on: one run of a leased device
                print(f"{name:<22}eigsh {method}, GPU: {type(exc).__name__}: "
                      f"{str(exc)[:300]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--sections", default="filters,diffusion,eigen")
    parser.add_argument("--light", action="store_true",
                        help="eigen: the grids only, no SciPy timing, fewer methods")
    args = parser.parse_args()
    if not FAKE:
        import cupy as cp

        props = cp.cuda.runtime.getDeviceProperties(0)
        print(f"device: {props['name'].decode()}, CuPy {cp.__version__}, "
              f"{os.cpu_count()} CPU cores", flush=True)
    sections = {"filters": filters_section, "diffusion": diffusion_section,
                "eigen": eigen_section}
    failed = []
    for s in args.sections.split(","):
        t0 = time.perf_counter()
        try:
            if s == "eigen":
                eigen_section(args.quick, args.light)
            else:
                sections[s](args.quick)
        except Exception:  # one section's failure must not cost the others
            traceback.print_exc()
            failed.append(s)
        print(f"[{s}: {time.perf_counter() - t0:.0f} s]", flush=True)
    if failed:
        raise SystemExit(f"sections that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
