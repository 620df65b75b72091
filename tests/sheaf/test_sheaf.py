import numpy as np
import pytest

from spectral_sheaf.graphs import cycle_graph
from spectral_sheaf.sheaf import Sheaf, constant_sheaf, random_sheaf

EDGES = np.array([[0, 1], [1, 2]])


def maps(m=2, de=2, dv=2):
    return np.ones((m, 2, de, dv))


def test_valid_sheaf_and_properties():
    s = Sheaf(3, EDGES, maps(de=3, dv=2))
    assert (s.n_nodes, s.n_edges, s.d_e, s.d_v) == (3, 2, 3, 2)
    assert s.shape == (6, 6)
    assert s.dtype == np.float64
    assert "d_v=2" in repr(s)
    assert Sheaf(3, EDGES, maps().astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="read-only"):
        s.maps[0, 0, 0, 0] = 5.0
    t = s.with_maps(2 * maps(de=3, dv=2))
    assert t.edges is s.edges or np.array_equal(t.edges, s.edges)


def test_input_arrays_are_copied_not_frozen():
    F = maps()
    Sheaf(3, EDGES, F)
    F[0, 0, 0, 0] = 7.0  # the caller's array stays writable


@pytest.mark.parametrize(("args", "exc", "msg"), [
    ((3, EDGES, np.ones((2, 2, 2))), ValueError,
     r"maps must have shape \(m, 2, d_e, d_v\) with m = 2 edges; got \(2, 2, 2\)"),
    ((3, EDGES, np.ones((3, 2, 2, 2))), ValueError, r"with m = 2 edges; got \(3, 2, 2, 2\)"),
    ((3, EDGES, np.ones((2, 2, 0, 2))), ValueError,
     r"stalk dimensions must be >= 1; got d_e = 0, d_v = 2"),
    ((3, EDGES, np.full((2, 2, 2, 2), np.nan)), ValueError,
     r"maps must contain only finite values; got 16 NaN"),
    ((3, np.array([[0, 1], [1, 1]]), maps()), ValueError,
     r"edges must not contain self-loops; got \(1, 1\) at row 1"),
    ((3, np.array([[0, 1], [1, 0]]), maps()), ValueError,
     r"edges must list each unordered pair once; got \(1, 0\) again at row 1"),
    ((3, np.array([[0, 1], [1, 3]]), maps()), ValueError,
     r"edges must hold node indices in \[0, n_nodes\) = \[0, 3\); got 3"),
    ((3, np.array([0, 1]), maps()), ValueError, r"edges must have shape \(m, 2\); got \(2,\)"),
    ((0, EDGES, maps()), ValueError, r"n_nodes must be >= 1; got 0"),
    ((3, EDGES, np.ones((2, 2, 2, 2), complex)), TypeError, r"maps must hold real numbers"),
])
def test_bad_sheaves(args, exc, msg):
    with pytest.raises(exc, match=msg):
        Sheaf(*args)


def test_no_edges():
    s = Sheaf(2, np.zeros((0, 2), int), np.zeros((0, 2, 1, 1)))
    assert s.n_edges == 0


def test_builders_validate_options():
    A = cycle_graph(4)
    with pytest.raises(ValueError, match=r"d must be >= 1; got 0"):
        constant_sheaf(A, 0)
    with pytest.raises(ValueError, match=r"kind must be one of"):
        random_sheaf(A, 2, kind="unitary")
    with pytest.raises(ValueError, match=r"d_e must equal d_v = 2 for kind='orthogonal'; got "
                       r"d_e = 3"):
        random_sheaf(A, 2, kind="orthogonal", d_e=3)
    with pytest.raises(ValueError, match=r"adjacency must be symmetric for a sheaf on an "
                       r"undirected graph"):
        constant_sheaf(np.array([[0.0, 1.0], [0.0, 0.0]]))
