"""A graph Laplacian's kernel, recognised from the matrix, and eigsh's use of it."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from scipy.sparse.linalg import aslinearoperator

from spectral_sheaf.graphs import adjacency_from_edges, graph_laplacian, path_graph
from spectral_sheaf.spectral import detect_laplacian_kernel, eigsh, laplacian_kernel
from spectral_sheaf.testing import adjacency_matrices

# 3 components and an isolated node (6): a path, a triangle, and node 6 alone
EDGES = [[0, 1], [1, 2], [3, 4], [4, 5], [5, 3]]


def _projector(K):
    return K @ K.T


@given(adjacency_matrices(weighted=True))
def test_combinatorial_kernel_is_the_component_indicators(A):
    K = detect_laplacian_kernel(graph_laplacian(A))
    assert K is not None
    np.testing.assert_allclose(_projector(K), _projector(laplacian_kernel(A)), atol=1e-12)


@given(adjacency_matrices(weighted=False))
def test_unweighted_normalised_kernel_is_found(A):
    K = detect_laplacian_kernel(graph_laplacian(A, normalization="sym"))
    assert K is not None
    np.testing.assert_allclose(_projector(K),
                               _projector(laplacian_kernel(A, normalization="sym")),
                               atol=1e-12)


def test_columns_in_component_order_with_an_isolated_node():
    A = adjacency_from_edges(EDGES, 7, weights=[1.0, 2.5, 0.5, 3.0, 1.5])
    for norm in ("combinatorial", "sym"):
        B = A if norm == "combinatorial" else (A > 0).astype(float)  # sym: unweighted
        K = detect_laplacian_kernel(graph_laplacian(B, normalization=norm))
        np.testing.assert_allclose(K, laplacian_kernel(B, normalization=norm), atol=1e-15)
        assert K.shape == (7, 3)


def test_what_is_not_recognised():
    A = adjacency_from_edges(EDGES, 7, weights=[1.0, 2.5, 0.5, 3.0, 1.5])
    L = graph_laplacian(A)
    # a weighted normalised Laplacian: its null vector D^1/2 1 is not read off the matrix
    assert detect_laplacian_kernel(graph_laplacian(A, normalization="sym")) is None
    # no kernel at all: a shifted Laplacian, beyond rounding
    assert detect_laplacian_kernel(L + 1e-9 * sp.eye_array(7)) is None
    # the signless Laplacian D + W (positive off-diagonal entries)
    assert detect_laplacian_kernel(graph_laplacian(A, normalization="signless")) is None
    # not a sparse real matrix
    assert detect_laplacian_kernel(L.toarray()) is None
    assert detect_laplacian_kernel(aslinearoperator(L)) is None
    assert detect_laplacian_kernel(sp.csr_array(L, dtype=complex)) is None
    # rounding-level row sums still pass: the Laplacian times a scale
    assert detect_laplacian_kernel(L * (1.0 / 3.0)) is not None


def test_stored_zeros_do_not_join_components():
    # explicit zeros at (0, 6) and (6, 0): stored entries, but not an edge
    base = graph_laplacian(adjacency_from_edges(EDGES, 7)).tocoo()
    Z = sp.csr_array((np.r_[base.data, 0.0, 0.0],
                      (np.r_[base.row, 6, 0], np.r_[base.col, 0, 6])), shape=(7, 7))
    assert np.count_nonzero(Z.data == 0) == np.count_nonzero(base.data == 0) + 2
    K = detect_laplacian_kernel(Z)
    assert K.shape == (7, 3)
    np.testing.assert_allclose(K, laplacian_kernel(adjacency_from_edges(EDGES, 7)))


def test_eigsh_returns_a_detected_kernel_without_iterating_for_it():
    # 40 disjoint paths: a 40-dimensional kernel, then 40 copies of the next eigenvalue
    L = graph_laplacian(sp.block_diag([path_graph(50)] * 40, format="csr"))
    one = np.linalg.eigvalsh(graph_laplacian(path_graph(50)).toarray())
    for k in (20, 45):
        for method in ("auto", "shift_invert", "arpack", "lobpcg"):
            r = eigsh(L, k, method=method, tol=1e-6, rng=0)
            assert r.verified, (method, k, r.missed_check)
            assert r.known_kernel.startswith(
                "detected: a graph Laplacian with 40 connected components")
            np.testing.assert_array_equal(r.eigenvalues[: min(k, 40)], 0.0)
            np.testing.assert_allclose(r.eigenvalues[40:], one[1], atol=1e-8)
            np.testing.assert_allclose(r.eigenvectors.T @ r.eigenvectors, np.eye(k),
                                       atol=1e-8)
    r = eigsh(L, 20, rng=0)
    assert r.known_kernel.endswith("the first 20 of its kernel basis returned")
    # None: nothing known, the solver iterates for the kernel
    r = eigsh(L, 20, method="shift_invert", tol=1e-6, rng=0, known_kernel=None)
    assert r.known_kernel is None
    np.testing.assert_allclose(r.eigenvalues, 0.0, atol=1e-8)
    # a given kernel says so
    K = laplacian_kernel(sp.block_diag([path_graph(50)] * 40, format="csr"))
    assert eigsh(L, 45, known_kernel=K, rng=0).known_kernel == "given, 40 columns"
    # the largest pairs: no kernel to use
    assert eigsh(L, 3, which="largest", rng=0).known_kernel is None


def test_detected_kernel_with_a_mass_matrix_is_m_orthonormal():
    A = adjacency_from_edges([*EDGES, [6, 7], [7, 8], [8, 9]], 10)
    L = graph_laplacian(A)
    M = sp.diags_array(np.linspace(1.0, 3.0, 10))
    r = eigsh(L, 4, M=M, rng=0)
    assert r.known_kernel.startswith("detected: a graph Laplacian with 3 connected")
    np.testing.assert_allclose(r.eigenvectors.T @ (M @ r.eigenvectors), np.eye(4),
                               atol=1e-12)
    np.testing.assert_array_equal(r.eigenvalues[:3], 0.0)
    dense = eigsh(L, 4, M=M, method="dense", known_kernel=None)
    np.testing.assert_allclose(r.eigenvalues, dense.eigenvalues, atol=1e-10)


def test_bad_known_kernel_option():
    L = graph_laplacian(path_graph(5))
    with pytest.raises(ValueError, match=r"known_kernel must be an array, 'auto' or None; "
                       r"got 'detect'"):
        eigsh(L, 2, known_kernel="detect")


def test_constant_sheaf_kernel_is_detected():
    # the other known kernel: a constant sheaf's, the indicators times the
    # identity of the stalk (d per component); a general sheaf's is not read off
    from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian

    A = adjacency_from_edges([[0, 1], [1, 2], [3, 4]], 5)  # 2 components
    for norm in ("none", "sym"):
        L = sheaf_laplacian(random_sheaf(A, 3, kind="constant", rng=0), normalization=norm)
        K = detect_laplacian_kernel(L)
        assert K.shape == (15, 6)
        np.testing.assert_allclose(L @ K, 0.0, atol=1e-15)
        np.testing.assert_allclose(K.T @ K, np.eye(6), atol=1e-15)
    L = sheaf_laplacian(random_sheaf(A, 3, kind="general", rng=0), normalization="none")
    assert detect_laplacian_kernel(L) is None
