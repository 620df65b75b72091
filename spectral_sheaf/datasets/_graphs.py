"""Node-classification data sets: Geom-GCN, Planetoid and heterophilous-graphs layouts.

Preprocessing, as the Neural Sheaf Diffusion paper and its predecessors do it:

* the graph is symmetrised, self-loops and duplicate edges are dropped (the adjacency
  is 0/1);
* features are row-normalised (each row divided by its sum; all-zero rows stay zero),
  or kept as published with ``features="raw"``;
* unlabelled nodes get label ``-1`` and are removed from every mask.

Nothing is downloaded: the files are read from a data directory, given as an argument
or by the ``SPECTRAL_SHEAF_DATA`` environment variable (the folder that holds
``geom-gcn/``; in this repository ``../shared/data/graphs``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._validation import as_index_array, check_option

__all__ = [
    "GEOM_GCN",
    "PLANETOID",
    "GraphDataset",
    "Split",
    "load_dataset",
    "load_geom_gcn",
    "load_heterophilous_npz",
    "load_planetoid",
]

GEOM_GCN = ("texas", "cornell", "wisconsin", "film", "chameleon", "squirrel")
PLANETOID = ("cora", "citeseer", "pubmed")
FEATURES = ("row_normalised", "raw")
ENV_VAR = "SPECTRAL_SHEAF_DATA"


@dataclass(frozen=True)
class Split:
    """Boolean train / validation / test masks over the nodes."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class GraphDataset:
    """A node-classification data set.

    Attributes
    ----------
    name : str
    adjacency : scipy.sparse.csr_array, shape (n, n)
        Symmetric 0/1, no self-loops.
    features : ndarray, shape (n, f), float64
        Row-normalised, or as published (``features="raw"``).
    labels : ndarray, shape (n,), int64
        Class of each node in ``0 .. n_classes - 1``; ``-1`` for an unlabelled node.
    splits : list of Split
        The published splits (empty when the files hold none).
    homophily : float
        Edge homophily of ``adjacency``: the fraction of edges (between labelled
        nodes) that join nodes of the same class. Published tables often count
        self-loops as same-class edges; :attr:`homophily_with_loops` does.
    homophily_with_loops : float
        The same with the self-loops of the raw edge list counted.
    notes : tuple of str
        What the loader noticed (self-loops and duplicates dropped, ...).
    """

    name: str
    adjacency: sp.csr_array
    features: np.ndarray
    labels: np.ndarray
    splits: list[Split]
    homophily: float
    homophily_with_loops: float
    notes: tuple[str, ...] = field(default=())

    @property
    def split_note(self) -> str | None:
        """The loader's note on the split files (how many, or where none were found)."""
        return next((note for note in self.notes if _SPLIT_NOTE.match(note)), None)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.adjacency.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.labels.max()) + 1


def data_directory(data_dir: str | Path | None) -> Path:
    """Return the data directory: the argument, else ``$SPECTRAL_SHEAF_DATA``."""
    if data_dir is None:
        env = os.environ.get(ENV_VAR)
        if env is None:
            raise FileNotFoundError(
                f"no data directory: pass data_dir=... or set {ENV_VAR} to the folder "
                "that holds geom-gcn/ (in this repository: ../shared/data/graphs)"
            )
        data_dir = env
        source = f"{ENV_VAR} (no data_dir given)"
    else:
        source = "data_dir"
    path = Path(data_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"{source} {str(path)!r} is not a directory")
    return path


def _need(path: Path, layout: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"looked for {path}, which is missing; expected {layout}")
    return path


