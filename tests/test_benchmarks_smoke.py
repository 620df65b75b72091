"""The benchmark scripts still run (on small sizes); nothing here looks at times."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(args: list[str]) -> str:
    """Run a benchmark script; its stdout, or a failure showing the end of its stderr."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(("script", "expected"), [
    # each graph once per assembly table and twice per product table; "ours/scipy" heads
    # two columns of the first table and one of the second
    ("compare_graphs.py", {"ours/scipy": 3, "random/rcm": 2, "kNN 2k (k=10)": 6}),
    # the sheaf script prints five stalk sizes in each of two node orders
    ("compare_sheaf.py", {"scipy/ours": 1, " rcm ": 5, "matrix-free": 2}),
    # four problems, each with four of our methods and two peers
    ("compare_eigen.py", {"ours auto": 4, "scipy eigsh sigma": 4, "scipy lobpcg": 4}),
    # four problems, three methods and a summary line each; then the NSD table
    ("compare_diffusion.py", {"ours (chebyshev)": 4, "expm_multiply / ours =": 4,
                              "array form / ours =": 1}),
])
def test_benchmark_scripts_run_quick(script, expected):
    out = _run([sys.executable, str(BENCH / script), "--quick"])
    for text, count in expected.items():
        assert out.count(text) == count, (text, out)


