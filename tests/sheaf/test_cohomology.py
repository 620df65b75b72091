import numpy as np
import pytest
from hypothesis import given

from spectral_sheaf.graphs import (
    adjacency_from_edges,
    connected_components,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
)
from spectral_sheaf.sheaf import (
    Sheaf,
    cohomology_dimensions,
    constant_sheaf,
    harmonic_projection,
    harmonic_space,
    random_sheaf,
    sheaf_laplacian,
)
from spectral_sheaf.testing import adjacency_matrices, sheaves


@given(adjacency_matrices(max_nodes=10))
def test_constant_sheaf_h0_is_d_times_components(A):
    k, _ = connected_components(A)
    for d in (1, 3):
        s = constant_sheaf(A, d)
        assert harmonic_space(s).dimension == d * k
        assert cohomology_dimensions(s)[0] == d * k


@given(sheaves(max_nodes=8, d_e=(1, 3)))
def test_euler_characteristic(s):
    # H^0 from ker delta and H^1 from ker delta^T: two independent computations
    h0 = harmonic_space(s).dimension
    h1 = harmonic_space(s, degree=1).dimension
    assert h0 - h1 == s.n_nodes * s.d_v - s.n_edges * s.d_e
    assert cohomology_dimensions(s) == (h0, h1)


def test_hand_built_section_around_a_cycle_is_found():
    # rotations by 2 pi / 5 along a 5-cycle compose to the identity: transport is
    # path independent, so H^0 = R^2 and the sections are x_k = R^k w
    n = 5
    theta = 2 * np.pi / n
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    edges = np.array([[k, (k + 1) % n] for k in range(n)])
    maps = np.stack([np.stack([R, np.eye(2)]) for _ in range(n)])  # F_u = R, F_v = I
    s = Sheaf(n, edges, maps)
    space = harmonic_space(s)
    assert space.dimension == 2
    w = np.array([0.3, -1.1])
    x = np.concatenate([np.linalg.matrix_power(R, k) @ w for k in range(n)])
    np.testing.assert_allclose(space.basis @ (space.basis.T @ x), x, atol=1e-12)
    assert space.residual < 1e-12
    # a twist breaks path independence: no global section is left
    maps[0, 0] = np.linalg.matrix_power(R, 2)
    assert harmonic_space(Sheaf(n, edges, maps)).dimension == 0


def test_sparse_path_agrees_with_dense():
    A = grid_graph((8, 8))
    s = random_sheaf(A, 2, kind="constant")
    dense, sparse = harmonic_space(s, method="dense"), harmonic_space(s, method="sparse")
    assert dense.dimension == sparse.dimension == 2
    P_dense = dense.basis @ dense.basis.T
    P_sparse = sparse.basis @ sparse.basis.T
    np.testing.assert_allclose(P_sparse, P_dense, atol=1e-8)
    o = random_sheaf(A, 2, kind="orthogonal", rng=0)  # random O(2) bundle: H^0 = 0
    assert harmonic_space(o, method="sparse").dimension == 0


def test_normalised_harmonic_space_is_kernel_of_normalised_laplacian():
    s = random_sheaf(erdos_renyi_graph(15, 0.3, rng=2), 2, kind="symmetric", rng=3)
    for norm in ("sym", "augmented"):
        space = harmonic_space(s, normalization=norm)
        L = sheaf_laplacian(s, normalization=norm)
        assert space.dimension == harmonic_space(s).dimension
        np.testing.assert_allclose(L @ space.basis, 0, atol=1e-10)


def test_projection_is_idempotent_and_kills_energy():
    s = constant_sheaf(cycle_graph(7), 2)
    x = np.random.default_rng(0).standard_normal((14, 3))
    p = harmonic_projection(s, x)
    np.testing.assert_allclose(harmonic_projection(s, p), p, atol=1e-12)
    np.testing.assert_allclose(sheaf_laplacian(s) @ p, 0, atol=1e-12)
    # for the constant sheaf the projection averages each stalk coordinate
    np.testing.assert_allclose(p.reshape(7, 2, 3), np.broadcast_to(
        x.reshape(7, 2, 3).mean(axis=0), (7, 2, 3)), atol=1e-12)


def test_deterministic_signs():
    s = constant_sheaf(adjacency_from_edges([[0, 1]]), 1)
    b1 = harmonic_space(s).basis
    b2 = harmonic_space(s).basis
    np.testing.assert_array_equal(b1, b2)
    assert b1[np.argmax(np.abs(b1[:, 0])), 0] > 0


def test_cohomology_errors():
    s = constant_sheaf(cycle_graph(3), 1)
    with pytest.raises(ValueError, match=r"degree must be 0 or 1; got 2"):
        harmonic_space(s, degree=2)
    with pytest.raises(ValueError, match=r"normalization must be 'none' for degree=1"):
        harmonic_space(s, degree=1, normalization="sym")
    with pytest.raises(ValueError, match=r"method='sparse' supports degree=0 only"):
        harmonic_space(s, degree=1, method="sparse")
    with pytest.raises(ValueError, match=r"rtol must be > 0; got -1.0"):
        harmonic_space(s, rtol=-1.0)
    with pytest.raises(ValueError, match=r"signal must have n_nodes \* d_v = 3 rows"):
        harmonic_projection(s, np.ones(4))
