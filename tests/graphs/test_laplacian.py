from math import comb

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse.csgraph import laplacian as csgraph_laplacian
from scipy.sparse.linalg import LinearOperator

from spectral_sheaf.graphs import (
    adjacency_from_edges,
    complete_graph,
    connected_components,
    cycle_graph,
    degrees,
    directed_laplacian,
    dirichlet_energy,
    erdos_renyi_graph,
    graph_laplacian,
    grid_graph,
    hypercube_graph,
    incidence_matrix,
    largest_component,
    magnetic_laplacian,
    path_graph,
    permute,
    star_graph,
)
from spectral_sheaf.graphs._laplacian import _graph_laplacian_generic
from spectral_sheaf.testing import adjacency_matrices, graphs, node_signals
from tests._helpers import CONTAINERS, DTYPES, as_container, dense_laplacian, tolerance

NORMALIZATIONS = ["combinatorial", "sym", "rw", "signless"]


def eig(A, normalization="combinatorial"):
    return np.linalg.eigvalsh(graph_laplacian(A, normalization=normalization).toarray())


# --- closed-form spectra ---------------------------------------------------------------


def path_spectrum(n):
    return 2 - 2 * np.cos(np.pi * np.arange(n) / n)


def cycle_spectrum(n):
    return 2 - 2 * np.cos(2 * np.pi * np.arange(n) / n)


@pytest.mark.parametrize("n", [1, 2, 7, 50])
def test_path_spectrum(n):
    np.testing.assert_allclose(eig(path_graph(n)), np.sort(path_spectrum(n)), atol=1e-10)


@pytest.mark.parametrize("n", [3, 8, 51])
def test_cycle_spectrum(n):
    np.testing.assert_allclose(eig(cycle_graph(n)), np.sort(cycle_spectrum(n)), atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 6), (3, 4, 5)])
@pytest.mark.parametrize("periodic", [False, True])
def test_grid_and_torus_spectrum(shape, periodic):
    one_d = cycle_spectrum if periodic else path_spectrum
    total = np.zeros(1)
    for length in shape:
        total = (total[:, None] + one_d(length)[None, :]).ravel()
    np.testing.assert_allclose(
        eig(grid_graph(shape, periodic=periodic)), np.sort(total), atol=1e-10
    )


@pytest.mark.parametrize("n", [1, 2, 9])
def test_complete_spectrum(n):
    expected = np.r_[0.0, np.full(n - 1, float(n))]
    np.testing.assert_allclose(eig(complete_graph(n)), expected, atol=1e-10)


@pytest.mark.parametrize("n", [2, 3, 12])
def test_star_spectrum(n):
    expected = np.sort(np.r_[0.0, np.ones(n - 2), float(n)])
    np.testing.assert_allclose(eig(star_graph(n)), expected, atol=1e-10)


@pytest.mark.parametrize("dim", [0, 1, 3, 6])
def test_hypercube_spectrum(dim):
    expected = np.repeat(2.0 * np.arange(dim + 1), [comb(dim, j) for j in range(dim + 1)])
    np.testing.assert_allclose(eig(hypercube_graph(dim)), expected, atol=1e-10)


@pytest.mark.parametrize("n", [4, 9])
def test_normalised_closed_forms(n):
    # complete graph: sym-normalised eigenvalues 0 and n / (n - 1)
    expected = np.r_[0.0, np.full(n - 1, n / (n - 1))]
    np.testing.assert_allclose(eig(complete_graph(n), "sym"), expected, atol=1e-10)
    # cycle is 2-regular: sym-normalised = L / 2
    np.testing.assert_allclose(eig(cycle_graph(n), "sym"), np.sort(cycle_spectrum(n)) / 2,
                               atol=1e-10)


# --- against oracles and peers -------------------------------------------------------------


