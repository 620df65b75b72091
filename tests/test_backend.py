import importlib.util
from contextlib import nullcontext

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf import _backend

HAS_CUPY = importlib.util.find_spec("cupy") is not None


class FakeCupyArray:
    """Stands in for a cupy.ndarray: only its type's module name matters."""


FakeCupyArray.__module__ = "cupy"


def test_numpy_namespaces():
    x = np.ones(3)
    assert _backend.array_namespace(x, None, sp.csr_array(np.eye(3))) is np
    assert _backend.sparse_namespace(x) is sp
    assert _backend.to_numpy(x) is x
    assert not _backend.is_cupy(x)
    assert not _backend.is_cupy(sp.csr_array(np.eye(2)))


def test_cupy_detection_without_import():
    assert _backend.is_cupy(FakeCupyArray())


def test_mixing_devices_is_an_error():
    with pytest.raises(TypeError, match="inputs mix numpy/scipy and cupy arrays"):
        _backend.array_namespace(np.ones(2), FakeCupyArray())


@pytest.mark.skipif(HAS_CUPY, reason="checks the message shown when CuPy is missing")
def test_missing_cupy_names_the_extra():
    with pytest.raises(ImportError, match=r'pip install "spectral_sheaf\[gpu\]"'):
        _backend.array_namespace(FakeCupyArray())
    with pytest.raises(ImportError, match=r"spectral_sheaf\[gpu\]"):
        _backend.to_cupy(np.ones(2))


@pytest.fixture
def emulated_device(monkeypatch):
    """Make every array look like CuPy, with numpy/scipy as its namespaces.

    The CuPy branches (dispatch, validation, products-only kernels) then run here on
    the CPU; tests/gpu runs them on a device against the CPU result.
    """
    from spectral_sheaf.filters import _chebyshev

    def looks_like_cupy(obj):
        return obj is not None and not np.isscalar(obj)

    monkeypatch.setattr(_backend, "is_cupy", looks_like_cupy)
    monkeypatch.setattr(_chebyshev, "is_cupy", looks_like_cupy)
    monkeypatch.setattr(_backend, "require_cupy", lambda: (np, sp))
    return monkeypatch


def test_emulated_device_dispatch(emulated_device):
    from spectral_sheaf.diffusion import heat_diffusion
    from spectral_sheaf.filters import chebyshev_filter, heat
    from spectral_sheaf.graphs import graph_laplacian, knn_graph
    from spectral_sheaf.spectral import gershgorin_bounds, spectral_bounds

    pts = np.random.default_rng(0).standard_normal((200, 3))
    L = graph_laplacian(knn_graph(pts, 6), normalization="sym")
    X = np.random.default_rng(1).standard_normal((200, 3))
    M = sp.diags_array(np.random.default_rng(2).uniform(0.5, 2.0, 200)).tocsr()
    # the generic Gershgorin agrees with the numba kernel's (run on the real path below)
    lo, hi = gershgorin_bounds(L)
    b = spectral_bounds(L, steps=20, rng=0)
    assert b.gershgorin == (lo, hi)
    assert b.lambda_max <= hi + 1e-12
    d = L.diagonal()
    r = abs(L).sum(axis=1) - abs(d)
    np.testing.assert_allclose((lo, hi), (np.min(d - r), np.max(d + r)), rtol=1e-14)
    for method in ("chebyshev", "rk4", "eigen", "crank_nicolson"):
        got = heat_diffusion(L, X, [0.5, 1.0], M=M, method=method, dt=1e-2, tol=1e-10,
                             solver="cg", trace=True)
        exact = heat_diffusion(L, X, [0.5, 1.0], M=M, method="eigen")
        assert got.method == method
        np.testing.assert_allclose(got.states, exact.states,
                                   atol=1e-3 if method == "crank_nicolson" else 1e-5)
    Y = chebyshev_filter(L, X, heat(2.0), tol=1e-10)
    w, U = np.linalg.eigh(L.toarray())
    np.testing.assert_allclose(Y, U @ (np.exp(-2.0 * w)[:, None] * (U.T @ X)), atol=1e-9)
    # the dispatch did take the device branch: a CPU-only method is refused there
    with pytest.raises(ValueError, match=r"method='rk45' runs on the CPU only"):
        heat_diffusion(L, X, [1.0], method="rk45")


