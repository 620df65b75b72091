"""The learner's small eigen-solver: several matrices at once, each as if alone."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_sheaf.learn._kernels import _LANES, _jacobi_eigh


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
