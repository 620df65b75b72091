"""Kernel polynomial method against exact spectra."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from spectral_sheaf.graphs import cycle_graph, graph_laplacian, grid_graph
from spectral_sheaf.spectral import spectral_density
from spectral_sheaf.spectral._density import _jackson


def exact_cdf(w, x):
    return np.searchsorted(np.sort(w), x, side="right") / w.size


@pytest.mark.parametrize("make", [lambda: graph_laplacian(cycle_graph(2000)),
                                  lambda: graph_laplacian(grid_graph((40, 50)))])
def test_cumulative_density_matches_the_eigenvalue_count(make):
    L = make()
    w = np.linalg.eigvalsh(L.toarray())
    d = spectral_density(L, degree=200, n_vectors=40, rng=0)
    assert d.lower <= w[0] + 1e-12
    assert w[-1] <= d.upper + 1e-12
    np.testing.assert_allclose(d.cumulative()[-1], 1.0, atol=1e-12)
    # smoothed by the kernel (width ~ (upper - lower) / degree) and sampled: a few percent
    err = np.abs(d.cumulative() - exact_cdf(w, d.x))
    assert err.max() < 0.05, err.max()
    assert np.all(d.density >= 0)


def test_moments_are_jackson_damped_traces_within_sampling_error():
    L = graph_laplacian(cycle_graph(300))
    w = np.linalg.eigvalsh(L.toarray())
    d = spectral_density(L, degree=10, n_vectors=400, bounds=(-0.1, 4.1), rng=1)
    t = (w - 2.0) / 2.1
    exact = np.array([np.mean(np.cos(j * np.arccos(t))) for j in range(11)])
    g = _jackson(10)
    assert g[0] == pytest.approx(1.0)
    assert np.all(np.diff(g) < 0)
    assert g[-1] > 0
    # Hutchinson's standard error here is about sqrt(2 / (300 * 400)) = 0.004
    np.testing.assert_allclose(d.moments, g * exact, atol=0.02)
    assert d.moments[0] == pytest.approx(1.0)


def test_linear_operator_and_messages():
    L = graph_laplacian(cycle_graph(200))
    a = spectral_density(aslinearoperator(L), rng=3, bounds=(0, 4))
    b = spectral_density(L, rng=3, bounds=(0, 4))
    np.testing.assert_allclose(a.density, b.density)
    with pytest.raises(ValueError, match=r"degree must be >= 1; got 0"):
        spectral_density(L, degree=0)
    with pytest.raises(ValueError, match=r"n_vectors must be >= 1"):
        spectral_density(L, n_vectors=0)
    with pytest.raises(ValueError, match=r"bounds must be finite with lower < upper"):
        spectral_density(L, bounds=(4.0, 0.0))
    with pytest.raises(ValueError, match=r"bounds must be a pair"):
        spectral_density(L, bounds=(0.0,))
    with pytest.raises(ValueError, match=r"A must be square"):
        spectral_density(np.ones((3, 4)))
