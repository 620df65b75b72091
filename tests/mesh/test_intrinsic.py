"""Intrinsic Delaunay triangulations: weights, equivalences, budget, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial import Delaunay

from spectral_sheaf.mesh import (
    cotangent_laplacian,
    cotangent_laplacian_from_lengths,
    face_areas,
    icosphere,
    intrinsic_delaunay,
    intrinsic_delaunay_laplacian,
    mass_matrix,
    mass_matrix_from_lengths,
    rectangle_mesh,
)
from spectral_sheaf.testing import meshes


def interior_weights(L, V, F):
    """Off-diagonal entries of L on interior edges (two faces)."""
    E = np.sort(np.concatenate([F[:, [0, 1]], F[:, [1, 2]], F[:, [2, 0]]]), axis=1)
    uniq, counts = np.unique(E, axis=0, return_counts=True)
    inner = uniq[counts == 2]
    return -L[inner[:, 0], inner[:, 1]]


def flipped_grid(nx: int = 6):
    """A rectangle mesh whose cells are cut along the long diagonal of a stretched cell,
    so every diagonal is non-Delaunay after a shear."""
    V, F = rectangle_mesh(nx, nx)
    V[:, 0] += 0.9 * V[:, 1]  # shear: the chosen diagonals become the long ones
    return V, F


def test_planar_intrinsic_equals_delaunay_of_the_points():
    V, F = flipped_grid()
    L, M = intrinsic_delaunay_laplacian(V, F)
    tri = intrinsic_delaunay(V, F)
    assert tri.n_flips > 0
    assert tri.is_delaunay
    D = Delaunay(V[:, :2]).simplices
    np.testing.assert_allclose(L.toarray(), cotangent_laplacian(V, D).toarray(), atol=1e-12)
    np.testing.assert_allclose(M.toarray(), mass_matrix(V, D).toarray(), atol=1e-14)
    # the plain Laplacian of the sheared mesh has negative weights, the intrinsic none
    assert interior_weights(cotangent_laplacian(V, F), V, F).min() < -0.1


@given(meshes())
def test_intrinsic_weights_nonnegative_and_area_kept(mesh):
    V, F = mesh
    tri = intrinsic_delaunay(V, F)
    assert tri.is_delaunay
    L = cotangent_laplacian_from_lengths(tri.lengths, tri.faces, n_vertices=len(V))
    off = L.toarray() - np.diag(L.diagonal())
    # interior intrinsic edges: every pair of halfedges with a twin; check all entries
    # that come from two faces via the Delaunay condition, edge by edge
    from spectral_sheaf.mesh._checks import edge_structure

    E = edge_structure(tri.faces, len(V))
    inner = E.edges[(E.count == 2) & (E.edges[:, 0] != E.edges[:, 1])]
    assert (off[inner[:, 0], inner[:, 1]] <= 1e-10 * abs(L).max()).all()
    np.testing.assert_allclose(L @ np.ones(len(V)), 0, atol=1e-11 * abs(L).max())
    M = mass_matrix_from_lengths(tri.lengths, tri.faces, n_vertices=len(V))
    assert M.sum() == pytest.approx(face_areas(V, F).sum(), rel=1e-12)


@given(meshes(kind="planar"))
def test_intrinsic_equals_plain_on_delaunay_mesh(mesh):
    V, F = mesh
    L, M = intrinsic_delaunay_laplacian(V, F)
    np.testing.assert_allclose(L.toarray(), cotangent_laplacian(V, F).toarray(),
                               atol=1e-10 * abs(L).max())
    np.testing.assert_allclose(M.diagonal(), mass_matrix(V, F).diagonal(), rtol=1e-9)


def test_icosphere_is_already_delaunay():
    V, F = icosphere(3)
    tri = intrinsic_delaunay(V, F)
    assert tri.n_flips == 0
    L, _ = intrinsic_delaunay_laplacian(V, F)
    np.testing.assert_allclose(L.toarray(), cotangent_laplacian(V, F).toarray(), atol=1e-13)


@given(st.integers(0, 2**32 - 1))
def test_against_robust_laplacian(seed):
    rl = pytest.importorskip("robust_laplacian", reason="robust-laplacian (bench extra)")
    rng = np.random.default_rng(seed)
    V, F = icosphere(2)
    # an ellipsoid (many non-Delaunay edges), jittered: the icosphere's symmetric
    # quads stay cocircular under scaling, where either diagonal gives the same L but
    # a different barycentric mass
    V = V * rng.uniform(0.3, 3.0, size=3) + 0.01 * rng.standard_normal(V.shape)
    L, M = intrinsic_delaunay_laplacian(V, F, mass="barycentric")
    Lr, Mr = rl.mesh_laplacian(V, F, mollify_factor=0.0)
    np.testing.assert_allclose(L.toarray(), Lr.toarray(), atol=1e-10 * abs(L).max())
    np.testing.assert_allclose(M.diagonal(), Mr.diagonal(), rtol=1e-10)


def test_flip_budget():
    V, F = flipped_grid()
    with pytest.raises(RuntimeError, match="stopped after max_flips=0 flips"):
        intrinsic_delaunay(V, F, max_flips=0)
    with pytest.warns(RuntimeWarning, match="max_flips=2"):
        tri = intrinsic_delaunay(V, F, max_flips=2, on_budget="warn")
    assert tri.n_flips == 2
    assert not tri.is_delaunay
    with pytest.raises(ValueError, match="max_flips must be"):
        intrinsic_delaunay(V, F, max_flips=-1)
    with pytest.raises(ValueError, match="on_budget must be one of"):
        intrinsic_delaunay(V, F, on_budget="ignore")


def test_degenerate_input_rejected_before_flipping():
    V, F = icosphere(1)
    Vn = V.copy()
    Vn[3, 0] = np.nan
    with pytest.raises(ValueError, match="vertices must contain only finite"):
        intrinsic_delaunay(Vn, F)
    # a zero-area cap: a vertex pushed onto the line through two others
    Vz = V.copy()
    a, b, c = F[0]
    Vz[c] = 0.3 * V[a] + 0.7 * V[b]
    with pytest.raises(ValueError, match=r"near-\)degenerate.*drop_degenerate_faces"):
        intrinsic_delaunay(Vz, F)
    Vs = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"edge-manifold.*first: \[0, 1\]"):
        intrinsic_delaunay(Vs, [[0, 1, 2], [1, 0, 3], [0, 1, 4]])
    with pytest.raises(ValueError, match="must not repeat a vertex"):
        intrinsic_delaunay(V, [[0, 0, 1]])


def test_moebius_rejected():
    from tests.mesh.test_checks import moebius

    with pytest.raises(ValueError, match="orientable surface"):
        intrinsic_delaunay(*moebius())


def test_inconsistent_orientation_is_handled():
    V, F = flipped_grid()
    G = F.copy()
    G[::3] = G[::3, ::-1]
    L1, _ = intrinsic_delaunay_laplacian(V, F)
    L2, _ = intrinsic_delaunay_laplacian(V, G)
    np.testing.assert_allclose(L1.toarray(), L2.toarray(), atol=1e-12)


def test_slivers_refused_with_the_repair_that_removes_them():
    from spectral_sheaf.mesh import drop_degenerate_faces

    t = np.sort(np.random.default_rng(0).random(5)) * np.pi
    V = np.c_[np.cos(t), 1e-8 * np.sin(t), np.zeros(5)]  # three slivers, 2 area/s ~ 1e-9
    F = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 4]])
    with pytest.raises(ValueError, match=r"area_rtol=1e-08\)"):
        intrinsic_delaunay_laplacian(V, F)
    # the message's repair removes them
    assert drop_degenerate_faces(V, F, area_rtol=1e-8).faces.shape[0] == 0
