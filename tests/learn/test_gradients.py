"""The hand-written reverse pass: finite differences, PyTorch autograd, the kernels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_sheaf.learn import NSDConfig, forward_backward, graph_structure, init_params
from spectral_sheaf.learn._kernels import laplacian_backward, laplacian_forward
from spectral_sheaf.sheaf import Sheaf, sheaf_laplacian
from spectral_sheaf.sheaf._kernels import node_incidence
from spectral_sheaf.testing import graphs


def small_problem(seed: int, n: int = 8, f: int = 4, classes: int = 3):
    rng = np.random.default_rng(seed)
    while True:
        A = (rng.random((n, n)) < 0.45).astype(float)
        A = np.triu(A, 1)
        A = A + A.T
        if A.sum() > 0:
            break
    X = rng.random((n, f))
    y = rng.integers(0, classes, n)
    train = np.zeros(n, dtype=bool)
    train[: n - 2] = True
    return A, X, y, train


def perturbed_params(config, seed):
    rng = np.random.default_rng(seed)
    p = init_params(config, rng)
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}


def finite_difference_errors(p, X, y, train, graph, config, dropout_seed):
    def rng():
        return None if dropout_seed is None else np.random.default_rng(dropout_seed)

    _, _, g = forward_backward(p, X, y, train, graph, config, rng=rng())
    errors = {}
    for key, value in p.items():
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            for sign in (1, -1):
                q = dict(p)
                q[key] = value.copy()
                q[key][idx] += sign * 1e-6
                num[idx] += sign * forward_backward(q, X, y, train, graph, config, rng=rng(),
                                                    grad=False)[0]
        num /= 2e-6
        errors[key] = float(np.abs(num - g[key]).max() / max(np.abs(num).max(), 1e-12))
    return errors


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general"])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_every_gradient_against_finite_differences(sheaf, dropout):
    A, X, y, train = small_problem(0)
    config = NSDConfig(X.shape[1], 3, d=3, hidden=2, layers=2, sheaf=sheaf, dropout=dropout,
                       input_dropout=dropout)
    p = perturbed_params(config, 1)
    graph = graph_structure(A)
    # the same seed for every evaluation: a fixed dropout mask
    errors = finite_difference_errors(p, X, y, train, graph, config, 7 if dropout else None)
    assert set(errors) == set(p)
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=10, deadline=None)
@given(graphs(min_nodes=3, max_nodes=7, connected=True), st.sampled_from(
    ["diag", "orthogonal", "general"]), st.integers(1, 3), st.integers(0, 1000))
def test_gradients_property(g, sheaf, layers, seed):
    A = g.to_adjacency().toarray()
    A = ((A + A.T) > 0).astype(float)
    np.fill_diagonal(A, 0)
    rng = np.random.default_rng(seed)
    n = g.n_nodes
    X = rng.random((n, 3))
    y = rng.integers(0, 2, n)
    train = np.ones(n, dtype=bool)
    config = NSDConfig(3, 2, d=2, hidden=2, layers=layers, sheaf=sheaf)
    p = perturbed_params(config, seed)
    errors = finite_difference_errors(p, X, y, train, graph_structure(A), config, None)
    assert max(errors.values()) < 1e-6, errors


def test_laplacian_kernel_matches_the_assembled_operator():
    rng = np.random.default_rng(3)
    A, *_ = small_problem(3)
    graph = graph_structure(A)
    m, d, h = len(graph.edges), 3, 2
    maps = rng.standard_normal((m, 2, d, d))
    X = rng.standard_normal((A.shape[0], d, h))
    Y = laplacian_forward(maps, X, *node_incidence(graph.edges, A.shape[0]))[0]
    L = sheaf_laplacian(Sheaf(A.shape[0], graph.edges, maps), normalization="augmented")
    np.testing.assert_allclose(Y.reshape(-1, h), L @ X.reshape(-1, h), atol=1e-13)
    # and its reverse pass is the transpose on X: <G, L X> = <L G, X>
    G = rng.standard_normal(X.shape)
    out = laplacian_forward(maps, X, *graph.incidence)
    dX, _ = laplacian_backward(G, maps, X, graph.edges, *graph.incidence, *out[1:])
    np.testing.assert_allclose(dX.reshape(-1, h), L @ G.reshape(-1, h), atol=1e-13)


# ----------------------------------------------------------------------- PyTorch reference


def torch_loss(torch, p, X, y, train, edges, config):
    """The same model written with torch autograd (no dropout)."""
    n, d, h = X.shape[0], config.d, config.hidden
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    Xt = torch.tensor(X)
    x = torch.nn.functional.elu(Xt @ t["W_in"] + t["b_in"]).reshape(n, d, h)
    u, v = torch.tensor(edges[:, 0]), torch.tensor(edges[:, 1])
    iu = np.triu_indices(d, k=1)
    for layer in range(config.layers):
        xf = x.reshape(n, d * h)
        C = torch.cat([torch.cat([xf[u], xf[v]], 1), torch.cat([xf[v], xf[u]], 1)], 0)
        T = torch.tanh(C @ t[f"P{layer}"])
        if config.sheaf == "diag":
            F = torch.diag_embed(T)
        elif config.sheaf == "general":
            F = T.reshape(-1, d, d)
        else:
            S = torch.zeros(T.shape[0], d, d, dtype=torch.float64)
            S[:, iu[0], iu[1]] = T
            S = S - S.transpose(1, 2)
            eye = torch.eye(d, dtype=torch.float64)
            F = torch.linalg.solve(eye - S, eye + S)
        m = len(edges)
        Fu, Fv = F[:m], F[m:]
        D = [torch.eye(d, dtype=torch.float64) for _ in range(n)]
        for e in range(m):
            D[edges[e, 0]] = D[edges[e, 0]] + Fu[e].T @ Fu[e]
            D[edges[e, 1]] = D[edges[e, 1]] + Fv[e].T @ Fv[e]
        # D^-1/2 by the Denman-Beavers iteration, not eigh: eigh's backward is NaN for
        # the repeated eigenvalues of orthogonal sheaves (D = (deg + 1) I)
        Sinv = []
        for i in range(n):
            Yk, Zk = D[i], torch.eye(d, dtype=torch.float64)
            for _ in range(30):
                Yk, Zk = 0.5 * (Yk + torch.linalg.inv(Zk)), 0.5 * (Zk + torch.linalg.inv(Yk))
            Sinv.append(Zk)
        X2 = torch.einsum("ij,njh->nih", t[f"W1_{layer}"], x) @ t[f"W2_{layer}"]
        Z = [Sinv[i] @ X2[i] for i in range(n)]
        W = [(D[i] - torch.eye(d, dtype=torch.float64)) @ Z[i] for i in range(n)]
        for e in range(m):
            a, b = edges[e]
            W[a] = W[a] - Fu[e].T @ Fv[e] @ Z[b]
            W[b] = W[b] - Fv[e].T @ Fu[e] @ Z[a]
        Y = torch.stack([Sinv[i] @ W[i] for i in range(n)])
        x = (1 + torch.tanh(t[f"eps{layer}"]))[None, :, None] * x - torch.nn.functional.elu(Y)
    logits = x.reshape(n, d * h) @ t["W_out"] + t["b_out"]
    idx = torch.tensor(np.flatnonzero(train))
    loss = torch.nn.functional.cross_entropy(logits[idx], torch.tensor(y)[idx])
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general"])
def test_against_pytorch_autograd(sheaf):
    torch = pytest.importorskip("torch", reason="torch (the bench extra) is the reference")
    A, X, y, train = small_problem(5, n=10)
    config = NSDConfig(X.shape[1], 3, d=3, hidden=3, layers=3, sheaf=sheaf)
    p = perturbed_params(config, 2)
    graph = graph_structure(A)
    loss, _, g = forward_backward(p, X, y, train, graph, config)
    ref_loss, ref_grad = torch_loss(torch, p, X, y, train, graph.edges, config)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for key in p:
        np.testing.assert_allclose(g[key], ref_grad[key], rtol=1e-8,
                                   atol=1e-10 * np.abs(ref_grad[key]).max(), err_msg=key)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_cayley_kernels_match_the_sheaf_parametrisation(d):
    from spectral_sheaf.learn._kernels import cayley_backward, cayley_forward
    from spectral_sheaf.sheaf import cayley, cayley_vjp

    rng = np.random.default_rng(d)
    T = 2.0 * rng.standard_normal((40, d * (d - 1) // 2))
    Q, Minv = cayley_forward(T, d)
    np.testing.assert_allclose(Q, cayley(T), atol=1e-14)
    np.testing.assert_allclose(Q @ np.swapaxes(Q, 1, 2), np.broadcast_to(np.eye(d), Q.shape),
                               atol=1e-14)
    G = rng.standard_normal((40, d, d))
    np.testing.assert_allclose(cayley_backward(G, Q, Minv, d), cayley_vjp(T, G), atol=1e-13)


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general"])
def test_sparse_features_give_the_dense_answer(sheaf):
    import scipy.sparse as sp

    A, X, y, train = small_problem(8, n=9, f=6)
    X = X * (X > 0.6)  # mostly zeros, as bag-of-words features are
    config = NSDConfig(X.shape[1], 3, d=2, hidden=2, layers=2, sheaf=sheaf, dropout=0.3)
    p = perturbed_params(config, 3)
    graph = graph_structure(A)
    dense = forward_backward(p, X, y, train, graph, config, rng=np.random.default_rng(4))
    sparse = forward_backward(p, sp.csr_array(X), y, train, graph, config,
                              rng=np.random.default_rng(4))
    assert sparse[0] == pytest.approx(dense[0], rel=1e-13)
    for key in p:
        np.testing.assert_allclose(sparse[2][key], dense[2][key], rtol=1e-12, atol=1e-14,
                                   err_msg=key)
    # with input dropout the loss is still finite and the gradient has the right shape
    cfg = NSDConfig(X.shape[1], 3, d=2, hidden=2, layers=2, sheaf=sheaf, input_dropout=0.5)
    loss, _, g = forward_backward(p, sp.csr_array(X), y, train, graph, cfg,
                                  rng=np.random.default_rng(5))
    assert np.isfinite(loss)
    assert g["W_in"].shape == p["W_in"].shape


def test_diagonal_kernels_match_the_general_ones_on_diagonal_maps():
    from spectral_sheaf.learn._kernels import laplacian_backward_diag, laplacian_forward_diag

    rng = np.random.default_rng(12)
    A, *_ = small_problem(12, n=12)
    graph = graph_structure(A)
    m, d, h = len(graph.edges), 3, 4
    f = rng.standard_normal((m, 2, d))
    maps = np.zeros((m, 2, d, d))
    maps[:, :, np.arange(d), np.arange(d)] = f
    X = rng.standard_normal((A.shape[0], d, h))
    G = rng.standard_normal(X.shape)
    out = laplacian_forward(maps, X, *graph.incidence)
    out_d = laplacian_forward_diag(f, X, *graph.incidence)
    np.testing.assert_allclose(out_d[0], out[0], atol=1e-13)
    dX, dmaps = laplacian_backward(G, maps, X, graph.edges, *graph.incidence, *out[1:])
    dX_d, df = laplacian_backward_diag(G, f, X, graph.edges, *graph.incidence, *out_d[1:])
    np.testing.assert_allclose(dX_d, dX, atol=1e-13)
    np.testing.assert_allclose(df, dmaps[:, :, np.arange(d), np.arange(d)], atol=1e-12)
