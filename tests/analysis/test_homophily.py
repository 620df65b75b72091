import numpy as np
import pytest

from spectral_sheaf.analysis import (
    adjusted_homophily,
    class_homophily,
    edge_homophily,
    node_homophily,
)
from spectral_sheaf.graphs import adjacency_from_edges, contextual_sbm, path_graph


def test_hand_computed_values_on_a_path():
    A = path_graph(4)  # edges 01 (same), 12 (different), 23 (same)
    y = np.array([0, 0, 1, 1])
    assert edge_homophily(A, y) == pytest.approx(2 / 3)
    assert node_homophily(A, y) == pytest.approx((1 + 0.5 + 0.5 + 1) / 4)
    # h_k = 2/3 for both classes, class share 1/2: (1/6 + 1/6) / (C - 1)
    assert class_homophily(A, y) == pytest.approx(1 / 3)
    # degree mass 3 and 3: chance 1/2, (2/3 - 1/2) / (1 - 1/2)
    assert adjusted_homophily(A, y) == pytest.approx(1 / 3)


def test_extremes():
    A = path_graph(6)
    alternating = np.arange(6) % 2
    assert edge_homophily(A, alternating) == 0.0
    assert class_homophily(A, alternating) == 0.0
    assert adjusted_homophily(A, alternating) == pytest.approx(-1.0)
    assert edge_homophily(A, np.r_[np.zeros(3, int), np.ones(3, int)]) == pytest.approx(0.8)


def test_csbm_knob_is_measured():
    for h in (0.1, 0.5, 0.9):
        data = contextual_sbm(2000, n_classes=2, avg_degree=8, homophily=h, rng=1)
        assert edge_homophily(data.adjacency, data.labels) == pytest.approx(h, abs=0.03)
    # 2 balanced classes: chance level 1/2, so adjusted = 2 h - 1
    data = contextual_sbm(4000, n_classes=2, avg_degree=8, homophily=0.9, rng=2)
    assert adjusted_homophily(data.adjacency, data.labels) == pytest.approx(0.8, abs=0.03)


def test_texas_matches_an_independent_count(shared_data):
    root = shared_data / "graphs" / "geom-gcn" / "new_data" / "texas"
    E = np.loadtxt(root / "out1_graph_edges.txt", skiprows=1, dtype=int)
    rows = [line.rstrip("\n").split("\t") for line in
            (root / "out1_node_feature_label.txt").read_text().splitlines()[1:]]
    y = np.empty(183, int)
    y[[int(r[0]) for r in rows]] = [int(r[2]) for r in rows]
    # the published 0.11 counts the raw list (16 self-loops, both directions)
    assert np.mean(y[E[:, 0]] == y[E[:, 1]]) == pytest.approx(0.11, abs=0.005)
    A = adjacency_from_edges(E, 183)  # cleaned: loops dropped, each edge once
    pairs = {(min(u, v), max(u, v)) for u, v in E if u != v}
    same = np.mean([y[u] == y[v] for u, v in pairs])
    assert edge_homophily(A, y) == pytest.approx(same, abs=1e-15)
    assert adjusted_homophily(A, y) < 0  # heterophilous


def test_homophily_errors():
    A = path_graph(3)
    with pytest.raises(ValueError, match=r"labels must have one entry per node, shape \(3,\); "
                       r"got \(2,\)"):
        edge_homophily(A, [0, 1])
    with pytest.raises(ValueError, match=r"labels must be >= 0"):
        edge_homophily(A, [0, -1, 1])
    with pytest.raises(ValueError, match=r"adjacency must have at least one edge"):
        edge_homophily(np.eye(2), [0, 1])
    with pytest.raises(ValueError, match=r"labels must contain at least two classes for "
                       r"class_homophily"):
        class_homophily(A, [0, 0, 0])
    with pytest.raises(ValueError, match=r"all edges touch one class"):
        adjusted_homophily(A, [0, 0, 0])
