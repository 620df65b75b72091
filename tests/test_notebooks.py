"""The tutorials in notebooks/ are clean and run from top to bottom (executed in CI).

Each notebook's code cells run, in order, as one script in a fresh interpreter (no
Jupyter kernel needed), with matplotlib's non-interactive backend, numerical, deprecation
and future warnings as errors and, where ../shared/data is present,
``SPECTRAL_SHEAF_DATA`` pointing at its graphs. The notebooks assert what they print
(closed forms, agreement between methods, recovered sheaves), so a wrong number fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHARED_GRAPHS = ROOT.parent / "shared" / "data" / "graphs"


def _cells(path: Path) -> list[dict]:
    nb = json.loads(path.read_text())
    assert nb["nbformat"] == 4, path.name
    return nb["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_tutorials_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) >= 4, names
    # numbered 01, 02, ... without gaps: the reading order
    assert [n[:3] for n in names] == [f"{i:02d}_" for i in range(1, len(names) + 1)], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(path):
    cells = _cells(path)
    first = cells[0]
    assert first["cell_type"] == "markdown", path.name
    assert _source(first).startswith("# "), path.name
    for cell in cells:
        if cell["cell_type"] == "code":
            # outputs are made by running, never stored: they would go stale
            assert cell["outputs"] == [], path.name
            assert cell["execution_count"] is None, path.name
            for line in _source(cell).splitlines():
                # magics and shell escapes would not run outside Jupyter
                assert not line.lstrip().startswith(("%", "!")), (path.name, line)
                # a heading commented out in a code cell is a markdown cell gone astray
                assert not line.startswith("# #"), (path.name, line)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    code = "\n\n".join(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    script = tmp_path / f"{path.stem}.py"
    script.write_text(code + "\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if SHARED_GRAPHS.is_dir():
        env["SPECTRAL_SHEAF_DATA"] = str(SHARED_GRAPHS)
    errors = ["-W", "error::RuntimeWarning", "-W", "error::DeprecationWarning",
              "-W", "error::FutureWarning"]
    proc = subprocess.run([sys.executable, *errors, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stderr[-4000:]}"
    assert proc.stdout.strip(), f"{path.name} printed nothing"