def _symmetric_adjacency(edges: np.ndarray, n: int) -> tuple[sp.csr_array, int, int]:
    """0/1 symmetric adjacency; returns it with the self-loops and duplicates dropped."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    loops = edges[:, 0] == edges[:, 1]
    e = np.sort(edges[~loops], axis=1)
    uniq = np.unique(e, axis=0)
    rows = np.concatenate([uniq[:, 0], uniq[:, 1]])
    cols = np.concatenate([uniq[:, 1], uniq[:, 0]])
    A = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, n))
    A.sort_indices()
    return A, int(loops.sum()), int(len(e) - len(uniq))


def _row_normalise(X: np.ndarray) -> np.ndarray:
    s = X.sum(axis=1, keepdims=True)
    return np.divide(X, s, out=np.zeros_like(X), where=s != 0)


def _homophily(A: sp.csr_array, labels: np.ndarray, n_loops: int,
               loop_nodes: np.ndarray) -> tuple[float, float]:
    coo = sp.triu(A, k=1).tocoo()
    keep = (labels[coo.row] >= 0) & (labels[coo.col] >= 0)
    same = int((labels[coo.row] == labels[coo.col])[keep].sum())
    total = int(keep.sum())
    loop_nodes = np.unique(loop_nodes)  # a loop listed twice is still one loop
    labelled_loops = int((labels[loop_nodes] >= 0).sum()) if n_loops else 0
    h = same / total if total else float("nan")
    h_loops = (same + labelled_loops) / (total + labelled_loops) if total else float("nan")
    return h, h_loops


def _check_split(split: Split, labels: np.ndarray, where: str) -> Split:
    n = labels.shape[0]
    masks = []
    for key, m in (("train", split.train), ("val", split.val), ("test", split.test)):
        m = np.asarray(m, dtype=bool).reshape(-1)
        if m.shape[0] != n:
            raise ValueError(f"{where}: {key} mask has length {m.shape[0]}, expected {n}")
        masks.append(m & (labels >= 0))  # unlabelled nodes are excluded
    train, val, test = masks
    if (train & val).any() or (train & test).any() or (val & test).any():
        raise ValueError(f"{where}: the train, val and test masks overlap")
    if not train.any():
        raise ValueError(f"{where}: the train mask selects no labelled node")
    return Split(train, val, test)


# the two forms of _read_splits' note
_SPLIT_NOTE = re.compile(r"\d+ splits from |no split files: ")


def _read_splits(data_dir: Path, name: str, labels: np.ndarray) -> tuple[list[Split], str]:
    """Read the split files ``<name>_split_0.6_0.2_<k>.npz`` (k = 0, 1, ...); add a note.

    None at all is allowed (the data set then has no splits, and the note says where
    they were looked for); a gap (file k missing, a later one present) is an error.
    """
    folder = data_dir / "geom-gcn" / "splits"

    def path(k: int | str) -> Path:
        return folder / f"{name}_split_0.6_0.2_{k}.npz"

    pattern = path("<k>")
    present = [k for k in range(10) if path(k).is_file()]
    if present != list(range(len(present))):
        missing = sorted(set(range(max(present) + 1)) - set(present))
        raise FileNotFoundError(f"looked for {pattern} with k = 0 .. "
                                f"{max(present)}; k = {missing} missing (the Geom-GCN layout "
                                f"numbers its splits 0 to 9 without gaps)")
    splits = []
    for k in present:
        with np.load(path(k)) as z:
            splits.append(_check_split(Split(z["train_mask"], z["val_mask"], z["test_mask"]),
                                       labels, str(path(k))))
    note = (f"{len(splits)} splits from {pattern}" if splits else
            f"no split files: looked for {pattern}")
    return splits, note


def _parse_feature_label_file(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``id<TAB>features<TAB>label`` rows; dense 0/1 or (film) active indices."""
    lines = np.array(path.read_text().splitlines()[1:])
    header = path.read_text().split("\n", 1)[0]
    parts = np.char.partition(lines, "\t")
    ids = parts[:, 0].astype(np.int64)
    feat_label = np.char.rpartition(parts[:, 2], "\t")
    labels = feat_label[:, 2].astype(np.int64)
    feats = feat_label[:, 0]
    if "feature_amount" in header:  # film: indices of the active entries
        dim = int(header.split("feature_amount:")[1].split(")")[0]) + 1
        lists = np.char.split(feats, ",")
        counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        cols = np.concatenate(lists).astype(np.int64)
        rows = np.repeat(np.arange(len(lines)), counts)
        X = np.zeros((len(lines), dim))
        X[rows, cols] = 1.0  # a repeated index sets the same entry
    else:
        text = ",".join(feats)
        raw = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        if raw.size % 2 and not re.search(r"[^01,]", text) and (raw[1::2] == 44).all():
            flat = (raw[::2] - 48).astype(np.float64)  # single 0/1 digits: no float parse
        else:
            flat = np.fromstring(text, dtype=np.float64, sep=",")
        X = flat.reshape(len(lines), -1)
    order = np.argsort(ids)
    if not np.array_equal(ids[order], np.arange(len(ids))):
        raise ValueError(f"{path}: node ids are not 0 .. n-1")
    return X[order], labels[order], ids


def _identical_siblings(path: Path, name: str) -> list[str]:
    """Other Geom-GCN data sets in the same folder whose feature file has these bytes."""
    out = []
    size = path.stat().st_size
    data = None
    for other in GEOM_GCN:
        twin = path.parents[1] / other / path.name
        if other == name or not twin.is_file() or twin.stat().st_size != size:
            continue
        data = path.read_bytes() if data is None else data
        if hashlib.sha256(twin.read_bytes()).digest() == hashlib.sha256(data).digest():
            out.append(other)
    return out


