import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given

from spectral_sheaf.graphs import (
    adjacency_from_edges,
    bandwidth,
    grid_graph,
    knn_graph,
    permute,
    reverse_cuthill_mckee,
)
from spectral_sheaf.testing import adjacency_matrices


def test_rcm_reduces_bandwidth_of_shuffled_grid():
    A = grid_graph((20, 20))
    rng = np.random.default_rng(0)
    shuffled = permute(A, rng.permutation(400))
    perm = reverse_cuthill_mckee(shuffled)
    assert np.array_equal(np.sort(perm), np.arange(400))
    assert bandwidth(permute(shuffled, perm)) <= 25 < bandwidth(shuffled)


def test_rcm_option_of_constructors():
    X = np.random.default_rng(1).random((200, 2))
    A = knn_graph(X, 4)
    edges = np.argwhere(sp.triu(A, 1).toarray())
    B, perm = adjacency_from_edges(edges, 200, reorder="rcm")
    np.testing.assert_array_equal(B.toarray(), permute(A > 0, perm).toarray())


@given(adjacency_matrices(max_nodes=12, directed=True))
def test_permute_matches_dense_indexing(A):
    n = A.shape[0]
    perm = np.random.default_rng(n).permutation(n)
    P = permute(A, perm)
    assert P.has_sorted_indices
    np.testing.assert_array_equal(P.toarray(), A.toarray()[np.ix_(perm, perm)])
    assert bandwidth(A) == (np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
                            [A.toarray() != 0].max(initial=0))


def test_permute_errors():
    A = grid_graph(3)
    with pytest.raises(ValueError, match=r"perm must be a permutation of 0..2 \(shape \(3,\)\); "
                       r"got shape \(3,\) with repeated"):
        permute(A, [0, 0, 1])
    with pytest.raises(ValueError, match=r"perm must be a permutation of 0..2"):
        permute(A, [0, 1])


def test_rcm_of_empty_matrix():
    with pytest.raises(ValueError, match=r"adjacency must have at least one node"):
        reverse_cuthill_mckee(sp.csr_array((0, 0)))


def test_breadth_first_search_levels_and_components():
    from spectral_sheaf.graphs import path_graph
    from spectral_sheaf.graphs._reorder import breadth_first_order, breadth_first_search

    # a path 0-1-2-3 and a separate edge 4-5
    A = sp.csr_array(sp.block_diag([path_graph(4), path_graph(2)]))
    order, level, count = breadth_first_search(A.indptr, A.indices, 2, False)
    assert count == 4  # node 2's component only
    assert sorted(order[:count]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(level, [2, 1, 0, 1, -1, -1])
    full = breadth_first_order(A)
    np.testing.assert_array_equal(full, [0, 1, 2, 3, 4, 5])


def test_take_and_put_rows_are_fancy_indexing_and_its_inverse():
    from spectral_sheaf.graphs._reorder import put_rows, take_rows

    rng = np.random.default_rng(3)
    X = rng.standard_normal((500, 7))
    perm = rng.permutation(500)
    taken = take_rows(X, perm)
    np.testing.assert_array_equal(taken, X[perm])
    assert taken.flags.c_contiguous
    # a strided view is read as it is, and the result is C-ordered
    view = np.asfortranarray(X)[:, ::2]
    np.testing.assert_array_equal(take_rows(view, perm), view[perm])
    np.testing.assert_array_equal(put_rows(taken, perm), X)
    out = np.zeros_like(X)
    assert put_rows(taken, perm, out) is out
    np.testing.assert_array_equal(out, X)
