"""CHOLMOD through ctypes, and the finest factorisation of shift-invert in a worker thread."""

import sys
import threading

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf.graphs import graph_laplacian, grid_graph
from spectral_sheaf.spectral import _cholmod, _eigsh, _factor, eigsh
from spectral_sheaf.spectral._factor import SymmetricFactor, _column_counts, cholmod_module

pytestmark = pytest.mark.skipif(
    cholmod_module() is None or not _cholmod.available(),
    reason="scikit-sparse (cholmod extra) is not installed, or CHOLMOD does not load "
           "through ctypes")


def shifted_grid(side, shift=0.1):
    L = graph_laplacian(grid_graph((side, side)))
    return sp.csc_array(L + shift * sp.eye_array(side * side))


@pytest.mark.parametrize("wide", [False, True])
def test_solves_match_a_direct_solve(monkeypatch, wide):
    if wide:  # as if the matrix were too large for 32-bit indices
        monkeypatch.setattr(_cholmod, "INT32_MAX_NNZ", 0)
    B = shifted_grid(20)
    F = _cholmod.Cholesky(B)
    assert F.index_bits == (64 if wide else 32)
    rng = np.random.default_rng(0)
    dense = B.toarray()
    for shape in [(400,), (400, 1), (400, 5)]:
        R = rng.standard_normal(shape)
        X = F.solve(R)
        assert X.shape == shape
        np.testing.assert_allclose(X, np.linalg.solve(dense, R), rtol=1e-10, atol=1e-12)
    # a row-major block gives the same; into a given array
    R = np.ascontiguousarray(rng.standard_normal((400, 3)))
    np.testing.assert_allclose(F(R), np.linalg.solve(dense, R), rtol=1e-10, atol=1e-12)
    out = np.empty((400, 3), order="F")
    assert F.solve(R, out) is out
    np.testing.assert_allclose(out, np.linalg.solve(dense, R), rtol=1e-10, atol=1e-12)
    for bad in (np.empty((400, 3)), np.empty((400, 2), order="F"),
                np.empty((400, 3), order="F", dtype=np.float32)):
        with pytest.raises(ValueError, match=r"out must be a writeable column-major "
                           r"float64 array of shape \(400, 3\), apart from rhs"):
            F.solve(R, bad)
    Rf = np.asfortranarray(R)
    with pytest.raises(ValueError, match="apart from rhs"):
        F.solve(Rf, Rf)


def test_ordering_and_column_counts_are_cholmods():
    B = shifted_grid(15)
    F = _cholmod.Cholesky(B)
    assert np.array_equal(np.sort(F.perm), np.arange(225))
    P = B[F.perm][:, F.perm].tocsc()
    Ld = np.linalg.cholesky(P.toarray())
    assert np.array_equal(F.column_counts, (np.abs(Ld) > 0).sum(axis=0))
    assert np.array_equal(F.column_counts, _column_counts(P.indptr.astype(np.int64),
                                                          P.indices.astype(np.int64)))
    # SymmetricFactor's cost model reads them from the factor
    f = SymmetricFactor(B, definite=True, backend="cholmod")
    assert isinstance(f._chol, _cholmod.Cholesky)
    c = F.column_counts.astype(float)
    assert f.cost_in_solves == pytest.approx((c @ c) / (4 * c.sum()), rel=1e-12)


def test_bad_right_hand_sides_and_outputs_are_refused():
    F = _cholmod.Cholesky(shifted_grid(5))
    for bad in (np.ones(50), np.ones((3, 25)), np.ones((25, 2, 2))):
        with pytest.raises(ValueError, match=r"rhs must have shape \(25,\) or \(25, b\); "
                           r"got \(\d+"):
            F.solve(bad)
    with pytest.raises(ValueError, match="rhs must be real"):
        F.solve(np.ones(25, dtype=complex))
    frozen = np.empty((25, 2), order="F")
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="out must be a writeable column-major"):
        F.solve(np.ones((25, 2)), frozen)
    # a vector into a vector
    out = np.empty(25)
    assert F.solve(np.ones(25), out) is out
    np.testing.assert_allclose(shifted_grid(5) @ out, 1.0, rtol=1e-12)
    # SymmetricFactor's other factors copy into out, with the same checks
    f = SymmetricFactor(shifted_grid(5), definite=True, backend="superlu")
    R = np.ones((25, 2))
    out = np.empty((25, 2))
    assert f.solve(R, out) is out
    np.testing.assert_allclose(out, f.solve(R), rtol=1e-14)
    with pytest.raises(ValueError, match=r"out must have the shape of rhs, \(25, 2\), "
                       r"apart from it; got \(25, 3\)"):
        f.solve(R, np.empty((25, 3)))


