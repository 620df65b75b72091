"""The scaled (block) Gershgorin upper bound: always above the spectrum, and tight."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_sheaf.graphs import graph_laplacian, grid_graph, knn_graph
from spectral_sheaf.sheaf import random_sheaf, sheaf_laplacian
from spectral_sheaf.spectral import (
    detect_block_size,
    gershgorin_bounds,
    scaled_gershgorin_upper,
    spectral_bounds,
)
from spectral_sheaf.testing import sheaves


@settings(deadline=None, max_examples=40)
@given(F=sheaves(d_v=(1, 4), min_nodes=2, max_nodes=12),
       normalization=st.sampled_from(["none", "sym"]))
def test_bound_is_above_the_spectrum_and_below_gershgorin(F, normalization):
    L = sheaf_laplacian(F, normalization=normalization)
    top = np.linalg.eigvalsh(L.toarray())[-1]
    for block in ("auto", 1):
        b = scaled_gershgorin_upper(L, block_size=block)
        assert b >= top - 1e-12 * max(1.0, abs(top))
        assert b <= gershgorin_bounds(L)[1] * (1 + 1e-12) + 1e-12


@given(st.integers(0, 2**32 - 1))
def test_bound_of_random_symmetric_blocks_including_indefinite(seed):
    rng = np.random.default_rng(seed)
    d, nb = 3, 6
    pattern = np.kron(rng.random((nb, nb)) < 0.4, np.ones((d, d)))
    S = rng.standard_normal((nb * d, nb * d)) * pattern
    S = sp.csr_array(np.triu(S) + np.triu(S, 1).T + np.kron(np.eye(nb), np.ones((d, d))))
    top = np.linalg.eigvalsh(S.toarray())[-1]
    assert detect_block_size(S) % 3 == 0  # 3, or (rarely) a tiling by 6 or 9
    assert scaled_gershgorin_upper(S) >= top - 1e-12 * max(1.0, abs(top))


def test_bound_is_tight_on_normalised_laplacians():
    rng = np.random.default_rng(0)
    A = knn_graph(rng.random((2000, 3)), 10, reorder="rcm")[0]
    L = graph_laplacian(A, normalization="sym")
    # rho of the bound matrix is 2: the scaling gets close from the Gershgorin value
    assert gershgorin_bounds(L)[1] > 2.2
    assert 1.99 < scaled_gershgorin_upper(L) < 2.05
    S = sheaf_laplacian(random_sheaf(A, 3, kind="orthogonal", rng=1), normalization="sym")
    assert detect_block_size(S) == 3
    assert gershgorin_bounds(S)[1] > 2.8
    assert scaled_gershgorin_upper(S, block_size=1) > 2.3  # the scalar bound stalls
    assert scaled_gershgorin_upper(S) < 2.05  # the block bound does not


def test_block_detection_and_messages():
    L = graph_laplacian(grid_graph((4, 6)))  # 24 rows, scalar pattern
    assert detect_block_size(L) == 1
    with pytest.raises(ValueError, match=r"block_size=2: A's stored pattern is not made of "
                       r"whole 2 x 2 blocks"):
        scaled_gershgorin_upper(L, block_size=2)
    with pytest.raises(ValueError, match=r"block_size must be a positive int or 'auto'; "
                       r"got 'big'"):
        scaled_gershgorin_upper(L, block_size="big")
    with pytest.raises(ValueError, match=r"iterations must be >= 0; got -1"):
        scaled_gershgorin_upper(L, iterations=-1)
    with pytest.raises(ValueError, match=r"A must have at least one row"):
        scaled_gershgorin_upper(sp.csr_array((0, 0)))
    with pytest.raises(ValueError, match=r"A must contain only finite values"):
        scaled_gershgorin_upper(sp.csr_array(np.array([[1.0, np.nan], [np.nan, 1.0]])))
    with pytest.raises(ValueError, match=r"A must be symmetric"):
        scaled_gershgorin_upper(sp.csr_array(np.triu(np.ones((4, 4)))))
    # a block bound above the scalar one is not returned
    blocks = np.zeros((4, 4))
    blocks[0, 0] = 5.0
    blocks[1, 3] = blocks[3, 1] = 1.0
    B = sp.csr_array(blocks + 1e-300 * np.kron(np.ones((2, 2)), np.ones((2, 2))))
    assert detect_block_size(B) >= 2
    assert scaled_gershgorin_upper(B) <= gershgorin_bounds(B)[1] * (1 + 1e-12)
    # no scaling steps: the plain (block) Gershgorin bound
    np.testing.assert_allclose(scaled_gershgorin_upper(L, block_size=1, iterations=0),
                               gershgorin_bounds(L)[1], rtol=1e-10)


def test_generic_gershgorin_matches_the_kernel():
    # the array-operation version that CuPy input takes, on SciPy and dense input
    from spectral_sheaf.spectral._bounds import _gershgorin_generic

    rng = np.random.default_rng(2)
    B = sp.random_array((40, 40), density=0.2, rng=rng)
    A = sp.csr_array(B + B.T + sp.diags_array(rng.uniform(-1, 3, 40)))
    expected = gershgorin_bounds(A)
    np.testing.assert_allclose(_gershgorin_generic(A), expected, rtol=1e-14)
    np.testing.assert_allclose(_gershgorin_generic(A.toarray()), expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"A must be a square matrix; got shape \(3, 4\)"):
        _gershgorin_generic(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"A must have at least one row"):
        _gershgorin_generic(np.ones((0, 0)))


def test_lanczos_without_reorthogonalisation_gives_inner_bounds():
    L = graph_laplacian(grid_graph((30, 40)), normalization="sym")
    w = np.linalg.eigvalsh(L.toarray())
    for steps in (5, 20, 80):  # 80 steps: orthogonality is lost, the bounds still hold
        plain = spectral_bounds(L, steps=steps, rng=1, reorthogonalize=False)
        full = spectral_bounds(L, steps=steps, rng=1)
        assert w[0] - 1e-12 <= plain.lambda_min <= plain.lambda_max <= w[-1] + 1e-12
        assert plain.steps == full.steps == steps
        if steps == 20:  # before any Ritz value has converged the two agree closely
            np.testing.assert_allclose(plain.lambda_max, full.lambda_max, rtol=1e-8)
    with pytest.raises(TypeError, match=r"reorthogonalize must be True or False; got 'no'"):
        spectral_bounds(L, reorthogonalize="no")


def test_block_detection_reads_every_block_row():
    # 100 block rows of whole 3 x 3 blocks; the first block rows are read in turn and
    # the rest in parallel: a break far down the pattern must still be seen
    from spectral_sheaf.spectral._bounds import _has_full_blocks

    rng = np.random.default_rng(5)
    pattern = sp.random_array((100, 100), density=0.05, rng=rng)
    pattern = pattern + pattern.T + sp.eye_array(100)
    whole = sp.csr_array(sp.kron(pattern, np.ones((3, 3))))
    whole.sort_indices()
    assert detect_block_size(whole) % 3 == 0
    assert _has_full_blocks(whole.indptr, whole.indices, 3)
    dense = whole.toarray()
    dense[272, 270] = 0.0  # one entry of block (90, 90) leaves the pattern
    dense[270, 272] = 0.0
    broken = sp.csr_array(dense)
    broken.sort_indices()
    assert not _has_full_blocks(broken.indptr, broken.indices, 3)
    assert detect_block_size(broken) == 1
