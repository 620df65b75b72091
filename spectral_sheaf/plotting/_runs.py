"""Plots of parameter sweeps (the rows of ``diffusion.run_grid``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_runs"]


def plot_runs(rows: Sequence[Mapping[str, Any]], x: str, y: str, *, hue: str | None = None,
              ax: Any = None, logy: bool = False) -> Any:
    """Plot ``y`` against ``x`` over the runs, one line per value of ``hue``.

    Parameters
    ----------
    rows : sequence of mappings
        The table, e.g. from :func:`spectral_sheaf.diffusion.run_grid`.
    x, y : str
        Column names (numeric).
    hue : str, optional
        Column whose values split the runs into lines.
    ax : matplotlib Axes, optional
    logy : bool
        Logarithmic y axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if len(rows) == 0:
        raise ValueError("rows must hold at least one run; got none")
    for key in (x, y) + ((hue,) if hue is not None else ()):
        missing = [i for i, r in enumerate(rows) if key not in r]
        if missing:
            raise ValueError(f"column {key!r} is missing from row {missing[0]}; columns: "
                             f"{sorted(rows[missing[0]])}")
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    groups = list(dict.fromkeys(r[hue] for r in rows)) if hue is not None else [None]
    for gval in groups:
        sel = [r for r in rows if hue is None or r[hue] == gval]
        xs = np.array([float(r[x]) for r in sel])
        ys = np.array([float(r[y]) for r in sel])
        order = np.argsort(xs, kind="stable")
        ax.plot(xs[order], ys[order], marker="o",
                label=None if hue is None else f"{hue} = {gval}")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if logy:
        ax.set_yscale("log")
    if hue is not None:
        ax.legend(fontsize=8)
    return ax
