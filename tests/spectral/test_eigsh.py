import importlib.util
import sys
from math import comb

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from hypothesis import given
from scipy.sparse.linalg import aslinearoperator

from spectral_sheaf.graphs import (
    adjacency_from_edges,
    complete_graph,
    graph_laplacian,
    grid_graph,
    hypercube_graph,
    knn_graph,
    path_graph,
)
from spectral_sheaf.spectral import (
    EigenSolverError,
    eigsh,
    gft,
    igft,
    laplacian_kernel,
    spectral_bounds,
)
from spectral_sheaf.testing import adjacency_matrices

METHODS = ["dense", "arpack", "shift_invert", "lobpcg", "chfsi", "auto"]


def torus_spectrum(shape):
    total = np.zeros(1)
    for n in shape:
        total = (total[:, None] + 2 - 2 * np.cos(2 * np.pi * np.arange(n) / n)).ravel()
    return np.sort(total)


@pytest.mark.parametrize("kernel", ["auto", None])
@pytest.mark.parametrize("method", METHODS)
def test_degenerate_groups_come_out_whole(method, kernel):
    # torus 8 x 10: the 9 smallest eigenvalues are 0, then groups of 2 and 4; with the
    # kernel detected (a graph Laplacian's) or iterated for
    L = graph_laplacian(grid_graph((8, 10), periodic=True))
    exact = torus_spectrum((8, 10))[:9]
    r = eigsh(L, 9, method=method, rng=1, known_kernel=kernel)
    assert (r.known_kernel is None) == (kernel is None)
    assert r.verified
    np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-8)
    np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(9), atol=1e-8)
    assert r.method == (method if method != "auto" else "dense")


@pytest.mark.parametrize("which", ["smallest", "largest"])
@pytest.mark.parametrize("kernel", ["auto", None])
def test_dense_reports_the_next_eigenvalue_without_another_solver(which, kernel):
    # LAPACK finds eigenvalues by index: the dense solve takes one more, which is the
    # missed check's "next eigenvalue", and no product with the matrix beyond its n
    # columns (the torus 30 x 30: 900 rows, past the dense-complement check's 500)
    L = graph_laplacian(grid_graph((30, 30), periodic=True))
    exact = np.sort(np.linalg.eigvalsh(L.toarray()))
    r = eigsh(L, 7, method="dense", which=which, known_kernel=kernel)
    assert r.verified
    assert r.n_matvecs == 900
    expected = exact[:7] if which == "smallest" else exact[-7:]
    np.testing.assert_allclose(r.eigenvalues, expected, atol=1e-10)
    assert r.eigenvectors.shape == (900, 7)
    assert r.missed_check.startswith("none missed (LAPACK's eigh, by index")
    following = exact[7] if which == "smallest" else exact[-8]
    assert float(r.missed_check.rsplit(" ", 1)[1].rstrip(")")) == pytest.approx(
        following, abs=1e-10)
    whole = eigsh(L, 900, method="dense")
    assert whole.missed_check == "complete spectrum: nothing to miss"


def test_arpack_restarts_when_the_missed_check_finds_a_gap():
    # torus 30 x 30 (900 rows: the check is LOBPCG on the complement): ARPACK's first
    # run skips members of the groups of multiplicity 2 and 4; the check finds the gap,
    # the deflation restarts fill it, and a second check confirms
    L = graph_laplacian(grid_graph((30, 30), periodic=True))
    exact = torus_spectrum((30, 30))[:20]
    r = eigsh(L, 20, method="arpack", rng=0, known_kernel=None)
    assert r.verified
    assert r.missed_check.startswith("none missed (LOBPCG on the complement")
    assert "; after deflation restarts, which the first check called for: missed: LOBPCG " \
        "on the complement has eigenvalue" in r.missed_check
    np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-8)
    # where the first check finds no gap, ARPACK runs once (a kNN graph: simple spectrum)
    K = graph_laplacian(knn_graph(np.random.default_rng(3).random((2000, 3)), 10))
    once = eigsh(K, 6, method="arpack", rng=0, known_kernel=None)
    assert once.verified
    assert once.missed_check.startswith("none missed (LOBPCG")
    assert "deflation" not in once.missed_check
    np.testing.assert_allclose(once.eigenvalues, eigsh(K, 6, method="dense").eigenvalues,
                               atol=1e-8)


