"""The benchmark scripts still run (on small sizes); nothing here looks at times."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
def test_compare_graphs_quick_runs():
    out = subprocess.run(
        [sys.executable, str(BENCH / "compare_graphs.py"), "--quick"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    assert "ours/scipy" in out
    assert "random/rcm" in out
    # once in each assembly table, twice (given, rcm) in each product table
    assert out.count("kNN 2k (k=10)") == 6


@pytest.mark.slow
def test_compare_sheaf_quick_runs():
    out = subprocess.run(
        [sys.executable, str(BENCH / "compare_sheaf.py"), "--quick"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    assert "scipy/ours" in out
    # five stalk dimensions in each of the two node orders
    assert out.count("random") >= 5
    assert "matrix-free" in out
