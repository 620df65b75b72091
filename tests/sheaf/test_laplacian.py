import numpy as np
import pytest
from hypothesis import given
from scipy.sparse.linalg import LinearOperator

from spectral_sheaf.graphs import erdos_renyi_graph, graph_laplacian, grid_graph
from spectral_sheaf.sheaf import (
    Sheaf,
    block_degree,
    coboundary,
    constant_sheaf,
    normalization_blocks,
    random_sheaf,
    sheaf_dirichlet_energy,
    sheaf_laplacian,
    weighted_sheaf,
)
from spectral_sheaf.testing import sheaves

KINDS = ["constant", "symmetric", "diagonal", "orthogonal", "general"]


def dense_coboundary(s: Sheaf) -> np.ndarray:
    """Oracle: delta written out edge by edge with dense blocks."""
    F = s.maps.astype(np.float64)
    B = np.zeros((s.n_edges * s.d_e, s.n_nodes * s.d_v))
    for e, (u, v) in enumerate(s.edges):  # test-only loop over a few edges
        rows = slice(e * s.d_e, (e + 1) * s.d_e)
        B[rows, u * s.d_v:(u + 1) * s.d_v] -= F[e, 0]
        B[rows, v * s.d_v:(v + 1) * s.d_v] += F[e, 1]
    return B


