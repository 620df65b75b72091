"""The estimator: training, the sklearn protocol, the learned sheaf, bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.base import clone

from spectral_sheaf.datasets import GraphDataset, Split
from spectral_sheaf.graphs import contextual_sbm
from spectral_sheaf.learn import SheafDiffusionClassifier, evaluate_splits
from spectral_sheaf.sheaf import Sheaf


@pytest.fixture(scope="module")
def heterophilous():
    data = contextual_sbm(300, n_classes=2, avg_degree=8.0, homophily=0.05, n_features=8,
                          class_separation=0.6, rng=0)
    rng = np.random.default_rng(0)
    order = rng.permutation(300)
    train = np.zeros(300, dtype=bool)
    val = np.zeros(300, dtype=bool)
    train[order[:150]] = True
    val[order[150:225]] = True
    return data, train, val, ~(train | val)


def test_training_lowers_the_loss(heterophilous):
    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf="diag", d=2, hidden=8, layers=2, dropout=0.0,
                                     epochs=60, patience=60, random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    losses = [h["loss"] for h in model.history_]
    assert losses[-1] < 0.5 * losses[0]
    assert 1 <= model.best_epoch_ <= 60


@pytest.mark.parametrize("stop_on", ["acc", "loss"])
def test_best_epoch_follows_stop_on(heterophilous, stop_on):
    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf="diag", d=2, hidden=8, layers=2, dropout=0.3,
                                     epochs=80, patience=15, stop_on=stop_on,
                                     random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    h = model.history_
    val_loss = np.array([e["val_loss"] for e in h])
    val_acc = np.array([e["val_acc"] for e in h])
    best = model.best_epoch_ - 1
    if stop_on == "loss":
        assert val_loss[best] == val_loss.min()
    else:
        assert val_acc[best] == val_acc.max()
        assert val_loss[best] == val_loss[val_acc == val_acc.max()].min()
    # patience: the run stopped exactly `patience` epochs after the best one, or at the end
    assert len(h) in (model.best_epoch_ + 15, 80)
    # the kept weights are the best epoch's: the validation score is reproduced
    assert model.score(data.labels, val) == pytest.approx(val_acc[best])


def test_learned_sheaf_beats_the_identity_sheaf_under_heterophily(heterophilous):
    # a learned O(2) sheaf can flip signs across edges (Bodnar et al. 2022, Prop. 13);
    # the same model with every map fixed to the identity (a constant sheaf) cannot
    data, train, val, test = heterophilous
    kw = {"d": 2, "hidden": 8, "layers": 2, "dropout": 0.0, "epochs": 150, "patience": 150,
          "lr": 0.02, "weight_decay": 0.0}
    learned = SheafDiffusionClassifier(sheaf="orthogonal", random_state=0, **kw)
    learned.fit(data.adjacency, data.features, data.labels, train, val)
    frozen = SheafDiffusionClassifier(sheaf="identity", random_state=0, **kw)
    frozen.fit(data.adjacency, data.features, data.labels, train, val)
    maps = frozen.learned_sheaf(0).maps
    np.testing.assert_allclose(maps, np.broadcast_to(np.eye(2), maps.shape), atol=1e-12)
    acc_learned = learned.score(data.labels, test)
    acc_frozen = frozen.score(data.labels, test)
    assert acc_learned > acc_frozen + 0.05, (acc_learned, acc_frozen)


def test_sklearn_protocol(heterophilous):
    data, train, val, test = heterophilous
    model = SheafDiffusionClassifier(sheaf="general", d=2, hidden=4, layers=1, epochs=5,
                                     random_state=3)
    assert clone(model).get_params()["sheaf"] == "general"
    model.set_params(hidden=6)
    assert model.hidden == 6
    with pytest.raises(RuntimeError, match="not fitted yet"):
        model.predict()
    model.fit(data.adjacency, data.features, data.labels, train, val)
    proba = model.predict_proba()
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(), proba.argmax(axis=1))
    assert model.predict(test).shape == (int(test.sum()),)
    assert 0.0 <= model.score(data.labels, test) <= 1.0
    with pytest.raises(ValueError, match=re.escape(
            "mask must have shape (300,) (one entry per node of the fitted graph); got (5,)")):
        model.predict(test[:5])
    with pytest.raises(TypeError, match="mask must be a boolean array; got dtype int64"):
        model.predict_proba(test.astype(np.int64))
    with pytest.raises(ValueError, match=re.escape("labels must have shape (300,) (one per "
                                                   "node of the fitted graph); got (299,)")):
        model.score(data.labels[:299], test)
    with pytest.raises(ValueError, match="mask selects no labelled node; there is nothing"):
        model.score(data.labels, np.zeros(300, dtype=bool))
    sheaf = model.learned_sheaf(0)
    assert isinstance(sheaf, Sheaf)
    assert sheaf.maps.shape == (data.adjacency.nnz // 2, 2, 2, 2)
    with pytest.raises(ValueError, match="layer must be < 1"):
        model.learned_sheaf(1)
    # seeded: the same fit twice gives the same weights
    again = clone(model).fit(data.adjacency, data.features, data.labels, train, val)
    for key in model.params_:
        np.testing.assert_array_equal(model.params_[key], again.params_[key])


def test_bad_input(heterophilous):
    data, train, val, _ = heterophilous
    A, X, y = data.adjacency, data.features, data.labels
    m = SheafDiffusionClassifier(epochs=1)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="features must contain only finite"):
        m.fit(A, Xn, y, train, val)
    with pytest.raises(ValueError, match=r"adjacency must be \(299, 299\)"):
        m.fit(A, X[:299], y[:299], train[:299], val[:299])
    with pytest.raises(ValueError, match=r"labels must have shape \(300,\)"):
        m.fit(A, X, y[:5], train, val)
    with pytest.raises(ValueError, match="labels must be >= 0"):
        m.fit(A, X, np.full(300, -3), train, val)
    with pytest.raises(ValueError, match="train_mask and val_mask must not overlap"):
        m.fit(A, X, y, train, train)
    with pytest.raises(ValueError, match="train_mask must select at least one node"):
        m.fit(A, X, y, np.zeros(300, bool), val)
    with pytest.raises(TypeError, match="train_mask must be a boolean array"):
        m.fit(A, X, y, train.astype(int), val)
    with pytest.raises(ValueError, match=r"val_mask must have shape \(300,\)"):
        m.fit(A, X, y, train, val[:10])
    yu = y.copy()
    yu[np.flatnonzero(train)[0]] = -1
    with pytest.raises(ValueError, match=r"train_mask selects 1 unlabelled nodes \(label -1\)"):
        m.fit(A, X, yu, train, val)
    yu = y.copy()
    yu[np.flatnonzero(val)[:2]] = -1
    with pytest.raises(ValueError, match=r"val_mask selects 2 unlabelled nodes \(label -1\)"):
        m.fit(A, X, yu, train, val)
    with pytest.raises(TypeError, match="callback must be callable or None; got int"):
        m.fit(A, X, y, train, val, callback=3)
    with pytest.raises(ValueError, match="sheaf must be one of"):
        SheafDiffusionClassifier(sheaf="free", epochs=1).fit(A, X, y, train, val)
    with pytest.raises(ValueError, match="d must be"):
        SheafDiffusionClassifier(sheaf="orthogonal", d=1, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(ValueError, match=r"dropout must lie in \[0.0, 0.99\]; got 1.5"):
        SheafDiffusionClassifier(dropout=1.5, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(ValueError, match="lr must be"):
        SheafDiffusionClassifier(lr=0.0, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(TypeError, match="low_pass must be True or False; got str 'yes'"):
        SheafDiffusionClassifier(low_pass="yes", epochs=1).fit(A, X, y, train, val)
    with pytest.raises(TypeError, match=r"high_pass must be True or False; got float 1\.0"):
        SheafDiffusionClassifier(high_pass=1.0, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(TypeError, match="shared_maps must be True or False; got int 1"):
        SheafDiffusionClassifier(shared_maps=1, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(ValueError, match=r"stop_on must be one of \{'acc', 'loss'\}; got 'f1'"):
        SheafDiffusionClassifier(stop_on="f1", epochs=1).fit(A, X, y, train, val)
    with pytest.raises(ValueError, match=re.escape(
            "edge_weights=True needs sheaf='orthogonal' (the weights scale orthogonal maps, "
            "which cannot weaken an edge alone); got sheaf='diag'")):
        SheafDiffusionClassifier(edge_weights=True, epochs=1).fit(A, X, y, train, val)
    with pytest.raises(TypeError, match="second_linear must be True or False; got str 'no'"):
        SheafDiffusionClassifier(second_linear="no", epochs=1).fit(A, X, y, train, val)
    with pytest.raises(TypeError, match="edge_weights must be True or False; got int 1"):
        SheafDiffusionClassifier(sheaf="orthogonal", edge_weights=1,
                                 epochs=1).fit(A, X, y, train, val)

def test_adjacency_must_be_undirected_and_zeros_are_no_edges(heterophilous):
    import scipy.sparse as sp

    data, train, val, _ = heterophilous
    A, X, y = data.adjacency, data.features, data.labels
    m = SheafDiffusionClassifier(d=2, hidden=2, layers=1, epochs=3, random_state=0)
    # one triangle of the graph only: once it gave a graph without edges, silently
    with pytest.raises(ValueError, match=re.escape(
            "adjacency must be symmetric (an undirected graph: every edge stored both "
            "ways); got max |A - A.T| = 1. Symmetrise it first, e.g. A.maximum(A.T)")):
        m.fit(sp.tril(A, k=-1), X, y, train, val)
    # a weighted copy with stored zeros beside its edges trains on the same graph: only
    # the pattern of non-zeros counts, and a stored zero is no edge
    W = sp.csr_array(A, copy=True)
    W.data[:] = np.random.default_rng(0).uniform(0.5, 2.0, W.nnz)
    W = sp.csr_array(W + W.T).tocoo()
    u, v = next((u, v) for u in range(300) for v in range(u + 1, 300) if A[u, v] == 0)
    W = sp.csr_array((np.r_[W.data, 0.0, 0.0], (np.r_[W.row, u, v], np.r_[W.col, v, u])),
                     shape=A.shape)
    assert W.nnz == A.nnz + 2  # the two zeros are stored
    W_before = W.copy()
    # and dense, boolean and integer forms of the same graph are the same graph
    dense = A.toarray()
    forms = (A, W, dense, dense.astype(bool), dense.astype(np.int8))
    fitted = [clone(m).fit(B, X, y, train, val) for B in forms]
    for other in fitted[1:]:
        np.testing.assert_array_equal(fitted[0].graph_.edges, other.graph_.edges)
        for key in fitted[0].params_:
            np.testing.assert_array_equal(fitted[0].params_[key], other.params_[key])
    # the caller's matrix is not touched (its values, its stored zeros)
    assert W.nnz == W_before.nnz
    np.testing.assert_array_equal(W.data, W_before.data)
    # a non-square adjacency is refused before any kernel reads it
    with pytest.raises(ValueError, match=re.escape(
            "adjacency must be (300, 300) to match features' 300 rows; got (300, 299)")):
        m.fit(A[:, :299], X, y, train, val)


def test_callback_sees_every_epoch_and_can_stop_training(heterophilous):
    data, train, val, _ = heterophilous
    seen = []

    def stop_at_7(epoch, record):
        seen.append((epoch, record["val_acc"]))
        record["val_acc"] = -1.0  # a copy: the history keeps its own
        return np.True_ if epoch == 7 else 0

    model = SheafDiffusionClassifier(d=2, hidden=4, layers=1, epochs=50, patience=50,
                                     random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val, callback=stop_at_7)
    assert [e for e, _ in seen] == list(range(1, 8))
    assert len(model.history_) == 7
    assert model.best_epoch_ <= 7
    assert [h["val_acc"] for h in model.history_] == [a for _, a in seen]

def test_ten_split_protocol(heterophilous):
    data, train, val, test = heterophilous
    ds = GraphDataset("csbm", data.adjacency, data.features, data.labels,
                      [Split(train, val, test), Split(val, train, test)], 0.05, 0.05)
    est = SheafDiffusionClassifier(d=2, hidden=4, layers=1, epochs=10, random_state=1)
    res = evaluate_splits(ds, est)
    assert len(res.splits) == 2
    assert all(s.epochs <= 10 for s in res.splits)
    # each split is the estimator refitted with seed random_state + i, scored on its
    # test nodes at the epoch of best validation accuracy (the weights fit keeps)
    for s, split in zip(res.splits, ds.splits, strict=True):
        model = clone(est).set_params(random_state=1 + s.split).fit(
            data.adjacency, data.features, data.labels, split.train, split.val)
        assert s.test_acc == model.score(data.labels, split.test)
        assert s.val_acc == model.score(data.labels, split.val)
        h = model.history_  # ties in accuracy go to the lower validation loss
        best = max(range(len(h)), key=lambda e: (h[e]["val_acc"], -h[e]["val_loss"]))
        assert s.best_epoch == model.best_epoch_ == 1 + best
        assert s.val_acc == pytest.approx(h[best]["val_acc"])
    assert res.mean == pytest.approx(50 * (res.splits[0].test_acc + res.splits[1].test_acc))
    assert res.std == pytest.approx(50 * abs(res.splits[0].test_acc - res.splits[1].test_acc))
    # a Generator gives split i the i-th seed it draws
    drawn = np.random.default_rng(5).integers(0, 2**63 - 1, size=2)
    by_stream = evaluate_splits(ds, clone(est).set_params(random_state=np.random.default_rng(5)),
                                splits=np.array([1]))
    model = clone(est).set_params(random_state=int(drawn[1])).fit(
        data.adjacency, data.features, data.labels, val, train)
    assert by_stream.splits[0].test_acc == model.score(data.labels, test)
    assert type(by_stream.splits[0].split) is int  # from a numpy index: JSON-ready
    with pytest.raises(ValueError, match=r"dataset 'x' has no splits$"):
        evaluate_splits(GraphDataset("x", data.adjacency, data.features, data.labels, [],
                                     0.0, 0.0))
    with pytest.raises(ValueError, match=re.escape(
            "dataset 'x' has no splits (no split files: looked for /d/x_<k>.npz)")):
        evaluate_splits(GraphDataset("x", data.adjacency, data.features, data.labels, [],
                                     0.0, 0.0, ("1 unlabelled nodes (label -1)",
                                                "no split files: looked for /d/x_<k>.npz")))
    with pytest.raises(ValueError, match=re.escape(
            "splits must be indices in 0..1 (dataset 'csbm' has 2 splits); got 2")):
        evaluate_splits(ds, est, splits=[0, 2])
    with pytest.raises(TypeError, match="splits must be an integer; got bool True"):
        evaluate_splits(ds, est, splits=[True])
    with pytest.raises(ValueError, match=re.escape("splits must name each split once; got "
                                                   "[1, 1]")):
        evaluate_splits(ds, est, splits=[1, 1])
    with pytest.raises(ValueError, match="random_state must be a non-negative integer seed"):
        evaluate_splits(ds, clone(est).set_params(random_state=-1))
    with pytest.raises(ValueError, match="splits must name at least one split; got none"):
        evaluate_splits(ds, est, splits=[])
    no_val = GraphDataset("novalid", data.adjacency, data.features, data.labels,
                          [Split(train, np.zeros(300, bool), test)], 0.05, 0.05)
    with pytest.raises(ValueError, match="split 0 of dataset 'novalid' has an empty "
                       "validation or test mask"):
        evaluate_splits(no_val, est)


def test_progress_bar(heterophilous, capsys, monkeypatch):
    import io
    import sys

    data, train, val, test = heterophilous
    ds = GraphDataset("csbm", data.adjacency, data.features, data.labels,
                      [Split(train, val, test)] * 2, 0.05, 0.05)
    est = SheafDiffusionClassifier(d=2, hidden=4, layers=1, epochs=4, random_state=0)
    evaluate_splits(ds, est, progress=True)
    lines = capsys.readouterr().err.splitlines()  # not a terminal: a line per split
    assert len(lines) == 2
    assert re.fullmatch(r"\[1/2\] csbm split 0: test \d+\.\d\d% \(val \d+\.\d\d%, best "
                        r"epoch \d of 4, \d+\.\d s\)", lines[0])
    assert lines[1].startswith("[2/2] csbm split 1: test ")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    monkeypatch.setattr("spectral_sheaf.learn._train.time.perf_counter",
                        iter(np.arange(0.0, 1000.0, 1.0)).__next__)
    evaluate_splits(ds, est, splits=[1], progress=True)
    out = term.getvalue()
    # redrawn in place every epoch here (the clock steps 1 s a call), then the line
    assert out.count("\r") == 4 + 1
    assert "csbm [#####---------------] split 1 (1/1) epoch 1/4, val acc " in out
    assert "csbm [####################] split 1 (1/1) epoch 4/4" in out
    assert out.rstrip("\n").rsplit("\r", 1)[1].startswith("[1/1] csbm split 1: test ")


def test_dirichlet_energies_per_layer(heterophilous):
    from spectral_sheaf.learn._train import _layer_states
    from spectral_sheaf.sheaf import sheaf_laplacian

    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf="general", d=2, hidden=4, layers=3, epochs=5,
                                     random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    E = model.dirichlet_energies()
    assert E.shape == (3, 2)
    assert (E >= 0).all()
    # against the assembled normalised sheaf Laplacian, layer by layer
    states = _layer_states(model.params_, model.features_, model.graph_, model.config_)
    for layer, (sheaf, x_in, x_out) in enumerate(states):
        L = sheaf_laplacian(sheaf, normalization="augmented")
        for col, x in enumerate((x_in, x_out)):
            X = x.reshape(-1, 4)
            assert E[layer, col] == pytest.approx(float(np.sum(X * (L @ X))), rel=1e-10)
    with pytest.raises(RuntimeError, match="not fitted"):
        SheafDiffusionClassifier().dirichlet_energies()


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general"])
def test_low_pass_dimension_is_plain_graph_diffusion(heterophilous, sheaf):
    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf=sheaf, d=2, hidden=3, layers=2, epochs=5,
                                     low_pass=True, random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    assert model.params_["W1_0"].shape == (3, 3)
    assert model.params_["W_in"].shape == (8, 9)
    maps = model.learned_sheaf(1).maps  # (m, 2, 3, 3): block diag(learned 2 x 2, 1)
    assert maps.shape[1:] == (2, 3, 3)
    np.testing.assert_array_equal(maps[..., 2, 2], 1.0)
    np.testing.assert_array_equal(maps[..., :2, 2], 0.0)
    np.testing.assert_array_equal(maps[..., 2, :2], 0.0)
    assert np.abs(maps[..., :2, :2]).max() > 0.05  # the learned block is not fixed
    assert model.dirichlet_energies().shape == (2, 2)


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general", "identity"])
def test_high_pass_dimension_is_signless_diffusion(heterophilous, sheaf):
    """With both fixed dimensions, d = 2: stalks of 4, the learned 2 x 2 block, then the
    low-pass dimension (maps 1, 1: the Laplacian D - A) and the high-pass one (maps 1 and
    -1: the signless D + A)."""
    from spectral_sheaf.sheaf import sheaf_laplacian

    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf=sheaf, d=2, hidden=3, layers=2, epochs=5,
                                     low_pass=True, high_pass=True, random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    assert model.params_["W1_0"].shape == (4, 4)
    sheaf_1 = model.learned_sheaf(1)
    maps = sheaf_1.maps  # (m, 2, 4, 4)
    np.testing.assert_array_equal(maps[:, :, 2, 2], 1.0)
    np.testing.assert_array_equal(maps[:, 0, 3, 3], 1.0)
    np.testing.assert_array_equal(maps[:, 1, 3, 3], -1.0)
    np.testing.assert_array_equal(maps[..., :2, 2:], 0.0)
    np.testing.assert_array_equal(maps[..., 2:, :2], 0.0)
    np.testing.assert_array_equal(maps[..., 2, 3], 0.0)
    if sheaf == "identity":
        np.testing.assert_array_equal(maps[..., :2, :2],
                                      np.broadcast_to(np.eye(2), maps[..., :2, :2].shape))
    else:
        assert np.abs(maps[..., :2, :2]).max() > 0.05  # learned, not fixed
    L = sheaf_laplacian(sheaf_1)
    L = L.toarray() if hasattr(L, "toarray") else np.asarray(L)
    A = data.adjacency.toarray()
    D = np.diag(A.sum(axis=1))
    n = A.shape[0]
    np.testing.assert_allclose(L[2::4, 2::4], D - A, atol=1e-12)
    np.testing.assert_allclose(L[3::4, 3::4], D + A, atol=1e-12)
    np.testing.assert_allclose(L[3::4, 2::4], np.zeros((n, n)), atol=1e-12)
    assert model.dirichlet_energies().shape == (2, 2)


def test_shared_maps_give_every_layer_the_same_sheaf(heterophilous):
    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf="general", d=2, hidden=3, layers=3, epochs=5,
                                     shared_maps=True, random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    assert "P0" in model.params_
    assert "P1" not in model.params_  # one sheaf learner
    first = model.learned_sheaf(0).maps
    assert np.abs(first).max() > 0.05
    for layer in (1, 2):
        np.testing.assert_array_equal(model.learned_sheaf(layer).maps, first)
    per_layer = SheafDiffusionClassifier(sheaf="general", d=2, hidden=3, layers=3, epochs=5,
                                         random_state=0)
    per_layer.fit(data.adjacency, data.features, data.labels, train, val)
    assert not np.array_equal(per_layer.learned_sheaf(1).maps, per_layer.learned_sheaf(0).maps)


@pytest.mark.parametrize("second_linear", [False, True])
def test_edge_weights_scale_both_maps_of_an_edge(heterophilous, second_linear):
    """The learned sheaf holds w_e Q: Q^T Q = w_e^2 I on both sides, w_e in (0, 1).

    (With ``second_linear`` too: the per-layer states then start after the second map.)
    """
    from spectral_sheaf.learn._kernels import laplacian_forward_orth
    from spectral_sheaf.sheaf import sheaf_laplacian

    data, train, val, _ = heterophilous
    model = SheafDiffusionClassifier(sheaf="orthogonal", d=2, hidden=3, layers=2, epochs=5,
                                     edge_weights=True, second_linear=second_linear,
                                     random_state=0)
    model.fit(data.adjacency, data.features, data.labels, train, val)
    assert model.params_["Pw1"].shape == (12, 1)
    maps = model.learned_sheaf(1).maps  # (m, 2, 2, 2)
    gram = np.einsum("esji,esjk->esik", maps, maps)
    w2 = gram[..., 0, 0]
    np.testing.assert_allclose(gram, w2[..., None, None] * np.eye(2), atol=1e-14)
    np.testing.assert_allclose(w2[:, 0], w2[:, 1], rtol=1e-14)  # the same at both ends
    assert w2.min() > 0.0
    assert w2.max() < 1.0
    assert w2.std() > 1e-3  # learned, per edge
    # the sheaf's augmented Laplacian is the one the layer applied (the weighted kernel)
    n = data.adjacency.shape[0]
    x = np.random.default_rng(1).standard_normal((n, 2, 3))
    Q = maps / np.sqrt(w2)[..., None, None]
    F = np.concatenate([Q[:, 0], Q[:, 1]])
    Y = laplacian_forward_orth(F, np.ascontiguousarray(w2[:, 0]), x,
                               *model.graph_.incidence)[0]
    L = sheaf_laplacian(model.learned_sheaf(1), normalization="augmented")
    np.testing.assert_allclose(Y.reshape(-1, 3), L @ x.reshape(-1, 3), atol=1e-12)
    assert model.dirichlet_energies().shape == (2, 2)
    # the learned sheaves are the ones the forward pass used: the last layer's output,
    # read out, gives the model's logits
    from spectral_sheaf.learn._train import _layer_states

    p = model.params_
    x_out = _layer_states(p, model.features_, model.graph_, model.config_)[-1][2]
    np.testing.assert_allclose(x_out.reshape(n, -1) @ p["W_out"] + p["b_out"],
                               model._logits(), rtol=1e-12, atol=1e-13)
    # the weight learner takes weight_decay, as the reference's does; the maps' learner
    # sheaf_decay
    from spectral_sheaf.learn import Adam

    adam = Adam({k: v.copy() for k, v in p.items()}, lr=0.1, weight_decay=0.5,
                sheaf_decay=0.25)
    assert (adam.decay["Pw0"], adam.decay["P0"], adam.decay["W2_0"]) == (0.5, 0.25, 0.5)


def test_learned_sheaf_goes_to_the_analysis(heterophilous):
    """The learned sheaf is a :class:`Sheaf` that analysis/ reads: the constant sheaf of
    ``sheaf="identity"`` has ``d`` global sections per component, in whose span two
    classes cannot be told apart; a learned sheaf's harmonic basis is its kernel."""
    from scipy.sparse.csgraph import connected_components

    from spectral_sheaf.analysis import separation_power
    from spectral_sheaf.sheaf import harmonic_space, sheaf_laplacian

    data, train, val, _ = heterophilous
    components = connected_components(data.adjacency, directed=False)[0]
    X0 = np.random.default_rng(0).standard_normal((300 * 2, 3))
    frozen = SheafDiffusionClassifier(sheaf="identity", d=2, hidden=4, layers=1, epochs=3,
                                      random_state=0)
    frozen.fit(data.adjacency, data.features, data.labels, train, val)
    report = separation_power(frozen.learned_sheaf(0), X0, data.labels, normalization="none")
    assert report.harmonic_dimension == 2 * components
    assert not report.separable
    learned = SheafDiffusionClassifier(sheaf="general", d=2, hidden=4, layers=1, epochs=20,
                                       random_state=0)
    learned.fit(data.adjacency, data.features, data.labels, train, val)
    sheaf = learned.learned_sheaf(0)
    space = harmonic_space(sheaf, normalization="sym")
    L = sheaf_laplacian(sheaf, normalization="sym")
    if space.dimension:
        assert np.abs(L @ space.basis).max() < 1e-8
    # below the kernel the spectrum is positive: the dimension is the eigenvalue count
    # at zero
    eigs = np.linalg.eigvalsh(L.toarray())
    assert space.dimension == int((eigs < 1e-8 * eigs.max()).sum())
    report = separation_power(sheaf, X0, data.labels, time=1.0, normalization="sym",
                              space=space)
    assert report.features.shape == (300, 2 * 3)
    assert report.harmonic_dimension == space.dimension
