"""Graph data set loaders on tiny files written here, and on ../shared/data."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf.datasets import (
    GraphDataset,
    load_dataset,
    load_geom_gcn,
    load_heterophilous_npz,
    load_planetoid,
)


def write_geom_gcn(root, name, *, film=False, n=6):
    folder = root / "geom-gcn" / "new_data" / name
    folder.mkdir(parents=True)
    # a 6-cycle listed one way, plus a self-loop and a duplicate
    edges = [(i, (i + 1) % n) for i in range(n)] + [(2, 2), (1, 0)]
    (folder / "out1_graph_edges.txt").write_text(
        "node_id\tnode_id\n" + "".join(f"{u}\t{v}\n" for u, v in edges))
    labels = [0, 1, 0, 1, 2, 2][:n]
    if film:
        rows = [f"{i}\t{i % 4},{(i + 1) % 4},{i % 4}\t{labels[i]}" for i in range(n)]
        header = "node_id\tfeature(feature_amount:3)\tlabel"
        rows = rows[::-1]  # not in id order
    else:
        rows = [f"{i}\t{','.join('1' if j <= i % 3 else '0' for j in range(4))}\t{labels[i]}"
                for i in range(n)]
        header = "node_id\tfeature\tlabel"
    (folder / "out1_node_feature_label.txt").write_text(header + "\n" + "\n".join(rows) + "\n")
    splits = root / "geom-gcn" / "splits"
    splits.mkdir(parents=True, exist_ok=True)
    for k in range(10):
        idx = np.roll(np.arange(n), k)
        masks = {key: np.isin(np.arange(n), idx[sl]) for key, sl in
                 (("train_mask", slice(0, 3)), ("val_mask", slice(3, 4)),
                  ("test_mask", slice(4, n)))}
        np.savez(splits / f"{name}_split_0.6_0.2_{k}.npz", **masks)
    return folder


def test_geom_gcn_dense(tmp_path):
    write_geom_gcn(tmp_path, "texas")
    d = load_geom_gcn("texas", tmp_path)
    assert isinstance(d, GraphDataset)
    assert (d.n_nodes, d.n_edges, d.n_classes) == (6, 6, 3)
    A = d.adjacency.toarray()
    np.testing.assert_array_equal(A, A.T)
    assert A.diagonal().sum() == 0
    assert set(np.unique(A)) == {0.0, 1.0}
    np.testing.assert_allclose(d.features.sum(axis=1), 1.0)
    np.testing.assert_allclose(d.features[2], [1 / 3, 1 / 3, 1 / 3, 0])
    # labels 0 1 0 1 2 2 around the cycle: edges (4,5) and (5,0)? 5-0 differ; only 4-5
    assert d.homophily == pytest.approx(1 / 6)
    # the self-loop at node 2 counts as a same-class edge
    assert d.homophily_with_loops == pytest.approx(2 / 7)
    assert len(d.splits) == 10
    assert not (d.splits[0].train & d.splits[0].test).any()
    assert "dropped 1 self-loops and 1 duplicate edges" in d.notes[0]


def test_geom_gcn_sparse_film_layout(tmp_path):
    write_geom_gcn(tmp_path, "film", film=True)
    d = load_geom_gcn("film", tmp_path)
    assert d.features.shape == (6, 4)
    # node 1: indices 1, 2, 1 (a repeated index sets the entry once)
    np.testing.assert_allclose(d.features[1], [0, 0.5, 0.5, 0])


def test_identical_feature_files_warn(tmp_path):
    write_geom_gcn(tmp_path, "texas")
    folder = write_geom_gcn(tmp_path, "cornell")
    src = tmp_path / "geom-gcn" / "new_data" / "texas" / "out1_node_feature_label.txt"
    (folder / "out1_node_feature_label.txt").write_bytes(src.read_bytes())
    with pytest.warns(UserWarning, match="byte-identical to texas's"):
        d = load_geom_gcn("cornell", tmp_path)
    assert any("byte-identical" in note for note in d.notes)


def test_missing_files_and_directories(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECTRAL_SHEAF_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"no data directory.*SPECTRAL_SHEAF_DATA"):
        load_geom_gcn("texas")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        load_geom_gcn("texas", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError,
                       match=r"looked for .*texas.*out1_node_feature_label.txt.*Geom-GCN"):
        load_geom_gcn("texas", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"looked for .*ind\.cora\.x.*Planetoid"):
        load_planetoid("cora", tmp_path)
    with pytest.raises(ValueError, match="name must be one of"):
        load_dataset("imdb", tmp_path)
    write_geom_gcn(tmp_path, "texas")
    monkeypatch.setenv("SPECTRAL_SHEAF_DATA", str(tmp_path))
    assert load_dataset("texas").n_nodes == 6
    with pytest.raises(ValueError, match=r"features must be one of \{'row_normalised', "
                       r"'raw'\}; got 'l2'"):
        load_dataset("texas", features="l2")


def test_raw_features_are_kept_as_published(tmp_path):
    write_geom_gcn(tmp_path, "texas")
    raw = load_dataset("texas", tmp_path, features="raw").features
    norm = load_dataset("texas", tmp_path).features
    np.testing.assert_array_equal(np.unique(raw), [0.0, 1.0])  # the 0/1 file as written
    np.testing.assert_allclose(norm, raw / raw.sum(axis=1, keepdims=True))


def test_bad_splits_are_refused(tmp_path):
    write_geom_gcn(tmp_path, "texas")
    path = tmp_path / "geom-gcn" / "splits" / "texas_split_0.6_0.2_0.npz"
    m = np.zeros(6, dtype=bool)
    m[:3] = True
    np.savez(path, train_mask=m, val_mask=m, test_mask=~m)
    with pytest.raises(ValueError, match="masks overlap"):
        load_geom_gcn("texas", tmp_path)
    np.savez(path, train_mask=np.zeros(6, bool), val_mask=m, test_mask=~m)
    with pytest.raises(ValueError, match="train mask selects no labelled node"):
        load_geom_gcn("texas", tmp_path)
    np.savez(path, train_mask=m[:5], val_mask=m, test_mask=~m)
    with pytest.raises(ValueError, match="train mask has length 5, expected 6"):
        load_geom_gcn("texas", tmp_path)


def test_split_files_without_gaps(tmp_path):
    write_geom_gcn(tmp_path, "texas")
    folder = tmp_path / "geom-gcn" / "splits"
    for k in range(3, 10):  # fewer than ten is a smaller protocol, and noted
        (folder / f"texas_split_0.6_0.2_{k}.npz").unlink()
    d = load_geom_gcn("texas", tmp_path)
    assert len(d.splits) == 3
    assert d.notes[-1] == f"3 splits from {folder / 'texas_split_0.6_0.2_<k>.npz'}"
    assert d.split_note == d.notes[-1]
    (folder / "texas_split_0.6_0.2_1.npz").unlink()  # a gap is a broken layout
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"looked for {folder / 'texas_split_0.6_0.2_<k>.npz'} with k = 0 .. 2; "
            "k = [1] missing")):
        load_geom_gcn("texas", tmp_path)
    for k in (0, 2):
        (folder / f"texas_split_0.6_0.2_{k}.npz").unlink()
    d = load_geom_gcn("texas", tmp_path)
    assert d.splits == []
    assert d.notes[-1].startswith("no split files: looked for ")
    assert d.split_note == d.notes[-1]
    assert GraphDataset("x", d.adjacency, d.features, d.labels, [], 0.0, 0.0).split_note is None


def test_edge_index_out_of_range_is_named(tmp_path):
    folder = write_geom_gcn(tmp_path, "texas")
    edges = folder / "out1_graph_edges.txt"
    edges.write_text(edges.read_text() + "-4\t1\n")
    with pytest.raises(ValueError, match="node index -4 outside the 6 nodes"):
        load_geom_gcn("texas", tmp_path)


def test_data_directory_from_the_environment_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRAL_SHEAF_DATA", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"SPECTRAL_SHEAF_DATA (no data_dir given) '{tmp_path / 'gone'}' is not a "
            "directory")):
        load_dataset("texas")


def write_planetoid(root, name="cora"):
    folder = root / "geom-gcn" / "planetoid"
    folder.mkdir(parents=True)
    # 5 nodes: 0..2 in allx, test rows for nodes 4 and 3 (out of order); node 5 is
    # missing from the test index (as citeseer's isolated nodes are)
    parts = {
        "x": sp.csr_matrix(np.eye(2, 3)),
        "allx": sp.csr_matrix(np.array([[1.0, 0, 0], [0, 2, 0], [0, 0, 1]])),
        "tx": sp.csr_matrix(np.array([[1.0, 1, 0], [0, 1, 1]])),
        "y": np.eye(2),
        "ally": np.array([[1, 0], [0, 1], [1, 0]]),
        "ty": np.array([[0, 1], [1, 0]]),
        "graph": {0: [1, 0], 1: [0, 2], 2: [1], 3: [4], 4: [3, 5], 5: [4]},
    }
    for key, value in parts.items():
        with (folder / f"ind.{name}.{key}").open("wb") as fh:
            pickle.dump(value, fh)
    (folder / f"ind.{name}.test.index").write_text("4\n3\n")


def test_planetoid(tmp_path):
    write_planetoid(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = load_planetoid("cora", tmp_path)
    assert d.n_nodes == 6
    np.testing.assert_array_equal(d.labels, [0, 1, 0, 0, 1, -1])
    # test rows back in node order: node 4 got tx's first row
    np.testing.assert_allclose(d.features[4], [0.5, 0.5, 0])
    np.testing.assert_allclose(d.features[5], 0)  # missing node: zero row
    assert d.n_edges == 4
    assert d.splits == []
    assert "1 unlabelled nodes" in d.notes[1]


def test_heterophilous_npz(tmp_path):
    n = 5
    path = tmp_path / "roman.npz"
    masks = np.zeros((2, n), dtype=bool)
    tr, va, te = masks.copy(), masks.copy(), masks.copy()
    tr[:, :2], va[:, 2], te[:, 3:] = True, True, True
    np.savez(path, node_features=np.arange(10.0).reshape(5, 2), node_labels=[0, 1, 1, 0, 1],
             edges=np.array([[0, 1], [1, 2], [2, 1], [3, 3], [3, 4]]), train_masks=tr,
             val_masks=va, test_masks=te)
    d = load_heterophilous_npz(path)
    assert d.name == "roman"
    assert (d.n_nodes, d.n_edges, len(d.splits)) == (5, 3, 2)
    np.testing.assert_allclose(d.features[1], [2 / 5, 3 / 5])
    np.savez(tmp_path / "bad.npz", node_features=np.ones((2, 2)))
    with pytest.raises(ValueError, match="lacks the keys"):
        load_heterophilous_npz(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="looked for"):
        load_heterophilous_npz(tmp_path / "none.npz")


# ../shared/data/README.md: nodes, undirected edges, classes, features, edge homophily
# (counting self-loops)
EXPECTED = {
    "texas": (183, 279, 5, 1703, 0.11),
    "cornell": (183, 277, 5, 1703, 0.30),
    "film": (7600, 26659, 5, 932, 0.22),
    "chameleon": (2277, 31371, 5, 2325, 0.23),
    "cora": (2708, 5278, 7, 1433, 0.81),
    "citeseer": (3327, 4552, 6, 3703, 0.74),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_shared_data_sets_match_the_readme(shared_data, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cornell's features are texas'
        d = load_dataset(name, shared_data / "graphs")
    n, m, c, f, h = EXPECTED[name]
    assert (d.n_nodes, d.n_edges, d.n_classes, d.features.shape[1]) == (n, m, c, f)
    assert round(d.homophily_with_loops + 1e-9, 2) in (h, round(h + 0.01, 2))
    assert abs(d.homophily_with_loops - h) <= 0.006
    assert len(d.splits) == 10
    if name == "cora":
        assert int(d.splits[0].train.sum() + d.splits[0].val.sum()
                   + d.splits[0].test.sum()) == 2485
    if name == "citeseer":
        assert int((d.labels < 0).sum()) == 15
        covered = [int(s.train.sum() + s.val.sum() + s.test.sum()) for s in d.splits]
        assert covered[4] == covered[5] < covered[0]