def _paths(normalization, copies=40, length=50):
    """Disjoint paths: each eigenvalue of one path ``copies`` times over."""
    L = graph_laplacian(sp.block_diag([path_graph(length)] * copies, format="csr"),
                        normalization=normalization)
    one = graph_laplacian(path_graph(length), normalization=normalization).toarray()
    return L, np.sort(np.tile(np.linalg.eigvalsh(one), copies))


@pytest.mark.parametrize("normalization", ["combinatorial", "sym"])
@pytest.mark.parametrize("k", [20, 45])
def test_shift_invert_fills_groups_larger_than_its_block(normalization, k):
    # 40 disjoint paths: the kernel has 40 members, the next eigenvalue another 40,
    # more than the block Lanczos (block 8) holds of one eigenspace in exact arithmetic.
    # Where its first run returns the next eigenvalues in their place (the normalised
    # Laplacians, here), the inertia count finds the gap and the restarts fill it (the
    # kernel iterated for, not detected)
    L, spectrum = _paths(normalization)
    r = eigsh(L, k, method="shift_invert", tol=1e-6, rng=0, known_kernel=None)
    assert r.verified, r.missed_check
    np.testing.assert_allclose(r.eigenvalues, spectrum[:k], atol=1e-8)
    np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(k), atol=1e-8)
    assert r.missed_check.startswith("none missed (inertia count")
    if "deflation restarts" in r.missed_check:
        assert "which the first check called for: missed: the inertia of A - tau M " \
            "counts" in r.missed_check
        assert r.n_factorizations == 3  # below the spectrum, and two inertia counts


def test_shift_invert_restarts_complete_a_cut_short_group():
    # what the restarts do, from a start that is cut short for certain: 8 of the 40
    # kernel vectors and the 12 eigenpairs after the kernel in place of the other 12
    from spectral_sheaf.spectral._eigsh import _shift_invert_restarts
    from spectral_sheaf.spectral._factor import SymmetricFactor

    L, spectrum = _paths("sym")
    lam, U = scipy.linalg.eigh(L.toarray())
    lam[:40] = 0.0
    keep = np.r_[0:8, 40:52]
    s = -1e-6 * 2.0
    factor = SymmetricFactor(L - s * sp.eye_array(L.shape[0], format="csc"),
                             definite=True)
    got = _shift_invert_restarts(factor.solve, s, L, None, None, lam[keep], U[:, keep],
                                 20, 8, 1e-6, 2.0, None, np.random.default_rng(0))
    assert got is not None
    mu, X = got
    np.testing.assert_allclose(np.sort(mu), spectrum[:20], atol=1e-8)
    np.testing.assert_allclose(X.T @ X, np.eye(20), atol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(L @ X, axis=0), 0.0, atol=1e-5)
    # from the complete answer, a restart finds nothing new
    assert _shift_invert_restarts(factor.solve, s, L, None, None, np.zeros(20), U[:, :20],
                                  20, 8, 1e-6, 2.0, None, np.random.default_rng(0)) is None