def test_emulated_device_lanczos_chebnet_and_nsd(emulated_device):
    from spectral_sheaf.diffusion import nsd_diffusion
    from spectral_sheaf.filters import chebnet_propagate, lanczos_filter
    from spectral_sheaf.graphs import graph_laplacian, grid_graph
    from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian

    L = graph_laplacian(grid_graph((8, 9)), normalization="sym")
    X = np.random.default_rng(3).standard_normal((72, 3))
    w, U = np.linalg.eigh(L.toarray())
    Y = lanczos_filter(L, X, lambda lam: 1.0 / (1.0 + 5.0 * lam), tol=1e-12)
    np.testing.assert_allclose(Y, U @ ((1.0 / (1.0 + 5.0 * w))[:, None] * (U.T @ X)),
                               atol=1e-9)
    with pytest.raises(ValueError, match=r"X must have shape \(n,\) or \(n, channels\) "
                       r"with n = 72 rows to match A; got shape \(5,\)"):
        lanczos_filter(L, np.ones(5), np.exp)
    with pytest.raises(ValueError, match=r"X must contain only finite values"):
        lanczos_filter(L, np.full(72, np.nan), np.exp)
    W = np.random.default_rng(4).standard_normal((3, 3, 2))
    T1 = L - sp.eye_array(72)  # lambda_max = 2
    expected = X @ W[0] + (T1 @ X) @ W[1] + (2 * (T1 @ (T1 @ X)) - X) @ W[2]
    np.testing.assert_allclose(chebnet_propagate(L, X, W, lambda_max=2.0), expected,
                               atol=1e-12)
    with pytest.raises(ValueError, match=r"weights must be a 3-D array; got 2-D"):
        chebnet_propagate(L, X, W[0], lambda_max=2.0)
    S = sheaf_laplacian(random_sheaf(grid_graph((3, 4)), 2, kind="orthogonal", rng=0),
                        normalization="sym")
    Z = np.random.default_rng(5).standard_normal((24, 2))
    rng = np.random.default_rng(6)
    W1, W2 = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    # the device branch against the CPU branch (reached by undoing the emulation)
    got = nsd_diffusion(S, Z, [0.5, 1.0], d=2, W1=W1, W2=W2, activation="tanh",
                        method="rk4", dt=0.01, trace=True)
    with pytest.raises(ValueError, match=r"method='rk45' runs on the CPU only"):
        nsd_diffusion(S, Z, [1.0], d=2)
    with pytest.raises(ValueError, match=r"laplacian must be a square matrix; got shape "
                       r"\(24, 23\)"):
        nsd_diffusion(S[:, :23], Z, [1.0], d=2, method="rk4", dt=0.01)
    with pytest.raises(ValueError, match=r"X0 must be 1-D or 2-D; got 3-D"):
        nsd_diffusion(S, Z[:, :, None], [1.0], d=2, method="rk4", dt=0.01)
    with pytest.raises(ValueError, match=r"X0 must hold finite real numbers; got complex, "
                       r"NaN or inf"):
        nsd_diffusion(S, np.full((24, 2), np.nan), [1.0], d=2, method="rk4", dt=0.01)
    emulated_device.undo()
    ref = nsd_diffusion(S, Z, [0.5, 1.0], d=2, W1=W1, W2=W2, activation="tanh",
                        method="rk4", dt=0.01, trace=True)
    np.testing.assert_allclose(got.states, ref.states, atol=1e-13)
    np.testing.assert_allclose(got.energy, ref.energy, rtol=1e-12)


def test_emulated_device_eigsh(emulated_device):
    from spectral_sheaf.graphs import graph_laplacian, grid_graph
    from spectral_sheaf.spectral import eigsh

    L = graph_laplacian(grid_graph((24, 24)))
    r = eigsh(L, 4)
    assert r.method == "chfsi (device)"  # the device branch: dense is CPU-auto's choice here
    lam = np.linalg.eigvalsh(L.toarray())[:4]
    np.testing.assert_allclose(r.eigenvalues, lam, atol=1e-8)
    with pytest.raises(ValueError, match=r"sigma \(shift-invert\) runs on the CPU only"):
        eigsh(L, 4, sigma=-0.1)
    with pytest.raises(ValueError, match=r"factorization \(shift-invert\) runs on the CPU "
                       r"only; for CuPy input leave it out"):
        eigsh(L, 4, factorization="superlu")


def test_one_blas_thread_limits_every_blas_pool_and_restores_them():
    from threadpoolctl import threadpool_info

    before = {d["filepath"]: d["num_threads"] for d in threadpool_info()
              if d["user_api"] == "blas"}
    assert before  # numpy's OpenBLAS at least
    with _backend.one_blas_thread():
        inside = {d["filepath"]: d["num_threads"] for d in threadpool_info()
                  if d["user_api"] == "blas"}
        assert set(inside) == set(before)
        assert set(inside.values()) == {1}
    after = {d["filepath"]: d["num_threads"] for d in threadpool_info()
             if d["user_api"] == "blas"}
    assert after == before


def _blas_widths():
    from threadpoolctl import threadpool_info

    return {d["filepath"]: d["num_threads"] for d in threadpool_info()
            if d["user_api"] == "blas"}


def test_all_blas_threads_lifts_one_blas_thread_for_one_call():
    # pools of different widths (where the machine has two cores or more): each gets
    # its own width back, not the widest
    from threadpoolctl import threadpool_info, threadpool_limits

    prefixes = sorted({d["prefix"] for d in threadpool_info() if d["user_api"] == "blas"})
    with threadpool_limits(limits={prefixes[0]: 1}) if len(prefixes) > 1 else nullcontext():
        before = _blas_widths()
        with _backend.one_blas_thread():
            assert set(_blas_widths().values()) == {1}
            with _backend.all_blas_threads():
                assert _blas_widths() == before
            assert set(_blas_widths().values()) == {1}
        assert _blas_widths() == before


def test_all_blas_threads_keeps_pools_the_user_narrowed():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        with _backend.one_blas_thread(), _backend.all_blas_threads():
            assert set(_blas_widths().values()) == {1}
        # outside one_blas_thread it changes nothing
        with _backend.all_blas_threads():
            assert set(_blas_widths().values()) == {1}
