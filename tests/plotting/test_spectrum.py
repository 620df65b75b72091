import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from spectral_sheaf.plotting import plot_spectrum


def test_plot_spectrum_draws_sorted_eigenvalues():
    lam = np.array([2.0, 0.0, 1.0])
    ax = plot_spectrum(lam, label="L", title="t")
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), [0.0, 1.0, 2.0])
    assert ax.get_title() == "t"
    plt.close(ax.figure)


def test_plot_spectrum_rejects_nan():
    with pytest.raises(ValueError, match="eigenvalues must contain only finite values"):
        plot_spectrum([0.0, np.nan])