def test_reported_residuals_are_those_of_the_returned_pairs():
    # shift-invert reuses the residuals its acceptance test computed; every method's
    # must equal a fresh ||A x - lambda x|| of what it returns
    L = graph_laplacian(grid_graph((40, 40)))
    for method in ("shift_invert", "arpack", "lobpcg"):
        r = eigsh(L, 8, method=method, rng=0)
        fresh = np.linalg.norm(L @ r.eigenvectors - r.eigenvectors * r.eigenvalues, axis=0)
        np.testing.assert_allclose(r.residuals, fresh, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("method", ["dense", "arpack", "lobpcg"])
def test_largest_of_hypercube(method):
    L = graph_laplacian(hypercube_graph(6))
    full = np.repeat(2.0 * np.arange(7), [comb(6, j) for j in range(7)])
    r = eigsh(L, 7, which="largest", method=method, rng=2)
    np.testing.assert_allclose(r.eigenvalues, full[-7:], atol=1e-8)


def test_arpack_error_3_is_retried_with_more_lanczos_vectors(monkeypatch):
    # ARPACK's error 3 (no shifts could be applied in a restart cycle) hit the 6-cube's
    # largest pairs once in CI; eigsh runs ARPACK once more with twice SciPy's default
    # ncv. Planted here: the first call raises it, and only the first
    from scipy.sparse.linalg import ArpackError

    import spectral_sheaf.spectral._eigsh as mod

    calls = []
    real = mod._arpack

    def flaky(*args, **kwargs):
        calls.append(kwargs.get("ncv"))
        if len(calls) == 1:
            raise ArpackError(3)
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, "_arpack", flaky)
    L = graph_laplacian(hypercube_graph(6))
    r = eigsh(L, 7, which="largest", method="arpack", rng=2)
    assert r.verified
    np.testing.assert_allclose(r.eigenvalues, [10.0] * 6 + [12.0], atol=1e-8)
    assert calls[0] is None
    assert calls[1] == 2 * max(2 * 11 + 1, 20)  # 7 pairs asked for with a buffer of 4

    def broken(*args, **kwargs):  # any other ARPACK error is a failed attempt
        calls.append(kwargs.get("ncv"))
        raise ArpackError(-9999)

    calls.clear()
    monkeypatch.setattr(mod, "_arpack", broken)
    with pytest.raises(mod.EigenSolverError, match="ARPACK error -9999"):
        eigsh(L, 7, which="largest", method="arpack", rng=2)
    assert calls == [None]


def test_known_kernel_is_returned_exactly():
    A = adjacency_from_edges([[0, 1], [1, 2], [3, 4], [4, 5], [5, 3]], 7)  # 3 components
    L = graph_laplacian(A)
    K = laplacian_kernel(A)
    assert K.shape == (7, 3)
    for method in ("dense", "arpack", "shift_invert", "lobpcg"):
        r = eigsh(L, 4, method=method, known_kernel=K, rng=0)
        np.testing.assert_allclose(r.eigenvalues[:3], 0.0, atol=0)
        np.testing.assert_allclose(r.eigenvalues[3], 1.0, atol=1e-8)  # path P3: 1, 3
        assert r.verified
    Ks = laplacian_kernel(A, normalization="sym")
    np.testing.assert_allclose(graph_laplacian(A, normalization="sym") @ Ks, 0, atol=1e-14)


def test_generalised_problems_with_lumped_and_full_mass():
    n = 60
    h = 1.0 / (n - 1)
    L = graph_laplacian(path_graph(n)) / h
    lumped = sp.diags_array(np.r_[h / 2, np.full(n - 2, h), h / 2])
    full = sp.diags_array([np.full(n - 1, h / 6), np.r_[h / 3, np.full(n - 2, 2 * h / 3), h / 3],
                           np.full(n - 1, h / 6)], offsets=[-1, 0, 1])
    for M in (lumped, full):
        ref = scipy.linalg.eigh(L.toarray(), M.toarray(), subset_by_index=[0, 5],
                                eigvals_only=True)
        for method in ("dense", "arpack", "shift_invert", "lobpcg"):
            r = eigsh(L, 6, M=M, method=method, rng=3)
            np.testing.assert_allclose(r.eigenvalues, ref, atol=1e-7 * ref[-1])
            # M-orthonormal eigenvectors
            np.testing.assert_allclose(r.eigenvectors.T @ (M @ r.eigenvectors), np.eye(6),
                                       atol=1e-7)


def test_planted_failure_is_reported_not_returned():
    L = graph_laplacian(grid_graph((30, 30)))
    with pytest.raises(EigenSolverError, match=r"method='lobpcg' did not return verified "
                       r"eigenpairs; lobpcg: not verified \(max residual"):
        eigsh(L, 6, method="lobpcg", maxiter=2, tol=1e-12, rng=0)
    with pytest.warns(RuntimeWarning, match="did not return verified"):
        r = eigsh(L, 6, method="lobpcg", maxiter=2, tol=1e-12, rng=0, on_failure="warn")
    assert not r.verified
    assert not r.converged.all()
    with pytest.raises(EigenSolverError, match=r"arpack: failed"):
        eigsh(L, 6, method="arpack", maxiter=2, tol=1e-12, rng=0)


def test_linear_operator_input():
    L = graph_laplacian(grid_graph((9, 9)))
    r = eigsh(aslinearoperator(L), 5, method="lobpcg", rng=4)
    np.testing.assert_allclose(r.eigenvalues, eigsh(L, 5, method="dense").eigenvalues,
                               atol=1e-8)
    with pytest.raises(ValueError, match=r"shift_invert' needs A as a matrix"):
        eigsh(aslinearoperator(L), 5, method="shift_invert")