def random_adjacency(n=30, p=0.2, seed=0, isolated=2, loops=True):
    rng = np.random.default_rng(seed)
    W = np.triu(rng.random((n, n)) * (rng.random((n, n)) < p), 1)
    W = W + W.T
    if loops:
        W[np.arange(0, n, 5), np.arange(0, n, 5)] = 3.0  # self-loops, ignored
    W[:isolated, :] = 0
    W[:, :isolated] = 0
    return sp.csr_array(W)


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_against_dense_oracle(normalization, container, dtype):
    A = random_adjacency().astype(dtype)
    L = graph_laplacian(as_container(A, container), normalization=normalization)
    assert isinstance(L, sp.csr_array)
    assert L.dtype == dtype
    assert L.has_canonical_format
    np.testing.assert_allclose(
        L.toarray(), dense_laplacian(A, normalization), atol=tolerance(dtype), rtol=0
    )


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_operator_matches_array(normalization, dtype):
    A = random_adjacency(seed=3).astype(dtype)
    L = graph_laplacian(A, normalization=normalization)
    op = graph_laplacian(A, normalization=normalization, form="operator")
    assert isinstance(op, LinearOperator)
    assert op.dtype == dtype
    X = np.random.default_rng(1).standard_normal((30, 4)).astype(dtype)
    np.testing.assert_allclose(op @ X, L @ X, atol=10 * tolerance(dtype), rtol=0)
    np.testing.assert_allclose(op @ X[:, 0], L @ X[:, 0], atol=10 * tolerance(dtype), rtol=0)
    np.testing.assert_allclose(op.matmat(X), L @ X, atol=10 * tolerance(dtype), rtol=0)


