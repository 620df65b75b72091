"""The device eigen-solver path (CuPy input), run here on SciPy input.

tests/gpu/test_eigsh_gpu.py runs it on a device against the CPU result.
"""

import time

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp

from spectral_sheaf.graphs import graph_laplacian, grid_graph
from spectral_sheaf.spectral import EigenSolverError, eigsh
from spectral_sheaf.spectral._device import _arpack_restarts, _missed_check, eigsh_device


def run(A, k, **kw):
    opts = {"M": None, "which": "smallest", "method": "auto", "tol": 1e-8, "maxiter": None,
            "known_kernel": None, "on_failure": "raise", "rng": 0, "t0": time.perf_counter()}
    opts.update(kw)
    return eigsh_device(A, k, **opts)


def grid_spectrum(a, b):
    ex = 2 - 2 * np.cos(np.pi * np.arange(a) / a)
    ey = 2 - 2 * np.cos(np.pi * np.arange(b) / b)
    return np.sort(np.add.outer(ex, ey).ravel())


@pytest.mark.parametrize("method", ["auto", "dense", "arpack", "lobpcg", "chfsi"])
def test_grid_spectrum_with_its_degenerate_pairs(method):
    # a 24 x 24 grid: lambda_1 = lambda_2 and lambda_4 = lambda_5 (exact multiplicities)
    L = graph_laplacian(grid_graph((24, 24)))
    r = run(L, 6, method=method)
    assert r.verified, r.missed_check
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(24, 24)[:6], atol=1e-7)
    assert r.method.endswith("(device)" if r.method.startswith("chfsi") else "(cupyx)")
    X = r.eigenvectors
    np.testing.assert_allclose(X.T @ X, np.eye(6), atol=1e-6)
    assert r.missed_check.startswith("none missed")


def test_largest_known_kernel_and_lumped_mass():
    L = graph_laplacian(grid_graph((20, 30)))
    for method in ("arpack", "chfsi"):
        top = run(L, 4, which="largest", method=method)
        np.testing.assert_allclose(top.eigenvalues, grid_spectrum(20, 30)[-4:], atol=1e-7)
        K = np.ones((600, 1))
        r = run(L, 5, method=method, known_kernel=K)
        assert r.verified
        np.testing.assert_allclose(r.eigenvalues, grid_spectrum(20, 30)[:5], atol=1e-7)
        np.testing.assert_allclose(np.abs(r.eigenvectors[:, 0]), 1 / np.sqrt(600),
                                   atol=1e-12)
    m = np.random.default_rng(1).uniform(0.5, 2.0, 600)
    M = sp.diags_array(m).tocsr()
    exact = scipy.linalg.eigh(L.toarray(), np.diag(m), eigvals_only=True)[:5]
    for method in ("arpack", "lobpcg", "dense", "chfsi"):
        r = run(L, 5, M=M, method=method)
        assert r.verified, (method, r.missed_check)
        np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-7, err_msg=method)
        X = r.eigenvectors
        np.testing.assert_allclose(X.T @ (m[:, None] * X), np.eye(5), atol=1e-6)


def test_full_mass_goes_to_lobpcg():
    L = graph_laplacian(grid_graph((20, 30)))
    off = sp.diags_array(np.full(599, 0.1), offsets=1)
    M = sp.csr_array(sp.eye_array(600) + off + off.T)
    exact = scipy.linalg.eigh(L.toarray(), M.toarray(), eigvals_only=True)[:4]
    r = run(L, 4, M=M)
    assert r.method == "lobpcg (cupyx)"
    np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-7)
    with pytest.raises(ValueError, match=r"method='arpack' on the device takes M None or "
                       r"diagonal; use method='lobpcg'"):
        run(L, 4, M=M, method="arpack")
    with pytest.raises(ValueError, match=r"method='chfsi' takes M None or diagonal; use "
                       r"method='lobpcg' for a full M"):
        run(L, 4, M=M, method="chfsi")


def test_unconverged_answers_are_reported_never_returned():
    L = graph_laplacian(grid_graph((30, 30)))
    with pytest.raises(EigenSolverError, match=r"method='lobpcg' did not return verified "
                       r"eigenpairs; lobpcg: not verified \(max residual"):
        run(L, 5, method="lobpcg", maxiter=3)
    with pytest.warns(RuntimeWarning, match=r"did not return verified eigenpairs"):
        r = run(L, 5, method="lobpcg", maxiter=3, on_failure="warn")
    assert not r.verified


def test_chfsi_stopped_early_is_reported_never_returned():
    # one filter step (of the degree the random block's residuals ask for) and one
    # Rayleigh-Ritz step: far from converged
    L = graph_laplacian(grid_graph((30, 30)))
    with pytest.raises(EigenSolverError, match=r"method='chfsi' did not return verified "
                       r"eigenpairs; chfsi: not verified \(max residual"):
        run(L, 5, method="chfsi", maxiter=1)


