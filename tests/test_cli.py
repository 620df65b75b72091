import re
import subprocess
import sys

import pytest

from spectral_sheaf.cli import info_text, main


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numba threads:" in out
    assert "CuPy:" in out
    assert out.strip() == info_text()


def test_demo_writes_report_and_png(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "rep"), "--nodes", "120"]) == 0
    report = (tmp_path / "rep" / "report.txt").read_text()
    png = (tmp_path / "rep" / "spectrum.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cycle C_64" in report
    # the closed-form errors printed in the report are at rounding level
    errs = [float(line.split()[-1]) for line in report.splitlines() if "C_64" in line
            or "Q_6" in line]
    assert len(errs) == 2
    assert max(errs) < 1e-12
    assert "nodes 120" in report
    sheaf_lines = [line for line in report.splitlines() if "dim H^0" in line]
    assert len(sheaf_lines) == 2
    assert "separable: False" in sheaf_lines[0]  # constant sheaf
    assert "separable: True" in sheaf_lines[1]  # the O(2) sheaf of Prop. 13
    # the mesh section: the sphere's spectrum and Spot's report and figure
    assert (tmp_path / "rep" / "mesh.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sphere = next(line for line in report.splitlines() if "max error l=1" in line)
    l2_error = float(sphere.split("l=2")[1].split()[0].rstrip(","))
    assert l2_error < 1e-2  # 2562 vertices: 8.5e-3, falling like h^2
    assert "Euler characteristic 2" in report
    assert "verified True" in report


@pytest.mark.parametrize(("args", "msg"), [
    (["--nodes", "3"], "--nodes must be >= 30; got 3"),
    (["--nodes", "29"], "--nodes must be >= 30; got 29"),
    (["--seed", "-1"], "--seed must be >= 0; got -1"),
])
def test_demo_rejects_bad_arguments(args, msg, capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["demo", "--out", str(tmp_path), *args])
    assert msg in capsys.readouterr().err


def test_demo_smallest_allowed_graph(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--nodes", "30"]) == 0


def test_console_script_module_runs():
    out = subprocess.run([sys.executable, "-m", "spectral_sheaf.cli", "info"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("spectral_sheaf ")


@pytest.mark.slow
def test_bench_eigen_small(tmp_path, capsys):
    import json

    assert main(["bench", "eigen", "--out", str(tmp_path), "-k", "6"]) == 0
    out = capsys.readouterr().out
    assert "verified" in out
    rows = json.loads((tmp_path / "eigen.json").read_text())
    assert {r["method"] for r in rows} >= {"auto", "shift_invert", "arpack", "lobpcg"}
    # every answer the command calls verified has small residuals
    for r in rows:
        if r["verified"]:
            assert r["max_rel_residual"] <= 1e-6
    assert (tmp_path / "eigen.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_table_shows_why_a_method_failed_and_fits_long_names():
    from spectral_sheaf._cli_bench import format_table

    note = ("method='arpack' did not return verified eigenpairs; arpack: failed "
            "(ArpackNoConvergence: ARPACK error -1: No convergence (1001 iterations, "
            "12/13 eigenvectors converged))")
    rows = [{"matrix": "grid 200x200", "n": 40000, "method": "arpack", "seconds": 9.5,
             "verified": False, "note": note},
            {"matrix": "citeseer, 438 components (sym)", "n": 3327, "method": "auto",
             "chosen": "shift_invert", "seconds": 0.05, "matvecs": 121,
             "max_rel_residual": 3.7e-17, "max_eig_diff": 0.0, "verified": True}]
    lines = format_table(rows).splitlines()
    assert lines[1].endswith("(arpack: failed (ArpackNoConvergence: ARPACK error -1: No "
                             "convergence (1001 iterations, 12/13 eigenvectors converged)))")
    assert "(sym)  auto" in lines[2]
    # the columns line up whatever the matrix names
    ends = {line.index("False") + 5 if "False" in line else line.index("True") + 4
            for line in lines[1:]}
    assert len(ends) == 1


@pytest.mark.parametrize(("args", "msg"), [
    (["-k", "0"], "-k must be >= 1; got 0"),
    (["--tol", "-1"], "--tol must be > 0; got -1.0"),
])
def test_bench_rejects_bad_arguments(args, msg, capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["bench", "eigen", "--out", str(tmp_path), *args])
    assert msg in capsys.readouterr().err


def test_learn_command_runs_the_protocol(tmp_path, capsys):
    import json

    from tests.datasets.test_graphs import write_geom_gcn

    write_geom_gcn(tmp_path, "texas")
    out = tmp_path / "learn.json"
    assert main(["learn", "--dataset", "texas", "--data-dir", str(tmp_path), "--d", "2",
                 "--hidden", "3", "--layers", "1", "--epochs", "5", "--splits", "0-2",
                 "--features", "raw", "--low-pass", "--high-pass", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.count("split ") == 3
    assert "texas diag:" in text
    report = json.loads(out.read_text())
    assert len(report["splits"]) == 3
    assert report["params"]["d"] == 2
    assert report["params"]["low_pass"] is True
    assert report["params"]["high_pass"] is True
    assert report["features"] == "raw"


@pytest.mark.parametrize(("args", "msg"), [
    (["--splits", "a-b"], "--splits must look like"),
    (["--splits", "5-3"], r"--splits must look like .*got '5-3': the range '5-3' descends"),
    (["--splits", "1,0-2"], r"--splits must look like .*: a split is named twice"),
    (["--splits", "0-12"], r"--splits must lie in 0..9; got \[10, 11, 12\]"),
    (["--dataset", "imdb"], "name must be one of"),
    (["--edge-weights", "--epochs", "1"], "edge_weights=True needs sheaf='orthogonal'"),
])
def test_learn_rejects_bad_arguments(args, msg, tmp_path, capsys):
    from tests.datasets.test_graphs import write_geom_gcn

    write_geom_gcn(tmp_path, "texas")
    base = ["learn", "--dataset", "texas", "--data-dir", str(tmp_path)]
    with pytest.raises(SystemExit):
        main(base + args)
    assert re.search(msg, capsys.readouterr().err)


def test_learn_names_where_the_splits_were_looked_for(tmp_path, capsys):
    import shutil

    from tests.datasets.test_graphs import write_geom_gcn

    write_geom_gcn(tmp_path, "texas")
    shutil.rmtree(tmp_path / "geom-gcn" / "splits")
    with pytest.raises(SystemExit):
        main(["learn", "--dataset", "texas", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert "--dataset texas has no splits (no split files: looked for " in err
    assert "texas_split_0.6_0.2_<k>.npz" in err