def test_the_callers_matrix_is_left_as_it_was():
    B = shifted_grid(6)
    B.indices = B.indices.copy()
    # unsorted indices, as a caller may hand over
    for j in range(B.shape[1]):
        lo, hi = B.indptr[j], B.indptr[j + 1]
        B.indices[lo:hi] = B.indices[lo:hi][::-1]
        B.data[lo:hi] = B.data[lo:hi][::-1]
    B.has_sorted_indices = False
    before = (B.indices.copy(), B.data.copy())
    F = _cholmod.Cholesky(B)
    assert np.array_equal(B.indices, before[0])
    assert np.array_equal(B.data, before[1])
    R = np.random.default_rng(2).standard_normal(36)
    np.testing.assert_allclose(F.solve(R), np.linalg.solve(B.toarray(), R), rtol=1e-10)


def test_cholmod_failures_are_memory_errors(monkeypatch):
    # CHOLMOD's FALSE returns (out of memory, as a rule), planted
    real = _cholmod._lib

    class Failing:
        def __init__(self, name):
            self.name = name

        def __getattr__(self, attr):
            fn = getattr(real, attr)
            return (lambda *args: 0) if attr.endswith(self.name) else fn

    B = shifted_grid(5)
    monkeypatch.setattr(_cholmod, "_lib", Failing("factorize"))
    with pytest.raises(MemoryError, match=r"CHOLMOD's numeric factorisation failed \(out "
                       r"of memory\)"):
        _cholmod.Cholesky(B)
    monkeypatch.setattr(_cholmod, "_lib", Failing("analyze"))
    with pytest.raises(MemoryError, match=r"CHOLMOD's symbolic analysis failed"):
        _cholmod.Cholesky(B)
    monkeypatch.setattr(_cholmod, "_lib", real)
    F = _cholmod.Cholesky(B)
    monkeypatch.setattr(_cholmod, "_lib", Failing("solve2"))
    with pytest.raises(MemoryError, match=r"CHOLMOD's solve failed \(out of memory\)"):
        F.solve(np.ones(25))


def test_not_positive_definite_and_closed_factor_messages():
    L = graph_laplacian(grid_graph((10, 10)))
    with pytest.raises(_cholmod.NotPositiveDefiniteError,
                       match=r"the matrix is not positive definite \(column \d+ of 100\)"):
        _cholmod.Cholesky(L - 0.5 * sp.eye_array(100))
    # SymmetricFactor falls back on the L D L^T, whose pivots count the eigenvalues below
    f = SymmetricFactor(L - 0.5 * sp.eye_array(100), definite=True, backend="cholmod")
    assert f.negative_pivots == int(np.sum(np.linalg.eigvalsh(L.toarray()) < 0.5))
    F = _cholmod.Cholesky(shifted_grid(5))
    F.close()
    F.close()  # twice is harmless
    with pytest.raises(ValueError, match="the factorisation was closed"):
        F.solve(np.ones(25))


def test_the_factorisation_lets_other_threads_run(monkeypatch):
    # a thread counting beside the factorisation: under a lock-holding binding (such as
    # scikit-sparse's) it stands still while CHOLMOD factorises
    real = _cholmod._lib
    count = [0]
    seen = []

    class Watched:
        def __getattr__(self, name):
            fn = getattr(real, name)
            if not name.endswith("factorize"):
                return fn

            def watched(*args):
                before = count[0]
                out = fn(*args)
                seen.append(count[0] - before)
                return out
            return watched

    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    monkeypatch.setattr(_cholmod, "_lib", Watched())
    B = shifted_grid(250)  # 62500 rows: tens of milliseconds
    # a long switch interval: the counting thread runs only where this one lets go of
    # the lock itself, as a call through ctypes.CDLL does (ctypes.PyDLL does not)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.2)
    thread = threading.Thread(target=spin)
    try:
        thread.start()
        _cholmod.Cholesky(B)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert len(seen) == 1
    assert seen[0] > 1000


def test_an_unexpected_layout_falls_back_on_scikit_sparse(monkeypatch):
    # another CHOLMOD, whose cholmod_common does not hold the expected defaults where
    # they are looked for: the ctypes path is not taken
    defaults = _cholmod._DEFAULTS
    monkeypatch.setattr(_cholmod, "_checked", None)
    monkeypatch.setattr(_cholmod, "_lib", None)
    monkeypatch.setattr(_cholmod, "_DEFAULTS", (*_cholmod._DEFAULTS, ("d", 8, 7.0)))
    assert not _cholmod.available()
    # and another major version
    monkeypatch.setattr(_cholmod, "_checked", None)
    monkeypatch.setattr(_cholmod, "_DEFAULTS", defaults)
    monkeypatch.setattr(_cholmod, "SUPPORTED_MAJOR", (99,))
    assert not _cholmod.available()
    with pytest.raises(RuntimeError, match="CHOLMOD could not be loaded through ctypes"):
        _cholmod.Cholesky(shifted_grid(5))
    B = shifted_grid(12)
    f = SymmetricFactor(B, definite=True, backend="cholmod")
    assert not isinstance(f._chol, _cholmod.Cholesky)
    R = np.random.default_rng(1).standard_normal((144, 2))
    np.testing.assert_allclose(f.solve(R), np.linalg.solve(B.toarray(), R), rtol=1e-10)


