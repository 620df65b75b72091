"""The learner's small kernels: the eigen-solver's lanes; exp, expm1, tanh and ELU."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from spectral_sheaf.learn._kernels import (
    _LANES,
    _elu,
    _exp_neg,
    _expm1_neg,
    _jacobi_eigh,
    _tanh,
    elu_dropout_backward,
    elu_residual_backward,
)


def _solve(mats: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Run the solver on ``mats`` in lanes 0.. and the identity in the rest."""
    d = mats[0].shape[0]
    A = np.zeros((d, d, _LANES))
    A[:, :, :] = np.eye(d)[:, :, None]
    for q, M in enumerate(mats):
        A[:, :, q] = M
    w = np.empty((d, _LANES))
    V = np.empty((d, d, _LANES))
    _jacobi_eigh(A, w, V)
    return w, V


def _cases(d: int) -> list[np.ndarray]:
    rng = np.random.default_rng(d)
    G = rng.standard_normal((d, 3 * d))
    R = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return [
        G @ G.T + np.eye(d),  # well separated
        R @ np.diag([1.0, 1.0, 3.0, 3.0, 3.0][:d]) @ R.T,  # degenerate groups
        np.diag(np.arange(1.0, d + 1)),  # already diagonal: no rotation
        np.zeros((d, d)),  # the zero matrix
        1e-8 * (G @ G.T),  # tiny scale: the stopping rule is relative
        np.ones((d, d)) + np.eye(d),  # rank-one update of I
    ]


@pytest.mark.parametrize("d", [2, 3, 5])
def test_each_lane_is_its_matrix_alone(d: int) -> None:
    cases = _cases(d)
    w_all, V_all = _solve(cases)
    for q, M in enumerate(cases):
        w_one, V_one = _solve([M])
        # converged lanes get identity rotations, so a lane's bits do not depend on
        # the other lanes' matrices
        np.testing.assert_array_equal(w_all[:, q], w_one[:, 0])
        np.testing.assert_array_equal(V_all[:, :, q], V_one[:, :, 0])
        V = V_all[:, :, q]
        w = w_all[:, q]
        scale = max(np.abs(M).max(), 1e-300)
        assert np.abs(M @ V - V * w).max() <= 1e-13 * scale
        np.testing.assert_allclose(V.T @ V, np.eye(d), atol=1e-14)
        np.testing.assert_allclose(np.sort(w), np.linalg.eigvalsh(M), rtol=0,
                                   atol=1e-13 * scale)
    # the identity in the free lanes stays the identity
    for q in range(len(cases), _LANES):
        np.testing.assert_array_equal(w_all[:, q], np.ones(d))
        np.testing.assert_array_equal(V_all[:, :, q], np.eye(d))


@njit
def _each(kind, x):  # the inline scalar functions, applied over an array
    out = np.empty_like(x)
    for i in range(x.size):
        v = x[i]
        if kind == 0:
            out[i] = _expm1_neg(v)
        elif kind == 1:
            out[i] = _exp_neg(v)
        elif kind == 2:
            out[i] = _tanh(v)
        else:
            out[i] = _elu(v)
    return out


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.abs(got - ref) / np.spacing(np.maximum(np.abs(ref), np.finfo(float).tiny))


def test_exp_expm1_and_tanh_are_within_a_few_ulps_of_libm() -> None:
    rng = np.random.default_rng(0)
    neg = np.concatenate([-np.logspace(-300, 2, 200_000), -100 * rng.random(200_000),
                          -np.arange(0, 746, 0.25), [0.0, -0.0, -744.5, -800.0, -1e300]])
    assert _ulps(_each(0, neg), np.expm1(neg)).max() <= 1.0
    # exp: relative to the result, down to where it leaves the normal range
    normal = neg[neg > -708.0]
    assert _ulps(_each(1, normal), np.exp(normal)).max() <= 1.0
    tiny = neg[neg < -708.0]  # subnormal or zero results: absolute error below 2^-1074
    np.testing.assert_allclose(_each(1, tiny), np.exp(tiny), rtol=0, atol=5e-324)
    y = np.concatenate([neg, -neg, rng.standard_normal(100_000), [np.inf, -np.inf]])
    # tanh: 2.5 ulps of the exact value; libm's own 1.2 may add to it
    assert _ulps(_each(2, y), np.tanh(y)).max() <= 3.0
    assert np.array_equal(np.signbit(_each(2, np.array([0.0, -0.0]))), [False, True])
    np.testing.assert_array_equal(_each(3, y), np.where(y > 0, y, _each(0, np.minimum(y, 0))))
    assert _ulps(_each(3, neg), np.expm1(neg)).max() <= 1.0


def test_nan_stays_nan_in_the_vectorised_functions() -> None:
    x = np.array([np.nan, -1.0, np.nan])
    for kind in range(4):
        out = _each(kind, x)
        assert np.isnan(out[[0, 2]]).all(), kind
        assert np.isfinite(out[1])
    # and through the ELU's reverse passes
    dx = np.ones((1, 1, 3))
    dY, _, _ = elu_residual_backward(dx, dx, x.reshape(1, 1, 3), np.zeros(1))
    assert np.isnan(dY.ravel()[[0, 2]]).all()
    g = elu_dropout_backward(np.ones((1, 3)), x.reshape(1, 3), np.ones((1, 1, 1)))
    assert np.isnan(g.ravel()[[0, 2]]).all()
