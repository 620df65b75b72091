import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from scipy.spatial.distance import cdist

from spectral_sheaf.graphs import (
    adjacency_from_edge_index,
    adjacency_from_edges,
    adjacency_from_networkx,
    adjacency_to_edges,
    bandwidth,
    knn_graph,
    permute,
    radius_graph,
)
from spectral_sheaf.testing import graphs

EDGES = np.array([[0, 1], [1, 2], [2, 0], [2, 3]])


def test_from_edges_undirected():
    A = adjacency_from_edges(EDGES, weights=[1.0, 2.0, 3.0, 4.0])
    assert isinstance(A, sp.csr_array)
    assert A.has_canonical_format
    expected = np.zeros((4, 4))
    for (u, v), w in zip(EDGES, [1.0, 2.0, 3.0, 4.0], strict=False):
        expected[u, v] = expected[v, u] = w
    np.testing.assert_array_equal(A.toarray(), expected)


def test_from_edges_symmetrize_options():
    both_ways = np.array([[0, 1], [1, 0]])
    np.testing.assert_array_equal(adjacency_from_edges(both_ways).toarray(), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(
        adjacency_from_edges(both_ways, symmetrize="sum").toarray(), [[0, 2], [2, 0]]
    )
    np.testing.assert_array_equal(
        adjacency_from_edges([[0, 1]], 2, symmetrize="none").toarray(), [[0, 1], [0, 0]]
    )


def test_from_edges_duplicates_and_loops():
    E = np.array([[0, 1], [0, 1], [1, 1]])
    A = adjacency_from_edges(E, 3, symmetrize="none")
    np.testing.assert_array_equal(A.toarray(), [[0, 2, 0], [0, 0, 0], [0, 0, 0]])
    A = adjacency_from_edges(E, 3, symmetrize="none", self_loops="keep")
    assert A[1, 1] == 1.0
    with pytest.raises(ValueError, match=r"edges must not repeat a pair with "
                       r"duplicates='error'; got \(0, 1\) more than once"):
        adjacency_from_edges(E, 3, duplicates="error")
    with pytest.raises(ValueError, match=r"edges must not contain self-loops with "
                       r"self_loops='error'; got \(1, 1\) at row 2"):
        adjacency_from_edges(E, 3, self_loops="error")


def test_from_edges_isolated_nodes_and_zero_weights():
    A = adjacency_from_edges([[0, 1], [1, 2]], 5, weights=[1.0, 0.0])
    assert A.shape == (5, 5)
    assert A.nnz == 2  # the zero-weight edge is dropped, not stored
    A0 = adjacency_from_edges(np.zeros((0, 2), dtype=int), 3)
    assert A0.shape == (3, 3)
    assert A0.nnz == 0


def test_from_edges_dtype():
    assert adjacency_from_edges(EDGES).dtype == np.float64
    assert adjacency_from_edges(EDGES, weights=np.ones(4, np.float32)).dtype == np.float32
    assert adjacency_from_edges(EDGES, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(("kwargs", "exc", "msg"), [
    ({"edges": np.zeros((3, 3), int)}, ValueError,
     r"edges must have shape \(\*, 2\); got \(3, 3\)"),
    ({"edges": [[0, 5]], "n_nodes": 3}, ValueError,
     r"edges must hold indices in \[0, n_nodes\) = \[0, 3\); got 5"),
    ({"edges": [[0, -1]], "n_nodes": 3}, ValueError, r"got -1"),
    ({"edges": [[0.5, 1]]}, ValueError, r"edges must hold integer node indices; got non-integer"),
    ({"edges": [["a", "b"]]}, TypeError, r"edges must hold integer node indices; got dtype <U1"),
    ({"edges": np.zeros((0, 2), int)}, ValueError, r"n_nodes must be given when edges is empty"),
    ({"edges": [[0, 1]], "n_nodes": 0}, ValueError, r"n_nodes must be >= 1; got 0"),
    ({"edges": [[0, 1]], "n_nodes": 2.0}, TypeError, r"n_nodes must be an integer; got float"),
    ({"edges": [[0, 1]], "weights": [np.nan]}, ValueError,
     r"weights must contain only finite values; got 1 NaN and 0 inf entries \(first at index 0\)"),
    ({"edges": [[0, 1]], "weights": [-2.0]}, ValueError,
     r"weights must be non-negative; got 1 negative entries \(min -2\)"),
    ({"edges": [[0, 1]], "weights": [1.0, 2.0]}, ValueError,
     r"weights must have one entry per edge, 1; got shape \(2,\)"),
    ({"edges": [[0, 1]], "symmetrize": True}, ValueError,
     r"symmetrize must be one of \{'max', 'sum', 'none'\}; got True"),
    ({"edges": [[0, 1]], "duplicates": "drop"}, ValueError, r"duplicates must be one of"),
])
def test_from_edges_errors(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        adjacency_from_edges(**kwargs)


@given(graphs(max_nodes=15, self_loops=True))
def test_edges_roundtrip(g):
    A = g.to_adjacency()
    edges, w = adjacency_to_edges(A)
    B = adjacency_from_edges(edges, g.n_nodes, weights=w, self_loops="keep")
    np.testing.assert_array_equal(A.toarray(), B.toarray())
    # the drawn edge list is recovered exactly (both are row-major upper triangles)
    order = np.lexsort((g.edges[:, 1], g.edges[:, 0]))
    np.testing.assert_array_equal(edges, g.edges[order])
    np.testing.assert_allclose(w, g.weights[order])


@given(graphs(max_nodes=15, directed=True))
def test_edges_roundtrip_directed(g):
    A = g.to_adjacency()
    edges, w = adjacency_to_edges(A, part="all")
    B = adjacency_from_edges(edges, g.n_nodes, weights=w, symmetrize="none")
    np.testing.assert_array_equal(A.toarray(), B.toarray())


def test_edge_index_numpy():
    ei = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])  # PyG: both directions
    A = adjacency_from_edge_index(ei, 4, edge_weight=np.array([2.0, 2.0, 1.0, 1.0]))
    np.testing.assert_array_equal(A.toarray(), [[0, 2, 0, 0], [2, 0, 1, 0], [0, 1, 0, 0],
                                                [0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"edge_index must have shape \(2, m\); got \(4, 2\)"):
        adjacency_from_edge_index(ei.T)


def test_edge_index_torch():
    torch = pytest.importorskip("torch", reason="torch is in the bench extra only")
    ei = torch.tensor([[0, 1], [1, 2]])
    A = adjacency_from_edge_index(ei, 3, edge_weight=torch.tensor([1.0, 3.0]))
    assert A.dtype == np.float32
    np.testing.assert_array_equal(A.toarray(), [[0, 1, 0], [1, 0, 3], [0, 3, 0]])


def test_from_networkx():
    G = nx.Graph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c", weight=0.5)
    G.add_node("d")
    A = adjacency_from_networkx(G)
    np.testing.assert_array_equal(A.toarray(), [[0, 2, 0, 0], [2, 0, 0.5, 0], [0, 0.5, 0, 0],
                                                [0, 0, 0, 0]])
    assert adjacency_from_networkx(G, weight=None).toarray().sum() == 4
    D = adjacency_from_networkx(nx.DiGraph([(0, 1)]))
    np.testing.assert_array_equal(D.toarray(), [[0, 1], [0, 0]])
    with pytest.raises(TypeError, match="graph must be a networkx Graph or DiGraph; got dict"):
        adjacency_from_networkx({})
    with pytest.raises(ValueError, match="graph must have at least one node"):
        adjacency_from_networkx(nx.Graph())
    S = nx.Graph()
    S.add_edge(0, 1, weight="heavy")
    with pytest.raises(TypeError, match=r"graph edge weights \(attribute 'weight'\) must be "
                       r"numbers"):
        adjacency_from_networkx(S)
    G.add_edge("c", "d", weight=-1.0)
    with pytest.raises(ValueError, match="graph edge weights must be non-negative"):
        adjacency_from_networkx(G)


# --- point clouds -------------------------------------------------------------------------


def brute_knn(X, k):
    D = cdist(X, X)
    np.fill_diagonal(D, np.inf)
    nbrs = np.argsort(D, axis=1, kind="stable")[:, :k]
    M = np.zeros_like(D, dtype=bool)
    M[np.repeat(np.arange(len(X)), k), nbrs.ravel()] = True
    return M, D


@pytest.mark.parametrize("symmetrize", ["max", "mutual", "none"])
def test_knn_graph_against_brute_force(symmetrize):
    X = np.random.default_rng(0).random((80, 3))
    M, D = brute_knn(X, 6)
    if symmetrize == "max":
        M = M | M.T
    elif symmetrize == "mutual":
        M = M & M.T
    sigma = 0.3
    W = np.where(M, np.exp(-(D**2) / (2 * sigma**2)), 0.0)
    A = knn_graph(X, 6, sigma=sigma, symmetrize=symmetrize)
    np.testing.assert_allclose(A.toarray(), W, atol=1e-12)
    B = knn_graph(X, 6, weighting="binary", symmetrize=symmetrize)
    np.testing.assert_array_equal(B.toarray(), M.astype(float))


def test_knn_default_sigma_is_median_distance():
    X = np.random.default_rng(1).random((50, 2))
    _, D = brute_knn(X, 4)
    d = np.sort(D, axis=1)[:, :4].ravel()
    sigma = np.median(d)
    A = knn_graph(X, 4, symmetrize="none")
    np.testing.assert_allclose(np.sort(A.data), np.sort(np.exp(-(d**2) / (2 * sigma**2))))


def test_knn_float32_and_rcm():
    X = np.random.default_rng(2).random((300, 2)).astype(np.float32)
    A = knn_graph(X, 5)
    assert A.dtype == np.float32
    Ar, perm = knn_graph(X, 5, reorder="rcm")
    np.testing.assert_array_equal(Ar.toarray(), permute(A, perm).toarray())
    assert bandwidth(Ar) < bandwidth(A)


def test_knn_errors():
    X = np.random.default_rng(0).random((5, 2))
    with pytest.raises(ValueError, match=r"k must be smaller than the number of points, 5; "
                       r"got k=5"):
        knn_graph(X, 5)
    with pytest.raises(ValueError, match=r"k must be >= 1; got 0"):
        knn_graph(X, 0)
    with pytest.raises(ValueError, match=r"sigma must be > 0; got -1.0"):
        knn_graph(X, 2, sigma=-1.0)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"points must contain only finite values; got 1 NaN "
                       r"and 0 inf entries \(first at index \(2, 1\)\)"):
        knn_graph(X, 2)
    with pytest.raises(ValueError, match=r"points must be 2-D; got 1-D"):
        knn_graph(np.zeros(5), 2)
    with pytest.raises(ValueError, match=r"points must hold at least 2 points"):
        knn_graph(np.zeros((1, 2)), 1)
    with pytest.raises(ValueError, match=r"median neighbour distance is 0"):
        knn_graph(np.zeros((6, 2)), 2)


def test_radius_graph_against_brute_force():
    X = np.random.default_rng(3).random((100, 2))
    D = cdist(X, X)
    M = (D <= 0.15) & ~np.eye(100, dtype=bool)
    A = radius_graph(X, 0.15, weighting="binary")
    np.testing.assert_array_equal(A.toarray(), M.astype(float))
    G = radius_graph(X, 0.15, sigma=0.1)
    np.testing.assert_allclose(G.toarray(), np.where(M, np.exp(-(D**2) / 0.02), 0), atol=1e-12)
    with pytest.raises(ValueError, match=r"radius must be > 0; got 0.0"):
        radius_graph(X, 0.0)


def test_to_edges_upper_needs_symmetric_input():
    with pytest.raises(ValueError, match=r"adjacency must be symmetric for part='upper'.*"
                       r"Pass part='all' for a directed graph"):
        adjacency_to_edges(np.array([[0.0, 0.0], [1.0, 0.0]]))


def test_huge_inferred_node_count_is_refused():
    with pytest.raises(ValueError, match=r"n_nodes would be inferred as 1000000000001, too many"):
        adjacency_from_edges([[0, 10**12]])


def test_knn_weights_underflow_warns_and_drops():
    X = np.random.default_rng(0).random((20, 2))
    with pytest.warns(RuntimeWarning, match=r"Gaussian weights underflow to 0 with sigma=1e-05"):
        A = knn_graph(X, 3, sigma=1e-5, symmetrize="none")
    assert A.nnz == 0  # no explicit zeros stored
    with pytest.raises(ValueError, match=r"points must have coordinates below 1e150"):
        knn_graph(X * 1e200, 3)


@pytest.mark.parametrize("call", [
    lambda A, X, E: adjacency_from_edges(E, 6, weights=np.ones(len(E))),
    lambda A, X, E: adjacency_to_edges(A),
    lambda A, X, E: knn_graph(X, 2),
    lambda A, X, E: radius_graph(X, 0.5),
    lambda A, X, E: permute(A, np.arange(6)[::-1]),
    lambda A, X, E: bandwidth(A),
])
def test_inputs_are_never_modified(call):
    from spectral_sheaf.graphs import (
        degrees,
        dirichlet_energy,
        graph_laplacian,
        incidence_matrix,
    )

    rng = np.random.default_rng(3)
    W = np.triu(rng.random((6, 6)), 1)
    A = sp.csr_array(W + W.T)
    rows = np.repeat(np.arange(6), np.diff(A.indptr))
    order = np.lexsort((-A.indices, rows))  # each row's columns in decreasing order
    A = sp.csr_array((A.data[order], A.indices[order], A.indptr), shape=A.shape)
    assert not A.has_sorted_indices  # unsorted on purpose
    X = rng.random((6, 2))
    E = np.array([[0, 1], [1, 2], [0, 1]])
    snapshot = [a.copy() for a in (A.data, A.indices, A.indptr, X, E)]
    call(A, X, E)
    for f in (graph_laplacian, degrees, incidence_matrix):
        f(A)
    dirichlet_energy(A, X)
    for before, after in zip(snapshot, (A.data, A.indices, A.indptr, X, E), strict=True):
        np.testing.assert_array_equal(before, after)
