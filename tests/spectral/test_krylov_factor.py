"""The pieces behind shift-invert: the LDL^T factor, inertia counts, block Lanczos."""

import os
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from spectral_sheaf.graphs import graph_laplacian, grid_graph, hypercube_graph, magnetic_laplacian
from spectral_sheaf.spectral import EigenSolverError, _cholmod, eigenvalue_count, eigsh
from spectral_sheaf.spectral._bounds import _norm_bound
from spectral_sheaf.spectral._eigsh import _Counter, _missed_check
from spectral_sheaf.spectral._factor import SymmetricFactor, _column_counts, cholmod_module
from spectral_sheaf.spectral._krylov import block_lanczos_largest

HAVE_CHOLMOD = cholmod_module() is not None
BACKENDS = ["superlu", pytest.param("cholmod", marks=pytest.mark.skipif(
    not HAVE_CHOLMOD, reason="scikit-sparse (cholmod extra) is not installed"))]


def random_symmetric(n, density, rng):
    R = sp.random_array((n, n), density=density, rng=rng)
    return sp.csr_array(R + R.T + sp.diags_array(rng.standard_normal(n)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("b", [1, 3, 8])
def test_ldl_solve_matches_dense_solve(b, backend):
    rng = np.random.default_rng(0)
    A = random_symmetric(300, 0.02, rng) + 8 * sp.eye_array(300)
    for definite in (True, False):  # CHOLMOD: supernodal L L^T, or simplicial L D L^T
        f = SymmetricFactor(A, definite=definite, backend=backend)
        assert f.backend == backend
        assert f.negative_pivots == 0
        B = rng.standard_normal((300, b))
        X = f.solve(B)
        np.testing.assert_allclose(X, np.linalg.solve(A.toarray(), B), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(f.solve(B[:, 0]), X[:, 0], rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inertia_counts_eigenvalues_below_zero(backend):
    rng = np.random.default_rng(1)
    A = random_symmetric(200, 0.03, rng)
    w = np.linalg.eigvalsh(A.toarray())
    for tau in (-1.0, 0.1, 0.7):
        # definite=True is only a hint: a failed Cholesky falls back to L D L^T
        for definite in (True, False):
            f = SymmetricFactor(A - tau * sp.eye_array(200), definite=definite,
                                backend=backend)
            assert f.negative_pivots == np.sum(w < tau)
        assert eigenvalue_count(A, tau, factorization=backend) == np.sum(w < tau)


def test_column_counts_are_those_of_the_cholesky_factor():
    # generic values (no cancellation), so the dense factor's nonzeros are the
    # symbolic fill; a path graph shuffled, plus random chords, fills in
    rng = np.random.default_rng(4)
    n = 90
    R = sp.random_array((n, n), density=0.03, rng=rng)
    A = sp.csc_array(R + R.T + sp.diags_array(np.full(n, 20.0)))
    A.sort_indices()
    counts = _column_counts(A.indptr.astype(np.int64), A.indices.astype(np.int64))
    C = np.linalg.cholesky(A.toarray())
    np.testing.assert_array_equal(counts, np.count_nonzero(np.abs(C) > 1e-300, axis=0))
    assert counts.sum() > A.nnz // 2 + n // 2  # it did fill in


@pytest.mark.skipif(not HAVE_CHOLMOD, reason="scikit-sparse (cholmod extra) is not installed")
def test_cholmod_cost_model_counts_its_own_fill():
    # the simplicial factor stores exactly the symbolic fill under CHOLMOD's ordering
    L = graph_laplacian(grid_graph((30, 30)))
    f = SymmetricFactor(L + 0.1 * sp.eye_array(900), definite=False, backend="cholmod")
    c = np.diff(f._chol.L().indptr).astype(float)
    assert f.cost_in_solves == pytest.approx((c @ c) / (4 * c.sum()), rel=1e-12)


def test_optional_solvers_are_installed_where_ci_asks_for_them():
    # CI's second pass installs the cholmod and primme extras and sets this, so that
    # their paths cannot be skipped there unnoticed
    if os.environ.get("SPECTRAL_SHEAF_REQUIRE_OPTIONAL") != "1":
        pytest.skip("SPECTRAL_SHEAF_REQUIRE_OPTIONAL is not set")
    import primme  # noqa: F401 (must import)

    assert HAVE_CHOLMOD
    assert _cholmod.available()  # CHOLMOD through ctypes, for the supernodal Cholesky
    L = graph_laplacian(grid_graph((10, 10)))
    assert SymmetricFactor(L + sp.eye_array(100), definite=True).backend == "cholmod"
    assert eigsh(L, 3, method="shift_invert", rng=0).factorization == "cholmod"


def test_factorization_option_messages(monkeypatch):
    L = graph_laplacian(grid_graph((10, 10)))
    with pytest.raises(ValueError, match=r"factorization must be one of \{'auto', "
                       r"'superlu', 'cholmod'\}; got 'umfpack'"):
        eigsh(L, 3, method="shift_invert", factorization="umfpack")
    with pytest.raises(ValueError, match=r"factorization must be one of"):
        eigenvalue_count(L, 1.0, factorization="umfpack")
    r = eigsh(L, 3, method="shift_invert", factorization="superlu", rng=0)
    assert r.factorization == "superlu"
    assert eigsh(L, 3, method="dense").factorization is None
    monkeypatch.setitem(sys.modules, "sksparse", None)  # as if not installed
    with pytest.raises(ImportError, match=r"factorization='cholmod' needs scikit-sparse "
                       r"\(CHOLMOD\): pip install 'spectral_sheaf\[cholmod\]'"):
        eigsh(L, 3, method="shift_invert", factorization="cholmod")
    with pytest.raises(ImportError, match=r"factorization='cholmod' needs scikit-sparse"):
        SymmetricFactor(L, backend="cholmod")
    # auto falls back to SuperLU
    assert SymmetricFactor(L + sp.eye_array(100), definite=True).backend == "superlu"


def test_eigenvalue_count_generalised_and_degenerate_groups():
    # hypercube Q6: eigenvalue 2j with multiplicity C(6, j)
    L = graph_laplacian(hypercube_graph(6))
    assert eigenvalue_count(L, 2.5) == 1 + 6
    assert eigenvalue_count(L, 4.5) == 1 + 6 + 15
    Mass = sp.diags_array(np.linspace(1.0, 2.0, 64))
    w = scipy.linalg.eigh(L.toarray(), Mass.toarray(), eigvals_only=True)
    assert eigenvalue_count(L, 3.0, M=Mass) == np.sum(w < 3.0)


def test_complex_hermitian_factor_counts_and_solves():
    A = sp.triu(grid_graph((6, 6)), format="csr")  # directed: the phases do not cancel
    H = magnetic_laplacian(A, q=0.2)
    assert np.iscomplexobj(H.data)
    w = np.linalg.eigvalsh(H.toarray())
    tau = 0.5 * (w[5] + w[6]) if w[6] - w[5] > 1e-6 else 0.5 * (w[6] + w[7])
    f = SymmetricFactor(H - tau * sp.eye_array(36))
    assert f.negative_pivots == np.sum(w < tau)
    b = np.arange(36.0) + 1j
    x = f.solve(b)
    np.testing.assert_allclose((H - tau * sp.eye_array(36)) @ x, b, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_rounding_level_pivot_is_a_zero_pivot(backend):
    # a 50 x 50 grid Laplacian is singular; its last pivot comes out at about 1e-13
    # with either sign, which is not an eigenvalue below 0
    L = graph_laplacian(grid_graph((50, 50)))
    f = SymmetricFactor(L, backend=backend)
    assert f.zero_pivot
    assert f.negative_pivots is None
    with pytest.raises(EigenSolverError, match=r"inertia of A - 0 M is unknown"):
        eigenvalue_count(L, 0.0, factorization=backend)
    assert eigenvalue_count(L, 0.005, factorization=backend) == 3  # 0 and the pair at 0.0039
    with pytest.raises(ValueError, match=r"sigma=0 is an eigenvalue: A - sigma M is "
                       r"singular; move it below the spectrum"):
        eigsh(L, 3, method="shift_invert", sigma=0.0, factorization=backend)


def test_eigenvalue_count_messages():
    L = graph_laplacian(grid_graph((4, 4)))
    with pytest.raises(EigenSolverError, match=r"inertia of A - 0 M is unknown \(a zero pivot"):
        eigenvalue_count(L, 0.0)  # 0 is an eigenvalue: a zero pivot
    with pytest.raises(ValueError, match=r"upper must be finite; got nan"):
        eigenvalue_count(L, float("nan"))


def test_block_lanczos_finds_degenerate_groups_and_respects_deflation():
    # S = diag(theta) with a group of multiplicity 5 at the top
    rng = np.random.default_rng(3)
    theta = np.concatenate([[9.0] * 5, [7.0, 6.5], rng.uniform(0, 5, 400)])
    n = theta.size

    def apply(V):
        return theta[:, None] * V

    top, X, used, ok = block_lanczos_largest(apply, n, 7, block=6, rtol=1e-12, rng=rng)
    assert ok
    np.testing.assert_allclose(top, [9, 9, 9, 9, 9, 7, 6.5], rtol=1e-10)
    np.testing.assert_allclose(X.T @ X, np.eye(7), atol=1e-10)
    assert used % 6 == 0
    # with e_5 (the 7.0 direction) deflated, the next pairs appear instead
    K = np.zeros((n, 1))
    K[5] = 1.0
    top2, X2, _, _ = block_lanczos_largest(apply, n, 6, K=K, block=6, rtol=1e-12, rng=rng)
    assert 7.0 not in np.round(top2, 8)
    np.testing.assert_allclose(K.T @ X2, 0, atol=1e-12)


def test_block_lanczos_survives_an_invariant_subspace():
    # only three distinct eigenvalues: the Krylov space closes after one block step
    theta = np.repeat([3.0, 2.0, 1.0], [2, 2, 96])
    top, _, _, ok = block_lanczos_largest(lambda V: theta[:, None] * V, 100, 4, block=4,
                                          rtol=1e-12, rng=np.random.default_rng(0))
    assert ok
    np.testing.assert_allclose(top, [3, 3, 2, 2], rtol=1e-12)



@pytest.mark.parametrize("mass", [False, True])
def test_block_lanczos_stops_on_the_residuals_of_a_itself(mass):
    # shift-invert of a grid Laplacian (kernel deflated), with and without a mass
    # matrix: with residual_of the stop is A's residual, read from the Lanczos
    # relation; the pairs returned meet atol, a looser atol stops sooner, and the
    # estimate agrees with the residual formed from A
    L = graph_laplacian(grid_graph((30, 30)))
    n = L.shape[0]
    M = sp.diags_array(np.random.default_rng(0).uniform(0.5, 2.0, n)) if mass else None
    s = -1e-3
    B = L - s * (sp.eye_array(n) if M is None else M)
    f = SymmetricFactor(sp.csc_array(B), definite=True)
    K = np.ones((n, 1))
    K /= np.sqrt(K.T @ (K if M is None else M @ K))

    def solve(V):
        return f.solve(V)

    def shifted(V):
        return B @ V

    runs = {}
    for atol in (1e-3, 1e-6, 1e-9):
        seen = []

        def accept(theta, X, seen=seen):
            seen.append((theta, X))
            return True

        theta, X, used, ok = block_lanczos_largest(
            solve, n, 6, M=M, K=K, block=4, rtol=1e-1, residual_of=shifted, atol=atol,
            accept=accept, rng=np.random.default_rng(1))
        assert ok
        assert len(seen) == 1
        lam = s + 1.0 / theta
        MX = X if M is None else M @ X
        res = np.linalg.norm(L @ X - MX * lam, axis=0)
        assert res.max() <= atol
        # and not far below: the estimate from the Lanczos relation is A's residual
        # (0.24-0.82 atol here; a block step cuts it some 5x), not a cautious bound
        assert res.max() >= 0.05 * atol
        runs[atol] = (used, res.max())
    assert runs[1e-3][0] < runs[1e-9][0]
    assert runs[1e-9][1] < 1e-3 * runs[1e-3][1]
    with pytest.raises(ValueError, match=r"atol must be > 0 with residual_of; got 0\.0"):
        block_lanczos_largest(solve, n, 6, M=M, K=K, block=4, residual_of=shifted,
                              rng=np.random.default_rng(1))
    # against the closed form (the grid's spectrum, with M: a dense solve)
    if M is None:
        one = 2 - 2 * np.cos(np.pi * np.arange(30) / 30)
        exact = np.sort((one[:, None] + one[None, :]).ravel())[1:7]
    else:
        exact = scipy.linalg.eigh(L.toarray(), M.toarray(), eigvals_only=True)[1:7]
    np.testing.assert_allclose(np.sort(lam), exact, atol=1e-8)

def test_shift_invert_handles_an_indefinite_matrix():
    # -1e-6 ||A|| would lie inside this spectrum: the shift is placed below a Lanczos
    # estimate of lambda_min instead, and the inertia of the factor confirms it
    rng = np.random.default_rng(5)
    A = random_symmetric(900, 0.004, rng)
    w = np.linalg.eigvalsh(A.toarray())
    r = eigsh(A, 6, method="shift_invert", rng=0)
    assert r.verified
    np.testing.assert_allclose(r.eigenvalues, w[:6], atol=1e-7)
    assert r.n_factorizations == 1  # a random sparse matrix fills in: Krylov check
    assert r.missed_check.startswith("none missed (block Krylov pass")
    with pytest.raises(ValueError, match=r"sigma=0 must lie below the spectrum for "
                       r"which='smallest'; \d+ eigenvalues lie below it"):
        eigsh(A, 6, method="shift_invert", sigma=0.0)


def test_shift_invert_checks_by_inertia_and_catches_a_planted_miss():
    side = 40
    L = graph_laplacian(grid_graph((side, side)))
    one = 2 - 2 * np.cos(np.pi * np.arange(side) / side)
    exact = np.sort((one[:, None] + one[None, :]).ravel())
    r = eigsh(L, 12, method="shift_invert", rng=0, tol=1e-8)
    assert r.verified
    # a small factorisation: spectrum slicing
    assert "inertia count: exactly 11 eigenvalues below" in r.missed_check
    assert r.n_factorizations == 2
    np.testing.assert_allclose(r.eigenvalues, exact[:12], atol=1e-9)
    # plant a miss: drop one member of the degenerate pair (1, 2) / (2, 1) and put
    # the 13th pair in its place; both checks must report it
    X = np.hstack([r.eigenvectors[:, :10], r.eigenvectors[:, 11:]])
    lam = np.concatenate([r.eigenvalues[:10], r.eigenvalues[11:]])
    full = eigsh(L, 13, method="shift_invert", rng=0, tol=1e-8)
    lam = np.append(lam, full.eigenvalues[12])
    X = np.hstack([X, full.eigenvectors[:, 12:13]])
    norm = _norm_bound(L)
    f = SymmetricFactor(L + 1e-6 * norm * sp.eye_array(L.shape[0]))
    assert f.cost_in_solves < 30
    for factor, phrase in ((f, "the inertia of A - tau M counts"),
                           (None, "block Krylov pass on the deflated shift-inverted")):
        state = {"solve": f.solve, "sigma": -1e-6 * norm, "factor": factor,
                 "factorizations": 0}
        msg = _missed_check(L, None, lam, X, "smallest", 1e-8, norm,
                            np.random.default_rng(0), _Counter(L), state)
        assert msg.startswith("missed"), msg
        assert phrase in msg


def test_an_unsupported_scikit_sparse_is_named(monkeypatch):
    import types

    from spectral_sheaf.spectral import _factor

    fake = types.ModuleType("sksparse")
    fake.cholmod = types.SimpleNamespace(cho_factor=None)  # 0.5's names, not 0.4's
    monkeypatch.setitem(sys.modules, "sksparse", fake)
    monkeypatch.setattr(_factor, "_warned_api", False)
    with pytest.raises(ImportError, match=r"the installed scikit-sparse has an API other "
                       r"than 0.4's \(0.5 renamed it\)"):
        cholmod_module(required=True)
    L = graph_laplacian(grid_graph((10, 10)))
    with pytest.warns(RuntimeWarning, match=r"API other than 0.4's .*; using SuperLU"):
        f = SymmetricFactor(L + sp.eye_array(100), definite=True)
    assert f.backend == "superlu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        assert SymmetricFactor(L + sp.eye_array(100)).backend == "superlu"


@pytest.mark.skipif(not HAVE_CHOLMOD, reason="scikit-sparse (cholmod extra) is not installed")
def test_cholmod_factorises_large_matrices_with_every_blas_thread(monkeypatch):
    # eigsh holds BLAS to one thread; CHOLMOD's factorisation of a matrix of 100k rows
    # or more lifts that (and only that call), a smaller one does not
    from contextlib import contextmanager

    from spectral_sheaf import _backend

    entered = []
    wide = _backend.all_blas_threads

    @contextmanager
    def recording():
        entered.append(True)
        with wide():
            yield

    monkeypatch.setattr(_backend, "all_blas_threads", recording)
    for side, expected in ((40, 0), (320, 1)):
        entered.clear()
        L = graph_laplacian(grid_graph((side, side)))
        B = sp.csc_array(L + 1e-3 * sp.eye_array(L.shape[0]))
        f = SymmetricFactor(B, definite=True, backend="cholmod")
        assert len(entered) == expected
        x = np.random.default_rng(0).standard_normal(L.shape[0])
        np.testing.assert_allclose(B @ f.solve(x), x, atol=1e-8)


def test_one_pass_against_k_finds_what_two_do():
    # the missed check's Krylov pass projects the found vectors out once per block
    L = graph_laplacian(grid_graph((40, 40)))
    n = L.shape[0]
    s = -1e-5
    f = SymmetricFactor(L - s * sp.eye_array(n), definite=True)
    lam, U = np.linalg.eigh(L.toarray())
    K = U[:, :12]
    out = {}
    for passes in (1, 2):
        theta, X, _, ok = block_lanczos_largest(
            f.solve, n, 3, K=K, block=4, max_dim=40, rtol=1e-10, max_applies=400,
            k_passes=passes, rng=np.random.default_rng(0))
        assert ok
        assert np.abs(K.T @ X).max() < 1e-10
        out[passes] = s + 1.0 / theta
    np.testing.assert_allclose(np.sort(out[1]), lam[12:15], rtol=1e-9)
    np.testing.assert_allclose(out[1], out[2], rtol=1e-12)