@pytest.mark.parametrize(("low", "high"), [(50.0, 100.0), (1e-10, 2e-10)])
def test_chfsi_stops_on_the_residual_of_the_mass_problem(low, high):
    # it iterates on M^-1/2 A M^-1/2, whose residual is the problem's divided by up to
    # sqrt(max m): large masses must not stop it early (unverified answers), tiny ones
    # not keep it going to its step cap (it took 75k products before the scale)
    L = graph_laplacian(grid_graph((20, 30)))
    m = np.random.default_rng(1).uniform(low, high, 600)
    r = run(L, 5, M=sp.diags_array(m).tocsr(), method="chfsi")
    assert r.verified
    assert r.n_matvecs < 10000
    exact = scipy.linalg.eigh(L.toarray(), np.diag(m), eigvals_only=True)[:5]
    np.testing.assert_allclose(r.eigenvalues, exact, rtol=1e-9, atol=1e-12 * exact[-1])


def test_chfsi_stops_when_the_residuals_stall():
    # tol 1e-17 is below rounding: three steps without progress end it (200 steps of
    # degree up to 4000 otherwise), and the answer is reported unverified
    L = graph_laplacian(grid_graph((20, 30)))
    with pytest.warns(RuntimeWarning, match=r"method='chfsi' did not return verified"):
        r = run(L, 5, method="chfsi", tol=1e-17, on_failure="warn")
    assert not r.verified
    assert r.n_matvecs < 20000
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(20, 30)[:5], atol=1e-12)


def test_an_inconclusive_check_sends_device_lanczos_to_its_restarts(monkeypatch):
    from spectral_sheaf.spectral import _device

    real = _device._missed_check
    calls = []

    def planted(*args, **kwargs):  # the first check cannot decide, as on large grids
        calls.append(1)
        return "none missed (planted, inconclusive)" if len(calls) == 1 else \
            real(*args, **kwargs)

    monkeypatch.setattr(_device, "_missed_check", planted)
    L = graph_laplacian(grid_graph((24, 24)))
    r = run(L, 6, method="arpack")
    assert r.verified
    assert len(calls) == 1  # ARPACK's answer was whole: the restart found nothing more
    assert r.missed_check == ("none missed (planted, inconclusive); a deflation restart, "
                              "which it called for, found nothing more")
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(24, 24)[:6], atol=1e-8)


def test_chfsi_on_the_cpu_and_its_messages():
    # eigsh(method="chfsi") on SciPy input runs the same code, the kernel detected
    L = graph_laplacian(grid_graph((24, 24)))
    r = eigsh(L, 6, method="chfsi", rng=0)
    assert r.verified
    assert r.method == "chfsi"
    assert r.known_kernel is not None
    np.testing.assert_allclose(r.eigenvalues, grid_spectrum(24, 24)[:6], atol=1e-8)
    m = np.random.default_rng(1).uniform(0.5, 2.0, 576)
    r = eigsh(L, 3, M=sp.diags_array(m).tocsr(), method="chfsi", which="largest", rng=0)
    exact = scipy.linalg.eigh(L.toarray(), np.diag(m), eigvals_only=True)[-3:]
    np.testing.assert_allclose(r.eigenvalues, exact, atol=1e-8)
    with pytest.raises(ValueError, match=r"method='chfsi' needs A as a real matrix"):
        eigsh(sp.linalg.aslinearoperator(L), 3, method="chfsi")
    off = sp.diags_array(np.full(575, 0.1), offsets=1)
    with pytest.raises(ValueError, match=r"method='chfsi' takes M None or diagonal"):
        eigsh(L, 3, M=sp.csr_array(sp.eye_array(576) + off + off.T), method="chfsi")


def test_deflation_restarts_fill_a_skipped_member_of_a_degenerate_pair():
    # what cupyx's single-vector Lanczos does on large grids: lambda_2 (a twin of
    # lambda_1) skipped and lambda_6 returned in its place; the restart finds it
    L = graph_laplacian(grid_graph((24, 24)))
    lam, U = np.linalg.eigh(L.toarray())
    keep = [0, 1, 3, 4, 5, 6]
    first = "missed: planted"
    for K in (None, U[:, :1]):
        got, X, line = _arpack_restarts(np, L, None, None, K, lam[keep], U[:, keep], 6,
                                        "smallest", 1e-8, None, 8.0,
                                        np.random.default_rng(0), {"mv": 0}, first)
        np.testing.assert_allclose(got, grid_spectrum(24, 24)[:6], atol=1e-10)
        np.testing.assert_allclose(X.T @ X, np.eye(6), atol=1e-8)
        np.testing.assert_allclose(np.linalg.norm(L @ X - X * got, axis=0), 0, atol=1e-6)
        assert line.startswith("none missed")
        assert line.endswith(
            "after deflation restarts, which the first check called for: missed: planted")
    # the largest end, and a complete answer: nothing more to find
    top = [575, 574, 572, 571]
    got, _, _ = _arpack_restarts(np, L, None, None, None, lam[sorted(top)], U[:, sorted(top)],
                                 4, "largest", 1e-8, None, 8.0, np.random.default_rng(0),
                                 {"mv": 0}, first)
    np.testing.assert_allclose(got, lam[-4:], atol=1e-10)
    _, _, line = _arpack_restarts(np, L, None, None, None, lam[:6], U[:, :6], 6, "smallest",
                                  1e-8, None, 8.0, np.random.default_rng(0), {"mv": 0},
                                  "none missed (inconclusive)")
    assert line == ("none missed (inconclusive); a deflation restart, which it called "
                    "for, found nothing more")


