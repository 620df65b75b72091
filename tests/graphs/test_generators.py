import numpy as np
import pytest

from spectral_sheaf.graphs import (
    complete_graph,
    connected_components,
    contextual_sbm,
    cycle_graph,
    erdos_renyi_graph,
    grid_graph,
    hypercube_graph,
    path_graph,
    random_geometric_graph,
    star_graph,
    stochastic_block_model,
)
from spectral_sheaf.graphs._generators import _triangle_pairs


def is_simple_undirected(A):
    D = A.toarray()
    return np.array_equal(D, D.T) and not np.diag(D).any() and set(np.unique(D)) <= {0.0, 1.0}


@pytest.mark.parametrize(("A", "n", "m"), [
    (path_graph(5), 5, 4), (cycle_graph(6), 6, 6), (complete_graph(5), 5, 10),
    (star_graph(7), 7, 6), (hypercube_graph(4), 16, 32), (grid_graph((3, 4)), 12, 17),
    (grid_graph((3, 4), periodic=True), 12, 24), (grid_graph(5), 5, 4),
    (grid_graph((3, 4), periodic=[True, False]), 12, 21), (path_graph(1), 1, 0),
])
def test_deterministic_families(A, n, m):
    assert A.shape == (n, n)
    assert A.nnz == 2 * m
    assert is_simple_undirected(A)


def test_grid_node_numbering_is_c_order():
    A = grid_graph((2, 3))
    assert A[0, 1] == 1
    assert A[0, 3] == 1
    assert A[2, 3] == 0


