"""Diffusion, Chebyshev filters and spectral bounds on CuPy against the CPU result.

Skipped without CuPy and a device; the products-only path they take is also run on
SciPy input in tests/diffusion/test_linear.py.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf import _backend
from spectral_sheaf.diffusion import heat_diffusion, nsd_diffusion
from spectral_sheaf.filters import chebnet_propagate, chebyshev_filter, heat, lanczos_filter
from spectral_sheaf.graphs import erdos_renyi_graph, graph_laplacian, knn_graph
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import gershgorin_bounds, spectral_bounds

from ._device import GPU_MARKS

pytestmark = GPU_MARKS


def _problem(n=400, channels=4):
    pts = np.random.default_rng(0).standard_normal((n, 3))
    L = graph_laplacian(knn_graph(pts, 8), normalization="sym")
    X = np.random.default_rng(1).standard_normal((n, channels))
    return L, X


@pytest.mark.parametrize("method", ["auto", "chebyshev", "rk4", "eigen", "crank_nicolson"])
def test_cupy_heat_diffusion_matches_cpu(method):
    L, X = _problem()
    M = sp.diags_array(np.random.default_rng(2).uniform(0.5, 2.0, L.shape[0]))
    kw = {"method": method, "dt": 1e-2, "tol": 1e-10, "trace": True}
    if method == "crank_nicolson":
        kw["solver"] = "cg"
    cpu = heat_diffusion(L, X, [0.5, 1.0], M=M, **kw)
    gpu = heat_diffusion(_backend.to_cupy(L), _backend.to_cupy(X), [0.5, 1.0],
                         M=_backend.to_cupy(M), **kw)
    assert _backend.is_cupy(gpu.states)
    np.testing.assert_allclose(_backend.to_numpy(gpu.states), cpu.states, atol=1e-9)
    np.testing.assert_allclose(gpu.energy, cpu.energy, rtol=1e-9)


def test_cupy_sheaf_diffusion_matches_cpu():
    sheaf = random_sheaf(erdos_renyi_graph(300, 0.03, rng=3), 3, kind="orthogonal", rng=3)
    L = sheaf_laplacian(sheaf, normalization="sym")
    X = np.random.default_rng(4).standard_normal((L.shape[0], 2))
    cpu = heat_diffusion(L, X, [1.0], method="chebyshev", tol=1e-10).states
    gpu = heat_diffusion(_backend.to_cupy(L), _backend.to_cupy(X), [1.0],
                         method="chebyshev", tol=1e-10).states
    np.testing.assert_allclose(_backend.to_numpy(gpu), cpu, atol=1e-9)


def test_cupy_chebyshev_filter_and_bounds_match_cpu():
    L, X = _problem()
    Lg, Xg = _backend.to_cupy(L), _backend.to_cupy(X)
    np.testing.assert_allclose(gershgorin_bounds(Lg), gershgorin_bounds(L), rtol=1e-12)
    b_cpu, b_gpu = spectral_bounds(L, steps=20, rng=0), spectral_bounds(Lg, steps=20, rng=0)
    np.testing.assert_allclose(b_gpu.lambda_max, b_cpu.lambda_max, rtol=1e-8)
    cpu = chebyshev_filter(L, X, heat(2.0), tol=1e-10)
    gpu = chebyshev_filter(Lg, Xg, heat(2.0), tol=1e-10)
    assert _backend.is_cupy(gpu)
    np.testing.assert_allclose(_backend.to_numpy(gpu), cpu, atol=1e-9)


def test_cupy_and_numpy_mixed_is_an_error():
    L, X = _problem()
    with pytest.raises(TypeError, match=r"inputs mix numpy/scipy and cupy arrays"):
        heat_diffusion(_backend.to_cupy(L), X, [1.0])


def test_cupy_lanczos_and_chebnet_match_cpu():
    L, X = _problem()
    Lg, Xg = _backend.to_cupy(L), _backend.to_cupy(X)

    def g(lam):
        return 1.0 / (1.0 + 5.0 * lam)

    cpu = lanczos_filter(L, X, g, tol=1e-12)
    gpu = lanczos_filter(Lg, Xg, g, tol=1e-12)
    assert _backend.is_cupy(gpu)
    np.testing.assert_allclose(_backend.to_numpy(gpu), cpu, atol=1e-9)
    W = np.random.default_rng(5).standard_normal((4, X.shape[1], 3))
    cpu = chebnet_propagate(L, X, W, lambda_max=2.0)
    gpu = chebnet_propagate(Lg, Xg, _backend.to_cupy(W), lambda_max=2.0)
    np.testing.assert_allclose(_backend.to_numpy(gpu), cpu, atol=1e-10)


def test_cupy_nsd_diffusion_matches_cpu():
    sheaf = random_sheaf(erdos_renyi_graph(200, 0.04, rng=6), 2, kind="orthogonal", rng=6)
    L = sheaf_laplacian(sheaf, normalization="sym")
    X = np.random.default_rng(7).standard_normal((L.shape[0], 3))
    rng = np.random.default_rng(8)
    W1, W2 = rng.standard_normal((2, 2)), rng.standard_normal((3, 3))
    kw = {"d": 2, "activation": "elu", "method": "rk4", "dt": 0.01, "trace": True}
    cpu = nsd_diffusion(L, X, [0.5, 1.0], W1=W1, W2=W2, **kw)
    gpu = nsd_diffusion(_backend.to_cupy(L), _backend.to_cupy(X), [0.5, 1.0],
                        W1=_backend.to_cupy(W1), W2=_backend.to_cupy(W2), **kw)
    assert _backend.is_cupy(gpu.states)
    np.testing.assert_allclose(_backend.to_numpy(gpu.states), cpu.states, atol=1e-10)
    np.testing.assert_allclose(gpu.energy, cpu.energy, rtol=1e-10)