def psd_inverse_sqrt(M: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(M)
    inv = np.where(w > 1e-12 * max(w.max(), 1e-300), 1 / np.sqrt(np.where(w > 0, w, 1)), 0.0)
    return (V * inv) @ V.T


def dense_normalised(s: Sheaf, normalization: str) -> np.ndarray:
    B = dense_coboundary(s)
    L = B.T @ B
    d = s.d_v
    S = np.zeros_like(L)
    for i in range(s.n_nodes):  # test-only loop over nodes
        blk = L[i * d:(i + 1) * d, i * d:(i + 1) * d]
        if normalization == "augmented":
            blk = blk + np.eye(d)
        S[i * d:(i + 1) * d, i * d:(i + 1) * d] = psd_inverse_sqrt(blk)
    return S @ L @ S


CASES = [(k, d, d) for k in KINDS for d in (1, 2, 3)] + [
    (k, d_e, d_v) for k in ("general", "symmetric") for d_e, d_v in ((2, 3), (4, 2))
]


@pytest.mark.parametrize(("kind", "d_e", "d_v"), CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_laplacian_against_dense_oracle(kind, d_e, d_v, dtype):
    A = erdos_renyi_graph(14, 0.3, rng=1)
    s = random_sheaf(A, d_v, kind=kind, d_e=d_e, rng=2, dtype=dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    B = coboundary(s)
    np.testing.assert_allclose(B.toarray(), dense_coboundary(s), atol=tol)
    L = sheaf_laplacian(s)
    assert L.dtype == dtype
    assert L.has_canonical_format
    oracle = dense_coboundary(s)
    oracle = oracle.T @ oracle
    np.testing.assert_allclose(L.toarray(), oracle, atol=tol * max(1, np.abs(oracle).max()))
    op = sheaf_laplacian(s, form="operator")
    assert isinstance(op, LinearOperator)
    X = np.random.default_rng(3).standard_normal((s.n_nodes * d_v, 3))
    np.testing.assert_allclose(op @ X, L @ X, atol=10 * tol * max(1, np.abs(oracle).max()))
    np.testing.assert_allclose(op @ X[:, 0], L @ X[:, 0],
                               atol=10 * tol * max(1, np.abs(oracle).max()))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("normalization", ["sym", "augmented"])
def test_normalised_against_dense_oracle(kind, normalization):
    A = erdos_renyi_graph(12, 0.3, rng=4)
    s = random_sheaf(A, 3, kind=kind, rng=5)
    ref = dense_normalised(s, normalization)
    L = sheaf_laplacian(s, normalization=normalization)
    np.testing.assert_allclose(L.toarray(), ref, atol=1e-10)
    op = sheaf_laplacian(s, normalization=normalization, form="operator")
    x = np.random.default_rng(0).standard_normal(36)
    np.testing.assert_allclose(op @ x, ref @ x, atol=1e-10)
    # S_i (D_i [+ I]) S_i = I: the blocks invert the square root of the degree blocks
    S = normalization_blocks(s, normalization=normalization)
    D = block_degree(s) + (np.eye(3) if normalization == "augmented" else 0.0)
    np.testing.assert_allclose(S @ D @ S, np.broadcast_to(np.eye(3), D.shape), atol=1e-10)


def test_constant_sheaf_is_kron_of_graph_laplacian():
    A = grid_graph((3, 4))
    for d in (1, 2, 3):
        L = sheaf_laplacian(constant_sheaf(A, d)).toarray()
        np.testing.assert_array_equal(L, np.kron(graph_laplacian(A).toarray(), np.eye(d)))
    W = A.copy()
    W.data = np.linspace(0.5, 3.0, W.nnz)
    W = (W + W.T) / 2
    np.testing.assert_allclose(sheaf_laplacian(weighted_sheaf(W, 2)).toarray(),
                               np.kron(graph_laplacian(W).toarray(), np.eye(2)), atol=1e-12)


def test_block_degree_is_the_diagonal():
    s = random_sheaf(erdos_renyi_graph(10, 0.4, rng=0), 2, kind="general", rng=1)
    D = block_degree(s)
    L = sheaf_laplacian(s).toarray()
    for i in range(10):  # test-only loop
        np.testing.assert_allclose(D[i], L[2 * i:2 * i + 2, 2 * i:2 * i + 2], atol=1e-12)


def test_isolated_nodes_and_degenerate_blocks_stay_finite():
    edges = np.array([[0, 1]])
    maps = np.zeros((1, 2, 2, 2))
    maps[0, :, 0, 0] = 1.0  # both maps kill the second coordinate
    s = Sheaf(3, edges, maps)  # node 2 isolated
    for norm in ("sym", "augmented"):
        L = sheaf_laplacian(s, normalization=norm).toarray()
        assert np.all(np.isfinite(L))
    L = sheaf_laplacian(s, normalization="sym").toarray()
    np.testing.assert_allclose(L[:2, :2], [[1, 0], [0, 0]], atol=1e-15)


@given(sheaves(max_nodes=9))
def test_laplacian_symmetric_psd(s):
    L = sheaf_laplacian(s).toarray()
    scale = max(1.0, np.abs(L).max())
    np.testing.assert_allclose(L, L.T, atol=1e-12 * scale)
    assert np.linalg.eigvalsh(L).min() > -1e-9 * scale


@given(sheaves(kind="orthogonal", max_nodes=9))
def test_orthogonal_normalised_spectrum_in_0_2(s):
    lam = np.linalg.eigvalsh(sheaf_laplacian(s, normalization="sym").toarray())
    assert lam.min() > -1e-10
    assert lam.max() < 2 + 1e-10


@given(sheaves(max_nodes=8, d_e=(1, 3)))
def test_energy_is_the_quadratic_form(s):
    x = np.random.default_rng(s.n_nodes).standard_normal((s.n_nodes * s.d_v, 2))
    for norm in ("none", "sym", "augmented"):
        L = sheaf_laplacian(s, normalization=norm)
        q = float(np.sum(x * (L @ x)))
        E = sheaf_dirichlet_energy(s, x, normalization=norm)
        assert E >= 0
        assert pytest.approx(q, rel=1e-9, abs=1e-9) == E
    per = sheaf_dirichlet_energy(s, x, per_edge=True)
    assert per.shape == (s.n_edges,)
    assert np.all(per >= 0)
    assert per.sum() == pytest.approx(sheaf_dirichlet_energy(s, x), rel=1e-12, abs=1e-12)


def test_operator_and_energy_errors():
    s = constant_sheaf(grid_graph(3), 2)
    with pytest.raises(ValueError, match=r"signal must have n_nodes \* d_v = 6 rows "
                       r"\(stalk-major\); got shape \(3,\)"):
        sheaf_dirichlet_energy(s, np.ones(3))
    with pytest.raises(ValueError, match=r"normalization must be one of \{'none', 'sym', "
                       r"'augmented'\}; got 'rw'"):
        sheaf_laplacian(s, normalization="rw")
    with pytest.raises(TypeError, match=r"sheaf must be a spectral_sheaf.sheaf.Sheaf; got "
                       r"csr_array"):
        sheaf_laplacian(grid_graph(3))


@pytest.mark.parametrize("normalization", ["sym", "augmented"])
def test_normalised_laplacians_are_exactly_symmetric(normalization):
    # a map of condition 4e3 (found by hypothesis in CI): the scaled blocks and their
    # transposes, computed apart, differed by 1e-10, which the symmetry checks refuse
    maps = np.array([[[[0.05832575, -2.04022353, -1.07303998, 0.31667506],
                       [1.24569397, -1.07811972, 0.6042368, -0.94870995],
                       [1.91616592, -0.33084433, -0.33841453, -1.31828247],
                       [1.37980876, 1.10851064, -0.86797048, -1.27557095]],
                      [[0.5657712, -0.73955834, -0.77942869, 0.4309778],
                       [-0.99400114, -1.94035086, 0.40425686, -0.80849909],
                       [0.06654647, -2.56221824, -0.64291268, -0.021045],
                       [-0.04249659, 0.12014981, -0.90373474, 0.13080904]]]])
    rng = np.random.default_rng(4)
    E = erdos_renyi_graph(40, 0.2, rng=rng)
    edges = np.argwhere(np.triu(E.toarray()) > 0)
    squeezed = rng.standard_normal((len(edges), 2, 3, 3)) * np.array([1.0, 1e-3, 1.0])[:, None]
    # and diagonally scaled blocks (diagonal and orthogonal maps), exact by the order of
    # their products
    for F in (Sheaf(n_nodes=2, edges=np.array([[0, 1]]), maps=maps),
              Sheaf(n_nodes=40, edges=edges, maps=squeezed),
              random_sheaf(E, 3, kind="diagonal", rng=1),
              random_sheaf(E, 3, kind="orthogonal", rng=2)):
        L = sheaf_laplacian(F, normalization=normalization).toarray()
        assert np.array_equal(L, L.T)
        expect = dense_normalised(F, normalization)  # the same matrix, to rounding
        np.testing.assert_allclose(L, expect, atol=1e-9 * np.abs(expect).max())
