"""The continuous NSD model: its linear case, a reference integration, messages."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spectral_sheaf.diffusion import heat_diffusion, nsd_diffusion
from spectral_sheaf.graphs import grid_graph
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian


def setup(d=2, f=3):
    A = grid_graph((4, 5))
    L = sheaf_laplacian(random_sheaf(A, d, kind="orthogonal", rng=0), normalization="sym")
    X = np.random.default_rng(1).standard_normal((L.shape[0], f))
    return L, X


@pytest.mark.parametrize("method", ["rk45", "rk4"])
def test_identity_weights_and_activation_give_linear_sheaf_diffusion(method):
    L, X = setup()
    times = [0.0, 0.5, 2.0]
    r = nsd_diffusion(L, X, times, d=2, activation="identity", method=method, dt=0.01,
                      tol=1e-11, trace=True)
    ref = heat_diffusion(L, X, times, method="eigen", trace=True)
    np.testing.assert_allclose(r.states, ref.states, atol=1e-8)
    np.testing.assert_allclose(r.energy, ref.energy, rtol=1e-7)


def test_nonlinear_model_against_a_dense_reference():
    d, f = 2, 3
    L, X = setup(d, f)
    rng = np.random.default_rng(2)
    W1, W2 = rng.standard_normal((d, d)), rng.standard_normal((f, f))
    n = L.shape[0] // d
    K = np.kron(np.eye(n), W1)  # I_n (x) W1, stalk-major
    Ld = L.toarray()

    def rhs(_, y):
        Z = Ld @ (K @ y.reshape(-1, f)) @ W2
        return -np.tanh(Z).ravel()

    ref = solve_ivp(rhs, (0, 1.0), X.ravel(), rtol=1e-12, atol=1e-12, method="DOP853")
    r = nsd_diffusion(L, X, [1.0], d=d, W1=W1, W2=W2, activation="tanh", tol=1e-10)
    np.testing.assert_allclose(r.states[0], ref.y[:, -1].reshape(-1, f), atol=1e-7)
    r4 = nsd_diffusion(L, X, [1.0], d=d, W1=W1, W2=W2, activation="tanh", method="rk4",
                       dt=0.005)
    np.testing.assert_allclose(r4.states[0], ref.y[:, -1].reshape(-1, f), atol=1e-7)


@pytest.mark.parametrize("activation", ["identity", "tanh", "elu"])
@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_the_cpu_kernels_match_the_array_form(activation, method):
    # a CSR Laplacian takes the fused kernels; a callable giving the same Laplacian as
    # CSC takes the array form that CuPy runs too (a fixed CSC one is made CSR on
    # entry): the same steps, to rounding. d = 3, 5 channels, W1 and W2 general, a
    # time-dependent sheaf too
    A = grid_graph((5, 6))
    L = sheaf_laplacian(random_sheaf(A, 3, kind="general", rng=3), normalization="sym")
    X = np.random.default_rng(4).standard_normal((L.shape[0], 5))
    rng = np.random.default_rng(5)
    W1, W2 = rng.standard_normal((3, 3)), rng.standard_normal((5, 5))
    kw = {"d": 3, "W1": W1, "W2": W2, "activation": activation, "method": method,
          "dt": 0.01, "trace": True}
    Lc = L.tocsc()
    for fast, slow in ((L, lambda t: Lc),
                       (lambda t: (1 + t) * L, lambda t: ((1 + t) * L).tocsc())):
        a = nsd_diffusion(fast, X, [0.3, 0.5], **kw)
        b = nsd_diffusion(slow, X, [0.3, 0.5], **kw)
        np.testing.assert_allclose(a.states, b.states, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.energy, b.energy, rtol=1e-12)
        assert a.n_matvecs == b.n_matvecs
    # the ELU's negative branch and tanh's saturation are reached
    assert np.abs(a.states).max() > 1.0


def test_time_dependent_sheaf():
    L, X = setup()
    r = nsd_diffusion(lambda t: (1 + t) * L, X, [1.0], d=2, activation="identity",
                      tol=1e-11)
    # d/dt X = -(1 + t) L X  =>  X(1) = exp(-1.5 L) X(0)
    ref = heat_diffusion(L, X, [1.5], method="eigen")
    np.testing.assert_allclose(r.states, ref.states, atol=1e-8)


def test_bad_input_messages():
    L, X = setup()
    with pytest.raises(ValueError, match=r"W1 must have shape \(d, d\) = \(2, 2\); got \(3, 3\)"):
        nsd_diffusion(L, X, [1.0], d=2, W1=np.eye(3))
    with pytest.raises(ValueError, match=r"W2 must have shape \(f, f\) = \(3, 3\) for 3 "
                       r"channels; got \(2, 2\)"):
        nsd_diffusion(L, X, [1.0], d=2, W2=np.eye(2))
    with pytest.raises(ValueError, match=r"laplacian has 40 rows, not a multiple of d = 3"):
        nsd_diffusion(L, X, [1.0], d=3)
    with pytest.raises(ValueError, match=r"X0 must have n d = 40 rows"):
        nsd_diffusion(L, X[:5], [1.0], d=2)
    with pytest.raises(ValueError, match=r"method='euler' needs dt"):
        nsd_diffusion(L, X, [1.0], d=2, method="euler")
    with pytest.raises(ValueError, match=r"times must be >= 0"):
        nsd_diffusion(L, X, [-1.0], d=2)
    # a time-dependent sheaf whose Laplacian changes shape: the array form (rk45, at its
    # first adaptive time past 1e-3) and the CPU kernels (rk4, at 0.005) say so alike
    for method in ("rk45", "rk4"):
        with pytest.raises(ValueError, match=r"laplacian\(0\.0[0-9]+\) must have shape "
                           r"\(40, 40\); got \(39, 39\)"):
            nsd_diffusion(lambda t, L=L: L if t < 1e-3 else L[:39, :39], X, [1.0], d=2,
                          method=method, dt=0.01)
    with pytest.raises(RuntimeError, match=r"the state became non-finite"):
        nsd_diffusion(100.0 * L, X, [400.0], d=2, activation="identity", method="euler",
                      dt=1.0)