def test_deterministic_signs_and_counts():
    L = graph_laplacian(grid_graph((7, 9)))
    a = eigsh(L, 4, method="arpack", rng=1)
    b = eigsh(L, 4, method="arpack", rng=99)
    np.testing.assert_allclose(np.abs(a.eigenvectors[:, 3]), np.abs(b.eigenvectors[:, 3]),
                               atol=1e-7)
    idx = np.argmax(np.abs(a.eigenvectors), axis=0)
    assert np.all(a.eigenvectors[idx, np.arange(4)] > 0)
    si = eigsh(L, 4, method="shift_invert")
    assert si.n_factorizations == 1
    assert si.n_matvecs > 0
    assert si.wall_time > 0


@given(adjacency_matrices(min_nodes=3, max_nodes=12))
def test_gft_roundtrip_and_residuals(A):
    L = graph_laplacian(A)
    n = L.shape[0]
    r = eigsh(L, n, method="dense")
    assert np.all(r.residuals <= 1e-8 * max(1.0, r.norm_bound))
    x = np.linspace(-1, 1, n)
    np.testing.assert_allclose(igft(r, gft(r, x)), x, atol=1e-10)
    part = eigsh(L, n - 1, method="dense")
    y = igft(part, gft(part, x))  # projection onto the span
    np.testing.assert_allclose(igft(part, gft(part, y)), y, atol=1e-10)


@given(adjacency_matrices(min_nodes=2, max_nodes=15))
def test_spectral_bounds_contain_the_spectrum(A):
    L = graph_laplacian(A)
    lam = np.linalg.eigvalsh(L.toarray())
    b = spectral_bounds(L, rng=0)
    assert b.upper >= lam[-1] - 1e-10
    assert b.lower <= lam[0] + 1e-10
    assert b.gershgorin[1] >= b.upper


def test_spectral_bounds_are_tight_on_a_large_grid():
    L = graph_laplacian(grid_graph((60, 60)))
    b = spectral_bounds(L, steps=40, rng=0)
    exact_max = 2 * (2 - 2 * np.cos(np.pi * 59 / 60))
    assert exact_max <= b.upper <= 8.0
    assert b.upper - exact_max < 0.05


def test_bad_input_messages():
    L = graph_laplacian(complete_graph(5))
    with pytest.raises(ValueError, match=r"k must be >= 1; got 0"):
        eigsh(L, 0)
    with pytest.raises(ValueError, match=r"k must be < n = 5 for iterative methods"):
        eigsh(L, 5, method="arpack")
    with pytest.raises(ValueError, match=r"k must be < n = 5 for iterative methods \(<= n for "
                       r"method='dense'\); got k=6"):
        eigsh(L, 6)
    with pytest.raises(ValueError, match=r"A must be symmetric for eigsh"):
        eigsh(np.triu(np.ones((4, 4))), 2)
    with pytest.raises(ValueError, match=r"M must have the shape of A, \(5, 5\); got \(4, 4\)"):
        eigsh(L, 2, M=np.eye(4))
    with pytest.raises(ValueError, match=r"M must be positive definite; got a diagonal entry "
                       r"-1 <= 0"):
        eigsh(L, 2, M=-np.eye(5))
    bad = np.eye(5)
    bad[0, 1] = bad[1, 0] = 2.0
    with pytest.raises(ValueError, match=r"M must be positive definite; its Cholesky"):
        eigsh(L, 2, M=bad)
    with pytest.raises(ValueError, match=r"A must be square; got shape \(5, 4\)"):
        eigsh(np.ones((5, 4)), 2)
    with pytest.raises(ValueError, match=r"method must be one of"):
        eigsh(L, 2, method="umfpack")
    with pytest.raises(ValueError, match=r"tol must be > 0"):
        eigsh(L, 2, tol=0.0)
    with pytest.raises(ValueError, match=r"known_kernel must have n = 5 rows"):
        eigsh(L, 2, known_kernel=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"known_kernel applies to which='smallest' only"):
        eigsh(L, 2, which="largest", known_kernel=np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"method='shift_invert' is for which='smallest'"):
        eigsh(L, 2, which="largest", method="shift_invert")
    with pytest.raises(ValueError, match=r"signal must have 5 rows to match basis"):
        gft(eigsh(L, 2), np.ones(3))