def test_the_finest_level_is_factorised_beside_the_coarse_levels(monkeypatch):
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 1000)
    where = {}
    real = _eigsh.SymmetricFactor

    def recording(B, **kwargs):
        where.setdefault(B.shape[0], []).append(
            (threading.current_thread() is threading.main_thread(), kwargs))
        return real(B, **kwargs)

    monkeypatch.setattr(_eigsh, "SymmetricFactor", recording)
    L = graph_laplacian(grid_graph((60, 60)))
    r = eigsh(L, 10, method="shift_invert", tol=1e-4, rng=0)
    assert r.verified
    assert r.start.startswith("multilevel: aggregated levels of 3600 > ")
    assert "sweep" in r.start
    assert "not converged" not in r.start
    # one factorisation of the finest level below the spectrum, in a worker thread,
    # which leaves the BLAS threads (a setting of the whole process) alone (the
    # missed check's inertia count is another, on this thread)
    below = [w for w in where[3600] if w[1].get("definite")]
    assert len(below) == 1
    on_main, kwargs = below[0]
    assert not on_main
    assert callable(kwargs.pop("between"))  # waits for the BLAS threads to be settled
    assert kwargs == {"definite": True, "backend": "cholmod", "blas_threads": False}


def test_a_start_built_at_a_shift_the_factorisation_gave_up_is_dropped(monkeypatch):
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 1000)
    L = graph_laplacian(grid_graph((60, 60)))
    lam3 = 2 - 2 * np.cos(np.pi / 60)  # the second eigenvalue
    # the first shift lies above an eigenvalue: the Cholesky fails there, and the next
    # shift is factorised on this thread
    monkeypatch.setattr(_eigsh, "_shift_candidates",
                        lambda *args: [1.5 * lam3, -1e-6 * 8, None])
    r = eigsh(L, 10, method="shift_invert", tol=1e-4, rng=0)
    assert r.verified
    assert "; dropped (built at the shift" in r.start
    assert r.n_factorizations >= 2


@pytest.mark.parametrize(("cores", "tol", "widened"), [
    (2, 1e-4, []), (16, 1e-4, [(True, False)]),
    (2, 1e-6, [(True, False)]), (16, 1e-6, [(True, False)])])
def test_blas_threads_are_set_once_before_the_numeric_factorisation(monkeypatch, cores,
                                                                   tol, widened):
    # the BLAS threads are the process's: set on this thread, before the worker's
    # numeric factorisation starts; all of them above two cores, or where the start
    # is not tried (tol 1e-6: the coarsest level predicts it will not converge) and
    # the factorisation runs alone
    monkeypatch.setattr(_eigsh, "MULTILEVEL_MIN_ROWS", 1000)
    monkeypatch.setattr(_eigsh, "WIDE_ROWS", 1000)
    monkeypatch.setattr(_factor, "_WIDE_ROWS", 1000)
    monkeypatch.setattr(_eigsh.os, "cpu_count", lambda: cores)
    busy = threading.Event()  # the worker's numeric factorisation is running
    seen = []
    real_cholesky = _cholmod.Cholesky
    real_wide = _factor._backend.all_blas_threads

    class WatchedCholesky(real_cholesky):
        def __init__(self, B, between=None):
            worker = threading.current_thread() is not threading.main_thread()

            def then_busy():
                if between is not None:
                    between()
                if worker:
                    busy.set()
            try:
                super().__init__(B, then_busy)
            finally:
                if worker:
                    busy.clear()

    def watched_wide():
        seen.append((threading.current_thread() is threading.main_thread(),
                     busy.is_set()))
        return real_wide()

    monkeypatch.setattr(_cholmod, "Cholesky", WatchedCholesky)
    monkeypatch.setattr(_factor._backend, "all_blas_threads", watched_wide)
    L = graph_laplacian(grid_graph((60, 60)))
    r = eigsh(L, 10, method="shift_invert", tol=tol, rng=0)
    assert r.verified
    assert ("sweep" in r.start) == (tol == 1e-4)
    assert seen == widened
