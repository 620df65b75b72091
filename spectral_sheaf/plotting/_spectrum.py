"""Spectrum plots."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array, check_finite

__all__ = ["plot_spectrum"]


def plot_spectrum(
    eigenvalues: Any,
    *,
    ax: Any = None,
    label: str | None = None,
    title: str | None = None,
    bins: int = 40,
) -> Any:
    """Plot sorted eigenvalues against their index, with a density inset.

    Parameters
    ----------
    eigenvalues : array, shape (k,)
        Real eigenvalues (any order).
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.
    label : str, optional
        Legend label of the curve.
    title : str, optional
        Axes title.
    bins : int
        Histogram bins of the inset showing the spectral density.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    lam = np.sort(as_float_array(eigenvalues, "eigenvalues", ndim=(1,)))
    check_finite(lam, "eigenvalues")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    ax.plot(np.arange(lam.size), lam, ".", ms=3, label=label)
    ax.set_xlabel("index k")
    ax.set_ylabel(r"eigenvalue $\lambda_k$")
    if title:
        ax.set_title(title)
    if label:
        ax.legend(loc="upper left")
    inset = ax.inset_axes((0.62, 0.1, 0.35, 0.35))
    inset.hist(lam, bins=bins, color="0.5")
    inset.set_yticks([])
    inset.tick_params(labelsize=6)
    inset.set_title("density", fontsize=7)
    return ax
