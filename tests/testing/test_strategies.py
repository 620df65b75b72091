import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from spectral_sheaf.graphs import connected_components
from spectral_sheaf.testing import EdgeList, adjacency_matrices, graphs, node_signals, sheaves


@given(graphs(min_nodes=3, max_nodes=9))
def test_graphs_defaults(g):
    assert isinstance(g, EdgeList)
    assert 3 <= g.n_nodes <= 9
    assert g.edges.dtype == np.int64
    assert g.edges.shape == (g.weights.size, 2)
    assert np.all(g.edges[:, 0] < g.edges[:, 1])  # undirected, no loops by default
    assert np.all((g.weights >= 0.1) & (g.weights <= 10))
    assert not g.directed


@given(graphs(max_nodes=10, connected=True))
def test_graphs_connected(g):
    assert connected_components(g.to_adjacency())[0] == 1


@given(graphs(min_nodes=2, max_nodes=10, isolated_nodes=False, density=(0.0, 0.1)))
def test_graphs_without_isolated_nodes(g):
    A = g.to_adjacency().toarray()
    np.fill_diagonal(A, 0)
    assert np.all(A.sum(axis=1) > 0)


@given(graphs(max_nodes=8, weighted=False, self_loops=True, density=(1.0, 1.0)))
def test_graphs_unweighted_with_loops(g):
    np.testing.assert_array_equal(g.weights, 1.0)
    # full density with loops: every pair including (u, u)
    assert g.edges.shape[0] == g.n_nodes * (g.n_nodes + 1) // 2


@given(graphs(max_nodes=8, directed=True, density=(1.0, 1.0)))
def test_graphs_directed(g):
    assert g.directed
    assert g.edges.shape[0] == g.n_nodes * (g.n_nodes - 1)


@given(graphs(max_nodes=6, density=(0.0, 0.0)))
def test_graphs_empty_density(g):
    assert g.edges.shape == (0, 2)


@given(graphs(max_nodes=6, dtype=np.float32))
def test_graphs_dtype(g):
    assert g.weights.dtype == np.float32


@given(adjacency_matrices(container="dense", max_nodes=7))
def test_adjacency_matrices_dense(A):
    assert isinstance(A, np.ndarray)
    np.testing.assert_array_equal(A, A.T)


@given(adjacency_matrices(max_nodes=7, directed=True, dtype=np.float32))
def test_adjacency_matrices_csr(A):
    assert isinstance(A, sp.csr_array)
    assert A.dtype == np.float32
    assert not A.diagonal().any()  # no self-loops unless asked


@given(graphs(min_nodes=2, max_nodes=9, directed=True, connected=True, density=(0.0, 0.0)))
def test_graphs_directed_connected_is_weakly_connected(g):
    assert connected_components(g.to_adjacency())[0] == 1


@given(graphs(min_nodes=2, max_nodes=9, directed=True, isolated_nodes=False,
              density=(0.0, 0.0)))
def test_graphs_directed_without_isolated_nodes(g):
    A = g.to_adjacency().toarray()
    assert np.all((A + A.T).sum(axis=1) > 0)


@given(graphs(min_nodes=20, max_nodes=20, density=(0.5, 0.5), weighted=False))
def test_graphs_density_is_honoured(g):
    pairs = 20 * 19 / 2
    # 6 standard deviations of the binomial edge count
    assert abs(g.edges.shape[0] - 0.5 * pairs) < 6 * np.sqrt(pairs * 0.25)


@given(st.data())
def test_node_signals(data):
    x = data.draw(node_signals(5))
    assert x.shape == (5,)
    assert x.dtype == np.float64
    X = data.draw(node_signals(4, 3, dtype=np.float32, magnitude=2.0))
    assert X.shape == (4, 3)
    assert X.dtype == np.float32
    assert np.all(np.isfinite(X))
    assert np.all(np.abs(X) <= 2.0)


def test_strategy_option_errors():
    with pytest.raises(ValueError, match=r"max_nodes must be >= 5; got 3"):
        graphs(min_nodes=5, max_nodes=3)
    with pytest.raises(ValueError, match=r"min_nodes must be >= 2 when isolated_nodes=False"):
        graphs(min_nodes=1, isolated_nodes=False)
    with pytest.raises(ValueError, match=r"container must be one of"):
        adjacency_matrices(container="coo")
    with pytest.raises(ValueError, match=r"channels must be >= 1; got 0"):
        node_signals(3, 0)
    with pytest.raises(ValueError, match=r"min_nodes must be >= 2 when isolated_nodes=False"):
        graphs(min_nodes=1, connected=True, isolated_nodes=False)
    with pytest.raises(TypeError, match=r"density must be a pair \(low, high\); got 0.5"):
        graphs(density=0.5)
    with pytest.raises(TypeError, match=r"directed must be True or False; got str 'yes'"):
        graphs(directed="yes")
    with pytest.raises(ValueError, match=r"magnitude must be > 0; got -1.0"):
        node_signals(3, magnitude=-1)
    with pytest.raises(ValueError, match=r"magnitude must be <= 3.4e\+38 for float32"):
        node_signals(3, dtype=np.float32, magnitude=1e40)


@given(sheaves(kind="orthogonal", d_v=(2, 3), max_nodes=6))
def test_sheaves_orthogonal(s):
    assert 2 <= s.d_v <= 3
    assert s.d_e == s.d_v
    F = s.maps
    np.testing.assert_allclose(np.swapaxes(F, 2, 3) @ F,
                               np.broadcast_to(np.eye(s.d_v), F.shape), atol=1e-12)


@given(sheaves(kind="general", d_v=(1, 2), d_e=(3, 4), max_nodes=6, connected=True,
               dtype=np.float32))
def test_sheaves_general_with_edge_dimension(s):
    assert 3 <= s.d_e <= 4
    assert s.dtype == np.float32
    assert connected_components(
        sp.coo_array((np.ones(s.n_edges), (s.edges[:, 0], s.edges[:, 1])),
                     shape=(s.n_nodes, s.n_nodes))
    )[0] == 1


@given(sheaves(kind="diagonal", max_nodes=6))
def test_sheaves_diagonal(s):
    off = s.maps * (1 - np.eye(s.d_v))
    assert not off.any()


def test_sheaves_option_errors():
    with pytest.raises(ValueError, match=r"kind must be one of"):
        sheaves(kind="unitary")
    with pytest.raises(ValueError, match=r"directed=True is not possible for sheaves"):
        sheaves(directed=True)
    with pytest.raises(TypeError, match=r"d_v must be a pair \(low, high\); got 3"):
        sheaves(d_v=3)
    with pytest.raises(ValueError, match=r"d_v\[1\] must be >= 2; got 1"):
        sheaves(d_v=(2, 1))
