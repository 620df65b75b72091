"""The multilevel start of shift-invert: aggregation, the Rayleigh-Ritz step, the start
inside eigsh (forced on small matrices by lowering its row threshold), its fallback."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from spectral_sheaf.graphs import graph_laplacian, grid_graph, knn_graph
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import _eigsh, eigsh
from spectral_sheaf.spectral import _multilevel as ml
from spectral_sheaf.spectral._factor import SymmetricFactor


def grid_spectrum(side, k):
    one = 2 - 2 * np.cos(np.pi * np.arange(side) / side)
    return np.sort((one[:, None] + one[None, :]).ravel())[:k]


@pytest.fixture
def multilevel_everywhere(monkeypatch):
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 1000)


@pytest.mark.parametrize("graph", ["grid", "knn"])
def test_aggregates_cover_every_node_and_are_connected(graph):
    rng = np.random.default_rng(0)
    A = (grid_graph((40, 50)) if graph == "grid"
         else knn_graph(rng.random((3000, 2)), 8))
    L = graph_laplacian(A)
    n = L.shape[0]
    agg, count = ml.aggregate(L)
    assert agg.min() == 0
    assert agg.max() == count - 1
    assert np.array_equal(np.unique(agg), np.arange(count))
    assert count <= n // 4  # a node and its neighbours: several nodes an aggregate
    # each aggregate is connected through edges inside it
    Ac = sp.coo_array(A)
    inside = agg[Ac.row] == agg[Ac.col]
    within = sp.coo_array((np.ones(inside.sum()), (Ac.row[inside], Ac.col[inside])),
                          shape=(n, n))
    assert connected_components(within, directed=False)[0] == count


def test_rayleigh_ritz_residuals_are_those_of_the_ritz_pairs():
    # Gram-matrix residuals against residuals formed from A, with and without M
    rng = np.random.default_rng(1)
    L = sp.csr_array(graph_laplacian(grid_graph((30, 30))))
    n = L.shape[0]
    s = -1e-3
    for M in (None, sp.csr_array(sp.diags_array(rng.uniform(0.5, 2.0, n)))):
        Mfull = sp.eye_array(n) if M is None else M
        F = SymmetricFactor(L - s * Mfull, definite=True)
        X = np.asfortranarray(rng.standard_normal((n, 12)))
        MX = X if M is None else ml._times(M, X)
        W = np.asfortranarray(F.solve(MX))
        MW = W if M is None else ml._times(M, W)
        theta, V, res = ml._rayleigh_ritz(X.copy(order="F"), MX, W, MW, s, M, None)
        explicit = np.linalg.norm(L @ V - (Mfull @ V) * theta, axis=0)
        np.testing.assert_allclose(res, explicit, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(V.T @ (Mfull @ V), np.eye(12), atol=1e-10)
        # Ritz values of the span of W = (L - s M)^{-1} M X, against a dense projection
        Q = np.linalg.qr(W)[0]
        ref = scipy.linalg.eigh(Q.T @ (L @ Q), Q.T @ (Mfull @ Q), eigvals_only=True)
        np.testing.assert_allclose(theta, ref, rtol=1e-8, atol=1e-12)


def test_jacobi_smoothing_damps_the_rough_part():
    L = sp.csr_array(graph_laplacian(grid_graph((40, 40))))
    agg, count = ml.aggregate(L)
    rng = np.random.default_rng(2)
    X = ml._prolong(agg, rng.standard_normal((count, 3)))  # piecewise constant
    before = np.linalg.norm(L @ X)
    Y, free = ml._smooth(L, X.copy(order="F"), 2)
    assert free.shape == Y.shape
    assert not np.may_share_memory(free, Y)
    d = L.diagonal()[:, None]
    expect = X.copy()
    for _ in range(2):
        expect = expect - (2.0 / 3.0) * (L @ expect) / d
    np.testing.assert_allclose(Y, expect, rtol=1e-12, atol=1e-12)
    assert np.linalg.norm(L @ Y) < 0.5 * before


def intermediate_levels(start):
    """Levels factorised by the start: all but the finest and the coarsest."""
    sizes = start.split("aggregated levels of ")[1].split(" rows")[0].split(" > ")
    return len(sizes) - 2


@pytest.mark.parametrize(("kernel", "backend"), [("auto", "auto"), (None, "auto"),
                                                 ("auto", "superlu")])
def test_the_start_gives_the_grid_spectrum_with_its_multiplicities(
        multilevel_everywhere, monkeypatch, kernel, backend):
    side, k, tol = 100, 20, 3e-5
    L = graph_laplacian(grid_graph((side, side)))
    r = eigsh(L, k, method="shift_invert", tol=tol, rng=0, known_kernel=kernel,
              factorization=backend)
    assert r.start.startswith("multilevel: aggregated levels of 10000 > ")
    assert "instead" not in r.start  # no fallback on the block Lanczos
    assert r.verified
    # one factorisation for each intermediate level, beyond the block Lanczos's
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 10**9)
    plain = eigsh(L, k, method="shift_invert", tol=tol, rng=0, known_kernel=kernel,
                  factorization=backend)
    assert plain.start is None
    assert intermediate_levels(r.start) >= 1
    assert r.n_factorizations == plain.n_factorizations + intermediate_levels(r.start)
    assert np.all(r.residuals <= tol * r.norm_bound)
    # each Ritz value lies within its residual of an eigenvalue, and with the groups
    # of two whole, the sorted values pair off with the exact ones
    exact = grid_spectrum(side, k)
    assert np.all(np.abs(r.eigenvalues - exact) <= r.residuals + 1e-12)
    np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(k), atol=1e-10)


@pytest.mark.parametrize("mass", ["diagonal", "full"])
def test_the_start_on_generalised_problems(multilevel_everywhere, mass):
    side, k, tol = 100, 12, 1e-4
    A = grid_graph((side, side))
    L = graph_laplacian(A)
    n = L.shape[0]
    rng = np.random.default_rng(3)
    if mass == "diagonal":
        M = sp.diags_array(rng.uniform(0.5, 2.0, n))
    else:  # positive definite: diagonally dominant, with the grid's off-diagonals
        M = sp.csr_array(sp.eye_array(n) + 0.1 * A)
    r = eigsh(L, k, M=M, method="shift_invert", tol=tol, rng=0)
    assert r.start.startswith("multilevel")
    assert "instead" not in r.start
    assert r.verified
    # the same problem to 1e-10: far below the eigenvalues, the coarse levels predict
    # that the start would not converge, and the block Lanczos computes it
    ref = eigsh(L, k, M=M, method="shift_invert", tol=1e-10, rng=0)
    assert "not tried on the finest" in ref.start
    assert np.all(np.abs(r.eigenvalues - ref.eigenvalues) <= r.residuals * 10 + 1e-12)
    np.testing.assert_allclose(r.eigenvectors.T @ (M @ r.eigenvectors), np.eye(k),
                               atol=1e-10)


def test_a_sheaf_the_levels_do_not_resemble_falls_back_on_lanczos(multilevel_everywhere):
    # orthogonal maps rotate the stalks: its smooth sections are not constant on
    # aggregates of rows, and the start gives way to the block Lanczos
    rng = np.random.default_rng(4)
    A = knn_graph(rng.random((1500, 3)), 8)
    L = sheaf_laplacian(random_sheaf(A, 3, kind="orthogonal", rng=5))
    r = eigsh(L, 8, method="shift_invert", tol=1e-6, rng=0)
    assert "block Lanczos from a random start instead" in r.start
    assert r.verified
    ref = eigsh(L, 8, method="dense")
    np.testing.assert_allclose(r.eigenvalues, ref.eigenvalues, atol=1e-6 * r.norm_bound)


def test_the_start_is_not_tried_below_its_threshold():
    L = graph_laplacian(grid_graph((30, 30)))
    assert eigsh(L, 6, method="shift_invert", rng=0).start is None
    assert eigsh(L, 6, method="arpack", rng=0).start is None


def test_the_start_with_many_components_and_a_given_shift(multilevel_everywhere):
    # five 40 x 50 grids: a kernel of five detected, the start's coarse kernel
    # columns dropped on the finest level; then the same with a user's sigma
    L = sp.block_diag([graph_laplacian(grid_graph((40, 50)))] * 5, format="csr")
    exact = np.sort(np.tile(grid_spectrum_rect(40, 50, 8), 5))[:24]
    for sigma in (None, -1e-3):
        r = eigsh(L, 24, method="shift_invert", tol=1e-4, rng=0, sigma=sigma)
        assert "instead" not in r.start
        assert r.known_kernel.startswith("detected")
        assert r.verified
        assert np.all(np.abs(r.eigenvalues - exact) <= r.residuals + 1e-12)


def grid_spectrum_rect(a, b, k):
    one_a = 2 - 2 * np.cos(np.pi * np.arange(a) / a)
    one_b = 2 - 2 * np.cos(np.pi * np.arange(b) / b)
    return np.sort((one_a[:, None] + one_b[None, :]).ravel())[:k]


def test_the_start_on_a_spectrum_far_from_zero(multilevel_everywhere):
    # L + 1e5 I: the shift goes just below 1e5, and the start runs as on L
    side, k = 100, 12
    L = graph_laplacian(grid_graph((side, side))) + 1e5 * sp.eye_array(side * side)
    r = eigsh(L, k, method="shift_invert", tol=1e-7, rng=0)
    assert "instead" not in r.start
    assert r.verified
    exact = 1e5 + grid_spectrum(side, k)
    assert np.all(np.abs(r.eigenvalues - exact) <= r.residuals + 1e-9)


def test_gram_residuals_keep_their_digits_far_from_zero():
    # nearly converged vectors of L + 1e5 I: residuals of 1e-6 beside eigenvalues of
    # 1e5. Formed from Gram matrices of size theta^2 they would carry errors of
    # sqrt(eps) 1e5 ~ 1e-3; at the scale of (theta - s)^2 they agree with A's
    side, c = 30, 1e5
    L = sp.csr_array(graph_laplacian(grid_graph((side, side))) + c * sp.eye_array(side**2))
    n = L.shape[0]
    _, V = scipy.linalg.eigh(L.toarray(), subset_by_index=[0, 9])
    rng = np.random.default_rng(7)
    X = np.asfortranarray(V + 1e-6 * rng.standard_normal(V.shape))
    s = c - 1e-3
    F = SymmetricFactor(L - s * sp.eye_array(n), definite=True)
    W = np.asfortranarray(F.solve(X))
    theta, Y, res = ml._rayleigh_ritz(X.copy(order="F"), X, W, W, s, None, None)
    explicit = np.linalg.norm(L @ Y - Y * theta, axis=0)
    assert explicit.max() < 1e-5  # the point: residuals far below theta
    np.testing.assert_allclose(res, explicit, rtol=1e-3, atol=1e-9)


def test_a_start_that_does_not_converge_hands_over_to_lanczos(multilevel_everywhere,
                                                              monkeypatch):
    # a kNN graph, whose aggregates are rough: allowed past the predictor, the finest
    # sweeps stop short of the tolerance and the block Lanczos answers
    monkeypatch.setattr(ml, "PREDICTED_MAX", np.inf)
    monkeypatch.setattr(ml, "COARSEST_PREDICTED_MAX", np.inf)
    rng = np.random.default_rng(6)
    L = graph_laplacian(knn_graph(rng.random((4000, 3)), 10))
    r = eigsh(L, 10, method="shift_invert", tol=1e-8, rng=0)
    assert "not converged" in r.start
    assert r.start.endswith("block Lanczos from a random start instead")
    assert r.verified
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 10**9)
    plain = eigsh(L, 10, method="shift_invert", tol=1e-8, rng=0)
    np.testing.assert_allclose(r.eigenvalues, plain.eigenvalues, atol=1e-9)


def test_a_failing_coarse_factorisation_costs_the_start_only(multilevel_everywhere,
                                                            monkeypatch):
    class Failing:
        def __init__(self, *args, **kwargs):
            raise np.linalg.LinAlgError("planted")

    monkeypatch.setattr(ml, "SymmetricFactor", Failing)
    L = graph_laplacian(grid_graph((100, 100)))
    r = eigsh(L, 10, method="shift_invert", tol=1e-4, rng=0)
    assert r.start.startswith("multilevel start failed (LinAlgError: planted)")
    assert r.verified
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(100, 10), atol=1e-4 * 8)


def test_matrices_that_do_not_coarsen_keep_the_block_lanczos(multilevel_everywhere):
    # no off-diagonal entries: every node its own aggregate
    n = 3000
    D = sp.diags_array(np.linspace(1.0, 2.0, n), format="csr")
    r = eigsh(D, 5, method="shift_invert", rng=0)
    assert r.start == "random (the multilevel start found no coarser level)"
    np.testing.assert_allclose(r.eigenvalues, np.linspace(1.0, 2.0, n)[:5], atol=1e-8)
    # a grid beside 4000 isolated nodes: aggregation stops above what LAPACK should
    # take on, and the start gives up before it
    A = sp.block_diag([grid_graph((80, 80)), sp.csr_array((4000, 4000))], format="csr")
    L = graph_laplacian(A) + 1e-3 * sp.eye_array(10400)
    r = eigsh(L, 6, method="shift_invert", rng=0)
    assert r.start.startswith("random (aggregation stopped at ")
    assert r.verified


@pytest.mark.parametrize(("tol", "where"), [(1e-5, "the level above it"),
                                            (1e-6, "the coarsest level")])
def test_tolerances_far_below_the_eigenvalues_are_predicted_and_skipped(
        multilevel_everywhere, tol, where):
    # the 100 x 100 grid's 12th eigenvalue is 0.0082: at tol 3e-5 one sweep converges
    # (measured), at 1e-5 the level above the finest predicts a first residual 505
    # times the tolerance, at 1e-6 already the coarsest predicts 1.7e4 times it
    L = graph_laplacian(grid_graph((100, 100)))
    r = eigsh(L, 12, method="shift_invert", tol=tol, rng=0)
    assert f"not tried on the finest ({where} predicts" in r.start
    assert r.verified
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(100, 12), atol=tol * 8)


@pytest.mark.parametrize("b", [1, 3, 4, 6, 9])
def test_column_major_products_and_projections(b):
    rng = np.random.default_rng(5)
    A = sp.random_array((300, 300), density=0.03, format="csr", rng=rng)
    Z = np.asfortranarray(rng.standard_normal((300, b)))
    np.testing.assert_allclose(ml._times(A, Z), A @ Z, rtol=1e-13, atol=1e-13)
    K = rng.standard_normal((300, 2))
    C = rng.standard_normal((2, b))
    for X in (Z.copy(order="F"), Z.copy(order="C")):
        expect = X - K @ C
        ml._subtract_product(X, K, C)
        np.testing.assert_allclose(X, expect, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kernel", ["auto", None])
def test_the_starts_reported_pairs_and_residuals(multilevel_everywhere, kernel):
    # the residuals the start computed (with the kernel's, where it is known) are what
    # eigsh reports; the vectors are orthonormal, signed, the kernel's in front
    L = graph_laplacian(grid_graph((70, 70)))
    r = eigsh(L, 12, method="shift_invert", tol=1e-4, known_kernel=kernel, rng=0)
    assert "sweep" in r.start
    assert "not converged" not in r.start
    X = r.eigenvectors
    fresh = np.linalg.norm(L @ X - X * r.eigenvalues, axis=0)
    np.testing.assert_allclose(r.residuals, fresh, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(X.T @ X, np.eye(12), atol=1e-12)
    top = X[np.argmax(np.abs(X), axis=0), np.arange(12)]
    assert np.all(top > 0)
    if kernel == "auto":
        np.testing.assert_allclose(X[:, 0], 1 / 70, rtol=1e-12)


def test_finish_and_signs():
    rng = np.random.default_rng(3)
    K = np.full((50, 1), 1 / np.sqrt(50))
    Q = np.linalg.qr(np.hstack([K, rng.standard_normal((50, 4))]))[0][:, 1:]
    lam, X = _eigsh._finish(np.array([3.0, 1.0, 2.0, 4.0]), Q, K)
    assert np.array_equal(lam, [0.0, 1.0, 2.0, 3.0, 4.0])
    # orthogonal to the kernel already: the columns are kept as they are, sorted
    assert np.array_equal(X[:, 1:], Q[:, [1, 2, 0, 3]])
    assert X.flags.f_contiguous
    # into a spare block where one fits, else into a new array
    spare = np.empty((50, 7), order="F")
    _, X2 = _eigsh._finish(np.array([3.0, 1.0, 2.0, 4.0]), Q, K, out=spare)
    assert np.shares_memory(X2, spare)
    assert np.array_equal(X2, X)
    # too few columns, row-major, or holding X itself (sorted already: not copied)
    inside = np.empty((50, 9), order="F")
    inside[:, 4:8] = Q[:, [1, 2, 0, 3]]
    for bad, Xin in ((np.empty((50, 4), order="F"), Q[:, [1, 2, 0, 3]]),
                     (np.empty((50, 7)), Q[:, [1, 2, 0, 3]]), (inside, inside[:, 4:8])):
        _, X3 = _eigsh._finish(np.array([1.0, 2.0, 3.0, 4.0]), Xin, K, out=bad)
        assert not np.shares_memory(X3, bad)
        assert np.array_equal(X3, X)
    # not orthogonal to it: projected and orthonormalised
    lam, X = _eigsh._finish(np.array([1.0, 2.0]), Q[:, :2] + 1e-6 * K, K)
    np.testing.assert_allclose(X.T @ X, np.eye(3), atol=1e-14)
    assert np.abs(K.T @ X[:, 1:]).max() < 1e-15
    Y = np.array([[1.0, 2.0], [-3.0, 1.0]])
    Z = _eigsh._fix_signs(Y)
    assert np.array_equal(Z, [[-1.0, 2.0], [3.0, 1.0]])
    assert np.array_equal(Y, [[1.0, 2.0], [-3.0, 1.0]])  # a copy unless in place
    assert _eigsh._fix_signs(Y, inplace=True) is Y
    assert np.array_equal(Y, Z)