def test_the_missed_check_catches_a_skipped_eigenvalue():
    # M None (or diagonal): Chebyshev-filtered subspace iteration on the complement; a
    # full M: single-vector LOBPCG there (M = I written as a full matrix's pattern)
    L = graph_laplacian(grid_graph((24, 24)))
    lam, U = np.linalg.eigh(L.toarray())
    keep = [0, 1, 3, 4]  # lambda_2 skipped (a member of a degenerate group is not)
    off = sp.diags_array(np.full(575, 1e-300), offsets=1)
    full = sp.csr_array(sp.eye_array(576) + off + off.T)
    for M, how in ((None, "Chebyshev-filtered subspace iteration"),
                   (sp.eye_array(576, format="csr"), "Chebyshev-filtered subspace iteration"),
                   (full, "single-vector LOBPCG")):
        out = _missed_check(np, L, M, lam[keep], U[:, keep], None, "smallest", 1e-8, 8.0,
                            np.random.default_rng(0), {"mv": 0})
        assert out.startswith(f"missed: {how} on the complement of the found vectors"), out
        assert "found an eigenvalue estimate 0.0171102" in out, out
        ok = _missed_check(np, L, M, lam[:4], U[:, :4], None, "smallest", 1e-8, 8.0,
                           np.random.default_rng(0), {"mv": 0})
        assert ok.startswith(f"none missed ({how}"), ok
    # the largest end: lambda_{n-2} skipped
    top = [571, 572, 574, 575]
    out = _missed_check(np, L, None, lam[top], U[:, top], None, "largest", 1e-8, 8.0,
                        np.random.default_rng(0), {"mv": 0})
    assert out.startswith("missed: Chebyshev-filtered"), out


def test_the_filtered_check_is_conclusive_where_lobpcg_was_not():
    # a 100 x 100 grid's 20 smallest pairs: single-vector LOBPCG's 200 steps ended with
    # a residual about 30 times the gap tolerance ("inconclusive"); the filtered block
    # converges to the next eigenvalue, lambda_21, within it
    L = graph_laplacian(grid_graph((100, 100)))
    r = run(L, 20, method="chfsi", tol=1e-6)
    assert r.verified
    assert "inconclusive" not in r.missed_check, r.missed_check
    nxt = float(r.missed_check.rsplit(" ", 1)[-1].rstrip(")"))
    assert nxt == pytest.approx(grid_spectrum(100, 100)[20], abs=1e-7)


def test_device_eigsh_messages():
    L = graph_laplacian(grid_graph((10, 10)))
    with pytest.raises(ValueError, match=r"method='shift_invert' runs on the CPU only; for "
                       r"CuPy input use 'auto', 'dense', 'arpack'"):
        run(L, 3, method="shift_invert")
    with pytest.raises(ValueError, match=r"A must be a square matrix; got shape \(3, 4\)"):
        run(np.ones((3, 4)), 1)
    with pytest.raises(ValueError, match=r"k must be < n = 100 for iterative methods"):
        run(L, 100, method="arpack")
    with pytest.raises(ValueError, match=r"A must be symmetric for eigsh; got max "
                       r"\|A - A\^T\| = 1"):
        run(sp.csr_array(L + sp.eye_array(100, k=1)), 3)
    with pytest.raises(ValueError, match=r"A must contain only finite values"):
        run(np.full((5, 5), np.nan), 1)
    with pytest.raises(TypeError, match=r"A must be real for CuPy input"):
        run(sp.csr_array(L * (1 + 0j)), 1)
    with pytest.raises(ValueError, match=r"M must be positive definite; got a diagonal "
                       r"entry 0 <= 0"):
        run(L, 3, M=sp.diags_array(np.r_[0.0, np.ones(99)]).tocsr())
    with pytest.raises(ValueError, match=r"M must have the shape of A, \(100, 100\)"):
        run(L, 3, M=sp.eye_array(5, format="csr"))
    with pytest.raises(ValueError, match=r"known_kernel applies to which='smallest' only"):
        run(L, 3, which="largest", known_kernel=np.ones(100))
    with pytest.raises(ValueError, match=r"known_kernel has 2 columns, more than k = 1"):
        run(L, 1, known_kernel=np.ones((100, 2)))
    with pytest.raises(ValueError, match=r"method='dense' diagonalises up to 5000 rows"):
        run(graph_laplacian(grid_graph((71, 71))), 2, method="dense")
