"""Mesh checks and repairs, reading and writing, and the shared meshes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from spectral_sheaf.mesh import (
    check_mesh,
    cotangent_laplacian,
    drop_degenerate_faces,
    icosphere,
    mass_matrix,
    orient_faces,
    read_mesh,
    rectangle_mesh,
    remove_duplicate_faces,
    remove_unreferenced,
    validate_mesh,
    weld_vertices,
    write_mesh,
)
from spectral_sheaf.testing import meshes


def torus(n: int = 12, m: int = 8):
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    u, v = 2 * np.pi * i.ravel() / n, 2 * np.pi * j.ravel() / m
    V = np.column_stack([(2 + np.cos(v)) * np.cos(u), (2 + np.cos(v)) * np.sin(u), np.sin(v)])
    idx = lambda a, b: (a % n) * m + (b % m)  # noqa: E731
    a, b = i.ravel(), j.ravel()
    F = np.concatenate([np.column_stack([idx(a, b), idx(a + 1, b), idx(a + 1, b + 1)]),
                        np.column_stack([idx(a, b), idx(a + 1, b + 1), idx(a, b + 1)])])
    return V, F


def moebius(n: int = 12):
    t = 2 * np.pi * np.arange(n) / n
    V = np.concatenate([
        np.column_stack([np.cos(t) * (1 + 0.3 * np.cos(t / 2)),
                         np.sin(t) * (1 + 0.3 * np.cos(t / 2)), 0.3 * np.sin(t / 2)]),
        np.column_stack([np.cos(t) * (1 - 0.3 * np.cos(t / 2)),
                         np.sin(t) * (1 - 0.3 * np.cos(t / 2)), -0.3 * np.sin(t / 2)]),
    ])
    F = []
    for k in range(n):
        a, b = k, (k + 1) % n
        c, d = n + k, n + (k + 1) % n
        if k == n - 1:  # the half twist: the strip's sides swap
            c, d = n + k, b
            b = (k + 1) % n + n
            d = (k + 1) % n
        F += [[a, b, d], [a, d, c]]
    return V, np.array(F)


def test_clean_closed_and_bounded_meshes():
    r = check_mesh(*icosphere(2))
    assert r.is_closed
    assert r.is_manifold
    assert r.orientable
    assert (r.n_components, r.euler_characteristic) == (1, 2)
    assert r.problems() == []
    assert "no problems found" in r.summary()
    V, F = rectangle_mesh(3, 2)
    r = check_mesh(V, F)
    assert len(r.boundary_loops) == 1
    loop = r.boundary_loops[0]
    assert sorted(loop.tolist()) == sorted(set(loop.tolist()))
    assert len(loop) == 2 * (3 + 2)
    assert r.euler_characteristic == 1
    # consecutive loop vertices are joined by an edge
    edges = {tuple(sorted(e)) for f in F for e in ((f[0], f[1]), (f[1], f[2]), (f[2], f[0]))}
    assert all(tuple(sorted((loop[i], loop[(i + 1) % len(loop)]))) in edges
               for i in range(len(loop)))
    r = check_mesh(*torus())
    assert (r.euler_characteristic, r.n_components, r.is_closed) == (0, 1, True)


def test_non_manifold_edge_and_vertex():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]])
    F = np.array([[0, 1, 2], [1, 0, 3], [0, 1, 4]])  # edge 0-1 on three faces
    r = check_mesh(V, F)
    np.testing.assert_array_equal(r.non_manifold_edges, [[0, 1]])
    assert not r.is_manifold
    assert any("non-manifold edges" in p for p in r.problems())
    # bow tie: two triangles sharing only vertex 0
    V = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [-1, 0, 0], [-1, -1, 0]])
    r = check_mesh(V, [[0, 1, 2], [0, 3, 4]])
    np.testing.assert_array_equal(r.non_manifold_vertices, [0])
    assert len(r.non_manifold_edges) == 0
    assert r.n_components == 1


def test_orientation_and_orient_faces():
    V, F = icosphere(1)
    bad = F.copy()
    bad[[3, 7]] = bad[[3, 7]][:, ::-1]
    r = check_mesh(V, bad)
    assert len(r.inconsistent_edges) == 6
    assert r.orientable
    assert any("orient_faces" in p for p in r.problems())
    fixed = orient_faces(V, bad)
    assert "reversed 2 faces" in fixed.message
    assert len(check_mesh(*fixed).inconsistent_edges) == 0
    np.testing.assert_array_equal(fixed.faces, F)
    Vm, Fm = moebius()
    r = check_mesh(Vm, Fm)
    assert r.orientable is False
    with pytest.raises(ValueError, match="not orientable"):
        orient_faces(Vm, Fm)


def test_degenerate_duplicate_unreferenced_and_repairs():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [9, 9, 9], [1, 0, 0]])
    F = np.array([[0, 1, 2], [0, 1, 3], [0, 1, 1], [2, 1, 0], [5, 3, 2]])
    r = check_mesh(V, F)
    np.testing.assert_array_equal(r.degenerate_faces, [2])
    np.testing.assert_array_equal(r.zero_area_faces, [1])
    np.testing.assert_array_equal(r.duplicate_faces, [3])
    np.testing.assert_array_equal(r.unreferenced_vertices, [4])
    np.testing.assert_array_equal(r.duplicate_vertices, [5])
    text = "\n".join(r.problems())
    for fix in ("drop_degenerate_faces", "remove_unreferenced", "weld_vertices",
                "remove_duplicate_faces"):
        assert fix in text
    d = drop_degenerate_faces(V, F)
    np.testing.assert_array_equal(d.face_index, [0, 3, 4])
    assert "dropped 2 degenerate faces" in d.message
    u = remove_unreferenced(*d)
    assert u.vertices.shape == (5, 3)
    assert u.vertex_map[4] == -1
    np.testing.assert_array_equal(u.vertices[u.faces], V[d.faces])
    w = weld_vertices(*u)
    assert w.vertices.shape == (4, 3)
    assert "welded 1 vertices" in w.message
    np.testing.assert_array_equal(w.vertices[w.faces], u.vertices[u.faces])
    s = remove_duplicate_faces(*w)
    assert s.faces.shape == (2, 3)
    assert "removed 1 duplicate faces" in s.message
    # after the repairs the Laplacian builds
    assert cotangent_laplacian(*s).shape == (4, 4)


def test_weld_with_tolerance_drops_collapsed_faces():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [1e-9, 0, 0], [0, 0, 1]])
    F = np.array([[0, 1, 2], [3, 1, 4], [0, 3, 4]])
    assert weld_vertices(V, F).vertices.shape == (5, 3)  # tol=0: nothing equal
    w = weld_vertices(V, F, tol=1e-6)
    assert w.vertices.shape == (4, 3)
    assert "dropped 1 faces that collapsed" in w.message
    np.testing.assert_array_equal(w.face_index, [0, 1])
    with pytest.raises(ValueError, match="tol must be"):
        weld_vertices(V, F, tol=-1.0)


def test_near_zero_area_reported_not_dropped():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0.5, 1e-6, 0], [0.5, 1, 0]])
    F = np.array([[0, 1, 2], [0, 3, 1]])
    r = check_mesh(V, F, area_rtol=1e-4)
    np.testing.assert_array_equal(r.near_zero_area_faces, [0])
    assert len(r.zero_area_faces) == 0
    assert "near-zero-area" in r.summary()
    assert drop_degenerate_faces(V, F).faces.shape == (2, 3)
    assert drop_degenerate_faces(V, F, area_rtol=1e-4).faces.shape == (1, 3)
    with pytest.raises(ValueError, match="area_rtol must be"):
        check_mesh(V, F, area_rtol=0.0)


def test_report_on_broken_input_does_not_raise():
    V = np.array([[0.0, 0, 0], [1, 0, np.nan], [0, 1, 0]])
    r = check_mesh(V, [[0, 1, 2], [0, 1, 7]])
    np.testing.assert_array_equal(r.nonfinite_vertices, [1])
    np.testing.assert_array_equal(r.out_of_range_faces, [1])
    assert r.n_components is None
    assert r.boundary_loops is None
    assert "out-of-range" in r.summary()


@given(meshes())
def test_drawn_meshes_are_clean(mesh):
    r = check_mesh(*mesh)
    assert r.problems() == [], r.summary()
    assert r.n_components == 1
    assert r.orientable
    assert r.euler_characteristic == (2 if r.is_closed else 1)
    V, F = validate_mesh(*mesh)
    assert V.dtype == np.float64
    assert F.dtype == np.int64


def test_strategy_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        meshes(kind="torus")
    with pytest.raises(ValueError, match="max_size must be"):
        meshes(min_size=5, max_size=3)


# ------------------------------------------------------------------------------- I/O


def test_obj_round_trip_and_polygons(tmp_path):
    V, F = icosphere(1)
    write_mesh(tmp_path / "a.obj", V, F)
    V2, F2 = read_mesh(tmp_path / "a.obj")
    np.testing.assert_array_equal(V2, V)
    np.testing.assert_array_equal(F2, F)
    text = "\n".join([
        "# a quad with texture and normal indices, and a triangle with negative indices",
        "v 0 0 0", "v 1 0 0", "v 1 1 0", "v 0 1 0", "vt 0 0", "vt 1 0", "vn 0 0 1",
        "f 1/1/1 2/2/1 3/1/1 4/2/1",
        "v 0 0 1",
        "f -1 1 2",
    ])
    (tmp_path / "q.obj").write_text(text)
    with pytest.warns(UserWarning, match="fan-triangulated 1 polygons"):
        Vq, Fq = read_mesh(tmp_path / "q.obj")
    assert Vq.shape == (5, 3)
    np.testing.assert_array_equal(Fq, [[0, 1, 2], [0, 2, 3], [4, 0, 1]])


@pytest.mark.parametrize(("suffix", "binary"), [(".off", False), (".ply", False),
                                                (".ply", True)])
def test_meshio_round_trip(tmp_path, suffix, binary):
    pytest.importorskip("meshio", reason="OFF and PLY go through meshio (mesh extra)")
    V, F = icosphere(1)
    write_mesh(tmp_path / f"a{suffix}", V, F, binary=binary)
    V2, F2 = read_mesh(tmp_path / f"a{suffix}")
    np.testing.assert_allclose(V2, V, rtol=1e-6 if suffix == ".off" else 0)
    np.testing.assert_array_equal(F2, F)


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a file"):
        read_mesh(tmp_path / "missing.obj")
    (tmp_path / "e.obj").write_text("# nothing\nv 0 0 0\n")
    with pytest.raises(ValueError, match="no 'v' or no 'f' records"):
        read_mesh(tmp_path / "e.obj")
    (tmp_path / "s.obj").write_text("v 0 0 0\nv 1 0 0\nf 1 2\n")
    with pytest.raises(ValueError, match="fewer than three vertices"):
        read_mesh(tmp_path / "s.obj")
    (tmp_path / "c.obj").write_text("v 0 0\nf 1 1 1\n")
    with pytest.raises(ValueError, match="fewer than three coordinates"):
        read_mesh(tmp_path / "c.obj")
    (tmp_path / "x.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 x\n")
    with pytest.raises(ValueError, match="non-integer index"):
        read_mesh(tmp_path / "x.obj")


# ------------------------------------------------------------------- the shared meshes

# what ../shared/data/README.md says about each mesh
EXPECTED = {
    "woody": {"closed": False},
    "spot": {"closed": True, "euler": 2},
    "teapot": {"closed": False, "duplicates": 403, "components": 4},
    "fandisk": {"closed": True},
    "stanford-bunny": {"closed": False, "unreferenced": 1113, "loops": 5},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_meshes(shared_data, name):
    from spectral_sheaf.analysis import laplace_beltrami_basis

    V, F = read_mesh(shared_data / "meshes" / f"{name}.obj")
    r = check_mesh(V, F)
    want = EXPECTED[name]
    assert r.is_closed == want["closed"]
    assert len(r.duplicate_vertices) == want.get("duplicates", 0)
    assert len(r.unreferenced_vertices) == want.get("unreferenced", 0)
    if "components" in want:
        assert r.n_components == want["components"]
    if "loops" in want:
        assert len(r.boundary_loops) == want["loops"]
    if "euler" in want:
        assert r.euler_characteristic == want["euler"]
    # the documented repairs, then a verified eigen-solve
    if len(r.unreferenced_vertices):
        with pytest.raises(ValueError, match="remove_unreferenced"):
            cotangent_laplacian(V, F)
        V, F = remove_unreferenced(V, F)
    if len(r.duplicate_vertices):
        V, F = weld_vertices(V, F)
    V, F = drop_degenerate_faces(V, F)
    V, F = remove_unreferenced(V, F)
    res = laplace_beltrami_basis(V, F, 8, rng=0)
    assert res.verified
    n_comp = check_mesh(V, F).n_components
    np.testing.assert_allclose(res.eigenvalues[:n_comp], 0, atol=1e-12)
    assert res.eigenvalues[n_comp] > 1e-8
    M = mass_matrix(V, F)
    np.testing.assert_allclose(res.eigenvectors.T @ (M @ res.eigenvectors), np.eye(8),
                               atol=1e-8)


def test_bow_tie_loops_do_not_depend_on_numbering():
    V = np.random.default_rng(0).random((5, 3))
    for F in ([[0, 1, 2], [0, 3, 4]], [[0, 2, 3], [2, 1, 4]]):
        loops = check_mesh(V, F).boundary_loops
        assert sorted(len(loop) for loop in loops) == [3, 3]


def test_open_boundary_chain_keeps_its_end_vertex():
    # the duplicate reversed face leaves the boundary of the third face open
    loops = check_mesh(np.random.default_rng(1).random((4, 3)),
                       [[0, 1, 2], [2, 1, 0], [1, 3, 2]]).boundary_loops
    assert [sorted(loop.tolist()) for loop in loops] == [[1, 2, 3]]


def test_all_faces_index_degenerate():
    r = check_mesh(np.random.default_rng(0).random((4, 3)), [[0, 0, 1]])
    assert r.n_components == 0
    np.testing.assert_array_equal(r.degenerate_faces, [0])
    # vertices used only by degenerate faces do not count in the topology
    r = check_mesh(np.random.default_rng(0).random((5, 3)), [[0, 1, 2], [3, 3, 4]])
    assert r.n_components == 1
    assert r.euler_characteristic == 1


def test_drop_degenerate_faces_honours_a_small_area_rtol():
    V = np.array([[0.0, 0, 0], [1, 0, 0], [0.5, 1e-15, 0], [0.5, 1, 0]])
    F = np.array([[0, 1, 2], [0, 3, 1]])
    assert drop_degenerate_faces(V, F).faces.shape == (1, 3)  # 2 area / s ~ 8e-16
    assert drop_degenerate_faces(V, F, area_rtol=1e-16).faces.shape == (2, 3)


def test_coordinate_magnitude():
    V, F = icosphere(1)
    with pytest.raises(ValueError, match=r"coordinates of magnitude between.*Rescale"):
        cotangent_laplacian(1e70 * V, F)
    with pytest.raises(ValueError, match=r"coordinates of magnitude between.*Rescale"):
        mass_matrix(1e-70 * V, F)


def test_obj_bom_comments_and_zero_index(tmp_path):
    (tmp_path / "b.obj").write_text("\ufeffv 0 0 0\nv 1 0 0 # a comment\r\nv 0 1 0\n"
                                    "f 1 2 3 # trailing\n")
    V, F = read_mesh(tmp_path / "b.obj")
    assert V.shape == (3, 3)
    np.testing.assert_array_equal(F, [[0, 1, 2]])
    (tmp_path / "z.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n")
    with pytest.raises(ValueError, match="index 0; OBJ indices start at 1"):
        read_mesh(tmp_path / "z.obj")


def test_off_polygons_and_errors(tmp_path):
    (tmp_path / "q.off").write_text("OFF\n# a quad with a colour\n4 1 0\n0 0 0\n1 0 0\n"
                                    "1 1 0\n0 1 0\n4 0 1 2 3 255 0 0\n")
    with pytest.warns(UserWarning, match="fan-triangulated 1 polygons"):
        _, F = read_mesh(tmp_path / "q.off")
    np.testing.assert_array_equal(F, [[0, 1, 2], [0, 2, 3]])
    (tmp_path / "h.off").write_text("COFF\n3 1 0\n0 0 0 1 1 1 1\n")
    with pytest.raises(ValueError, match="only plain ASCII 'OFF'"):
        read_mesh(tmp_path / "h.off")
    (tmp_path / "s.off").write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n")
    with pytest.raises(ValueError, match="promises 3 vertices and 1 faces"):
        read_mesh(tmp_path / "s.off")
    (tmp_path / "n.off").write_text("PLY\n")
    with pytest.raises(ValueError, match="does not start with an OFF header"):
        read_mesh(tmp_path / "n.off")