def load_geom_gcn(name: str, data_dir: str | Path | None = None, *,
                  features: str = "row_normalised") -> GraphDataset:
    """Load a Geom-GCN data set (texas, cornell, wisconsin, film, chameleon, squirrel).

    Layout under ``data_dir``: ``geom-gcn/new_data/<name>/out1_graph_edges.txt`` (a
    header line, then ``src<TAB>dst``), ``geom-gcn/new_data/<name>/
    out1_node_feature_label.txt`` (a header line, then ``id<TAB>features<TAB>label``;
    dense comma-separated values, or for film active indices) and
    ``geom-gcn/splits/<name>_split_0.6_0.2_<k>.npz`` (``train_mask``, ``val_mask``,
    ``test_mask``) for k = 0..9.

    Warns when the feature file is byte-identical to another Geom-GCN data set's in
    the same folder (the published cornell file is texas'). ``features``: see
    :func:`load_dataset`.
    """
    check_option(name, "name", GEOM_GCN)
    check_option(features, "features", FEATURES)
    root = data_directory(data_dir)
    folder = root / "geom-gcn" / "new_data" / name
    layout = (f"the Geom-GCN layout geom-gcn/new_data/{name}/out1_graph_edges.txt and "
              "out1_node_feature_label.txt under data_dir")
    feat_path = _need(folder / "out1_node_feature_label.txt", layout)
    edge_path = _need(folder / "out1_graph_edges.txt", layout)
    twins = _identical_siblings(feat_path, name)
    notes = []
    if twins:
        msg = (f"{name}'s feature/label file is byte-identical to {twins[0]}'s; the "
               "published numbers for it were obtained that way")
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)
    X, labels, _ = _parse_feature_label_file(feat_path)
    edges = np.loadtxt(edge_path, skiprows=1, dtype=np.int64, ndmin=2)
    n = X.shape[0]
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        bad = int(edges.min()) if edges.min() < 0 else int(edges.max())
        raise ValueError(f"{edge_path}: node index {bad} outside the {n} nodes "
                         "of the feature file")
    A, n_loops, n_dup = _symmetric_adjacency(edges, n)
    loops = edges[edges[:, 0] == edges[:, 1], 0]
    notes.append(f"dropped {n_loops} self-loops and {n_dup} duplicate edges")
    h, h_loops = _homophily(A, labels, n_loops, loops)
    X = _preprocess(X, features)
    splits, split_note = _read_splits(root, name, labels)
    return GraphDataset(name, A, X, labels, splits, h, h_loops, (*notes, split_note))


def load_planetoid(name: str, data_dir: str | Path | None = None, *,
                   features: str = "row_normalised") -> GraphDataset:
    """Load cora, citeseer or pubmed from the Planetoid pickles (Yang et al. 2016).

    Layout under ``data_dir``: ``geom-gcn/planetoid/ind.<name>.{x,tx,allx,y,ty,ally,
    graph,test.index}`` (latin-1 pickles of scipy sparse feature matrices, one-hot
    labels and a dict-of-lists graph; a text file of test indices). The test rows are
    put back in node order; citeseer's test indices skip 15 isolated nodes, which get
    zero features and label -1. The Geom-GCN splits (``geom-gcn/splits/``) are attached
    when present. ``features``: see :func:`load_dataset`.
    """
    check_option(name, "name", PLANETOID)
    check_option(features, "features", FEATURES)
    root = data_directory(data_dir)
    folder = root / "geom-gcn" / "planetoid"
    layout = f"the Planetoid pickles geom-gcn/planetoid/ind.{name}.* under data_dir"
    parts = {}
    for key in ("x", "tx", "allx", "y", "ty", "ally", "graph"):
        with _need(folder / f"ind.{name}.{key}", layout).open("rb") as fh, \
                warnings.catch_warnings():
            # the pickles name scipy.sparse.csr.csr_matrix, a deprecated module path
            warnings.simplefilter("ignore", DeprecationWarning)
            parts[key] = pickle.load(fh, encoding="latin1")  # the data set's own format
    test_index = np.loadtxt(_need(folder / f"ind.{name}.test.index", layout), dtype=np.int64)
    allx = sp.csr_array(parts["allx"])
    tx = sp.csr_array(parts["tx"])
    ally, ty = np.asarray(parts["ally"]), np.asarray(parts["ty"])
    graph = parts["graph"]
    src = np.repeat(np.fromiter(graph.keys(), dtype=np.int64),
                    [len(v) for v in graph.values()])
    dst = as_index_array(np.concatenate([np.asarray(v, dtype=np.int64) for v in
                                         graph.values()]), "graph")
    edges = np.column_stack([src, dst])
    # nodes: the graph's, the training rows and the test rows (citeseer's test index
    # skips isolated nodes, which then have no features)
    n = max(int(test_index.max()) + 1, allx.shape[0] + tx.shape[0], int(edges.max()) + 1)
    X = np.zeros((n, allx.shape[1]))
    Y = np.zeros((n, ally.shape[1]))
    X[: allx.shape[0]] = allx.toarray()
    Y[: ally.shape[0]] = ally
    X[test_index] = tx.toarray()
    Y[test_index] = ty
    labels = np.where(Y.any(axis=1), Y.argmax(axis=1), -1).astype(np.int64)
    A, n_loops, n_dup = _symmetric_adjacency(edges, n)
    loops = edges[edges[:, 0] == edges[:, 1], 0]
    h, h_loops = _homophily(A, labels, n_loops, loops)
    notes = (f"dropped {n_loops} self-loops and {n_dup} duplicate edges",
             f"{int((labels < 0).sum())} unlabelled nodes (label -1)")
    X = _preprocess(X, features)
    splits, split_note = _read_splits(root, name, labels)
    return GraphDataset(name, A, X, labels, splits, h, h_loops, (*notes, split_note))


