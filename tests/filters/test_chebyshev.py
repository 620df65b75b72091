"""Chebyshev filters against exact filtering through the eigenbasis."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

from spectral_sheaf.filters import (
    abspline,
    band_pass,
    chebnet_propagate,
    chebyshev_approximation,
    chebyshev_filter,
    exact_filter,
    filter_bank,
    frame_bounds,
    heat,
    high_pass,
    lanczos_filter,
    low_pass,
    mexican_hat,
    meyer,
    wave,
)
from spectral_sheaf.filters._chebyshev import locality_order
from spectral_sheaf.graphs import (
    cycle_graph,
    erdos_renyi_graph,
    graph_laplacian,
    grid_graph,
    knn_graph,
)
from spectral_sheaf.graphs._reorder import permute_symmetric
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import eigsh
from spectral_sheaf.testing import adjacency_matrices

SMOOTH = [heat(0.5), heat(3.0), wave(1.5), mexican_hat(0.7), low_pass(2.0, width=1.0),
          band_pass(1.0, 3.0, width=0.8)]


def operators():
    rng = np.random.default_rng(0)
    A = erdos_renyi_graph(60, 0.1, rng=1)
    return {
        "grid": graph_laplacian(grid_graph((7, 8))),
        "ER sym": graph_laplacian(A, normalization="sym"),
        "sheaf": sheaf_laplacian(random_sheaf(A, 2, kind="orthogonal", rng=rng)),
    }


@pytest.mark.parametrize("name", ["grid", "ER sym", "sheaf"])
@pytest.mark.parametrize("design", range(len(SMOOTH)))
def test_matches_exact_filtering_at_sufficient_order(name, design):
    L = operators()[name]
    g = SMOOTH[design]
    X = np.random.default_rng(design).standard_normal((L.shape[0], 3))
    exact = exact_filter(L, X, g)
    for method in ("recurrence", "clenshaw"):
        Y = chebyshev_filter(L, X, g, tol=1e-12, method=method, rng=0)
        np.testing.assert_allclose(Y, exact, atol=1e-10 * np.abs(X).max() * X.shape[0])


def test_requested_accuracy_is_met():
    L = graph_laplacian(grid_graph((9, 9)))
    lam = scipy.linalg.eigvalsh(L.toarray())
    for tol in (1e-3, 1e-6, 1e-9):
        p = chebyshev_approximation(heat(2.0), 8.0, tol=tol)
        assert p.error_estimate <= tol
        # the true error on the spectrum is below the promise
        assert np.max(np.abs(p(lam) - np.exp(-2.0 * lam))) <= p.error_estimate
        X = np.random.default_rng(1).standard_normal((81, 2))
        Y = chebyshev_filter(L, X, p)
        err = np.linalg.norm(Y - exact_filter(L, X, heat(2.0)), axis=0)
        assert np.all(err <= p.error_estimate * np.linalg.norm(X, axis=0) * (1 + 1e-6))
    # a smaller tol needs a larger order
    orders = [chebyshev_approximation(heat(2.0), 8.0, tol=t).order for t in (1e-3, 1e-9)]
    assert orders[0] < orders[1]


def test_constant_term_is_not_doubled():
    # the c_0 pitfall: g = 1 must give the identity, exactly
    L = graph_laplacian(cycle_graph(30))
    X = np.arange(30.0)
    Y = chebyshev_filter(L, X, lambda lam: np.ones_like(lam), order=5, lambda_max=4.0)
    np.testing.assert_allclose(Y, X, rtol=1e-14, atol=1e-12)


def test_jackson_damping_removes_gibbs_oscillation():
    step = low_pass(2.0)
    raw = chebyshev_approximation(step, 8.0, order=60)
    damped = chebyshev_approximation(step, 8.0, order=60, damping="jackson")
    x = np.linspace(0, 8, 4001)
    assert raw(x).max() > 1.05  # overshoot next to the jump
    assert raw(x).min() < -0.05
    assert damped(x).max() <= 1 + 1e-12
    assert damped(x).min() >= -1e-12
    assert damped.error_estimate == pytest.approx(
        np.abs(damped(x) - step(x)).max(), abs=0.02)


def test_float32_linear_operator_and_single_signal():
    L = graph_laplacian(grid_graph((10, 10)))
    X = np.random.default_rng(2).standard_normal((100, 4))
    ref = chebyshev_filter(L, X, heat(1.0), order=30, lambda_max=8.0)
    lo = chebyshev_filter(aslinearoperator(L), X, heat(1.0), order=30, lambda_max=8.0)
    np.testing.assert_allclose(lo, ref, rtol=1e-12, atol=1e-14)
    y32 = chebyshev_filter(L, X.astype(np.float32), heat(1.0), order=30, lambda_max=8.0)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, ref, atol=1e-5)
    one = chebyshev_filter(L, X[:, 0], heat(1.0), order=30, lambda_max=8.0)
    assert one.shape == (100,)
    np.testing.assert_allclose(one, ref[:, 0], rtol=1e-12, atol=1e-14)


def test_lambda_max_checks():
    L = graph_laplacian(grid_graph((12, 12)))  # lambda_max close to 8
    X = np.ones(144)
    with pytest.raises(ValueError, match=r"lambda_max=4 is below the spectrum: A has a Ritz "
                       r"value"):
        chebyshev_filter(L, X, heat(1.0), lambda_max=4.0, rng=0)
    true_max = float(scipy.linalg.eigvalsh(L.toarray())[-1])
    with pytest.warns(RuntimeWarning, match=r"below the Lanczos estimate"):
        chebyshev_filter(L, X, heat(1.0), lambda_max=true_max + 1e-9, rng=0)


def test_bad_input_messages():
    L = graph_laplacian(cycle_graph(10))
    X = np.ones(10)
    with pytest.raises(ValueError, match=r"order must be >= 1; got 0"):
        chebyshev_filter(L, X, heat(1.0), order=0, lambda_max=4.0)
    with pytest.raises(ValueError, match=r"X must have shape \(n,\) or \(n, channels\) with "
                       r"n = 10 rows to match A; got shape \(9,\)"):
        chebyshev_filter(L, np.ones(9), heat(1.0), lambda_max=4.0)
    with pytest.raises(ValueError, match=r"give exactly one of order .* and tol"):
        chebyshev_approximation(heat(1.0), 4.0, order=5, tol=1e-3)
    with pytest.raises(ValueError, match=r"lambda_max must be > lambda_min = 0; got -1"):
        chebyshev_approximation(heat(1.0), -1.0, order=5)
    with pytest.raises(ValueError, match=r"g must be finite on"):
        chebyshev_approximation(lambda lam: np.where(lam > 2, np.nan, 1.0), 4.0, order=5)
    with pytest.raises(ValueError, match=r"no order up to 5000 reaches tol=1e-12"):
        chebyshev_approximation(low_pass(1.0), 4.0, tol=1e-12)
    with pytest.raises(ValueError, match=r"t must be > 0"):
        heat(-1.0)
    with pytest.raises(ValueError, match=r"band_pass needs low < high"):
        band_pass(3.0, 1.0)
    with pytest.raises(ValueError, match=r"X must contain only finite values"):
        chebyshev_filter(L, np.full(10, np.nan), heat(1.0), lambda_max=4.0)
    with pytest.raises(ValueError, match=r"lambda_max, order and tol come from"):
        chebyshev_filter(L, X, chebyshev_approximation(heat(1.0), 4.0, order=3), order=4)
    with pytest.raises(ValueError, match=r"reorder must be True, False or 'auto'; got 'rcm'"):
        chebyshev_filter(L, X, heat(1.0), lambda_max=4.0, reorder="rcm")


def test_renumbering_for_locality_gives_bitwise_the_same_answer():
    # a kNN graph in the order its points came in: rows gather from all over X
    rng = np.random.default_rng(3)
    L = graph_laplacian(knn_graph(rng.random((3000, 3)), 8), normalization="sym")
    X = rng.standard_normal((3000, 64))
    plain = chebyshev_filter(L, X, heat(5.0), order=30, lambda_max=2.0, reorder=False)
    for reorder in (True, "auto", np.True_):
        Y = chebyshev_filter(L, X, heat(5.0), order=30, lambda_max=2.0, reorder=reorder)
        assert np.array_equal(Y, plain)
    np.testing.assert_allclose(
        plain, exact_filter(L, X, heat(5.0)), rtol=0, atol=1e-10 * np.abs(plain).max())
    # the rule: renumber when the gather window exceeds the cache and the work repays it
    perm = locality_order(L, 64, 30)
    assert perm is not None
    assert np.array_equal(np.sort(perm), np.arange(3000))
    assert locality_order(L, 48, 1) is None  # too little work
    assert locality_order(L, 4, 30) is None  # the gathers fit in the cache
    # the signals fit in the last-level cache: too few products to repay it (heat
    # diffusion to 1e-8 at t = 1 takes 8-9) ...
    assert locality_order(L, 64, 9) is None
    # ... unless the signal outgrows it (3000 x 1000 channels: 24 MB)
    assert locality_order(L, 1000, 9) is not None
    banded = graph_laplacian(grid_graph((60, 60)))
    assert locality_order(banded, 64, 30) is None  # neighbours are already close
    B = permute_symmetric(L, perm)
    np.testing.assert_array_equal(B.toarray(), L.toarray()[np.ix_(perm, perm)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_step_sums_each_row_entry_by_entry_in_order(dtype):
    # the kernel adds four (then two, then one) entries per pass over the channels;
    # every sum must still be formed entry by entry in the row's order, in the
    # signal's precision: rows of 0 to 11 entries against that loop written out
    from spectral_sheaf.filters._chebyshev import _step

    rng = np.random.default_rng(8)
    n, c = 12, 5
    rows = [np.sort(rng.choice(n, size=k, replace=False)) for k in range(n)]
    indptr = np.r_[0, np.cumsum([r.size for r in rows])].astype(np.int32)
    indices = np.concatenate(rows).astype(np.int32)
    data = rng.standard_normal(indices.size).astype(dtype)
    X = rng.standard_normal((n, c)).astype(dtype)
    out = np.empty_like(X)
    Y = np.empty_like(X)
    one, zero = dtype(1.0), dtype(0.0)
    _step(indptr, indices, data, one, zero, X, X, out, Y, one, zero, True, 3)
    expected = np.zeros_like(X)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            expected[i] = expected[i] + data[p] * X[indices[p]]
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(Y, expected)  # c0 X + 1 * T_1 with c0 = 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_clenshaw_matches_the_recurrence_at_every_order(dtype):
    # the fused Clenshaw passes fold b_K and b_{K+1} into the first two and put the
    # result in one of two buffers by the parity of K: every order from 1 up, against
    # the fused recurrence and the generic Clenshaw (a LinearOperator takes that path)
    rng = np.random.default_rng(9)
    L = graph_laplacian(knn_graph(rng.random((300, 3)), 6), normalization="sym")
    X = rng.standard_normal((300, 7)).astype(dtype)
    op = aslinearoperator(L)
    eps = np.finfo(dtype).eps
    for order in [*range(1, 13), 30]:
        p = chebyshev_approximation(heat(3.0), 2.0, order=order)
        fused = chebyshev_filter(L, X, p, method="clenshaw")
        forward = chebyshev_filter(L, X, p, method="recurrence")
        generic = chebyshev_filter(op, X, p, method="clenshaw")
        assert fused.dtype == dtype
        scale = np.abs(forward).max()
        np.testing.assert_allclose(fused, forward, rtol=0, atol=100 * eps * scale)
        np.testing.assert_allclose(fused, generic, rtol=0, atol=100 * eps * scale)
    # renumbered for locality: bitwise the same, as for the recurrence
    Xb = rng.standard_normal((300, 64))
    plain = chebyshev_filter(L, Xb, heat(5.0), order=30, lambda_max=2.0, method="clenshaw",
                             reorder=False)
    again = chebyshev_filter(L, Xb, heat(5.0), order=30, lambda_max=2.0, method="clenshaw",
                             reorder=True)
    assert np.array_equal(plain, again)


def test_fused_recurrence_on_a_sheaf_laplacian_matches_exact_filtering():
    rng = np.random.default_rng(4)
    A = knn_graph(rng.random((400, 3)), 6)
    L = sheaf_laplacian(random_sheaf(A, 3, kind="general", rng=5), normalization="sym")
    X = rng.standard_normal((1200, 16))
    Y = chebyshev_filter(L, X, heat(2.0), order=20, lambda_max=2.0, check_interval=False)
    np.testing.assert_allclose(Y, exact_filter(L, X, heat(2.0)), rtol=0,
                               atol=1e-9 * np.abs(Y).max())


def test_meyer_bank_is_a_tight_frame_and_bank_matches_designs():
    designs = [meyer(4.0, kind="scaling")] + [meyer(4.0 / 2**j) for j in range(4)]
    lo, hi = frame_bounds(designs, 4.0)
    assert lo == pytest.approx(1.0, abs=1e-12)
    assert hi == pytest.approx(1.0, abs=1e-12)
    L = graph_laplacian(grid_graph((8, 8)))
    X = np.random.default_rng(3).standard_normal(64)
    bank = filter_bank(L, X, [heat(1.0), abspline(2.0)], order=40, rng=0)
    assert bank.shape == (2, 64)
    np.testing.assert_allclose(bank[0], exact_filter(L, X, heat(1.0)), atol=1e-8)


def test_chebnet_matches_the_spectral_definition():
    L = graph_laplacian(erdos_renyi_graph(40, 0.15, rng=4), normalization="sym")
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    W = rng.standard_normal((4, 3, 2))
    lam, U = scipy.linalg.eigh(L.toarray())
    t = np.clip(2 * lam / 2.0 - 1, -1, 1)
    ref = sum(U @ np.diag(np.cos(k * np.arccos(t))) @ U.T @ X @ W[k] for k in range(4))
    np.testing.assert_allclose(chebnet_propagate(L, X, W, lambda_max=2.0), ref, atol=1e-10)
    with pytest.raises(ValueError, match=r"weights must have shape \(K >= 1, c_in = 3"):
        chebnet_propagate(L, X, W[:, :2], lambda_max=2.0)


@settings(deadline=None, max_examples=25)
@given(A=adjacency_matrices(min_nodes=3, max_nodes=25), s=st.floats(-3, 3),
       seed=st.integers(0, 2**16))
def test_linearity_and_commutation(A, s, seed):
    L = graph_laplacian(A)
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((2, L.shape[0], 2))
    lmax = float(np.abs(L).sum(axis=1).max()) + 1.0
    f = chebyshev_approximation(heat(0.3), lmax, order=25)
    gx = chebyshev_filter(L, X, f)
    lin = chebyshev_filter(L, s * X + Y, f)
    np.testing.assert_allclose(lin, s * gx + chebyshev_filter(L, Y, f), atol=1e-9)
    np.testing.assert_allclose(L @ gx, chebyshev_filter(L, L @ X, f), atol=1e-9 * lmax)


def test_high_pass_complements_low_pass():
    lam = np.linspace(0, 4, 101)
    np.testing.assert_allclose(high_pass(2.0, width=0.5)(lam) + low_pass(2.0, width=0.5)(lam),
                               1.0)


def test_default_interval_covers_a_spectrum_clustered_at_the_top():
    # the normalised grid Laplacian is bipartite (lambda_max = 2) with its top clustered:
    # a 20-step Lanczos estimate falls short of 2, the default interval must not
    L = graph_laplacian(grid_graph((60, 60)), normalization="sym")
    X = np.zeros(3600)
    X[::2] = 1.0  # has a component along the lambda = 2 eigenvector
    ref = exact_filter(L, X, heat(1.0))
    np.testing.assert_allclose(chebyshev_filter(L, X, heat(1.0), rng=0), ref, atol=1e-8)


@pytest.mark.parametrize("name", ["grid", "ER sym", "sheaf"])
def test_lanczos_filter_matches_exact_filtering(name):
    L = operators()[name]
    X = np.random.default_rng(7).standard_normal((L.shape[0], 5))
    for g in (heat(2.0), wave(1.0), lambda lam: 1.0 / (lam + 0.05)):
        Y = lanczos_filter(L, X, g, tol=1e-12)
        ref = exact_filter(L, X, g)
        np.testing.assert_allclose(Y, ref, atol=1e-9 * np.abs(ref).max())
    # columns in several chunks give the same answer
    small = lanczos_filter(L, X, heat(2.0), tol=1e-12, memory=8 * L.shape[0] * 60)
    np.testing.assert_allclose(small, lanczos_filter(L, X, heat(2.0), tol=1e-12),
                               atol=1e-12)


def test_lanczos_filter_reports_non_convergence_and_bad_input():
    L = graph_laplacian(grid_graph((30, 30)))
    X = np.random.default_rng(8).standard_normal(900)
    with pytest.raises(RuntimeError, match=r"did not reach tol=1e-14 in max_steps=3"):
        lanczos_filter(L, X, heat(1.0), tol=1e-14, max_steps=3)
    with pytest.warns(RuntimeWarning, match=r"did not reach tol"):
        lanczos_filter(L, X, heat(1.0), tol=1e-14, max_steps=3, on_failure="warn")
    with pytest.raises(ValueError, match=r"X must have shape \(n,\) or \(n, channels\) with "
                       r"n = 900 rows"):
        lanczos_filter(L, X[:5], heat(1.0))
    with pytest.raises(ValueError, match=r"max_steps must be >= 1"):
        lanczos_filter(L, X, heat(1.0), max_steps=0)


def test_exact_filter_messages():
    L = graph_laplacian(cycle_graph(10))
    partial = eigsh(L, 3)
    with pytest.raises(ValueError, match=r"basis must be complete, with 10 eigenpairs; got 3"):
        exact_filter(L, np.ones(10), heat(1.0), basis=partial)
    big = graph_laplacian(cycle_graph(5001))
    with pytest.raises(ValueError, match=r"exact_filter diagonalises densely up to 5000 rows; "
                       r"got n = 5001: pass basis=, or use chebyshev_filter"):
        exact_filter(big, np.ones(5001), heat(1.0))
    full = eigsh(L, 10, method="dense")
    np.testing.assert_allclose(exact_filter(L, np.arange(10.0), heat(1.0), basis=full),
                               exact_filter(L, np.arange(10.0), heat(1.0)), atol=1e-12)
