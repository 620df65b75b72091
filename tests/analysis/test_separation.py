import numpy as np
import pytest

from spectral_sheaf.analysis import (
    energy_decay,
    linear_separability,
    separating_sheaf,
    separation_power,
)
from spectral_sheaf.graphs import (
    adjacency_from_edges,
    contextual_sbm,
    cycle_graph,
    graph_laplacian,
    largest_component,
    path_graph,
    stochastic_block_model,
)
from spectral_sheaf.sheaf import constant_sheaf, harmonic_space, random_sheaf

# --- the linear program -------------------------------------------------------------------


def test_xor_is_not_separable_blobs_are():
    X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], float)
    assert not linear_separability(X, [0, 0, 1, 1]).separable
    assert not linear_separability(X, [0, 0, 1, 1], kind="multiclass").separable
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(0, 0.1, (20, 3)), rng.normal(2, 0.1, (20, 3))])
    r = linear_separability(blobs, np.repeat([0, 1], 20))
    assert r.separable
    assert r.margin > 0.1


def test_one_vs_rest_is_stricter_than_multiclass():
    # three classes on a line: the middle one cannot be cut from the other two
    X = np.array([[1.0], [1.1], [2.0], [2.1], [3.0], [3.1]])
    y = np.repeat([0, 1, 2], 2)
    assert linear_separability(X, y, kind="multiclass").separable
    r = linear_separability(X, y, kind="one_vs_rest")
    assert not r.separable
    assert r.class_margins[0] > 0
    assert r.class_margins[2] > 0
    assert r.class_margins[1] <= 0


def test_rounding_noise_is_not_separation():
    X = np.ones((6, 2)) + 1e-14 * np.random.default_rng(1).standard_normal((6, 2))
    assert not linear_separability(X, [0, 1, 0, 1, 0, 1]).separable
    assert not linear_separability(np.zeros((4, 2)), [0, 1, 0, 1]).separable


