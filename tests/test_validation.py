import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf._validation import (
    as_csr,
    as_float_array,
    as_index_array,
    check_bool,
    check_finite,
    check_in_range,
    check_index_range,
    check_int,
    check_nonnegative,
    check_option,
    check_positive_real,
    check_rng,
    check_shape,
    check_square,
    check_symmetric,
    float_dtype,
)


def test_float_dtype_policy():
    assert float_dtype(np.float32) == np.float32
    for dt in (np.float64, np.int32, np.int64, np.bool_, np.float16):
        assert float_dtype(dt) == np.float64
    assert float_dtype(np.float64, np.float32) == np.float32
    with pytest.raises(ValueError, match=r"dtype must be float32 or float64; got complex128"):
        float_dtype(np.float64, np.complex128)
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64; got 'nope'"):
        float_dtype(np.float64, "nope")


def test_check_option():
    assert check_option("a", "mode", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode must be one of \{'a', 'b'\}; got 'c'"):
        check_option("c", "mode", ("a", "b"))
    with pytest.raises(ValueError, match=r"mode must be one of \{'a', 'b'\}; got None"):
        check_option(None, "mode", ("a", "b"))


def test_check_int_and_reals():
    assert check_int(np.int64(3), "k", minimum=1) == 3
    with pytest.raises(TypeError, match=r"k must be an integer; got bool True"):
        check_int(True, "k")
    with pytest.raises(TypeError, match=r"k must be an integer; got float 2.0"):
        check_int(2.0, "k")
    with pytest.raises(ValueError, match=r"k must be >= 1; got 0"):
        check_int(0, "k", minimum=1)
    assert check_positive_real(0, "t", allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"t must be > 0; got 0.0"):
        check_positive_real(0, "t")
    with pytest.raises(ValueError, match=r"t must be finite; got nan"):
        check_positive_real(float("nan"), "t")
    with pytest.raises(TypeError, match=r"t must be a real number; got str '1'"):
        check_positive_real("1", "t")
    with pytest.raises(ValueError, match=r"p must lie in \[0.0, 1.0\]; got nan"):
        check_in_range(float("nan"), "p", 0.0, 1.0)
    with pytest.raises(TypeError, match=r"p must be a real number; got NoneType"):
        check_in_range(None, "p", 0.0, 1.0)


def test_check_rng():
    g = np.random.default_rng(0)
    assert check_rng(g) is g
    assert isinstance(check_rng(3), np.random.Generator)
    assert check_rng(5).random() == np.random.default_rng(5).random()
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        check_rng("seed")


def test_check_shape():
    check_shape(np.zeros((3, 2)), (None, 2), "edges")
    with pytest.raises(ValueError, match=r"edges must have shape \(\*, 2\); got \(3,\)"):
        check_shape(np.zeros(3), (None, 2), "edges")
    with pytest.raises(ValueError, match=r"x must have shape \(4,\); got \(3,\)"):
        check_shape(np.zeros(3), (4,), "x")


def test_check_finite_and_nonnegative():
    check_finite(np.ones(3), "x")
    with pytest.raises(ValueError, match=r"x must contain only finite values; got 1 NaN and 1 "
                       r"inf entries \(first at index 1\)"):
        check_finite(np.array([0.0, np.inf, np.nan]), "x")
    check_nonnegative(np.array([]), "w")
    with pytest.raises(ValueError, match=r"w must be non-negative; got 1 negative entries "
                       r"\(min -0.5\). Use abs"):
        check_nonnegative(np.array([1.0, -0.5]), "w", hint="Use abs")


def test_index_arrays():
    np.testing.assert_array_equal(as_index_array([1.0, 2.0], "e"), [1, 2])
    with pytest.raises(ValueError, match=r"e must hold integer node indices; got non-integer"):
        as_index_array([np.nan], "e")
    with pytest.raises(TypeError, match=r"e must hold integer node indices; got dtype bool"):
        as_index_array([True], "e")
    check_index_range(np.array([], dtype=np.int64), 0, "e")
    with pytest.raises(ValueError, match=r"e must hold indices in \[0, n_nodes\) = \[0, 2\); "
                       r"got 2. Check n_nodes or renumber the nodes."):
        check_index_range(np.array([0, 2]), 2, "e")


def test_as_float_array():
    assert as_float_array([1, 2], "x").dtype == np.float64
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    with pytest.raises(TypeError, match=r"x must hold real numbers; got complex dtype"):
        as_float_array([1j], "x")
    with pytest.raises(TypeError, match=r"x must hold real numbers; got dtype object"):
        as_float_array([None, 1], "x")
    with pytest.raises(ValueError, match=r"x must be 1-D or 2-D; got 0-D"):
        as_float_array(1.0, "x", ndim=(1, 2))


def test_as_csr_canonicalises_without_touching_input():
    M = sp.csr_matrix((np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 2, 2])),
                      shape=(2, 2))
    data_before = M.data.copy()
    A = as_csr(M, "a")
    assert isinstance(A, sp.csr_array)
    assert A.has_canonical_format
    assert A[0, 1] == 3.0
    np.testing.assert_array_equal(M.data, data_before)
    assert as_csr(sp.coo_array(np.eye(2, dtype=np.float32)), "a").dtype == np.float32
    assert as_csr(np.eye(2, dtype=int), "a").dtype == np.float64
    with pytest.raises(TypeError, match="a must be a scipy sparse array or a 2-D array; got int"):
        as_csr(3, "a")