def test_lobpcg_with_amg_preconditioner():
    pytest.importorskip("pyamg")
    L = graph_laplacian(grid_graph((50, 50)))
    one = 2 - 2 * np.cos(np.pi * np.arange(50) / 50)
    exact = np.sort((one[:, None] + one[None, :]).ravel())[:8]
    r = eigsh(L, 8, method="lobpcg_amg", rng=0, tol=1e-7)
    assert r.verified
    assert r.method == "lobpcg_amg"
    np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-8)
    k = eigsh(L, 8, method="lobpcg_amg", rng=0, tol=1e-7,
              known_kernel=laplacian_kernel(grid_graph((50, 50))))
    np.testing.assert_allclose(k.eigenvalues, exact, atol=1e-8)
    with pytest.raises(ValueError, match=r"lobpcg_amg' needs A as a real matrix"):
        eigsh(aslinearoperator(L), 3, method="lobpcg_amg")


def test_auto_rule_follows_the_graph_dimension():
    from spectral_sheaf.spectral._eigsh import graph_dimension

    grid = graph_laplacian(grid_graph((80, 80)))
    cube = graph_laplacian(grid_graph((20, 20, 20)))
    assert 1.6 < graph_dimension(grid) < 2.2
    assert graph_dimension(cube) > graph_dimension(grid) + 0.3  # 2.2: diameter 57
    assert graph_dimension(graph_laplacian(complete_graph(30))) == float("inf")
    # a 2-D grid: shift-invert; a 3-D kNN graph of 6000 points: plain Lanczos
    r = eigsh(grid, 6, rng=0)
    assert r.method == "shift_invert"
    assert r.verified
    knn = graph_laplacian(knn_graph(np.random.default_rng(0).random((6000, 3)), 10),
                          normalization="sym")
    assert 2.5 < graph_dimension(knn) < 3.3
    r = eigsh(knn, 6, rng=0, factorization="superlu")
    assert r.method == "arpack"
    assert r.verified
    ref = eigsh(knn, 6, method="shift_invert", rng=0)
    np.testing.assert_allclose(r.eigenvalues, ref.eigenvalues, atol=1e-8)
    # CHOLMOD's factor of a 3-D kNN graph is cheap enough for shift-invert to go first
    from spectral_sheaf.spectral._eigsh import _auto_order

    assert _auto_order(knn, 6000, "smallest", 6, backend="cholmod")[0] == "shift_invert"
    assert _auto_order(knn, 6000, "smallest", 6, backend="superlu")[0] == "arpack"


def test_auto_puts_arpack_first_for_costly_products_on_high_dimensional_graphs():
    from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
    from spectral_sheaf.spectral._eigsh import _auto_order

    A = knn_graph(np.random.default_rng(0).random((2500, 3)), 10, reorder="rcm")[0]
    S = sheaf_laplacian(random_sheaf(A, 3, kind="orthogonal", rng=2))
    assert S.nnz >= 24 * S.shape[0]
    for backend in ("superlu", "cholmod"):  # dimension 3.0: CHOLMOD alone would factorise
        assert _auto_order(S, S.shape[0], "smallest", 6, backend=backend)[:3] == [
            "arpack", "shift_invert", "lobpcg"]
    knn = graph_laplacian(A)
    assert _auto_order(knn, 2500, "smallest", 6) == ["shift_invert", "arpack", "lobpcg",
                                                      "dense"]  # n <= 5000: not this rule
    r = eigsh(S, 6, rng=0)
    assert r.method == "arpack"
    assert r.verified
    ref = eigsh(S, 6, method="shift_invert", rng=0)
    np.testing.assert_allclose(r.eigenvalues, ref.eigenvalues, atol=1e-7)