def test_lp_errors():
    with pytest.raises(ValueError, match=r"labels must contain at least two classes; got only "
                       r"class 3"):
        linear_separability(np.ones((3, 2)), [3, 3, 3])
    with pytest.raises(ValueError, match=r"labels must have one entry per point, shape \(3,\)"):
        linear_separability(np.ones((3, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"points must contain only finite values"):
        linear_separability(np.array([[np.nan], [1.0]]), [0, 1])
    with pytest.raises(ValueError, match=r"kind must be one of"):
        linear_separability(np.ones((2, 1)), [0, 1], kind="pairwise")


# --- the constructions of Bodnar et al. (2022) -----------------------------------------


def connected_csbm(n, C, h, seed):
    data = contextual_sbm(n, n_classes=C, avg_degree=8, homophily=h, rng=seed)
    A, nodes = largest_component(data.adjacency)
    return A, data.labels[nodes]


@pytest.mark.parametrize(("sheaf_class", "d", "C"), [
    ("general", 1, 2),      # Prop. 10
    ("orthogonal", 1, 2),   # Prop. 10 with maps +-1
    ("diagonal", 3, 3),     # Prop. 12
    ("diagonal", 5, 4),     # Prop. 12, d > C
    ("orthogonal", 2, 4),   # Prop. 13, complex units
    ("orthogonal", 4, 8),   # Prop. 13, unit quaternions
    ("orthogonal", 3, 3),   # d >= C with +-1 diagonal maps
    ("general", 4, 6),      # via Prop. 13
])
def test_built_sheaf_separates_where_the_constant_sheaf_cannot(sheaf_class, d, C):
    A, y = connected_csbm(30 * C, C, 0.2, seed=C + d)
    s = separating_sheaf(A, y, sheaf_class=sheaf_class, d=d)
    const = constant_sheaf(A, d)
    spaces = [harmonic_space(x, normalization="sym") for x in (s, const)]
    n = A.shape[0]
    rng = np.random.default_rng(0)
    for _ in range(3):  # "almost all initial conditions": a few random draws
        X0 = rng.standard_normal((n * d, 2))
        built = separation_power(s, X0, y, space=spaces[0])
        assert built.separable, built.separability
        assert built.harmonic_dimension == d
        assert not separation_power(const, X0, y, space=spaces[1]).separable


def test_symmetric_construction_prop8():
    # class 0 nodes all have a class-0 neighbour (the pairs 2k, 2k + 1)
    edges = [[2 * k, 2 * k + 1] for k in range(5)] + [[2 * k, 10 + k] for k in range(5)]
    edges += [[10 + k, 10 + k + 1] for k in range(4)]
    A = adjacency_from_edges(edges, 15)
    y = np.r_[np.zeros(10, int), np.ones(5, int)]
    s = separating_sheaf(A, y, sheaf_class="symmetric")
    assert np.all(s.maps[:, 0] == s.maps[:, 1])  # symmetric maps
    X0 = np.random.default_rng(3).standard_normal((15, 2))
    assert separation_power(s, X0, y).separable


def balanced_bipartite(n_side, p, seed):
    sizes = [n_side, n_side]
    A, y = stochastic_block_model(sizes, [[0.0, p], [p, 0.0]], rng=seed)
    A, nodes = largest_component(A)
    return A, y[nodes]


def test_prop9_no_symmetric_sheaf_separates_a_balanced_bipartite_graph():
    A = cycle_graph(12)  # bipartite with equal sides
    y = np.arange(12) % 2
    with pytest.raises(ValueError, match=r"Prop. 8 of Bodnar et al. \(2022\) needs one class "
                       r"whose every node has a neighbour of the same class"):
        separating_sheaf(A, y, sheaf_class="symmetric")
    rng = np.random.default_rng(5)
    B, yb = balanced_bipartite(30, 0.15, seed=6)
    assert B.shape[0] == 60  # stayed connected and balanced
    for trial in range(40):
        s = random_sheaf(B, 1, kind="symmetric", rng=trial)
        X0 = rng.standard_normal((60, 3))
        assert not separation_power(s, X0, yb).separable
    # while a general d = 1 sheaf does (Prop. 10)
    g = separating_sheaf(B, yb, sheaf_class="general")
    assert separation_power(g, rng.standard_normal((60, 3)), yb).separable


def test_prop11_no_d1_sheaf_separates_three_classes():
    A, y = connected_csbm(150, 3, 0.2, seed=7)
    with pytest.raises(ValueError, match=r"sheaves with d = 1 cannot separate C >= 3 classes "
                       r"\(Bodnar et al. 2022, Prop. 11"):
        separating_sheaf(A, y, sheaf_class="general", d=1)
    n = A.shape[0]
    rng = np.random.default_rng(8)
    for trial in range(40):
        s = random_sheaf(A, 1, kind="general", rng=trial)
        verdict = separation_power(s, rng.standard_normal((n, 4)), y)
        assert verdict.harmonic_dimension <= 1  # Lemma: dim H^0 <= d
        assert not verdict.separable


def test_texas_built_sheaf_separates_constant_does_not(shared_data):
    root = shared_data / "graphs" / "geom-gcn" / "new_data" / "texas"
    E = np.loadtxt(root / "out1_graph_edges.txt", skiprows=1, dtype=int)
    rows = [line.rstrip("\n").split("\t") for line in
            (root / "out1_node_feature_label.txt").read_text().splitlines()[1:]]
    ids = np.array([int(r[0]) for r in rows])
    y = np.empty(183, int)
    y[ids] = [int(r[2]) for r in rows]
    F = np.zeros((183, 1703))
    F[ids] = [[float(v) for v in r[1].split(",")] for r in rows]
    A = adjacency_from_edges(E, 183)
    for sheaf_class, d in (("diagonal", 5), ("orthogonal", 4)):
        s = separating_sheaf(A, y, sheaf_class=sheaf_class, d=d)
        X0 = np.repeat(F, d, axis=0)  # the node's features copied into each stalk coordinate
        assert separation_power(s, X0, y).separable
        assert not separation_power(constant_sheaf(A, d), X0, y).separable


def test_finite_time_approaches_the_limit():
    A, y = connected_csbm(120, 2, 0.2, seed=9)
    s = separating_sheaf(A, y, sheaf_class="general")
    X0 = np.random.default_rng(2).standard_normal((A.shape[0], 2))
    limit = separation_power(s, X0, y)
    late = separation_power(s, X0, y, time=500.0)
    assert late.separable
    assert late.time == 500.0
    np.testing.assert_allclose(late.features, limit.features, atol=1e-6)


def test_construction_errors():
    A = path_graph(6)
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"diagonal sheaves separate C classes when d >= C "
                       r"\(Bodnar et al. 2022, Prop. 12\); got d = 2 < C = 3"):
        separating_sheaf(A, y, sheaf_class="diagonal", d=2)
    y6 = np.arange(6)
    with pytest.raises(ValueError, match=r"no construction of Bodnar et al. \(2022\) gives a "
                       r"orthogonal sheaf with d = 3 for C = 6"):
        separating_sheaf(A, y6, sheaf_class="orthogonal", d=3)
    with pytest.raises(ValueError, match=r"adjacency must be connected.*got 2 components"):
        separating_sheaf(adjacency_from_edges([[0, 1], [2, 3]]), [0, 1, 0, 1],
                         sheaf_class="general")
    with pytest.raises(ValueError, match=r"labels must contain at least two classes"):
        separating_sheaf(A, np.zeros(6, int), sheaf_class="general")
    with pytest.raises(ValueError, match=r"labels must be 0 .. C - 1 with every class present"):
        separating_sheaf(A, np.array([0, 0, 2, 2, 0, 2]), sheaf_class="general")
    with pytest.raises(ValueError, match=r"Prop. 8 of Bodnar et al. \(2022\) covers symmetric "
                       r"sheaves with two classes; got C = 3"):
        separating_sheaf(A, y, sheaf_class="symmetric")
    with pytest.raises(ValueError, match=r"sheaf_class must be one of"):
        separating_sheaf(A, y, sheaf_class="constant")
    s = separating_sheaf(A, np.array([0, 0, 0, 1, 1, 1]), sheaf_class="general")
    with pytest.raises(ValueError, match=r"time must be > 0; got 0.0"):
        separation_power(s, np.ones(6), [0, 0, 0, 1, 1, 1], time=0.0)
    with pytest.raises(ValueError, match=r"features must have n_nodes \* d_v = 6 rows"):
        separation_power(s, np.ones(5), [0, 0, 0, 1, 1, 1])


# --- oversmoothing ---------------------------------------------------------------------


def test_energy_decay_closed_form_on_a_cycle():
    n, k = 16, 3
    L = graph_laplacian(cycle_graph(n))
    lam = 2 - 2 * np.cos(2 * np.pi * k / n)
    x = np.cos(2 * np.pi * k * np.arange(n) / n)  # an eigenvector of L
    t = np.array([0.0, 0.1, 0.5, 2.0])
    expected = lam * np.exp(-2 * lam * t) * float(x @ x)
    np.testing.assert_allclose(energy_decay(L, x, t), expected, rtol=1e-10)


def test_energy_decays_to_the_harmonic_floor():
    A, y = connected_csbm(100, 2, 0.2, seed=1)
    s = separating_sheaf(A, y, sheaf_class="general")
    from spectral_sheaf.sheaf import sheaf_laplacian

    L = sheaf_laplacian(s, normalization="sym")
    X0 = np.random.default_rng(0).standard_normal((A.shape[0], 2))
    E = energy_decay(L, X0, np.linspace(0, 200, 6))
    assert np.all(np.diff(E) <= 1e-12)
    assert E[-1] < 1e-8 * E[0]
    assert harmonic_space(s, normalization="sym").dimension == 1
    with pytest.raises(ValueError, match=r"times must be non-negative and non-decreasing"):
        energy_decay(L, X0, [1.0, 0.5])
    with pytest.raises(ValueError, match=rf"signal must have {L.shape[0]} rows"):
        energy_decay(L, np.ones(3), [1.0])