def load_heterophilous_npz(path: str | Path, *, name: str | None = None,
                           features: str = "row_normalised") -> GraphDataset:
    """Load the heterophilous-graphs ``.npz`` layout (Platonov et al. 2023).

    Keys: ``node_features (n, f)``, ``node_labels (n,)``, ``edges (m, 2)``, and
    ``train_masks``, ``val_masks``, ``test_masks`` of shape (k, n). ``features``: see
    :func:`load_dataset`.
    """
    path = Path(path)
    keys = ("node_features", "node_labels", "edges", "train_masks", "val_masks", "test_masks")
    layout = "an .npz with keys " + ", ".join(keys)
    with np.load(_need(path, layout)) as z:
        missing = [k for k in keys if k not in z.files]
        if missing:
            raise ValueError(f"{path} lacks the keys {missing}; expected {layout}")
        data = {k: z[k] for k in keys}
    X = np.asarray(data["node_features"], dtype=np.float64)
    labels = as_index_array(data["node_labels"], "node_labels")
    n = X.shape[0]
    if labels.shape != (n,):
        raise ValueError(f"{path}: node_labels has shape {labels.shape}, expected ({n},)")
    edges = as_index_array(data["edges"], "edges").reshape(-1, 2)
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        raise ValueError(f"{path}: edges index nodes outside [0, {n})")
    A, n_loops, n_dup = _symmetric_adjacency(edges, n)
    loops = edges[edges[:, 0] == edges[:, 1], 0]
    h, h_loops = _homophily(A, labels, n_loops, loops)
    tr, va, te = (np.atleast_2d(data[k]) for k in keys[3:])
    splits = [_check_split(Split(tr[i], va[i], te[i]), labels, f"{path} split {i}")
              for i in range(tr.shape[0])]
    X = _preprocess(X, features)
    return GraphDataset(name or path.stem, A, X, labels, splits, h, h_loops,
                        (f"dropped {n_loops} self-loops and {n_dup} duplicate edges",))


def load_dataset(name: str, data_dir: str | Path | None = None, *,
                 features: str = "row_normalised") -> GraphDataset:
    """Load a data set by name: Geom-GCN or Planetoid (see their loaders).

    ``features``: ``"row_normalised"`` (each row divided by its sum, the usual
    preprocessing) or ``"raw"`` (as published: 0/1 bag-of-words for the Geom-GCN
    sets, cora and citeseer; TF-IDF for pubmed). On chameleon the
    raw features work much better: a two-layer GCN reached 54 to 59 % on splits 0-2
    with row-normalised ones and 61 to 66 % with raw ones (the published GCN figure
    is 64.8 %), and the sheaf learner moved likewise.
    """
    check_option(name, "name", GEOM_GCN + PLANETOID)
    check_option(features, "features", FEATURES)
    if name in PLANETOID:
        return load_planetoid(name, data_dir, features=features)
    return load_geom_gcn(name, data_dir, features=features)


def _preprocess(X: np.ndarray, features: str) -> np.ndarray:
    check_option(features, "features", FEATURES)
    return _row_normalise(X) if features == "row_normalised" else np.asarray(X, float)

