"""Unsupervised sheaf learning from smooth signals: planted sheaves are recovered."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import special_ortho_group

from spectral_sheaf.graphs import erdos_renyi_graph, largest_component
from spectral_sheaf.learn import fit_smooth_sheaf
from spectral_sheaf.sheaf import (
    Sheaf,
    harmonic_space,
    sheaf_dirichlet_energy,
    sheaf_edges,
    sheaf_laplacian,
)


def connected_graph(n=30, p=0.15, seed=0):
    A, _ = largest_component(erdos_renyi_graph(n, p, rng=seed))
    return A


def flat_sheaf(A, d, kind, rng):
    """A sheaf with a d-dimensional H^0, normalised to B_e B_e^T = I, and its sections.

    Each node has a frame Q_v (orthogonal, or diagonal for kind="diag"); the maps are
    F_{v<|e} = Q_v^{-1}, so x_v = Q_v c is a global section for every c.
    """
    edges, _, n = sheaf_edges(A)
    if kind == "diag":
        frames = [np.diag(rng.uniform(0.5, 2.0, d)) for _ in range(n)]
    else:
        frames = [special_ortho_group.rvs(d, random_state=rng) for _ in range(n)]
    inv = np.stack([np.linalg.inv(Q) for Q in frames])
    maps = np.stack([inv[edges[:, 0]], inv[edges[:, 1]]], axis=1)
    B = np.concatenate([-maps[:, 0], maps[:, 1]], axis=2)  # (m, d, 2d)
    if kind == "diag":  # each coordinate row to unit length
        maps = maps / np.linalg.norm(B, axis=2)[:, None, :, None]
    else:
        maps = maps / np.sqrt(2.0)
    sections = np.stack(frames)  # (n, d, d): node v's values of the d basis sections
    return Sheaf(n, edges, maps), sections


def section_signals(sections, k, rng):
    n, d, _ = sections.shape
    C = rng.standard_normal((d, k))
    return np.einsum("vab,bk->vak", sections, C).reshape(n * d, k)


def laplacian_error(learned, planted):
    L1 = sheaf_laplacian(learned).toarray()
    L0 = sheaf_laplacian(planted).toarray()
    return float(np.abs(L1 - L0).max() / np.abs(L0).max())


@pytest.mark.parametrize("kind", ["general", "orthogonal", "diag"])
def test_planted_sheaf_is_recovered_from_its_global_sections(kind):
    rng = np.random.default_rng(1)
    A = connected_graph()
    d = 3
    planted, sections = flat_sheaf(A, d, "diag" if kind == "diag" else "orthogonal", rng)
    X = section_signals(sections, 12, rng)
    assert sheaf_dirichlet_energy(planted, X) < 1e-20 * np.sum(X * X)
    fit = fit_smooth_sheaf(A, X, d=d, sheaf=kind)
    assert fit.converged, fit.residual
    assert fit.energy < 1e-14 * np.sum(X * X)  # rounding: eps ||S_e|| per edge
    # the maps are determined up to a rotation of each edge stalk: compare Laplacians
    assert laplacian_error(fit.sheaf, planted) < 1e-10
    # and the learned sheaf's global sections are the signals' span
    H = harmonic_space(fit.sheaf)
    assert H.dimension == d
    P = H.basis @ H.basis.T
    Q = np.linalg.svd(X, full_matrices=False)[0][:, :d]
    np.testing.assert_allclose(P @ Q, Q, atol=1e-10)
    # projected gradient from random maps gets there too
    pg = fit_smooth_sheaf(A, X, d=d, sheaf=kind, method="projected_gradient", rng=2,
                          tol=1e-10, max_iter=20000)
    assert pg.converged
    assert laplacian_error(pg.sheaf, planted) < 1e-6


def test_projected_gradient_on_orthogonal_maps_needs_both_components():
    """From one start per edge the iteration stays in that start's component of O(d)
    and can stop above the minimum; from two (one per component), the default, every
    edge reaches the exact minimiser."""
    from spectral_sheaf.learn._smooth import _descend, _project, edge_covariances
    from spectral_sheaf.sheaf import sheaf_edges

    rng = np.random.default_rng(11)
    A = connected_graph()
    _, sections = flat_sheaf(A, 3, "orthogonal", rng)
    X = section_signals(sections, 12, rng) + 0.1 * rng.standard_normal((A.shape[0] * 3, 12))
    exact = fit_smooth_sheaf(A, X, d=3, sheaf="orthogonal")
    pg = fit_smooth_sheaf(A, X, d=3, sheaf="orthogonal", method="projected_gradient", rng=2,
                          tol=1e-9, max_iter=20000)
    assert exact.converged
    assert pg.converged
    np.testing.assert_allclose(pg.edge_energy, exact.edge_energy, rtol=1e-7, atol=1e-12)
    assert laplacian_error(pg.sheaf, exact.sheaf) < 1e-6
    # one start per edge, the same iteration: some edges stop above their minimum
    edges, _, n = sheaf_edges(A)
    S = edge_covariances(edges, np.ascontiguousarray(X.reshape(n, 3, 12)))
    norms = np.linalg.norm(S, ord=2, axis=(1, 2))
    B = _project(np.random.default_rng(2).standard_normal((len(edges), 3, 6)), "orthogonal", 3)
    B, _, iterations, _ = _descend(B, S, norms, (0.5 / norms)[:, None, None], "orthogonal", 3,
                                   len(edges), 20000, 1e-9)
    assert iterations < 20000  # stationary, not stopped by the bound
    single = np.einsum("eab,ebc,eac->e", B, S, B)
    above = single > exact.edge_energy * (1 + 1e-6) + 1e-12
    assert above.any()
    assert not above.all()
    assert (single >= exact.edge_energy * (1 - 1e-9)).all()


@pytest.mark.parametrize("kind", ["general", "diag"])
def test_projected_gradient_reaches_the_exact_minimiser(kind):
    rng = np.random.default_rng(3)
    A = connected_graph(25, 0.2, seed=4)
    n, d = A.shape[0], 2
    X = rng.standard_normal((n * d, 40))  # noise: no sheaf makes it smooth
    exact = fit_smooth_sheaf(A, X, d=d, sheaf=kind)
    pg = fit_smooth_sheaf(A, X, d=d, sheaf=kind, method="projected_gradient", rng=0,
                          tol=1e-9, max_iter=20000)
    assert exact.converged
    assert pg.converged
    assert pg.energy == pytest.approx(exact.energy, rel=1e-9)
    assert laplacian_error(pg.sheaf, exact.sheaf) < 1e-6
    # every other feasible choice does worse: a random orthonormal B per edge
    B = np.linalg.qr(rng.standard_normal((len(exact.sheaf.edges), 2 * d, d)))[0]
    B = np.swapaxes(B, 1, 2)
    other = Sheaf(n, exact.sheaf.edges, np.stack([-B[:, :, :d], B[:, :, d:]], axis=1))
    assert sheaf_dirichlet_energy(other, X) > exact.energy


@pytest.mark.parametrize("kind", ["general", "orthogonal", "diag"])
def test_energy_agrees_with_the_sheaf_and_the_constraint_holds(kind):
    rng = np.random.default_rng(5)
    A = connected_graph(20, 0.25, seed=6)
    d = 2
    X = rng.standard_normal((A.shape[0] * d, 6))
    fit = fit_smooth_sheaf(A, X, d=d, sheaf=kind, rng=1)
    assert fit.energy == pytest.approx(sheaf_dirichlet_energy(fit.sheaf, X), rel=1e-12)
    np.testing.assert_allclose(fit.edge_energy.sum(), fit.energy, rtol=1e-12)
    B = np.concatenate([-fit.sheaf.maps[:, 0], fit.sheaf.maps[:, 1]], axis=2)
    np.testing.assert_allclose(B @ np.swapaxes(B, 1, 2),
                               np.broadcast_to(np.eye(d), (len(B), d, d)), atol=1e-12)
    if kind == "orthogonal":
        for side in range(2):
            F = np.sqrt(2.0) * fit.sheaf.maps[:, side]
            np.testing.assert_allclose(F @ np.swapaxes(F, 1, 2),
                                       np.broadcast_to(np.eye(d), F.shape), atol=1e-12)
    if kind == "diag":
        off = fit.sheaf.maps * (1 - np.eye(d))
        assert np.abs(off).max() == 0.0


@pytest.mark.filterwarnings("ignore:fit_smooth_sheaf stopped after")
def test_general_energy_never_increases():
    rng = np.random.default_rng(7)
    A = connected_graph(20, 0.25, seed=8)
    X = rng.standard_normal((A.shape[0] * 3, 5))
    fit = fit_smooth_sheaf(A, X, d=3, method="projected_gradient", rng=0, max_iter=300,
                           tol=1e-30)
    steps = np.diff(fit.history)
    assert (steps <= 1e-12 * fit.history[0]).all()


def test_recovery_degrades_gracefully_with_noise():
    rng = np.random.default_rng(9)
    A = connected_graph()
    d = 2
    planted, sections = flat_sheaf(A, d, "orthogonal", rng)
    X = section_signals(sections, 20, rng)
    noise = rng.standard_normal(X.shape)
    errors = []
    for sigma in (1e-6, 1e-4, 1e-2):
        fit = fit_smooth_sheaf(A, X + sigma * noise, d=d, sheaf="orthogonal", rng=0)
        errors.append(laplacian_error(fit.sheaf, planted))
    assert errors[0] < 1e-4
    assert errors[0] < errors[1] < errors[2] < 0.2


def test_bad_input():
    A = connected_graph(10, 0.4)
    n = A.shape[0]
    X = np.ones((n * 2, 3))
    with pytest.raises(ValueError, match=r"signals must have n \* d = .* rows"):
        fit_smooth_sheaf(A, X[:-1], d=2)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="signals"):
        fit_smooth_sheaf(A, bad, d=2)
    with pytest.raises(ValueError, match="sheaf must be one of"):
        fit_smooth_sheaf(A, X, d=2, sheaf="constant")
    with pytest.raises(ValueError, match="method must be one of"):
        fit_smooth_sheaf(A, X, d=2, method="eigh")
    with pytest.raises(ValueError, match="d must be >= 2 for orthogonal"):
        fit_smooth_sheaf(A, np.ones((n, 3)), d=1, sheaf="orthogonal")
    with pytest.raises(ValueError, match="adjacency has no edges"):
        fit_smooth_sheaf(np.zeros((3, 3)), np.ones((6, 2)), d=2)
    with pytest.raises(TypeError, match="d must be an integer"):
        fit_smooth_sheaf(A, X, d=2.0)
    with pytest.warns(UserWarning, match="fewer than d observations"):
        fit_smooth_sheaf(A, np.random.default_rng(0).standard_normal((n * 3, 2)), d=3)
    with pytest.warns(UserWarning, match="stopped after max_iter=2 steps"):
        fit_smooth_sheaf(A, np.random.default_rng(0).standard_normal((n * 2, 4)), d=2,
                         method="projected_gradient", rng=0, max_iter=2)