@pytest.mark.parametrize("normed", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_against_scipy_csgraph(normed, seed):
    A = random_adjacency(n=60, p=0.1, seed=seed, loops=False)
    ours = graph_laplacian(A, normalization="sym" if normed else "combinatorial")
    theirs = csgraph_laplacian(A, normed=normed)
    # scipy puts 1 on the diagonal of isolated nodes when normed; we keep zero rows
    deg = np.asarray(A.sum(axis=1)).ravel()
    ref = sp.csr_array(theirs).toarray()
    ref[deg == 0, deg == 0] = 0.0
    np.testing.assert_allclose(ours.toarray(), ref, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_against_networkx(seed):
    G = nx.gnp_random_graph(40, 0.15, seed=seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = 1.0 + (u * v) % 7
    A = nx.to_scipy_sparse_array(G, nodelist=range(40))
    np.testing.assert_allclose(graph_laplacian(A).toarray(),
                               nx.laplacian_matrix(G, nodelist=range(40)).toarray(), atol=1e-12)
    Gc = G.subgraph(max(nx.connected_components(G), key=len))
    nodes = sorted(Gc)
    Ac = nx.to_scipy_sparse_array(Gc, nodelist=nodes)
    np.testing.assert_allclose(
        graph_laplacian(Ac, normalization="sym").toarray(),
        nx.normalized_laplacian_matrix(Gc, nodelist=nodes).toarray(), atol=1e-12,
    )


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_generic_path_matches_numba_path(normalization):
    # the array-API path is what CuPy input runs; check it on SciPy input here
    A = random_adjacency(seed=5)
    ours = graph_laplacian(A, normalization=normalization)
    generic = _graph_laplacian_generic(A, normalization=normalization, dtype=None)
    np.testing.assert_allclose(generic.toarray(), ours.toarray(), atol=1e-12)


def test_isolated_nodes_give_zero_rows_not_nan():
    A = sp.csr_array((4, 4))  # no edges at all
    for norm in NORMALIZATIONS:
        L = graph_laplacian(A, normalization=norm)
        assert np.all(np.isfinite(L.toarray()))
        assert not L.toarray().any()
        op = graph_laplacian(A, normalization=norm, form="operator")
        assert not (op @ np.ones(4)).any()


def test_input_not_modified():
    A = sp.csr_array(
        (np.array([1.0, 2.0, 1.0, 2.0]), np.array([1, 1, 0, 0]), np.array([0, 2, 4])),
        shape=(2, 2),
    )  # duplicates, not canonical
    before = (A.data.copy(), A.indices.copy(), A.indptr.copy())
    L = graph_laplacian(A)
    np.testing.assert_array_equal(L.toarray(), [[3.0, -3.0], [-3.0, 3.0]])
    for a, b in zip(before, (A.data, A.indices, A.indptr), strict=False):
        np.testing.assert_array_equal(a, b)


# --- properties ------------------------------------------------------------------------


@given(adjacency_matrices(max_nodes=15, self_loops=True))
def test_combinatorial_is_symmetric_psd_with_zero_row_sums(A):
    L = graph_laplacian(A).toarray()
    np.testing.assert_allclose(L, L.T, atol=0)
    np.testing.assert_allclose(L.sum(axis=1), 0.0, atol=1e-10 * max(1.0, np.abs(L).max()))
    assert np.linalg.eigvalsh(L).min() > -1e-9 * max(1.0, np.abs(L).max())


@given(adjacency_matrices(max_nodes=15))
def test_kernel_dimension_equals_components(A):
    k, labels = connected_components(A)
    lam = np.linalg.eigvalsh(graph_laplacian(A).toarray())
    scale = max(1.0, lam.max())
    assert int((lam < 1e-9 * scale).sum()) == k
    assert labels.max() == k - 1


@given(adjacency_matrices(max_nodes=15))
def test_normalised_spectrum_in_0_2(A):
    lam = np.linalg.eigvalsh(graph_laplacian(A, normalization="sym").toarray())
    assert lam.min() > -1e-10
    assert lam.max() < 2 + 1e-10


@given(adjacency_matrices(min_nodes=2, max_nodes=15), st.randoms(use_true_random=False))
def test_permutation_equivariance(A, random):
    n = A.shape[0]
    perm = np.array(random.sample(range(n), n))
    for norm in NORMALIZATIONS:
        L = graph_laplacian(A, normalization=norm)
        Lp = graph_laplacian(permute(A, perm), normalization=norm)
        np.testing.assert_allclose(Lp.toarray(), L.toarray()[np.ix_(perm, perm)], atol=1e-12)


@given(graphs(max_nodes=12, min_nodes=2).flatmap(
    lambda g: st.tuples(st.just(g), node_signals(g.n_nodes, 3))))
def test_dirichlet_energy_is_quadratic_form(pair):
    g, X = pair
    A = g.to_adjacency()
    E = dirichlet_energy(A, X)
    Q = float(np.sum(X * (graph_laplacian(A) @ X)))
    assert E >= 0
    assert pytest.approx(Q, rel=1e-9, abs=1e-6) == E
    per = dirichlet_energy(A, X, per_channel=True)
    assert per.shape == (3,)
    assert per.sum() == pytest.approx(E, rel=1e-12, abs=1e-9)
    Es = dirichlet_energy(A, X, normalization="sym")
    Qs = float(np.sum(X * (graph_laplacian(A, normalization="sym") @ X)))
    assert Es == pytest.approx(Qs, rel=1e-9, abs=1e-6)


# --- incidence, degrees, directed and magnetic Laplacians ---------------------------------


@given(adjacency_matrices(max_nodes=12))
def test_incidence_gives_laplacian(A):
    B, edges = incidence_matrix(A)
    assert B.shape == (edges.shape[0], A.shape[0])
    assert np.all(edges[:, 0] < edges[:, 1])
    np.testing.assert_allclose((B.T @ B).toarray(), graph_laplacian(A).toarray(), atol=1e-10)
    Bu, _ = incidence_matrix(A, weighted=False)
    np.testing.assert_array_equal(np.abs(Bu.data), 1.0)


def test_incidence_sign_convention():
    B, edges = incidence_matrix(path_graph(3))
    np.testing.assert_array_equal(edges, [[0, 1], [1, 2]])
    np.testing.assert_array_equal(B.toarray(), [[-1, 1, 0], [0, -1, 1]])


def test_degrees():
    A = adjacency_from_edges([[0, 1], [0, 2], [1, 1]], 3, weights=[2.0, 3.0, 5.0],
                             symmetrize="none", self_loops="keep")
    np.testing.assert_array_equal(degrees(A), [5.0, 0.0, 0.0])
    np.testing.assert_array_equal(degrees(A, direction="in"), [0.0, 2.0, 3.0])


@pytest.mark.parametrize("degree", ["out", "in"])
@pytest.mark.parametrize("normalization", ["combinatorial", "rw"])
def test_directed_laplacian(degree, normalization):
    rng = np.random.default_rng(2)
    W = rng.random((12, 12)) * (rng.random((12, 12)) < 0.3)
    np.fill_diagonal(W, 0)
    d = W.sum(axis=1) if degree == "out" else W.sum(axis=0)
    expected = np.diag(d) - W
    if normalization == "rw":
        inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
        # out: I - D^-1 A (row scaling); in: I - A D^-1 (column scaling)
        expected = inv[:, None] * expected if degree == "out" else expected * inv[None, :]
    L = directed_laplacian(sp.csr_array(W), degree=degree, normalization=normalization)
    np.testing.assert_allclose(L.toarray(), expected, atol=1e-12)
    op = directed_laplacian(W, degree=degree, normalization=normalization, form="operator")
    x = rng.standard_normal(12)
    np.testing.assert_allclose(op @ x, expected @ x, atol=1e-12)
    if degree == "out":
        np.testing.assert_allclose(L.toarray().sum(axis=1), 0, atol=1e-12)
    else:
        np.testing.assert_allclose(L.toarray().sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("normalization", ["combinatorial", "sym"])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.25])
def test_magnetic_laplacian_hermitian_psd(normalization, q):
    rng = np.random.default_rng(4)
    W = (rng.random((15, 15)) < 0.25).astype(float)
    np.fill_diagonal(W, 0)
    L = magnetic_laplacian(W, q=q, normalization=normalization)
    assert L.dtype == np.complex128
    D = L.toarray()
    np.testing.assert_allclose(D, D.conj().T, atol=1e-14)
    lam = np.linalg.eigvalsh(D)
    assert lam.min() > -1e-10
    if normalization == "sym":
        assert lam.max() < 2 + 1e-10
    if q == 0.0:
        ref = graph_laplacian(np.maximum(W, W.T) * 0.5 + np.minimum(W, W.T) * 0.5,
                              normalization=normalization)
        np.testing.assert_allclose(D.real, ref.toarray(), atol=1e-12)
        np.testing.assert_allclose(D.imag, 0, atol=1e-12)


def test_magnetic_phase_of_one_edge():
    L = magnetic_laplacian(np.array([[0.0, 1.0], [0.0, 0.0]]), q=0.25)
    # A_s = 1/2 off the diagonal, phase 2 pi q (1 - 0) = pi / 2 for 0 -> 1
    np.testing.assert_allclose(L.toarray(), [[0.5, -0.5j], [0.5j, 0.5]], atol=1e-15)
    assert magnetic_laplacian(np.eye(2, dtype=np.float32)).dtype == np.complex64


# --- bad input ---------------------------------------------------------------------------


def test_rejects_asymmetric():
    A = sp.csr_array(np.array([[0.0, 1.0], [0.5, 0.0]]))
    with pytest.raises(ValueError, match=r"adjacency must be symmetric for "
                       r"normalization='sym'; got max \|A - A.T\| = 0.5"):
        graph_laplacian(A, normalization="sym")
    with pytest.raises(ValueError, match="directed_laplacian"):
        graph_laplacian(A)


def test_symmetry_tolerance_follows_dtype():
    A = np.array([[0.0, 1.0], [1.0 + 1e-7, 0.0]])
    graph_laplacian(A.astype(np.float32))  # within float32 tolerance
    with pytest.raises(ValueError, match="symmetric"):
        graph_laplacian(A)


@pytest.mark.parametrize(("bad", "msg"), [
    (np.nan, r"adjacency must contain only finite values; got 2 NaN and 0 inf"),
    (np.inf, r"adjacency must contain only finite values; got 0 NaN and 2 inf"),
    (-1.0, r"adjacency must be non-negative; got 2 negative entries \(min -1\)"),
])
def test_rejects_bad_weights(bad, msg):
    A = np.array([[0.0, bad, 1.0], [bad, 0.0, 1.0], [1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=msg):
        graph_laplacian(A)


def test_rejects_bad_shapes_and_types():
    with pytest.raises(ValueError, match=r"adjacency must be square; got shape \(2, 3\)"):
        graph_laplacian(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"adjacency must have at least one node"):
        graph_laplacian(sp.csr_array((0, 0)))
    with pytest.raises(ValueError, match=r"adjacency must be a 2-D matrix; got 1-D"):
        graph_laplacian(np.zeros(3))
    with pytest.raises(TypeError, match=r"adjacency must be a scipy sparse array or a 2-D "
                       r"array; got str"):
        graph_laplacian("graph")
    with pytest.raises(TypeError, match=r"adjacency must be real; got complex"):
        graph_laplacian(np.eye(2) * 1j)
    with pytest.raises(TypeError, match="adjacency must hold numbers; got dtype <U1"):
        graph_laplacian([["a", "b"], ["c", "d"]])


def test_rejects_bad_options():
    A = path_graph(3)
    with pytest.raises(ValueError, match=r"normalization must be one of \{'combinatorial', "
                       r"'sym', 'rw', 'signless'\}; got 'normed'"):
        graph_laplacian(A, normalization="normed")
    with pytest.raises(ValueError, match=r"form must be one of \{'array', 'operator'\}; "
                       r"got 'lo'"):
        graph_laplacian(A, form="lo")
    with pytest.raises(ValueError, match=r"dtype must be float32 or float64; got int64"):
        graph_laplacian(A, dtype=np.int64)
    with pytest.raises(ValueError, match=r"q must lie in \[0.0, 0.5\]; got 0.7"):
        magnetic_laplacian(A, q=0.7)
    with pytest.raises(ValueError, match=r"degree must be one of"):
        directed_laplacian(A, degree="both")
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64; got 'bogus'"):
        graph_laplacian(A, dtype="bogus")


def test_dirichlet_energy_rejects_bad_signal():
    A = path_graph(3)
    with pytest.raises(ValueError, match=r"signal must have one row per node, 3; got "
                       r"shape \(4,\)"):
        dirichlet_energy(A, np.zeros(4))
    with pytest.raises(ValueError, match=r"signal must contain only finite values; got 1 NaN"):
        dirichlet_energy(A, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match=r"signal must be 1-D or 2-D; got 3-D"):
        dirichlet_energy(A, np.zeros((3, 1, 1)))


def test_dtype_policy():
    A = path_graph(4)
    assert graph_laplacian(A.astype(np.float32)).dtype == np.float32
    assert graph_laplacian(A.astype(np.int64)).dtype == np.float64
    assert graph_laplacian(A.astype(bool)).dtype == np.float64
    assert graph_laplacian(A, dtype=np.float32).dtype == np.float32


def test_connected_components_labels_by_first_appearance():
    A = adjacency_from_edges([[3, 4], [0, 2]], 6)
    k, labels = connected_components(A)
    assert k == 4
    np.testing.assert_array_equal(labels, [0, 1, 0, 2, 2, 3])


def test_large_random_graph_sparse_vs_dense_spectrum():
    A = erdos_renyi_graph(200, 0.05, rng=7)
    L = graph_laplacian(A, normalization="sym")
    ref = dense_laplacian(A, "sym")
    np.testing.assert_allclose(np.linalg.eigvalsh(L.toarray()), np.linalg.eigvalsh(ref),
                               atol=1e-12)


def test_generic_path_validates_like_the_numba_path():
    bad = sp.csr_array(np.array([[0.0, 1.0], [0.5, 0.0]]))
    with pytest.raises(ValueError, match=r"adjacency must be symmetric for "
                       r"normalization='sym'; got max \|A - A.T\| = 0.5"):
        _graph_laplacian_generic(bad, normalization="sym", dtype=None)
    nan = sp.csr_array(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match=r"adjacency must contain only finite values; got 2 NaN"):
        _graph_laplacian_generic(nan, normalization="sym", dtype=None)
    neg = sp.csr_array(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"adjacency must be non-negative"):
        _graph_laplacian_generic(neg, normalization="sym", dtype=None)
    with pytest.raises(ValueError, match=r"adjacency must be square"):
        _graph_laplacian_generic(sp.csr_array((2, 3)), normalization="sym", dtype=None)
    unsorted = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 1]), np.array([0, 2, 2])),
                            shape=(2, 2))
    before = unsorted.data.copy()
    with pytest.raises(ValueError, match="symmetric"):
        _graph_laplacian_generic(unsorted, normalization="combinatorial", dtype=None)
    np.testing.assert_array_equal(unsorted.data, before)


