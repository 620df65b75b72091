"""Parameter sweeps of diffusion simulations."""

import csv
import json

import matplotlib
import numpy as np
import pytest

from spectral_sheaf.diffusion import heat_diffusion, run_grid, save_runs
from spectral_sheaf.graphs import grid_graph
from spectral_sheaf.plotting import plot_runs
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian

matplotlib.use("Agg")


def simulate(t, kind, d):
    A = grid_graph((5, 5))
    L = sheaf_laplacian(random_sheaf(A, d, kind=kind, rng=0), normalization="sym")
    X = np.random.default_rng(0).standard_normal(L.shape[0])
    r = heat_diffusion(L, X, [t], trace=True)
    return {"energy": r.energy[0], "norm": float(np.linalg.norm(r.states[0]))}


def test_grid_runs_every_combination_and_saves(tmp_path, capsys):
    grid = {"t": [0.1, 1.0, 5.0], "kind": ["constant", "orthogonal"], "d": [1, 2]}
    rows = run_grid(simulate, grid, progress=True, out=tmp_path / "runs.json")
    assert len(rows) == 12
    assert [(r["t"], r["kind"], r["d"]) for r in rows[:3]] == [
        (0.1, "constant", 1), (0.1, "constant", 2), (0.1, "orthogonal", 1)]
    # each row is what simulate measured for its parameters
    assert rows[5]["energy"] == pytest.approx(simulate(1.0, "constant", 2)["energy"])
    assert all(r["seconds"] > 0 for r in rows)
    # energy decreases with the diffusion time for each sheaf
    for kind in ("constant", "orthogonal"):
        e = [r["energy"] for r in rows if r["kind"] == kind and r["d"] == 2]
        assert e == sorted(e, reverse=True)
    assert json.loads((tmp_path / "runs.json").read_text())[0]["kind"] == "constant"
    assert capsys.readouterr().err.count("[") == 12
    save_runs(rows, tmp_path / "runs.csv")
    with (tmp_path / "runs.csv").open() as fh:
        back = list(csv.DictReader(fh))
    assert len(back) == 12
    assert float(back[0]["t"]) == 0.1
    ax = plot_runs(rows, "t", "energy", hue="kind", logy=True)
    assert len(ax.get_lines()) == 2


def test_runner_messages():
    with pytest.raises(ValueError, match=r"grid must be a non-empty mapping"):
        run_grid(simulate, {})
    with pytest.raises(ValueError, match=r"grid\['t'\] must hold at least one value"):
        run_grid(simulate, {"t": []})
    with pytest.raises(ValueError, match=r"grid\['kind'\] must be a sequence of values; got str"):
        run_grid(simulate, {"kind": "constant"})
    with pytest.raises(TypeError, match=r"simulate must return a mapping"):
        run_grid(lambda t: t, {"t": [1]})
    with pytest.raises(ValueError, match=r"keys that clash with the parameters: \['t'\]"):
        run_grid(lambda t: {"t": 2}, {"t": [1]})
    with pytest.raises(ValueError, match=r"out must end in .json or .csv"):
        run_grid(simulate, {"t": [1]}, out="runs.txt")
    with pytest.raises(ValueError, match=r"column 'y' is missing from row 0"):
        plot_runs([{"x": 1}], "x", "y")