def test_auto_puts_lobpcg_first_on_large_irregular_graphs_of_high_dimension():
    from spectral_sheaf.spectral._eigsh import (
        AUTO_LOBPCG_DEGREE_SPREAD,
        AUTO_LOBPCG_DIMENSION,
        _auto_order,
        degree_spread,
        graph_dimension,
    )

    rng = np.random.default_rng(0)
    A = knn_graph(rng.random((20000, 10)), 10)  # 10-D points
    high = graph_laplacian(A)
    assert graph_dimension(high) >= AUTO_LOBPCG_DIMENSION
    assert degree_spread(high) >= AUTO_LOBPCG_DEGREE_SPREAD  # kNN degrees: 10 to 20+
    assert high.nnz < 24 * high.shape[0]  # a cheap product
    for backend in ("superlu", "cholmod"):
        assert _auto_order(high, 20000, "smallest", 6, backend=backend)[:3] == [
            "lobpcg", "arpack", "shift_invert"]
    # the same graph normalised (a diagonal of ones), or smaller: ARPACK first
    sym = graph_laplacian(A, normalization="sym")
    assert degree_spread(sym) == 1.0
    assert _auto_order(sym, 20000, "smallest", 6, backend="cholmod")[:2] == [
        "arpack", "shift_invert"]
    small = graph_laplacian(knn_graph(rng.random((6000, 10)), 10))
    assert _auto_order(small, 6000, "smallest", 6, backend="cholmod")[:2] == [
        "arpack", "shift_invert"]
    r = eigsh(high, 6, rng=0)
    assert r.method == "lobpcg"
    assert r.verified
    ref = eigsh(high, 6, method="arpack", rng=0)
    np.testing.assert_allclose(r.eigenvalues, ref.eigenvalues, atol=1e-7)


needs_primme = pytest.mark.skipif(importlib.util.find_spec("primme") is None,
                                  reason="primme (the primme extra) is not installed")


@needs_primme
def test_primme_closed_forms_kernel_mass_and_largest():
    L = graph_laplacian(grid_graph((8, 10), periodic=True))
    r = eigsh(L, 9, method="primme", rng=1)
    assert r.verified
    assert r.method == "primme"
    assert r.factorization is None
    np.testing.assert_allclose(r.eigenvalues, torus_spectrum((8, 10))[:9], atol=1e-8)
    np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(9), atol=1e-8)
    assert r.n_matvecs > 9  # it iterated, through our counted operator
    A = adjacency_from_edges([[0, 1], [1, 2], [3, 4], [4, 5], [5, 3]], 7)
    r = eigsh(graph_laplacian(A), 4, method="primme", known_kernel=laplacian_kernel(A), rng=0)
    np.testing.assert_allclose(r.eigenvalues[:3], 0.0, atol=0)
    np.testing.assert_allclose(r.eigenvalues[3], 1.0, atol=1e-8)
    n = 60
    h = 1.0 / (n - 1)
    Lp = graph_laplacian(path_graph(n)) / h
    lumped = sp.diags_array(np.r_[h / 2, np.full(n - 2, h), h / 2])
    ref = scipy.linalg.eigh(Lp.toarray(), lumped.toarray(), subset_by_index=[0, 5],
                            eigvals_only=True)
    r = eigsh(Lp, 6, M=lumped, method="primme", rng=3)
    np.testing.assert_allclose(r.eigenvalues, ref, atol=1e-7 * ref[-1])
    np.testing.assert_allclose(r.eigenvectors.T @ (lumped @ r.eigenvectors), np.eye(6),
                               atol=1e-7)
    H = graph_laplacian(hypercube_graph(6))
    full = np.repeat(2.0 * np.arange(7), [comb(6, j) for j in range(7)])
    r = eigsh(aslinearoperator(H), 7, which="largest", method="primme", rng=2)
    np.testing.assert_allclose(r.eigenvalues, full[-7:], atol=1e-8)


@needs_primme
def test_primme_planted_failure_is_reported():
    L = graph_laplacian(grid_graph((30, 30)))
    with pytest.raises(EigenSolverError, match=r"method='primme' did not return verified "
                       r"eigenpairs; primme: failed \(RuntimeError: PRIMME stopped with "
                       r"residuals up to .* > tol \|\|A\|\| = 8e-12 \(maxiter=3\)"):
        eigsh(L, 6, method="primme", maxiter=3, tol=1e-12, rng=0)


def test_primme_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "primme", None)  # as if not installed
    with pytest.raises(ImportError, match=r"method='primme' needs primme: pip install "
                       r"'spectral_sheaf\[primme\]'"):
        eigsh(graph_laplacian(grid_graph((10, 10))), 3, method="primme")
