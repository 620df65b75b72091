"""Cotangent Laplacian and mass matrices: exact values, a dense oracle, properties."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from spectral_sheaf.mesh import (
    cotangent_laplacian,
    cotangent_laplacian_from_lengths,
    edge_lengths,
    face_areas,
    icosahedron,
    mass_matrix,
    mass_matrix_from_lengths,
    mass_normalized_laplacian,
    rectangle_mesh,
)
from spectral_sheaf.testing import meshes

TRIANGLE = (np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]]), np.array([[0, 1, 2]]))


def dense_cotangent(V, F):
    """Oracle: a Python loop over faces with angles from arccos."""
    n = len(V)
    L = np.zeros((n, n))
    for f in F:
        for c in range(3):
            i, j, k = f[c], f[(c + 1) % 3], f[(c + 2) % 3]
            u, v = V[j] - V[i], V[k] - V[i]
            angle = np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
            w = 0.5 / np.tan(angle)
            L[j, k] -= w
            L[k, j] -= w
            L[j, j] += w
            L[k, k] += w
    return L


def dense_masses(V, F):
    """Oracle: barycentric, mixed Voronoi (Meyer et al.) and full FEM masses."""
    n = len(V)
    bary, voro, full = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for f in F:
        P = V[f]
        area = 0.5 * np.linalg.norm(np.cross(P[1] - P[0], P[2] - P[0]))
        ang = []
        for c in range(3):
            u, v = P[(c + 1) % 3] - P[c], P[(c + 2) % 3] - P[c]
            ang.append(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
        for c in range(3):
            bary[f[c]] += area / 3
            a, b = (c + 1) % 3, (c + 2) % 3
            if max(ang) > np.pi / 2:
                voro[f[c]] += area / 2 if ang[c] > np.pi / 2 else area / 4
            else:
                # |P_c P_b|^2 cot(angle at a) + |P_c P_a|^2 cot(angle at b), over 8
                voro[f[c]] += (np.sum((P[c] - P[b]) ** 2) / np.tan(ang[a])
                               + np.sum((P[c] - P[a]) ** 2) / np.tan(ang[b])) / 8
            for d in range(3):
                full[f[c], f[d]] += area / 6 if c == d else area / 12
    return bary, voro, full


def test_single_triangle_exact():
    V, F = TRIANGLE
    L = cotangent_laplacian(V, F).toarray()
    np.testing.assert_allclose(L, [[1, -0.5, -0.5], [-0.5, 0.5, 0], [-0.5, 0, 0.5]],
                               atol=1e-15)
    np.testing.assert_allclose(mass_matrix(V, F).diagonal(), [0.25, 0.125, 0.125])
    np.testing.assert_allclose(mass_matrix(V, F, kind="barycentric").diagonal(), [1 / 6] * 3)
    Mf = mass_matrix(V, F, kind="full").toarray()
    np.testing.assert_allclose(Mf, (np.ones((3, 3)) + np.eye(3)) / 24)


def test_unit_square_exact():
    V, F = rectangle_mesh(1, 1)
    L = cotangent_laplacian(V, F).toarray()
    # the diagonal 0-3 has right angles opposite: weight 0; the sides weight 1/2
    expect = np.array([[1, -0.5, -0.5, 0], [-0.5, 1, 0, -0.5],
                       [-0.5, 0, 1, -0.5], [0, -0.5, -0.5, 1]])
    np.testing.assert_allclose(L, expect, atol=1e-15)


def test_regular_tetrahedron_spectrum():
    V = np.array([[1.0, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    F = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]])
    lam = np.linalg.eigvalsh(cotangent_laplacian(V, F).toarray())
    # every edge: two 60-degree angles, weight 1/sqrt(3); L = K4's Laplacian / sqrt(3)
    np.testing.assert_allclose(lam, [0] + [4 / np.sqrt(3)] * 3, atol=1e-13)


def test_icosahedron_spectrum():
    V, F = icosahedron()
    lam = np.linalg.eigvalsh(cotangent_laplacian(V, F).toarray())
    graph = [0] + [5 - np.sqrt(5)] * 3 + [6] * 5 + [5 + np.sqrt(5)] * 3
    np.testing.assert_allclose(lam, np.array(graph) / np.sqrt(3), atol=1e-13)
    area = face_areas(V, F).sum()
    for kind in ("voronoi", "barycentric", "full"):
        M = mass_matrix(V, F, kind=kind)
        assert M.sum() == pytest.approx(area, rel=1e-14)
        if kind != "full":
            np.testing.assert_allclose(M.diagonal(), area / 12, rtol=1e-14)


@given(meshes())
def test_against_dense_oracle(mesh):
    V, F = mesh
    L = cotangent_laplacian(V, F)
    np.testing.assert_allclose(L.toarray(), dense_cotangent(V, F), atol=1e-11)
    bary, voro, full = dense_masses(V, F)
    np.testing.assert_allclose(mass_matrix(V, F, kind="barycentric").diagonal(), bary,
                               rtol=1e-12)
    np.testing.assert_allclose(mass_matrix(V, F).diagonal(), voro, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(mass_matrix(V, F, kind="full").toarray(), full, atol=1e-15)


@given(meshes())
def test_laplacian_properties(mesh):
    V, F = mesh
    L = cotangent_laplacian(V, F)
    assert isinstance(L, sp.csr_array)
    assert L.has_sorted_indices
    np.testing.assert_allclose((L - L.T).toarray(), 0, atol=1e-14)
    np.testing.assert_allclose(L @ np.ones(len(V)), 0, atol=1e-12 * abs(L).max())
    assert np.linalg.eigvalsh(L.toarray())[0] > -1e-10 * abs(L).max()
    area = face_areas(V, F).sum()
    for kind in ("voronoi", "barycentric", "full"):
        M = mass_matrix(V, F, kind=kind)
        assert M.shape == L.shape
        assert M.sum() == pytest.approx(area, rel=1e-12)


@given(meshes(), st.integers(0, 2**32 - 1), st.floats(0.1, 10.0))
def test_rigid_motion_and_scaling(mesh, seed, s):
    V, F = mesh
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    moved = V @ Q.T + rng.standard_normal(3)
    L, M = cotangent_laplacian(V, F), mass_matrix(V, F)
    np.testing.assert_allclose(cotangent_laplacian(moved, F).toarray(), L.toarray(),
                               atol=1e-10 * abs(L).max())
    np.testing.assert_allclose(mass_matrix(moved, F).diagonal(), M.diagonal(), rtol=1e-9)
    # the cotangent Laplacian of a surface is scale-invariant; areas scale as s^2
    np.testing.assert_allclose(cotangent_laplacian(s * V, F).toarray(), L.toarray(),
                               atol=1e-10 * abs(L).max())
    np.testing.assert_allclose(mass_matrix(s * V, F).diagonal(), s**2 * M.diagonal(),
                               rtol=1e-9)


@given(meshes())
def test_from_lengths_matches_positions(mesh):
    V, F = mesh
    ell = edge_lengths(V, F)
    L = cotangent_laplacian(V, F)
    Li = cotangent_laplacian_from_lengths(ell, F)
    np.testing.assert_allclose(Li.toarray(), L.toarray(), atol=1e-10 * abs(L).max())
    for kind in ("voronoi", "barycentric", "full"):
        np.testing.assert_allclose(mass_matrix_from_lengths(ell, F, kind=kind).toarray(),
                                   mass_matrix(V, F, kind=kind).toarray(), rtol=1e-9,
                                   atol=1e-15)


def test_planar_input_and_libigl_sign():
    V, F = rectangle_mesh(3, 2, width=2.0)
    L2 = cotangent_laplacian(V[:, :2], F)
    np.testing.assert_array_equal(L2.toarray(), cotangent_laplacian(V, F).toarray())
    igl = pytest.importorskip("igl", reason="libigl (bench extra) compares the sign")
    np.testing.assert_allclose(-igl.cotmatrix(V, F).toarray(), L2.toarray(), atol=1e-14)
    Mi = igl.massmatrix(V, F, igl.MASSMATRIX_TYPE_VORONOI)
    np.testing.assert_allclose(Mi.toarray(), mass_matrix(V, F).toarray(), atol=1e-15)


def test_obtuse_voronoi_against_libigl():
    igl = pytest.importorskip("igl", reason="libigl (bench extra) is the peer")
    V = np.array([[0.0, 0, 0], [4, 0, 0], [2, 0.5, 0], [2, -3, 0]])
    F = np.array([[0, 1, 2], [1, 0, 3]])
    np.testing.assert_allclose(mass_matrix(V, F).diagonal(),
                               igl.massmatrix(V, F, igl.MASSMATRIX_TYPE_VORONOI).diagonal(),
                               rtol=1e-14)


def test_mass_normalized_laplacian():
    V, F = icosahedron()
    L, M = cotangent_laplacian(V, F), mass_matrix(V, F)
    N = mass_normalized_laplacian(L, M)
    Nlo = mass_normalized_laplacian(L, M, form="lo")
    x = np.random.default_rng(0).standard_normal((12, 2))
    np.testing.assert_allclose(Nlo @ x, N @ x, atol=1e-13)
    np.testing.assert_allclose(Nlo @ x[:, 0], N @ x[:, 0], atol=1e-13)
    from scipy.linalg import eigh

    np.testing.assert_allclose(np.linalg.eigvalsh(N.toarray()),
                               eigh(L.toarray(), M.toarray(), eigvals_only=True), atol=1e-12)
    with pytest.raises(ValueError, match="M must be diagonal"):
        mass_normalized_laplacian(L, mass_matrix(V, F, kind="full"))
    with pytest.raises(ValueError, match="M must have a positive diagonal"):
        mass_normalized_laplacian(L, sp.diags_array(np.zeros(12)))
    with pytest.raises(ValueError, match="M must have the shape of L"):
        mass_normalized_laplacian(L, sp.eye_array(3))
    with pytest.raises(ValueError, match="form must be one of"):
        mass_normalized_laplacian(L, M, form="dense")


# -------------------------------------------------------------------------- bad input


def test_bad_shapes_and_empty():
    V, F = TRIANGLE
    with pytest.raises(ValueError, match=r"vertices must have shape \(n, 3\)"):
        cotangent_laplacian(np.zeros((3, 4)), F)
    with pytest.raises(ValueError, match="vertices must be 2-D"):
        cotangent_laplacian(np.zeros(9), F)
    with pytest.raises(ValueError, match=r"faces must have shape \(f, 3\)"):
        cotangent_laplacian(V, [[0, 1, 2, 0]])
    with pytest.raises(ValueError, match="vertices must hold at least one vertex"):
        cotangent_laplacian(np.zeros((0, 3)), F)
    with pytest.raises(ValueError, match="faces must hold at least one triangle"):
        cotangent_laplacian(V, np.zeros((0, 3), dtype=int))
    with pytest.raises(TypeError, match="faces must hold integer"):
        cotangent_laplacian(V, [["a", "b", "c"]])


def test_nan_out_of_range_negative_and_repeated():
    V, F = TRIANGLE
    Vn = V.copy()
    Vn[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"vertices must contain only finite.*vertex 1"):
        cotangent_laplacian(Vn, F)
    with pytest.raises(ValueError, match=r"faces must hold vertex indices in \[0, 3\); got 3"):
        mass_matrix(V, [[1, 2, 3]])
    with pytest.raises(ValueError, match=r"got -1 .*one-based"):
        cotangent_laplacian(V, [[-1, 0, 1]])
    with pytest.raises(ValueError, match=r"must not repeat a vertex.*drop_degenerate_faces"):
        cotangent_laplacian(V, [[0, 1, 1]])


def test_zero_area_faces_and_unreferenced_vertices():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [5, 5, 5]])
    F = np.array([[0, 1, 2], [0, 1, 3]])  # face 1 is collinear: zero area
    with pytest.raises(ValueError, match=r"zero-area faces \(first: face 1.*drop_degen"):
        cotangent_laplacian(V, F)
    with pytest.warns(RuntimeWarning, match="1 zero-area faces dropped"), \
            pytest.raises(ValueError, match=r"2 unreferenced vertices.*remove_unreferenced"):
        cotangent_laplacian(V, F, degenerate="drop")
    with pytest.warns(RuntimeWarning, match="zero-area faces dropped"):
        L = cotangent_laplacian(V, F, degenerate="drop", unreferenced="isolate")
    with pytest.warns(RuntimeWarning, match="zero-area faces dropped"):
        M = mass_matrix(V, F, degenerate="drop", unreferenced="isolate")
    with pytest.warns(RuntimeWarning, match="zero-area faces dropped"):
        Mf = mass_matrix(V, F, kind="full", degenerate="drop", unreferenced="isolate")
    assert L.shape == M.shape == Mf.shape == (5, 5)
    np.testing.assert_array_equal(L.toarray()[3:], 0)
    np.testing.assert_array_equal(M.diagonal()[3:], 1.0)
    np.testing.assert_array_equal(Mf.diagonal()[3:], 1.0)
    with pytest.raises(ValueError, match="degenerate must be one of"):
        cotangent_laplacian(V, F, degenerate="ignore")
    with pytest.raises(ValueError, match="unreferenced must be one of"):
        cotangent_laplacian(V, F, unreferenced="drop")
    with pytest.raises(ValueError, match="kind must be one of"):
        mass_matrix(*TRIANGLE, kind="lumped")


def test_all_faces_degenerate():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    with pytest.warns(RuntimeWarning, match="zero-area"), \
            pytest.raises(ValueError, match="at least one face of non-zero area"):
        cotangent_laplacian(V, [[0, 1, 2]], degenerate="drop")


def test_lengths_checks():
    F = np.array([[0, 1, 2]])
    with pytest.raises(ValueError, match="triangle inequality"):
        cotangent_laplacian_from_lengths([[1.0, 1.0, 3.0]], F)
    with pytest.raises(ValueError, match=r"lengths must have shape \(f, 3\) matching"):
        cotangent_laplacian_from_lengths([[1.0, 1.0, 1.0]] * 2, F)
    with pytest.raises(ValueError, match="lengths must contain only finite"):
        cotangent_laplacian_from_lengths([[1.0, np.inf, 1.0]], F)
    with pytest.raises(ValueError, match="lengths must be non-negative"):
        cotangent_laplacian_from_lengths([[1.0, -1.0, 1.0]], F)
    with pytest.raises(ValueError, match="zero-area"):
        cotangent_laplacian_from_lengths([[1.0, 1.0, 2.0]], F)
    with pytest.raises(ValueError, match=r"faces must hold vertex indices in \[0, 2\)"):
        cotangent_laplacian_from_lengths([[1.0, 1.0, 1.0]], F, n_vertices=2)
    L = cotangent_laplacian_from_lengths([[1.0, 1.0, 1.0]], F, n_vertices=4,
                                         unreferenced="isolate")
    assert L.shape == (4, 4)
    # a face with a repeated vertex (a Delta-complex) is accepted from lengths
    Ld = cotangent_laplacian_from_lengths([[1.0, 1.0, 1.0]], [[0, 0, 1]])
    np.testing.assert_allclose(Ld @ np.ones(2), 0, atol=1e-15)


def test_lengths_that_rounding_makes_flat_are_rejected():
    # the triangle inequality holds in floating point, Heron's product is negative
    with pytest.raises(ValueError, match="zero-area faces"):
        mass_matrix_from_lengths([[2.0, 1.0, 1 - 2**-53]], [[0, 1, 2]])
    with pytest.raises(ValueError, match="zero-area faces"):
        cotangent_laplacian_from_lengths([[2.0, 1.0, 1 - 2**-53]], [[0, 1, 2]])