@pytest.mark.slow
def test_gpu_benchmark_runs_quick_without_a_device():
    # SPECTRAL_SHEAF_FAKE_GPU=1: the "GPU" rows run on the CPU arrays; every section must
    # finish (a failed section makes the exit status 1) and print all its rows
    env = {**os.environ, "SPECTRAL_SHEAF_FAKE_GPU": "1"}
    done = subprocess.run([sys.executable, str(BENCH / "compare_gpu.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert out.count("ours, GPU") == 3, out  # three graphs in the filter table
    assert out.count("ours (chebyshev), GPU") == 4, out  # and four diffusion problems
    assert out.count("nsd_diffusion, GPU") == 1, out
    # four eigen problems, each with auto, chfsi, arpack and lobpcg: all verified
    assert out.count("verified True") == 16, out
    assert "Traceback" not in out + done.stderr


@pytest.mark.slow
def test_eigen_dimension_table_runs_quick():
    out = _run([sys.executable, str(BENCH / "compare_eigen.py"), "--dimension", "--quick"])
    # three graphs, each with two Laplacians; each row ends in ARPACK / LOBPCG
    rows = [line.split() for line in out.splitlines()
            if line.startswith(("kNN 5-D", "kNN 8-D", "ER deg 8"))]
    assert len(rows) == 6, out
    assert all(float(r[-1]) > 0 and r[-4] in ("shift_invert", "arpack", "lobpcg")
               for r in rows), out


@pytest.mark.slow
def test_filter_benchmark_runs_quick():
    pytest.importorskip("pygsp", reason="PyGSP is the peer (the bench extra)")
    out = _run([sys.executable, str(BENCH / "compare_filters.py"), "--quick"])
    # three graphs, five rows and a summary each
    assert out.count("PyGSP / ours =") == 3, out
    assert out.count("bound: 30 x (A @ X)") == 3, out


@pytest.mark.slow
def test_mesh_benchmark_runs_quick():
    for peer in ("igl", "gpytoolbox", "robust_laplacian"):
        pytest.importorskip(peer, reason=f"{peer} is a peer (the bench extra)")
    out = _run([sys.executable, str(BENCH / "compare_mesh.py"), "--quick"])
    # two icospheres (and two shared meshes when ../shared is there), three rows each
    assert out.count("cot + Voronoi mass: libigl") in (2, 4), out
    assert out.count("intrinsic Delaunay (") == out.count("cot + Voronoi mass: libigl"), out


@pytest.mark.slow
def test_learner_benchmarks_run_quick(shared_data):
    pytest.importorskip("torch", reason="PyTorch is the peer of learner_speed.py")
    out = _run([sys.executable, str(BENCH / "learner_speed.py"), "--quick", "--data-dir",
                str(shared_data / "graphs")])
    # texas, d = 3, three sheaf classes: each row checks gradients against torch first
    rows = [line for line in out.splitlines() if line.startswith("texas ")]
    assert len(rows) == 3, out
    assert all(float(row.split()[3]) < 1e-10 for row in rows), out
    assert "ten-split protocol on texas" in out, out
    out = _run([sys.executable, str(BENCH / "learner_accuracy.py"), "--datasets", "texas",
                "--sheaves", "diag", "--splits", "0", "--epochs", "3", "--no-grid",
                "--data-dir", str(shared_data / "graphs")])
    assert out.count("Diag-NSD") == 1, out
    assert "texas    : ours (class chosen on validation)" in out, out
    # the GCN and MLP run here: a line each while running, a table row each, the verdict
    assert out.count("GCN (here)") == 2, out
    assert out.count("MLP (here)") == 2, out
    assert "above GCN and MLP: the paper's NO; here " in out, out


@pytest.mark.slow
def test_learner_accuracy_averages_over_seeds(shared_data, tmp_path):
    pytest.importorskip("torch", reason="PyTorch runs the GCN and MLP baselines")
    report = tmp_path / "runs.json"
    out = _run([sys.executable, str(BENCH / "learner_accuracy.py"), "--datasets", "texas",
                "--sheaves", "diag", "--splits", "0-1", "--epochs", "20", "--no-grid",
                "--seeds", "0,1", "--out", str(report),
                "--data-dir", str(shared_data / "graphs")])
    assert "averaged over seeds 0,1" in out, out
    runs = json.loads(report.read_text())
    assert [r.get("model", "nsd") for r in runs] == ["nsd", "gcn", "mlp"]
    for baseline in runs[1:]:
        per_seed = [100 * np.mean(s["per_split"]) for s in baseline["seeds"]]
        assert [len(s["per_split"]) for s in baseline["seeds"]] == [2, 2]
        assert baseline["test"] == pytest.approx(np.mean(per_seed))
    run = runs[0]
    seeds = run["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1]
    assert all(len(s["per_split"]) == 2 for s in seeds)
    means = [100 * np.mean(s["per_split"]) for s in seeds]
    assert [s["test"] for s in seeds] == pytest.approx(means)
    assert run["test"] == pytest.approx(np.mean(means))
    assert run["seed_spread"] == pytest.approx(np.std(means, ddof=1))
    assert f"std of the mean {run['seed_spread']:4.2f}" in out, out


@pytest.mark.slow
def test_learner_accuracy_grid_gives_edge_weights_to_orthogonal_maps_only(shared_data,
                                                                          tmp_path):
    """Texas's grid holds the reference's O(d) point, with edge weights: the diagonal
    class runs it without them (it would refuse them), the orthogonal class with."""
    report = tmp_path / "runs.json"
    _run([sys.executable, str(BENCH / "learner_accuracy.py"), "--datasets", "texas",
          "--sheaves", "diag,orthogonal", "--splits", "0", "--epochs", "3", "--no-baselines",
          "--out", str(report), "--data-dir", str(shared_data / "graphs")])
    runs = json.loads(report.read_text())
    assert len(runs) == 4
    (diag,) = [r for r in runs if r["sheaf"] == "diag" and r["overrides"].get("edge_weights")]
    (orth,) = [r for r in runs if r["sheaf"] == "orthogonal"
               and r["overrides"].get("edge_weights")]
    assert "edge_weights" not in diag["params"]
    assert orth["params"]["edge_weights"] is True
    assert orth["params"]["hidden"] == diag["params"]["hidden"] == 20  # the point's


@pytest.mark.slow
def test_learner_accuracy_baselines_see_the_features_ours_saw(shared_data, tmp_path):
    """Chameleon's grid runs on the published 0/1 features: so do its GCN and MLP."""
    pytest.importorskip("torch", reason="PyTorch runs the GCN and MLP baselines")
    report = tmp_path / "runs.json"
    _run([sys.executable, str(BENCH / "learner_accuracy.py"), "--datasets", "chameleon",
          "--sheaves", "diag", "--splits", "0", "--epochs", "3", "--out", str(report),
          "--data-dir", str(shared_data / "graphs")])
    runs = json.loads(report.read_text())
    assert {r["overrides"].get("features") for r in runs if "sheaf" in r} == {"raw"}
    assert [(r["model"], r["features"]) for r in runs if "model" in r] == [
        ("gcn", "raw"), ("mlp", "raw")]


def test_learner_accuracy_without_torch_names_the_flag_that_skips_the_baselines(tmp_path):
    (tmp_path / "torch").mkdir()  # a torch package that cannot be imported
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(BENCH / "learner_accuracy.py")],
                          capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 2, done.stderr
    assert ("the GCN and MLP baselines run in PyTorch, which is not installed (the bench "
            "extra pins it); --no-baselines skips them") in done.stderr, done.stderr


@pytest.mark.parametrize("seeds", ["0,0", "a", "-1"])
def test_learner_accuracy_rejects_bad_seeds(seeds):
    done = subprocess.run([sys.executable, str(BENCH / "learner_accuracy.py"), "--seeds",
                           seeds], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "--seeds must" in done.stderr, done.stderr
