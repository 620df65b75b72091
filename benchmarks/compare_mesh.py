"""Mesh operators: ours next to libigl, gpytoolbox and robust-laplacian, in one process.

For each mesh (geodesic icospheres of 40962, 163842 and 655362 vertices, that is
81920, 327680 and 1310720 faces, and the real meshes of ../shared/data/meshes after
the documented repairs), median wall times of:

* cotangent Laplacian plus Voronoi mass: ours (``cotangent_laplacian`` then
  ``mass_matrix(kind="voronoi")``, two calls, each validating its input) against
  libigl (``cotmatrix`` + ``massmatrix(MASSMATRIX_TYPE_VORONOI)``) and gpytoolbox
  (``cotangent_laplacian`` + ``massmatrix(type="voronoi")``);
* the intrinsic Delaunay Laplacian and its mass matrix: ours
  (``intrinsic_delaunay_laplacian(mass="barycentric")``) against robust-laplacian's
  ``mesh_laplacian`` (default mollification; it also builds a tufted cover, which
  handles non-manifold input that ours rejects).

Agreement: max |difference| / max |entry| of each peer's L and M against ours
(libigl's Laplacian negated; gpytoolbox's has our sign). robust-laplacian is compared
with ``mollify_factor=0`` on closed meshes, where its tufted cover is two copies of
the surface and the intrinsic Delaunay Laplacians coincide up to the tolerance of the
Delaunay test: where four vertices are (nearly) cocircular either diagonal is
Delaunay, L barely changes and the barycentric mass does. A ratio above 1 means ours is
faster. Run: ``python benchmarks/compare_mesh.py [--data-dir DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
from _timing import median_time  # benchmarks/_timing.py (run as a script)

from spectral_sheaf.mesh import (
    check_mesh,
    cotangent_laplacian,
    drop_degenerate_faces,
    icosphere,
    intrinsic_delaunay,
    intrinsic_delaunay_laplacian,
    mass_matrix,
    read_mesh,
    remove_unreferenced,
    weld_vertices,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def rel_diff(A, B) -> float:
    A = A.toarray() if A.shape[0] < 3000 else A
    D = abs(A - B)
    return float(D.max() / abs(A).max())


def load_meshes(quick: bool, data_dir: Path | None) -> dict:
    levels = (3, 4) if quick else (6, 7, 8)
    meshes = {f"icosphere {lv}": icosphere(lv) for lv in levels}
    names = ("spot", "fandisk") if quick else ("woody", "spot", "teapot", "fandisk",
                                               "stanford-bunny")
    if data_dir is not None and (data_dir / "meshes").is_dir():
        for name in names:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                V, F = read_mesh(data_dir / "meshes" / f"{name}.obj")
            V, F = weld_vertices(V, F)  # teapot's unwelded patches
            V, F = drop_degenerate_faces(V, F)
            V, F = remove_unreferenced(V, F)  # the bunny's 1113 loose vertices
            meshes[name] = (V, F)
    return meshes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SPECTRAL_SHEAF_DATA", DEFAULT_DATA)))
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    header = (f"{'mesh':<16}{'vertices':>10}{'faces':>10}  {'operation':<34}{'ours ms':>9}"
              f"{'peer ms':>10}{'peer/ours':>10}{'L diff':>10}{'M diff':>10}")
    print(header)
    print("-" * len(header))
    for name, (V, F) in load_meshes(args.quick, args.data_dir).items():
        # millisecond problems get more runs: with five, their ratios moved by 30 %
        run_mesh(name, V, F, repeats if len(F) > 50_000 else 31)


def run_mesh(name: str, V: np.ndarray, F: np.ndarray, repeats: int) -> None:
    import gpytoolbox
    import igl
    import robust_laplacian

    V = np.ascontiguousarray(V, dtype=np.float64)
    F = np.ascontiguousarray(F, dtype=np.int64)
    F32 = F.astype(np.int32)
    closed = check_mesh(V, F).is_closed

    def ours():
        return cotangent_laplacian(V, F), mass_matrix(V, F, kind="voronoi")

    def libigl():
        return (-igl.cotmatrix(V, F), igl.massmatrix(V, F, igl.MASSMATRIX_TYPE_VORONOI))

    def gpy():
        return (gpytoolbox.cotangent_laplacian(V, F32),
                gpytoolbox.massmatrix(V, F32, type="voronoi"))

    t_ours = median_time(ours, repeats)
    L, M = ours()
    row = f"{name:<16}{len(V):>10}{len(F):>10}  "
    for label, fn in (("cot + Voronoi mass: libigl", libigl),
                      ("cot + Voronoi mass: gpytoolbox", gpy)):
        t_peer = median_time(fn, repeats)
        Lp, Mp = fn()
        diff = f"{rel_diff(L, Lp):>10.1e}{rel_diff(M, Mp):>10.1e}"
        print(f"{row}{label:<34}{1e3 * t_ours:>9.1f}{1e3 * t_peer:>10.1f}"
              f"{t_peer / t_ours:>10.2f}{diff}", flush=True)
    t_ours = median_time(lambda: intrinsic_delaunay_laplacian(V, F, mass="barycentric"),
                         repeats)
    t_peer = median_time(lambda: robust_laplacian.mesh_laplacian(V, F), repeats)
    flips = intrinsic_delaunay(V, F).n_flips
    if closed:
        Li, Mi = intrinsic_delaunay_laplacian(V, F, mass="barycentric")
        Lr, Mr = robust_laplacian.mesh_laplacian(V, F, mollify_factor=0.0)
        diff = f"{rel_diff(Li, Lr):>10.1e}{rel_diff(Mi, Mr):>10.1e}"
    else:
        diff = f"{'(boundary: not compared)':>26}"
    label = f"intrinsic Delaunay ({flips} flips)"
    print(f"{row}{label:<34}{1e3 * t_ours:>9.1f}{1e3 * t_peer:>10.1f}"
          f"{t_peer / t_ours:>10.2f}{diff}", flush=True)


if __name__ == "__main__":
    main()