def test_square_and_symmetric():
    assert check_square(np.zeros((2, 2)), "A") == 2
    with pytest.raises(ValueError, match=r"A must be square; got shape \(2, 1\)"):
        check_square(np.zeros((2, 1)), "A")
    S = as_csr(np.array([[0.0, 1.0], [1.0, 0.0]]), "A")
    check_symmetric(S, "A")
    N = as_csr(np.array([[0.0, 1.0], [0.0, 0.0]]), "A")
    with pytest.raises(ValueError, match=r"A must be symmetric for this; got max \|A - A.T\| = 1. "
                       r"Fix it"):
        check_symmetric(N, "A", context="for this", hint="Fix it")
    check_symmetric(as_csr(np.array([[0.0, 1.0], [1.0 + 1e-3, 0.0]]), "A"), "A", rtol=1e-2)
    H = as_csr(np.array([[0.0, 1j], [1j, 0.0]]), "H", allow_complex=True)
    with pytest.raises(ValueError, match=r"H must be Hermitian; got max \|A - A.T\| = 2"):
        check_symmetric(H, "H")


def test_symmetry_fast_path_and_exact_fallback():
    rng = np.random.default_rng(0)
    W = np.triu(rng.random((40, 40)) * (rng.random((40, 40)) < 0.3), 1)
    S = as_csr(W + W.T, "A")
    check_symmetric(S, "A")  # exact: passes the gather/scatter test
    T = S.toarray()
    i, j = np.argwhere(np.triu(T, 1))[0]
    T[i, j] = np.nextafter(T[i, j], 2.0)  # one ulp off: within tolerance
    check_symmetric(as_csr(T, "A"), "A")
    T[i, j] += 0.25  # far off: the entrywise fallback reports the exact error
    with pytest.raises(ValueError, match=r"got max \|A - A.T\| = 0.25"):
        check_symmetric(as_csr(T, "A"), "A")
    # an entry whose mirror is not stored counts against zero
    U = S.toarray()
    U[0, 39], U[39, 0] = 0.7, 0.0
    with pytest.raises(ValueError, match=r"got max \|A - A.T\| = 0.7"):
        check_symmetric(as_csr(U, "A"), "A")
    # explicit stored zeros without a mirror are symmetric in value
    Z = sp.csr_array((np.array([0.0]), np.array([1]), np.array([0, 1, 1])), shape=(2, 2))
    check_symmetric(Z, "A")


def test_check_bool():
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match=r"flag must be True or False; got str 'no'"):
        check_bool("no", "flag")


def test_ragged_and_odd_inputs_get_named_errors():
    with pytest.raises(ValueError, match=r"edges must be a rectangular array of numbers; got list"):
        as_index_array([[0, 1], [2]], "edges")
    with pytest.raises(ValueError, match=r"adjacency must be a rectangular array of numbers"):
        as_csr([[0, 1], [1]], "adjacency")
    with pytest.raises(TypeError, match=r"e must hold integer node indices; got dtype complex"):
        as_index_array([1 + 1j], "e")
    with pytest.raises(ValueError, match=r"e must hold indices that fit in int64"):
        as_index_array([1e20], "e")
    assert as_csr(np.eye(2, dtype=np.float16), "a").dtype == np.float64
    with pytest.raises(ValueError, match=r"rng must be a non-negative integer seed; got -1"):
        check_rng(-1)


def test_cupy_arrays_get_a_clear_message():
    class FakeCupy:
        pass

    FakeCupy.__module__ = "cupy"
    with pytest.raises(TypeError, match=r"x is a CuPy array, which this function does not take "
                       r"yet; move it to the host"):
        as_float_array(FakeCupy(), "x")


def test_fast_symmetry_path_does_not_hide_asymmetry_in_hubs():
    # two hubs joined to 2**16 leaves: the rounding of a hub row's sum could hide an
    # asymmetry of 3e-10 in the hub-hub entry, so the exact comparison must run
    k = 2**16
    leaves = np.arange(2, k + 2)
    rows = np.concatenate([np.zeros(k), np.ones(k), leaves, leaves, [0, 1]]).astype(int)
    cols = np.concatenate([leaves, leaves, np.zeros(k), np.ones(k), [1, 0]]).astype(int)
    vals = np.ones(rows.size)
    vals[-2] = 1.0 + 3e-10
    A = as_csr(sp.coo_array((vals, (rows, cols)), shape=(k + 2, k + 2)), "A")
    with pytest.raises(ValueError, match=r"A must be symmetric; got max \|A - A.T\| = 3e-10"):
        check_symmetric(A, "A")


def test_as_operator_and_as_signals_messages():
    from scipy.sparse.linalg import aslinearoperator

    from spectral_sheaf._validation import as_operator, as_signals

    with pytest.raises(ValueError, match=r"L must be square; got shape \(3, 4\)"):
        as_operator(aslinearoperator(np.ones((3, 4))), "L")
    M, n = as_operator(np.eye(3), "A")
    assert n == 3
    assert M.format == "csr"
    with pytest.raises(ValueError, match=r"X0 must have shape \(n,\) or \(n, channels\) with "
                       r"n = 3 rows to match L; got shape \(2, 5\)"):
        as_signals(np.ones((2, 5)), 3, "X0", match="L")
