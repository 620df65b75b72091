"""Heat diffusion against closed forms, across methods, and its limits."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

from spectral_sheaf.diffusion import heat_chebyshev_coefficients, heat_diffusion
from spectral_sheaf.filters._chebyshev import locality_order
from spectral_sheaf.graphs import (
    adjacency_from_edges,
    cycle_graph,
    erdos_renyi_graph,
    graph_laplacian,
    grid_graph,
    knn_graph,
)
from spectral_sheaf.sheaf import constant_sheaf, harmonic_space, random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import laplacian_kernel
from spectral_sheaf.testing import adjacency_matrices

STEPPED = {"implicit_euler": 1e-3, "crank_nicolson": 1e-2, "rk4": 1e-2, "euler": 1e-3}
ACCURACY = {"eigen": 1e-12, "chebyshev": 1e-9, "expm_multiply": 1e-9, "rk45": 1e-7,
            "rk4": 1e-6, "crank_nicolson": 1e-4, "implicit_euler": 5e-3, "euler": 5e-2}


@pytest.mark.parametrize("method", list(ACCURACY))
def test_cycle_fourier_modes_decay_as_exp_minus_t_lambda(method):
    n = 48
    L = graph_laplacian(cycle_graph(n))
    ks = (1, 5, 12)
    X = np.stack([np.cos(2 * np.pi * k * np.arange(n) / n) for k in ks], axis=1)
    lam = np.array([2 - 2 * np.cos(2 * np.pi * k / n) for k in ks])
    times = np.array([0.0, 0.3, 1.0, 2.5])
    r = heat_diffusion(L, X, times, method=method, tol=1e-11, dt=STEPPED.get(method))
    exact = np.exp(-times[:, None, None] * lam[None, None, :]) * X[None]
    assert r.states.shape == (4, n, 3)
    np.testing.assert_allclose(r.states, exact, atol=ACCURACY[method])
    assert r.method == method


def test_methods_agree_on_random_graphs_with_a_lumped_mass():
    A = erdos_renyi_graph(80, 0.08, rng=3)
    L = graph_laplacian(A)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 2))
    M = sp.diags_array(rng.uniform(0.5, 2.0, 80))
    times = [0.2, 1.0]
    ref = heat_diffusion(L, X, times, M=M, method="eigen").states
    for method in ("chebyshev", "expm_multiply", "rk45", "crank_nicolson"):
        r = heat_diffusion(L, X, times, M=M, method=method, tol=1e-11, dt=1e-3)
        np.testing.assert_allclose(r.states, ref, atol=5e-5 if method == "crank_nicolson"
                                   else 1e-8, err_msg=method)
    # a full (consistent) mass matrix: reference by the generalised eigenproblem
    off = sp.diags_array(np.ones(79), offsets=1)
    Mf = M + 0.1 * (off + off.T)
    lam, U = scipy.linalg.eigh(L.toarray(), Mf.toarray())
    exact = np.stack([U @ (np.exp(-t * lam)[:, None] * (U.T @ (Mf @ X))) for t in times])
    for method in ("expm_multiply", "rk45", "crank_nicolson", "eigen"):
        r = heat_diffusion(L, X, times, M=Mf, method=method, tol=1e-11, dt=1e-3)
        np.testing.assert_allclose(r.states, exact, atol=5e-5 if method == "crank_nicolson"
                                   else 1e-8, err_msg=method)


def test_energy_decreases_and_the_limit_is_the_harmonic_projection():
    # two components: the limit is each component's mean
    edges = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6]]
    A = adjacency_from_edges(np.array(edges), 7)
    L = graph_laplacian(A)
    X = np.arange(7.0) ** 2
    times = np.linspace(0, 40, 41)
    r = heat_diffusion(L, X, times, trace=True, kernel=laplacian_kernel(A))
    assert np.all(np.diff(r.energy) <= 1e-12)
    assert np.all(np.diff(r.distance_to_harmonic) <= 1e-12)
    limit = np.r_[np.full(4, X[:4].mean()), np.full(3, X[4:].mean())]
    np.testing.assert_allclose(r.states[-1], limit, atol=1e-9)
    assert r.distance_to_harmonic[-1] < 1e-9


@pytest.mark.parametrize("kind", ["constant", "orthogonal"])
def test_sheaf_diffusion_tends_to_the_global_sections(kind):
    A = grid_graph((5, 5))
    # constant sheaf: H^0 is the constant sections (dimension 2); a random orthogonal
    # sheaf on a grid has none, and the limit is 0
    F = constant_sheaf(A, 2) if kind == "constant" else random_sheaf(A, 2, kind=kind, rng=0)
    L = sheaf_laplacian(F)
    H = harmonic_space(F).basis
    assert H.shape[1] == (2 if kind == "constant" else 0)
    X = np.random.default_rng(1).standard_normal(L.shape[0])
    r = heat_diffusion(L, X, [0.0, 300.0], kernel=H if H.shape[1] else None, trace=True,
                       tol=1e-12)
    P = H @ (H.T @ X)
    np.testing.assert_allclose(r.states[-1], P, atol=1e-10)
    assert r.energy[-1] < 1e-18


def test_implicit_steps_are_stable_far_beyond_the_explicit_limit():
    L = graph_laplacian(grid_graph((12, 12)))
    X = np.random.default_rng(2).standard_normal(144)
    big = 100 * 2.0 / 8.0
    r = heat_diffusion(L, X, [0.0, big, 2 * big, 3 * big], method="implicit_euler", dt=big,
                       trace=True)
    assert np.all(np.isfinite(r.states))
    assert np.all(np.diff(r.energy) < 0)
    # each step damps the slowest mode by 1 / (1 + dt lambda_2) = 0.37
    spread = np.abs(r.states - X.mean()).max(axis=1)
    assert spread[-1] < 0.1 * spread[0]
    np.testing.assert_allclose(r.states[-1].mean(), X.mean())  # mass is conserved
    with pytest.raises(ValueError, match=r"dt=25 exceeds the stability limit of "
                       r"method='euler', 2 / lambda_max = 0\.25"):
        heat_diffusion(L, X, [1.0], method="euler", dt=big, lambda_max=8.0)
    with pytest.raises(ValueError, match=r"method='rk4'"):
        heat_diffusion(L, X, [1.0], method="rk4", dt=1.0)


@pytest.mark.parametrize("method", ["implicit_euler", "crank_nicolson"])
def test_cg_solves_match_the_factorisation(method):
    rng = np.random.default_rng(4)
    L = graph_laplacian(erdos_renyi_graph(80, 0.08, rng=2))
    mass = rng.uniform(0.5, 2.0, 80)
    X = rng.standard_normal((80, 3))
    times = [0.0, 0.5, 2.0]
    for M in (None, sp.diags_array(mass)):
        ref = heat_diffusion(L, X, times, M=M, method=method, dt=0.1)
        cg = heat_diffusion(L, X, times, M=M, method=method, dt=0.1, solver="cg", tol=1e-12)
        np.testing.assert_allclose(cg.states, ref.states, rtol=0, atol=1e-10)
        assert cg.n_matvecs > ref.n_matvecs  # CG counts products, not solves
    # CG needs only products: a LinearOperator works, and agrees
    op = heat_diffusion(aslinearoperator(L), X, times, method=method, dt=0.1, solver="cg",
                        tol=1e-12)
    plain = heat_diffusion(L, X, times, method=method, dt=0.1)
    np.testing.assert_allclose(op.states, plain.states, rtol=0, atol=1e-10)


def test_cg_that_cannot_converge_is_an_error():
    L = graph_laplacian(grid_graph((20, 20)))
    X = np.random.default_rng(5).standard_normal(400)
    with pytest.raises(RuntimeError, match=r"CG did not reach tol=1e-12 in maxiter=2 "
                       r"iterations: channel 0 has relative residual"):
        heat_diffusion(L, X, [1.0], method="implicit_euler", dt=1.0, solver="cg", tol=1e-12,
                       maxiter=2)
    with pytest.raises(ValueError, match=r"solver must be one of \{'factor', 'cg'\}; "
                       r"got 'lu'"):
        heat_diffusion(L, X, [1.0], method="implicit_euler", dt=1.0, solver="lu")
    with pytest.raises(ValueError, match=r"maxiter must be >= 1; got 0"):
        heat_diffusion(L, X, [1.0], method="implicit_euler", dt=1.0, solver="cg", maxiter=0)
    with pytest.raises(ValueError, match=r"with solver='factor' factorises M \+ theta dt L; "
                       r"L must be a matrix, not a LinearOperator \(or use solver='cg'\)"):
        heat_diffusion(aslinearoperator(L), X, [1.0], method="implicit_euler", dt=1.0)
    full = sp.eye_array(400) + 0.1 * sp.diags_array(np.ones(399), offsets=1) \
        + 0.1 * sp.diags_array(np.ones(399), offsets=-1)
    with pytest.raises(ValueError, match=r"solver='cg' needs M None or diagonal"):
        heat_diffusion(L, X, [1.0], M=full, method="implicit_euler", dt=1.0, solver="cg")


def test_renumbered_chebyshev_diffusion_matches_expm_multiply():
    # a kNN graph in input order with 64 channels, to 1e-12 over three steps (over 24
    # products): the Chebyshev path renumbers it
    rng = np.random.default_rng(6)
    L = graph_laplacian(knn_graph(rng.random((3000, 3)), 8), normalization="sym")
    X = rng.standard_normal((3000, 64))
    assert locality_order(L, 64, 24) is not None
    r = heat_diffusion(L, X, [0.5, 1.0, 3.0], method="chebyshev", tol=1e-12)
    assert r.n_steps >= 24  # the products the rule asks for
    ref = heat_diffusion(L, X, [0.5, 1.0, 3.0], method="expm_multiply")
    np.testing.assert_allclose(r.states, ref.states, rtol=0, atol=1e-10)


@settings(deadline=None, max_examples=20)
@given(A=adjacency_matrices(min_nodes=2, max_nodes=20), s=st.floats(0.01, 2.0),
       t=st.floats(0.01, 2.0))
def test_semigroup_and_linearity(A, s, t):
    L = graph_laplacian(A)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, L.shape[0]))
    both = heat_diffusion(L, X, [s, s + t], tol=1e-12).states[1]
    step = heat_diffusion(L, heat_diffusion(L, X, [s], tol=1e-12).states[0], [t],
                          tol=1e-12).states[0]
    np.testing.assert_allclose(both, step, atol=1e-9)
    lin = heat_diffusion(L, 2 * X - Y, [t], tol=1e-12).states[0]
    np.testing.assert_allclose(lin, 2 * heat_diffusion(L, X, [t], tol=1e-12).states[0]
                               - heat_diffusion(L, Y, [t], tol=1e-12).states[0], atol=1e-9)


def test_bessel_coefficients_reach_their_tolerance():
    lam = np.linspace(0, 6, 301)
    for t in (0.1, 1.0, 20.0):
        c = heat_chebyshev_coefficients(t, 6.0, 1e-12)
        approx = np.polynomial.chebyshev.chebval(2 * lam / 6.0 - 1, c)
        assert np.abs(approx - np.exp(-t * lam)).max() < 1e-12


def test_bad_input_messages():
    L = graph_laplacian(cycle_graph(10))
    X = np.ones(10)
    with pytest.raises(ValueError, match=r"times must be >= 0; got -1"):
        heat_diffusion(L, X, [-1.0, 2.0])
    with pytest.raises(ValueError, match=r"times must be non-decreasing"):
        heat_diffusion(L, X, [2.0, 1.0])
    with pytest.raises(ValueError, match=r"X0 must have shape \(n,\) or \(n, channels\) with "
                       r"n = 10 rows to match L; got shape \(9,\)"):
        heat_diffusion(L, np.ones(9), [1.0])
    with pytest.raises(ValueError, match=r"method='implicit_euler' needs dt"):
        heat_diffusion(L, X, [1.0], method="implicit_euler")
    with pytest.raises(ValueError, match=r"lambda_max=1 is below the spectrum"):
        heat_diffusion(L, X, [1.0], method="chebyshev", lambda_max=1.0)
    full = sp.eye_array(10) + 0.1 * sp.diags_array(np.ones(9), offsets=1) \
        + 0.1 * sp.diags_array(np.ones(9), offsets=-1)
    with pytest.raises(ValueError, match=r"method='chebyshev' needs a diagonal \(lumped\) M"):
        heat_diffusion(L, X, [1.0], M=full, method="chebyshev")
    with pytest.raises(ValueError, match=r"method must be one of"):
        heat_diffusion(L, X, [1.0], method="magic")
    with pytest.raises(ValueError, match=r"times must hold at least one time"):
        heat_diffusion(L, X, [])
    big = graph_laplacian(cycle_graph(5001))
    with pytest.raises(ValueError, match=r"method='eigen' diagonalises densely up to 5000 "
                       r"rows; got n = 5001: pass basis=, or use method='chebyshev'"):
        heat_diffusion(big, np.ones(5001), [1.0], method="eigen")


# --- the products-only path that CuPy input takes, run here on SciPy input -----------

def _generic(L, X0, times, **kw):
    from spectral_sheaf.diffusion._linear import _heat_diffusion_generic

    opts = {"M": None, "method": "chebyshev", "tol": 1e-10, "dt": None, "lambda_max": None,
            "basis": None, "kernel": None, "trace": False, "solver": "cg", "maxiter": 1000,
            "t0": 0.0}
    opts.update(kw)
    return _heat_diffusion_generic(L, X0, np.asarray(times, dtype=float), **opts)


@pytest.mark.parametrize("method", ["auto", "chebyshev", "euler", "rk4", "eigen",
                                    "implicit_euler", "crank_nicolson"])
def test_device_path_matches_the_cpu_path_with_a_lumped_mass(method):
    A = erdos_renyi_graph(60, 0.1, rng=5)
    L = graph_laplacian(A)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 3))
    M = sp.diags_array(rng.uniform(0.5, 2.0, 60))
    K = np.ones((60, 1))
    dt = STEPPED.get(method)
    times = [0.0, 0.2, 1.0]
    solver = "cg" if method in ("implicit_euler", "crank_nicolson") else "factor"
    ref = heat_diffusion(L, X, times, M=M, method=method, dt=dt, kernel=K, trace=True,
                         tol=1e-10, solver=solver)
    r = _generic(L, X, times, M=M, method=method, dt=dt, kernel=K, trace=True)
    np.testing.assert_allclose(r.states, ref.states, atol=1e-9)
    np.testing.assert_allclose(r.energy, ref.energy, rtol=1e-9)
    np.testing.assert_allclose(r.distance_to_harmonic, ref.distance_to_harmonic, rtol=1e-9)
    exact = heat_diffusion(L, X, times, M=M, method="eigen").states
    accuracy = {"euler": 5e-3, "implicit_euler": 5e-3, "crank_nicolson": 1e-3,
                "rk4": 1e-5}.get(method, 1e-8)
    np.testing.assert_allclose(r.states, exact, atol=accuracy)
    assert r.method == ("chebyshev" if method == "auto" else method)
    one = _generic(L, X[:, 0], times, M=M, method=method, dt=dt)
    assert one.states.shape == (3, 60)
    np.testing.assert_allclose(one.states, r.states[:, :, 0], atol=1e-12)


def test_device_path_on_a_dense_matrix_and_without_mass():
    L = graph_laplacian(cycle_graph(30)).toarray()
    X = np.random.default_rng(0).standard_normal(30)
    ref = heat_diffusion(L, X, [0.5, 2.0], method="eigen").states
    for method in ("chebyshev", "rk4", "eigen"):
        r = _generic(L, X, [0.5, 2.0], method=method, dt=1e-2)
        np.testing.assert_allclose(r.states, ref, atol=1e-8, err_msg=method)
    M = sp.diags_array(np.full(30, 2.0))
    r = _generic(L, X, [0.5, 2.0], M=M, method="chebyshev")
    np.testing.assert_allclose(r.states, heat_diffusion(L, X, [0.5, 2.0], M=M).states,
                               atol=1e-9)


def test_device_path_messages():
    L = graph_laplacian(cycle_graph(10))
    X = np.ones(10)
    with pytest.raises(ValueError, match=r"method='rk45' runs on the CPU only; for CuPy "
                       r"input use method 'chebyshev'"):
        _generic(L, X, [1.0], method="rk45")
    with pytest.raises(ValueError, match=r"method='implicit_euler' with solver='factor' runs "
                       r"on the CPU only.*to_numpy"):
        _generic(L, X, [1.0], method="implicit_euler", solver="factor", dt=0.1)
    with pytest.raises(ValueError, match=r"method='crank_nicolson' needs dt"):
        _generic(L, X, [1.0], method="crank_nicolson")
    with pytest.raises(ValueError, match=r"basis \(a host EigenResult\) is not taken"):
        _generic(L, X, [1.0], method="eigen", basis=object())
    with pytest.raises(ValueError, match=r"L must be a square matrix; got shape \(10, 9\)"):
        _generic(sp.csr_array((10, 9)), X, [1.0])
    with pytest.raises(ValueError, match=r"X0 must have shape \(n,\) or \(n, channels\) with "
                       r"n = 10 rows to match L; got shape \(9,\)"):
        _generic(L, np.ones(9), [1.0])
    with pytest.raises(TypeError, match=r"X0 must be real; got a complex array"):
        _generic(L, X + 1j, [1.0])
    with pytest.raises(ValueError, match=r"X0 must contain only finite values"):
        _generic(L, np.r_[np.nan, np.ones(9)], [1.0])
    band = sp.eye_array(10) + 0.1 * sp.diags_array(np.ones(9), offsets=1)
    with pytest.raises(ValueError, match=r"M must be diagonal \(lumped\) for CuPy input"):
        _generic(L, X, [1.0], M=sp.csr_array(band + band.T))
    with pytest.raises(ValueError, match=r"M must be positive definite; got a diagonal "
                       r"entry <= 0"):
        _generic(L, X, [1.0], M=sp.diags_array(np.r_[0.0, np.ones(9)]).tocsr())
    with pytest.raises(ValueError, match=r"M must be a sparse matrix with the shape of L, "
                       r"\(10, 10\); got ndarray of shape \(10, 10\)"):
        _generic(L, X, [1.0], M=np.eye(10))
    with pytest.raises(ValueError, match=r"method='eigen' diagonalises densely up to 5000"):
        _generic(graph_laplacian(cycle_graph(5001)), np.ones(5001), [1.0], method="eigen")
    with pytest.raises(ValueError, match=r"dt=.* exceeds the stability limit"):
        _generic(L, X, [1.0], method="euler", dt=1.0)
    with pytest.raises(ValueError, match=r"lambda_max=1 is below the spectrum"):
        _generic(L, X, [1.0], lambda_max=1.0)


def test_a_known_lambda_max_can_skip_its_check(monkeypatch):
    import spectral_sheaf.diffusion._linear as lin

    L = graph_laplacian(cycle_graph(40))  # spectrum in [0, 4]
    X = np.random.default_rng(9).standard_normal((40, 2))
    ref = heat_diffusion(L, X, [0.5, 2.0], method="eigen").states
    for method, dt in (("chebyshev", None), ("rk4", 0.01)):
        checked = heat_diffusion(L, X, [0.5, 2.0], method=method, lambda_max=4.0, dt=dt)
        np.testing.assert_allclose(checked.states, ref, atol=1e-7)

        def no_lanczos(*args, **kwargs):
            raise AssertionError("the interval check ran")

        with monkeypatch.context() as mp:
            mp.setattr(lin, "spectral_bounds", no_lanczos)
            fast = heat_diffusion(L, X, [0.5, 2.0], method=method, lambda_max=4.0, dt=dt,
                                  check_interval=False)
            # the generic (CuPy) path takes the option too
            gen = _generic(L, X, [0.5, 2.0], method=method, lambda_max=4.0, dt=dt,
                           check_interval=False)
            with pytest.raises(AssertionError, match="the interval check ran"):
                heat_diffusion(L, X, [0.5], method=method, lambda_max=4.0, dt=dt)
        np.testing.assert_array_equal(fast.states, checked.states)
        np.testing.assert_allclose(gen.states, ref, atol=1e-7)
    with pytest.raises(TypeError, match=r"check_interval must be True or False; got str 'no'"):
        heat_diffusion(L, X, [1.0], lambda_max=4.0, check_interval="no")


def test_chebyshev_interval_is_the_scaled_block_bound_where_it_pays():
    # a normalised O(3) sheaf Laplacian: Gershgorin's discs reach about 3, the scaled
    # block bound stays near 2 (the spectrum's true top is below 2), so over a long
    # time the default interval needs fewer products for the same accuracy
    from spectral_sheaf.spectral import gershgorin_bounds

    rng = np.random.default_rng(11)
    A = knn_graph(rng.random((200, 3)), 6)
    L = sheaf_laplacian(random_sheaf(A, 3, kind="orthogonal", rng=2), normalization="sym")
    top = float(np.linalg.eigvalsh(L.toarray())[-1])
    gersh = gershgorin_bounds(L)[1]
    assert gersh > 2.5
    assert top < 2.0
    X = rng.standard_normal((600, 16))
    exact = scipy.linalg.expm(-10.0 * L.toarray()) @ X
    tight = heat_diffusion(L, X, [10.0], method="chebyshev", tol=1e-11)
    loose = heat_diffusion(L, X, [10.0], method="chebyshev", tol=1e-11, lambda_max=gersh,
                           check_interval=False)
    assert tight.n_steps <= loose.n_steps - 3
    for r in (tight, loose):
        np.testing.assert_allclose(r.states[0], exact, rtol=0, atol=1e-10)
    # a short time saves one product at most, and four channels: not worth the bound
    for Xs, ts in ((X, [1.0]), (X[:, :4], [10.0])):
        short = heat_diffusion(L, Xs, ts, method="chebyshev", tol=1e-6)
        same = heat_diffusion(L, Xs, ts, method="chebyshev", tol=1e-6, lambda_max=gersh,
                              check_interval=False)
        assert short.n_steps == same.n_steps
        np.testing.assert_array_equal(short.states, same.states)


def test_chebyshev_states_at_repeated_and_zero_times():
    # each state is written in place; a repeated time copies the state before it, and
    # the renumbered (kNN, 64 channels) and blocked (sheaf) paths give them unpermuted
    rng = np.random.default_rng(12)
    L = graph_laplacian(knn_graph(rng.random((3000, 3)), 8), normalization="sym")
    A = knn_graph(rng.random((300, 3)), 6)
    S = sheaf_laplacian(random_sheaf(A, 3, kind="orthogonal", rng=4), normalization="sym")
    times = [0.0, 0.5, 0.5, 2.0]
    for M, channels in ((L, 64), (S, 16)):
        X = rng.standard_normal((M.shape[0], channels))
        r = heat_diffusion(M, X, times, method="chebyshev", tol=1e-12)
        ref = heat_diffusion(M, X, times, method="expm_multiply")
        np.testing.assert_array_equal(r.states[0], X)
        np.testing.assert_array_equal(r.states[1], r.states[2])
        np.testing.assert_allclose(r.states, ref.states, rtol=0, atol=1e-10)
        assert not np.shares_memory(r.states, X)