@pytest.mark.parametrize("normalization", ["combinatorial", "sym"])
def test_magnetic_operator_matches_array(normalization):
    rng = np.random.default_rng(8)
    W = (rng.random((20, 20)) < 0.2).astype(np.float32)
    np.fill_diagonal(W, 0)
    L = magnetic_laplacian(W, normalization=normalization)
    op = magnetic_laplacian(W, normalization=normalization, form="operator")
    assert op.dtype == np.complex64
    x = rng.standard_normal((20, 2)) + 1j * rng.standard_normal((20, 2))
    np.testing.assert_allclose(op @ x, L @ x, atol=1e-5)
    np.testing.assert_allclose(op.rmatvec(x[:, 0]), L.conj().T @ x[:, 0], atol=1e-5)


def test_rw_operator_adjoint_is_not_faked():
    op = graph_laplacian(star_graph(4), normalization="rw", form="operator")
    with pytest.raises(NotImplementedError):
        op.rmatvec(np.ones(4))


def test_incidence_unweighted_gives_unweighted_laplacian():
    A = random_adjacency(seed=9, loops=False)
    Bu, _ = incidence_matrix(A, weighted=False)
    np.testing.assert_allclose((Bu.T @ Bu).toarray(), graph_laplacian(A > 0).toarray(),
                               atol=1e-12)


