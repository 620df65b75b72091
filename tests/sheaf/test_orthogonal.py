import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spectral_sheaf.sheaf import (
    cayley,
    cayley_vjp,
    expm_skew,
    expm_skew_vjp,
    householder,
    householder_vjp,
    rotation_2d,
    rotation_2d_vjp,
    skew_from_params,
)

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


def fd_gradient(f, x, G, h=1e-6):
    """Central finite differences of sum(G * f(x)) in every entry of x."""
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):  # test-only oracle over a handful of parameters
        e = np.zeros_like(x)
        e[idx] = h
        out[idx] = (np.sum(G * f(x + e)) - np.sum(G * f(x - e))) / (2 * h)
    return out


def assert_orthogonal(Q, atol=1e-12):
    d = Q.shape[-1]
    np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(d), Q.shape),
                               atol=atol)


@given(hnp.arrays(np.float64, (3, 4, 4), elements=finite).filter(
    lambda V: np.all(np.linalg.norm(V, axis=-1) > 0.1)))
def test_householder_orthogonal_with_determinant(V):
    Q = householder(V)
    assert_orthogonal(Q)
    np.testing.assert_allclose(np.linalg.det(Q), 1.0, atol=1e-10)  # 4 reflections
    np.testing.assert_allclose(np.linalg.det(householder(V[:, :3])), -1.0, atol=1e-10)


@pytest.mark.parametrize(("k", "d"), [(1, 2), (3, 3), (2, 5)])
def test_householder_vjp_matches_finite_differences(k, d):
    rng = np.random.default_rng(k * 10 + d)
    V = rng.standard_normal((2, k, d))
    G = rng.standard_normal((2, d, d))
    np.testing.assert_allclose(householder_vjp(V, G), fd_gradient(householder, V, G),
                               rtol=1e-6, atol=1e-7)


@given(hnp.arrays(np.float64, (4, 6), elements=finite))
def test_cayley_and_expm_are_rotations(P):
    for f in (cayley, expm_skew):
        Q = f(P)
        assert_orthogonal(Q, atol=1e-10)
        np.testing.assert_allclose(np.linalg.det(Q), 1.0, atol=1e-9)


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize(("f", "vjp"), [(cayley, cayley_vjp), (expm_skew, expm_skew_vjp)])
def test_skew_parametrisation_vjps(d, f, vjp):
    rng = np.random.default_rng(d)
    P = rng.standard_normal((3, d * (d - 1) // 2))
    G = rng.standard_normal((3, d, d))
    np.testing.assert_allclose(vjp(P, G), fd_gradient(f, P, G), rtol=1e-6, atol=1e-7)


def test_expm_matches_rotation_in_2d():
    t = np.array([0.3, -1.2, 2.0])
    # A = [[0, t], [-t, 0]] is the rotation by -t
    np.testing.assert_allclose(expm_skew(t[:, None]), rotation_2d(-t), atol=1e-14)
    np.testing.assert_allclose(cayley(np.zeros((1, 3))), np.eye(3)[None], atol=0)


def test_rotation_2d_and_vjp():
    t = np.array([0.1, 1.0, -2.5])
    R = rotation_2d(t)
    assert_orthogonal(R)
    G = np.random.default_rng(0).standard_normal((3, 2, 2))
    np.testing.assert_allclose(rotation_2d_vjp(t, G), fd_gradient(rotation_2d, t, G),
                               rtol=1e-7, atol=1e-8)


def test_skew_from_params_layout():
    A = skew_from_params([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(A, [[0, 1, 2], [-1, 0, 3], [-2, -3, 0]])


def test_dtype_is_kept():
    P = np.ones((2, 1), np.float32)
    assert cayley(P).dtype == np.float32
    assert cayley_vjp(P, np.ones((2, 2, 2))).dtype == np.float32
    assert householder(np.ones((1, 2, 2), np.float32)).dtype == np.float32


def test_parametrisation_errors():
    with pytest.raises(ValueError, match=r"vectors must be nonzero"):
        householder(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"params must have d \(d - 1\) / 2 entries in the last "
                       r"axis for some d >= 2; got 4"):
        cayley(np.ones(4))
    with pytest.raises(ValueError, match=r"grad must have the shape of the output, \(2, 2\); got "
                       r"\(3, 3\)"):
        cayley_vjp(np.ones(1), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"vectors must contain only finite values"):
        householder(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"vectors must have at least 2 dimensions"):
        householder(np.ones(3))
