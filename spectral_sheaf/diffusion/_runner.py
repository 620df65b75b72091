"""Parameter sweeps for diffusion simulations, as tidy tables (no pandas)."""

from __future__ import annotations

import csv
import itertools
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["run_grid", "save_runs"]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def run_grid(
    simulate: Callable[..., Mapping[str, Any]],
    grid: Mapping[str, Sequence[Any]],
    *,
    progress: bool = False,
    out: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Run ``simulate(**params)`` for every combination of the parameter grid.

    Parameters
    ----------
    simulate : callable
        Takes the grid's parameters as keywords and returns a mapping of measured
        values (numbers, strings; arrays are kept as lists in the saved file).
    grid : mapping of str to sequence
        Parameter name to the values to sweep, e.g. ``{"t": [0.1, 1.0], "d": [1, 2]}``;
        the runs are the Cartesian product, in the given order.
    progress : bool
        Print a progress line per run to standard error.
    out : path, optional
        Save the table there (``.json`` or ``.csv``, by the suffix).

    Returns
    -------
    list of dict
        One row per run: the parameters, the measured values and ``seconds``.
    """
    if not callable(simulate):
        raise TypeError(f"simulate must be callable; got {type(simulate).__name__}")
    if not isinstance(grid, Mapping) or len(grid) == 0:
        raise ValueError("grid must be a non-empty mapping of parameter names to values")
    for key, values in grid.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise ValueError(f"grid[{key!r}] must be a sequence of values; got "
                             f"{type(values).__name__}")
        if len(values) == 0:
            raise ValueError(f"grid[{key!r}] must hold at least one value; got none")
    if out is not None and Path(out).suffix not in (".json", ".csv"):
        raise ValueError(f"out must end in .json or .csv; got {str(out)!r}")
    names = list(grid)
    combos = list(itertools.product(*(grid[k] for k in names)))
    rows: list[dict[str, Any]] = []
    for i, combo in enumerate(combos, 1):
        params = dict(zip(names, combo, strict=True))
        t0 = time.perf_counter()
        measured = simulate(**params)
        if not isinstance(measured, Mapping):
            raise TypeError(f"simulate must return a mapping of measured values; got "
                            f"{type(measured).__name__} for {params}")
        clash = set(measured) & (set(params) | {"seconds"})
        if clash:
            raise ValueError(f"simulate returned keys that clash with the parameters: "
                             f"{sorted(clash)}")
        row = {k: _plain(v) for k, v in params.items()}
        row.update({k: _plain(v) for k, v in measured.items()})
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        if progress:
            print(f"[{i}/{len(combos)}] {params} ({row['seconds']:.2f} s)", file=sys.stderr,
                  flush=True)
    if out is not None:
        save_runs(rows, out)
    return rows


def save_runs(rows: Sequence[Mapping[str, Any]], path: str | Path) -> Path:
    """Write a table of runs as JSON or CSV (by the suffix); returns the path."""
    p = Path(path)
    if p.suffix not in (".json", ".csv"):
        raise ValueError(f"path must end in .json or .csv; got {str(path)!r}")
    p.parent.mkdir(parents=True, exist_ok=True)

    def listed(v: Any) -> Any:
        return v.tolist() if isinstance(v, np.ndarray) else _plain(v)

    clean = [{k: listed(v) for k, v in r.items()} for r in rows]
    if p.suffix == ".json":
        p.write_text(json.dumps(clean, indent=1))
    else:
        fields = list(dict.fromkeys(k for r in clean for k in r))
        with p.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(clean)
    return p
