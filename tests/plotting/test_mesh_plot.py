import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_sheaf.mesh import icosphere
from spectral_sheaf.plotting import plot_mesh


def test_plot_mesh_colours_faces_by_the_signal():
    V, F = icosphere(2)
    ax = plot_mesh(V, F, V[:, 2], title="z")
    poly = ax.collections[0]
    assert len(poly.get_facecolor()) == len(F)
    assert ax.get_title() == "z"
    # symmetric colour limits for a signed signal: the colour bar spans [-m, m]
    cbar = ax.figure.axes[-1]
    lo, hi = cbar.get_ylim()
    assert lo == pytest.approx(-hi)
    plt.close(ax.figure)
    ax = plot_mesh(V, F)  # grey, no colour bar
    assert len(ax.figure.axes) == 1
    plt.close(ax.figure)


def test_plot_mesh_bad_input():
    V, F = icosphere(1)
    with pytest.raises(ValueError, match=r"values must have shape \(42,\)"):
        plot_mesh(V, F, np.ones(5))
    with pytest.raises(ValueError, match="values must contain only finite"):
        plot_mesh(V, F, np.full(42, np.nan))
    fig, ax2d = plt.subplots()
    with pytest.raises(TypeError, match="ax must be a 3-D Axes"):
        plot_mesh(V, F, ax=ax2d)
    plt.close(fig)