def test_triangle_pairs_exhaustive():
    for n in (2, 3, 10, 101):
        i, j = _triangle_pairs(np.arange(n * (n - 1) // 2), n)
        ei, ej = np.triu_indices(n, 1)
        np.testing.assert_array_equal(i, ei)
        np.testing.assert_array_equal(j, ej)
    # large n: the float estimate is corrected exactly
    n = 3_000_000
    k = np.array([0, n - 2, n - 1, n * (n - 1) // 2 - 1])
    i, j = _triangle_pairs(k, n)
    np.testing.assert_array_equal(i, [0, 0, 1, n - 2])
    np.testing.assert_array_equal(j, [1, n - 1, 2, n - 1])


def test_erdos_renyi_density_and_seed():
    A = erdos_renyi_graph(400, 0.05, rng=1)
    assert is_simple_undirected(A)
    pairs = 400 * 399 / 2
    m = A.nnz / 2
    # 5 standard deviations of the binomial edge count
    assert abs(m - 0.05 * pairs) < 5 * np.sqrt(pairs * 0.05 * 0.95)
    assert (erdos_renyi_graph(400, 0.05, rng=1) != A).nnz == 0
    assert (erdos_renyi_graph(400, 0.05, rng=2) != A).nnz > 0
    assert erdos_renyi_graph(10, 0.0, rng=0).nnz == 0
    assert erdos_renyi_graph(10, 1.0, rng=0).nnz == 90


def test_random_geometric_graph():
    A, X = random_geometric_graph(200, 0.1, rng=3)
    assert X.shape == (200, 2)
    assert np.all((X >= 0) & (X <= 1))
    D = np.linalg.norm(X[:, None] - X[None], axis=2)
    np.testing.assert_array_equal(A.toarray() > 0, (D <= 0.1) & ~np.eye(200, dtype=bool))


def test_sbm_block_densities():
    sizes = [150, 100]
    P = np.array([[0.2, 0.01], [0.01, 0.1]])
    A, labels = stochastic_block_model(sizes, P, rng=0)
    assert is_simple_undirected(A)
    np.testing.assert_array_equal(np.bincount(labels), sizes)
    D = A.toarray()
    for a in range(2):
        for b in range(2):
            block = D[np.ix_(labels == a, labels == b)]
            pairs = block.size - (sizes[a] if a == b else 0)
            p_hat = block.sum() / pairs
            sd = np.sqrt(P[a, b] * (1 - P[a, b]) / (pairs / (2 if a == b else 1)))
            assert abs(p_hat - P[a, b]) < 5 * sd


@pytest.mark.parametrize("h", [0.0, 0.1, 0.5, 0.9])
def test_contextual_sbm_homophily_and_degree(h):
    data = contextual_sbm(3000, n_classes=4, avg_degree=10, homophily=h, n_features=8, rng=5)
    A = data.adjacency
    rows = np.repeat(np.arange(3000), np.diff(A.indptr))
    same = data.labels[rows] == data.labels[A.indices]
    assert abs(same.mean() - h) < 0.02
    assert abs(A.nnz / 3000 - 10) < 0.5
    assert data.features.shape == (3000, 8)
    if h == 0.0:
        assert not same.any()


def test_contextual_sbm_features_carry_class_signal():
    data = contextual_sbm(2000, n_classes=2, n_features=20, class_separation=4.0, rng=0)
    means = np.array([data.features[data.labels == c].mean(axis=0) for c in range(2)])
    assert np.linalg.norm(means[0] - means[1]) > 2.0
    flat = contextual_sbm(2000, n_classes=2, n_features=20, class_separation=0.0, rng=0)
    means = np.array([flat.features[flat.labels == c].mean(axis=0) for c in range(2)])
    assert np.linalg.norm(means[0] - means[1]) < 0.5


def test_generators_are_connected_where_expected():
    for A in (path_graph(9), cycle_graph(9), grid_graph((4, 5)), hypercube_graph(5)):
        assert connected_components(A)[0] == 1


@pytest.mark.parametrize(("call", "exc", "msg"), [
    (lambda: cycle_graph(2), ValueError, r"n_nodes must be >= 3; got 2"),
    (lambda: path_graph(0), ValueError, r"n_nodes must be >= 1; got 0"),
    (lambda: path_graph(True), TypeError, r"n_nodes must be an integer; got bool"),
    (lambda: grid_graph((2, 3), periodic=True), ValueError,
     r"periodic axes need length >= 3; got length 2 on axis 0"),
    (lambda: grid_graph(()), ValueError, r"shape must have at least one axis"),
    (lambda: grid_graph(4, periodic="no"), TypeError,
     r"periodic must be True or False; got str 'no'"),
    (lambda: grid_graph((3, 4, 5), periodic=[True, False]), ValueError,
     r"periodic must be one bool or one per axis \(3\); got 2"),
    (lambda: grid_graph((0, 3)), ValueError, r"shape must be >= 1; got 0"),
    (lambda: hypercube_graph(30), ValueError, r"dim must be <= 24"),
    (lambda: erdos_renyi_graph(10, 1.5), ValueError, r"p must lie in \[0.0, 1.0\]; got 1.5"),
    (lambda: erdos_renyi_graph(10, 0.5, rng=np.random.RandomState(0)), TypeError,
     r"rng must be a numpy.random.Generator, an integer seed or None; got RandomState"),
    (lambda: stochastic_block_model([3, 3], [[0.5, 0.1], [0.2, 0.5]]), ValueError,
     r"probs must be symmetric"),
    (lambda: stochastic_block_model([3, 3], [[0.5]]), ValueError,
     r"probs must have shape \(2, 2\) to match sizes; got \(1, 1\)"),
    (lambda: stochastic_block_model([3, 0], np.eye(2)), ValueError,
     r"sizes must be a non-empty 1-D list of ints >= 1"),
    (lambda: stochastic_block_model([3, 3], [[1.5, 0], [0, 1]]), ValueError,
     r"probs must lie in \[0, 1\]"),
    (lambda: contextual_sbm(100, n_classes=2, avg_degree=90, homophily=1.0), ValueError,
     r"avg_degree=90.0 with homophily=1.0 needs edge probabilities p_in=1.84, p_out=0; "
     r"both must be <= 1"),
    (lambda: contextual_sbm(5, n_classes=3), ValueError,
     r"n_nodes must be >= 2 \* n_classes = 6; got 5"),
    (lambda: contextual_sbm(50, n_classes=2, homophily=-0.1), ValueError,
     r"homophily must lie in \[0.0, 1.0\]; got -0.1"),
])
def test_generator_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