@pytest.mark.parametrize("q", [0.1, 0.3])
def test_magnetic_against_dense_reference(q):
    rng = np.random.default_rng(11)
    W = rng.random((12, 12)) * (rng.random((12, 12)) < 0.3)  # weighted, some two-way
    np.fill_diagonal(W, 0)
    As = (W + W.T) / 2
    H = As * np.exp(2j * np.pi * q * (W - W.T))
    d = As.sum(axis=1)
    np.testing.assert_allclose(magnetic_laplacian(W, q=q).toarray(), np.diag(d) - H,
                               atol=1e-13)
    s = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0)
    ref = np.diag((d > 0).astype(float)) - s[:, None] * H * s[None, :]
    np.testing.assert_allclose(magnetic_laplacian(W, q=q, normalization="sym").toarray(), ref,
                               atol=1e-13)


def test_overflow_and_underflow_are_errors_not_inf():
    big = np.array([[0, 3e38, 3e38], [3e38, 0, 0], [3e38, 0, 0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"a degree of 6e\+38 overflows float32; rescale the "
                       r"weights or pass dtype=np.float64"):
        graph_laplacian(big)
    assert np.isfinite(graph_laplacian(big, dtype=np.float64).data).all()
    tiny = np.array([[0, 5e-324], [5e-324, 0]])
    with pytest.raises(ValueError, match=r"adjacency has degrees too small to normalise"):
        graph_laplacian(tiny, normalization="rw")
    with pytest.raises(ValueError, match=r"the Dirichlet energy overflows float64"):
        dirichlet_energy(path_graph(3), np.array([0.0, 1e200, -1e200]))


def test_boolean_options_must_be_bools():
    with pytest.raises(TypeError, match=r"weighted must be True or False; got str 'no'"):
        incidence_matrix(path_graph(3), weighted="no")
    with pytest.raises(TypeError, match=r"per_channel must be True or False; got int 1"):
        dirichlet_energy(path_graph(3), np.zeros((3, 2)), per_channel=1)


def test_largest_component():
    A = adjacency_from_edges([[0, 1], [2, 3], [3, 4], [4, 2]], 6)
    sub, nodes = largest_component(A)
    np.testing.assert_array_equal(nodes, [2, 3, 4])
    np.testing.assert_array_equal(sub.toarray(), A.toarray()[np.ix_(nodes, nodes)])
    with pytest.raises(ValueError, match="adjacency must have at least one node"):
        largest_component(sp.csr_array((0, 0)))
