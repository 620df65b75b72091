"""The hand-written reverse pass: finite differences, PyTorch autograd, the kernels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectral_sheaf.learn import NSDConfig, forward_backward, graph_structure, init_params
from spectral_sheaf.learn._kernels import laplacian_backward, laplacian_forward
from spectral_sheaf.learn._model import NO_WEIGHTS
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
    """Largest error of each parameter's gradient against finite differences, relative.

    Central differences at step ``h = 1e-5``: rounding about ``eps |L| / h`` (1e-11
    here), truncation about ``h^2 |L^(3)| / 6``. The error is relative to the
    parameter's largest gradient, or to 1e-4 where that is smaller: hypothesis met a
    learner whose gradient was 3.4e-5 at most, where differences at ``h = 1e-6`` had
    rounding errors of 3.5e-6 of it. Larger steps do worse on other parameters: on
    ``W2_0`` of the orthogonal model with both fixed dimensions, plain differences err
    by 9e-6 at ``h = 1e-3``, 7e-8 at 1e-4 and 6e-10 at 1e-5, and Richardson
    extrapolation from ``h = 1e-4`` had erred by 2.4e-6.
    """
    def rng():
        return None if dropout_seed is None else np.random.default_rng(dropout_seed)

    def loss(q):
        return forward_backward(q, X, y, train, graph, config, rng=rng(), grad=False)[0]

    _, _, g = forward_backward(p, X, y, train, graph, config, rng=rng())
    errors = {}
    for key, value in p.items():
        num = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            q = dict(p)
            q[key] = value.copy()
            q[key][idx] += 1e-5
            up = loss(q)
            q[key][idx] -= 2e-5
            num[idx] = (up - loss(q)) / 2e-5
        errors[key] = float(np.abs(num - g[key]).max() / max(np.abs(num).max(), 1e-4))
    return errors


# the fixed stalk dimensions: "low" (maps 1, 1), "high" (1, -1), "both" or none
FIXED = {"none": (False, False), "low": (True, False), "high": (False, True),
         "both": (True, True)}


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "general"])
@pytest.mark.parametrize(("dropout", "fixed", "shared"),
                         [(0.0, "none", False), (0.4, "none", False), (0.4, "low", False),
                          (0.4, "high", False), (0.4, "both", False), (0.4, "none", True)])
def test_every_gradient_against_finite_differences(sheaf, dropout, fixed, shared):
    check_finite_differences(sheaf, dropout, fixed, shared, edge_weights=False)


@pytest.mark.parametrize(("dropout", "fixed", "shared"),
                         [(0.0, "none", False), (0.4, "none", False), (0.4, "low", False),
                          (0.4, "both", False), (0.4, "none", True)])
def test_edge_weight_gradients_against_finite_differences(dropout, fixed, shared):
    check_finite_differences("orthogonal", dropout, fixed, shared, edge_weights=True)


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal"])
def test_second_linear_gradients_against_finite_differences(sheaf):
    check_finite_differences(sheaf, 0.4, "none", False, edge_weights=False,
                             second_linear=True)


def check_finite_differences(sheaf, dropout, fixed, shared, edge_weights,
                             second_linear=False):
    A, X, y, train = small_problem(0)
    low_pass, high_pass = FIXED[fixed]
    # three layers: with shared maps, two later layers add to the shared maps' gradient
    config = NSDConfig(X.shape[1], 3, d=3, hidden=2, layers=3 if shared else 2, sheaf=sheaf,
                       dropout=dropout, input_dropout=dropout, low_pass=low_pass,
                       high_pass=high_pass, shared_maps=shared, edge_weights=edge_weights,
                       second_linear=second_linear)
    p = perturbed_params(config, 1)
    graph = graph_structure(A)
    # the same seed for every evaluation: a fixed dropout mask
    errors = finite_difference_errors(p, X, y, train, graph, config, 7 if dropout else None)
    assert set(errors) == set(p)
    assert ("P1" in p) is not shared  # one learner for all layers
    assert ("Pw0" in p) is edge_weights
    assert ("Pw1" in p) is (edge_weights and not shared)
    assert ("W_mid" in p) is second_linear
    assert max(errors.values()) < 1e-6, errors


@settings(deadline=None)
@given(graphs(min_nodes=3, max_nodes=7, connected=True), st.sampled_from(
    ["diag", "orthogonal", "orthogonal+weights", "general"]), st.integers(1, 3),
    st.integers(1, 3), st.integers(1, 3), st.sampled_from([0.0, 0.3]), st.integers(0, 1000))
def test_gradients_property(g, sheaf, layers, d, hidden, dropout, seed):
    """Every gradient against finite differences over random graphs, sheaf classes,
    depths, stalk dimensions, widths, dropout (one fixed mask) and training sets."""
    A = g.to_adjacency().toarray()
    A = ((A + A.T) > 0).astype(float)
    np.fill_diagonal(A, 0)
    rng = np.random.default_rng(seed)
    n = g.n_nodes
    X = rng.random((n, 3))
    y = rng.integers(0, 2, n)
    train = rng.random(n) < 0.7
    train[rng.integers(n)] = True
    kind = sheaf.split("+")[0]
    config = NSDConfig(3, 2, d=max(d, 2) if kind == "orthogonal" else d, hidden=hidden,
                       layers=layers, sheaf=kind, dropout=dropout, input_dropout=dropout,
                       edge_weights=sheaf.endswith("weights"))
    p = perturbed_params(config, seed)
    errors = finite_difference_errors(p, X, y, train, graph_structure(A), config,
                                      seed if dropout else None)
    assert max(errors.values()) < 1e-6, errors


def test_laplacian_kernel_matches_the_assembled_operator():
    rng = np.random.default_rng(3)
    A, *_ = small_problem(3)
    graph = graph_structure(A)
    m, d, h = len(graph.edges), 3, 2
    maps = rng.standard_normal((m, 2, d, d))
    X = rng.standard_normal((A.shape[0], d, h))
    F = np.concatenate([maps[:, 0], maps[:, 1]])  # the kernels' sides-major layout
    Y = laplacian_forward(F, X, *node_incidence(graph.edges, A.shape[0]))[0]
    L = sheaf_laplacian(Sheaf(A.shape[0], graph.edges, maps), normalization="augmented")
    np.testing.assert_allclose(Y.reshape(-1, h), L @ X.reshape(-1, h), atol=1e-13)
    # and its reverse pass is the transpose on X: <G, L X> = <L G, X>
    G = rng.standard_normal(X.shape)
    out = laplacian_forward(F, X, *graph.incidence)
    dX, _ = laplacian_backward(G, F, X, graph.edges, *graph.incidence, *out[1:])
    np.testing.assert_allclose(dX.reshape(-1, h), L @ G.reshape(-1, h), atol=1e-13)


# ----------------------------------------------------------------------- PyTorch reference


def torch_laplacian(torch, P, x, edges, config, Pw=None):
    """The augmented normalised sheaf Laplacian of the maps ``P`` predicts, as a function.

    ``Pw``: the edge-weight learner; both maps of an edge scaled by its weight.
    """
    n, d, h = x.shape
    k = config.d  # the learned maps' dimension
    u, v = torch.tensor(edges[:, 0]), torch.tensor(edges[:, 1])
    iu = np.triu_indices(k, k=1)
    xf = x.reshape(n, d * h)
    C = torch.cat([torch.cat([xf[u], xf[v]], 1), torch.cat([xf[v], xf[u]], 1)], 0)
    T = torch.tanh(C @ P)
    if config.sheaf == "diag":
        F = torch.diag_embed(T)
    elif config.sheaf == "general":
        F = T.reshape(-1, k, k)
    else:
        S = torch.zeros(T.shape[0], k, k, dtype=torch.float64)
        S[:, iu[0], iu[1]] = T
        S = S - S.transpose(1, 2)
        eye = torch.eye(k, dtype=torch.float64)
        F = torch.linalg.solve(eye - S, eye + S)
    m = len(edges)
    if d > k:  # block diag(F, fixed): 1 on both sides (low pass), 1 and -1 (high pass)
        first, second = torch.zeros(d, d, dtype=torch.float64), torch.zeros(d, d,
                                                                           dtype=torch.float64)
        if config.low_pass:
            first[k, k] = second[k, k] = 1.0
        if config.high_pass:
            first[d - 1, d - 1], second[d - 1, d - 1] = 1.0, -1.0
        F = torch.nn.functional.pad(F, (0, d - k, 0, d - k)) + torch.cat(
            [first.expand(m, d, d), second.expand(m, d, d)])
    if Pw is not None:
        sig = torch.sigmoid(C @ Pw)[:, 0]
        w = sig[:m] * sig[m:]
        F = F * torch.cat([w, w])[:, None, None]
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

    def apply(X2):
        Z = [Sinv[i] @ X2[i] for i in range(n)]
        W = [(D[i] - torch.eye(d, dtype=torch.float64)) @ Z[i] for i in range(n)]
        for e in range(m):
            a, b = edges[e]
            W[a] = W[a] - Fu[e].T @ Fv[e] @ Z[b]
            W[b] = W[b] - Fv[e].T @ Fu[e] @ Z[a]
        return torch.stack([Sinv[i] @ W[i] for i in range(n)])

    return apply


def torch_loss(torch, p, X, y, train, edges, config):
    """The same model written with torch autograd (no dropout)."""
    n, d, h = X.shape[0], config.stalk, config.hidden
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    Xt = torch.tensor(X)
    x = torch.nn.functional.elu(Xt @ t["W_in"] + t["b_in"])
    if config.second_linear:
        x = x @ t["W_mid"] + t["b_mid"]
    x = x.reshape(n, d, h)
    for layer in range(config.layers):
        if layer == 0 or not config.shared_maps:  # shared: layer 0's Laplacian for all
            laplacian = torch_laplacian(torch, t[f"P{layer}"], x, edges, config,
                                        t.get(f"Pw{layer}"))
        X2 = torch.einsum("ij,njh->nih", t[f"W1_{layer}"], x) @ t[f"W2_{layer}"]
        x = (1 + torch.tanh(t[f"eps{layer}"]))[None, :, None] * x - torch.nn.functional.elu(
            laplacian(X2))
    logits = x.reshape(n, d * h) @ t["W_out"] + t["b_out"]
    idx = torch.tensor(np.flatnonzero(train))
    loss = torch.nn.functional.cross_entropy(logits[idx], torch.tensor(y)[idx])
    loss.backward()
    return float(loss.detach()), {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("sheaf", ["diag", "orthogonal", "orthogonal+weights", "general"])
@pytest.mark.parametrize(("fixed", "shared", "second"),
                         [("none", False, False), ("low", False, False), ("low", True, False),
                          ("high", False, False), ("high", True, False),
                          ("both", False, False),
                          ("none", False, True)])
def test_against_pytorch_autograd(sheaf, fixed, shared, second):
    torch = pytest.importorskip("torch", reason="torch (the bench extra) is the reference")
    A, X, y, train = small_problem(5, n=10)
    low_pass, high_pass = FIXED[fixed]
    config = NSDConfig(X.shape[1], 3, d=3, hidden=3, layers=3, sheaf=sheaf.split("+")[0],
                       low_pass=low_pass, high_pass=high_pass, shared_maps=shared,
                       edge_weights=sheaf.endswith("weights"), second_linear=second)
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
    F = np.zeros((2 * m, d, d))  # sides-major
    F[:, np.arange(d), np.arange(d)] = np.concatenate([f[:, 0], f[:, 1]])
    X = rng.standard_normal((A.shape[0], d, h))
    G = rng.standard_normal(X.shape)
    out = laplacian_forward(F, X, *graph.incidence)
    out_d = laplacian_forward_diag(f, X, *graph.incidence)
    np.testing.assert_allclose(out_d[0], out[0], atol=1e-13)
    dX, dF = laplacian_backward(G, F, X, graph.edges, *graph.incidence, *out[1:])
    dX_d, df = laplacian_backward_diag(G, f, X, graph.edges, *graph.incidence, *out_d[1:])
    np.testing.assert_allclose(dX_d, dX, atol=1e-13)
    diag = dF[:, np.arange(d), np.arange(d)]
    np.testing.assert_allclose(df, np.stack([diag[:m], diag[m:]], axis=1), atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_orthogonal_kernels_match_the_general_ones_on_orthogonal_maps(weighted):
    """D_u = deg_u I exactly; the dropped dD term is normal to O(d), so dT agrees.

    With edge weights the orthogonal kernels take ``omega``; the general kernels the
    maps scaled by ``sqrt(omega)``, which is what the weights mean.
    """
    from spectral_sheaf.learn._kernels import (
        cayley_backward,
        cayley_forward,
        laplacian_backward_orth,
        laplacian_forward_orth,
    )

    rng = np.random.default_rng(21)
    A, *_ = small_problem(21, n=12)
    graph = graph_structure(A)
    m, d, h = len(graph.edges), 3, 4
    F, Minv = cayley_forward(rng.standard_normal((2 * m, d * (d - 1) // 2)), d)
    omega = rng.uniform(0.05, 1.0, m) if weighted else NO_WEIGHTS
    scale = np.sqrt(np.concatenate([omega, omega])) if weighted else np.ones(2 * m)
    Fw = F * scale[:, None, None]
    X = rng.standard_normal((A.shape[0], d, h))
    G = rng.standard_normal(X.shape)
    out = laplacian_forward(Fw, X, *graph.incidence)
    out_o = laplacian_forward_orth(F, omega, X, *graph.incidence)
    np.testing.assert_allclose(out_o[0], out[0], atol=1e-13)
    dX, dFw = laplacian_backward(G, Fw, X, graph.edges, *graph.incidence, *out[1:])
    dX_o, dF, domega = laplacian_backward_orth(G, F, omega, X, out_o[0], graph.edges,
                                               *graph.incidence, *out_o[1:])
    np.testing.assert_allclose(dX_o, dX, atol=1e-13)
    # the maps' gradients differ by the normal part; through the Cayley map they agree
    dF_general = dFw * scale[:, None, None]  # d/dF of the scaled maps
    assert np.abs(dF - dF_general).max() > 1e-3
    np.testing.assert_allclose(cayley_backward(dF, F, Minv, d),
                               cayley_backward(dF_general, F, Minv, d), atol=1e-12)
    if not weighted:
        assert domega.size == 0
        return
    # d/d omega_e: the general kernel's maps gradient along the scaled maps' direction,
    # d(sqrt(omega) F)/d omega = F / (2 sqrt(omega)), summed over both sides
    along = np.einsum("sij,sij->s", dFw, F) / (2.0 * scale)
    np.testing.assert_allclose(domega, along[:m] + along[m:], rtol=1e-10, atol=1e-13)


def test_fused_layer_kernels_match_numpy():
    from spectral_sheaf.learn._kernels import (
        NO_MASK,
        elu_dropout,
        elu_dropout_backward,
        elu_residual,
        elu_residual_backward,
        mix_stalks,
        mix_stalks_backward,
    )

    rng = np.random.default_rng(30)
    n, d, h = 7, 3, 5
    x, Y, dx, dxf = (rng.standard_normal((n, d, h)) for _ in range(4))
    t = np.tanh(rng.standard_normal(d))
    elu = np.where(Y > 0, Y, np.expm1(np.minimum(Y, 0)))
    np.testing.assert_allclose(elu_residual(x, Y, t), (1 + t)[:, None] * x - elu, atol=1e-15)
    dY, dprev, dt = elu_residual_backward(dx, x, Y, t)
    np.testing.assert_allclose(dY, -dx * np.where(Y > 0, 1.0, np.exp(np.minimum(Y, 0))),
                               atol=1e-15)
    np.testing.assert_allclose(dprev, (1 + t)[:, None] * dx, atol=1e-15)
    np.testing.assert_allclose(dt, (dx * x).sum(axis=(0, 2)), atol=1e-13)
    W1 = rng.standard_normal((d, d))
    mask_m, mask_d = ((rng.random((n, d, h)) > 0.3) / 0.7 for _ in range(2))
    for mm, md in ((mask_m, mask_d), (NO_MASK, mask_d), (NO_MASK, NO_MASK)):
        full_m = mm if mm.shape[0] == n else 1.0
        full_d = md if md.shape[0] == n else 1.0
        xf, xd, X1 = mix_stalks(W1, x, mm, md)
        np.testing.assert_allclose(xf, x * full_m, atol=1e-15)
        np.testing.assert_allclose(xd, x * full_d, atol=1e-15)
        np.testing.assert_allclose(X1, np.einsum("ij,njh->nih", W1, x * full_d), atol=1e-14)
        acc = dx.copy()
        dW1 = mix_stalks_backward(W1, Y, xd, md, dxf, mm, acc)
        np.testing.assert_allclose(dW1, np.einsum("nih,njh->ij", Y, xd), atol=1e-13)
        np.testing.assert_allclose(
            acc, dx + np.einsum("ij,nih->njh", W1, Y) * full_d + dxf * full_m, atol=1e-14)
    assert mix_stalks(W1, x, NO_MASK, NO_MASK)[1] is x  # unmasked: no copy
    H, dH = rng.standard_normal((n, 4)), rng.standard_normal((n, 4))
    mask = (rng.random((n, 4)) > 0.5) * 2.0
    eluH = np.where(H > 0, H, np.expm1(np.minimum(H, 0)))
    np.testing.assert_allclose(elu_dropout(H, mask), eluH * mask, atol=1e-15)
    np.testing.assert_allclose(elu_dropout(H, NO_MASK), eluH, atol=1e-15)
    grad = dH * np.where(H > 0, 1.0, np.exp(np.minimum(H, 0)))
    np.testing.assert_allclose(elu_dropout_backward(dH, H, mask), grad * mask, atol=1e-15)
    np.testing.assert_allclose(elu_dropout_backward(dH, H, NO_MASK), grad, atol=1e-15)


def test_dropout_mask_kernel_gives_numpys_values_bit_for_bit():
    from spectral_sheaf.learn._kernels import dropout_scale
    from spectral_sheaf.learn._model import _dropout_mask

    rng = np.random.default_rng(31)
    for p in (0.2, 0.5, 0.7, 0.9):
        r = rng.random(1000)
        r[:5] = (p, 0.0, np.nextafter(p, 0.0), np.nextafter(p, 1.0), 1.0 - 2**-53)
        expected = (r >= p) / (1.0 - p)  # the form the learner used before the kernel
        got = dropout_scale(r.copy(), p)
        assert np.array_equal(got.view(np.uint64), expected.view(np.uint64)), p  # bits
        assert got[0] == 1.0 / (1.0 - p)  # a draw equal to p is kept
        assert got[2] == 0.0  # the one just below is dropped
    # the model's masks: the same draws from the generator, turned into scales
    mask = _dropout_mask(np.random.default_rng(5), 0.3, (4, 3, 2))
    draws = np.random.default_rng(5).random((4, 3, 2))
    assert mask.shape == (4, 3, 2)
    assert np.array_equal(mask.view(np.uint64), ((draws >= 0.3) / 0.7).view(np.uint64))


def test_adam_matches_torch_and_rejects_arrays_it_cannot_update():
    from spectral_sheaf.learn import Adam

    torch = pytest.importorskip("torch", reason="torch (the bench extra) is the reference")
    rng = np.random.default_rng(40)
    params = {"W_in": rng.standard_normal((4, 3)), "b_in": rng.standard_normal(3),
              "P0": rng.standard_normal((6, 2))}
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam([{"params": [t["W_in"]], "weight_decay": 5e-3},
                            {"params": [t["b_in"]], "weight_decay": 0.0},
                            {"params": [t["P0"]], "weight_decay": 5e-4}], lr=0.02)
    ours = Adam(params, lr=0.02, weight_decay=5e-3, sheaf_decay=5e-4)
    for _ in range(5):
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        for k, v in t.items():
            v.grad = torch.tensor(grads[k])
        opt.step()
        ours.step(params, grads)
    for k, v in t.items():
        np.testing.assert_allclose(params[k], v.detach().numpy(), rtol=1e-13, atol=1e-15,
                                   err_msg=k)
    with pytest.raises(ValueError, match=r"params\['W'\] must be a writeable C-contiguous"):
        Adam({"W": np.ones((3, 4)).T}, lr=0.1, weight_decay=0.0, sheaf_decay=0.0)
    with pytest.raises(ValueError, match=r"params\['W'\] must be .* float64"):
        Adam({"W": np.ones(3, dtype=np.float32)}, lr=0.1, weight_decay=0.0, sheaf_decay=0.0)


def test_scatter_kernel_is_the_transpose_of_the_gather():
    """<dT, d tanh(N1[first] + N2[second])> = <dN1, dN1_in> + <dN2, dN2_in>."""
    from spectral_sheaf.learn._kernels import gather_tanh, scatter_tanh_backward

    rng = np.random.default_rng(50)
    A, *_ = small_problem(50, n=11)
    graph = graph_structure(A)
    n, m, p = A.shape[0], len(graph.edges), 4
    N1, N2 = rng.standard_normal((n, p)), rng.standard_normal((n, p))
    T = gather_tanh(N1, N2, graph.first, graph.second)
    np.testing.assert_allclose(T, np.tanh(N1[graph.first] + N2[graph.second]), rtol=5e-16)
    # the compiled tanh: two ulps from numpy's across the range, signs and zeros kept
    y = np.concatenate([np.linspace(-30, 30, 100_001), [1e-300, -1e-12, 0.5, -0.5, 800.0,
                                                        -800.0, 0.0]])[:, None]
    t = gather_tanh(y, np.zeros_like(y), np.arange(len(y)), np.arange(len(y)))
    np.testing.assert_allclose(t, np.tanh(y), rtol=5e-16, atol=0)
    assert list(t[-3:, 0]) == [1.0, -1.0, 0.0]
    dT = rng.standard_normal((2 * m, p))
    dN1, dN2 = scatter_tanh_backward(dT, T, graph.incidence[0], *graph.incidence[2:])
    dZ = dT * (1 - T**2)
    ref1, ref2 = np.zeros((n, p)), np.zeros((n, p))
    np.add.at(ref1, graph.first, dZ)
    np.add.at(ref2, graph.second, dZ)
    np.testing.assert_allclose(dN1, ref1, atol=1e-14)
    np.testing.assert_allclose(dN2, ref2, atol=1e-14)


def test_sparse_feature_kernels_match_scipy():
    import scipy.sparse as sp

    from spectral_sheaf.learn._kernels import csr_times_dense, csr_transpose_times_dense

    rng = np.random.default_rng(60)
    X = sp.random_array((9, 14), density=0.2, format="csr", random_state=rng)
    X = sp.csr_array(X.toarray() * (np.arange(9) != 4)[:, None])  # row 4 empty
    B, G = rng.standard_normal((14, 5)), rng.standard_normal((9, 5))
    for idx in (np.int32, np.int64):
        args = (X.indptr.astype(idx), X.indices.astype(idx), X.data)
        np.testing.assert_allclose(csr_times_dense(*args, B), X @ B, atol=1e-14)
        np.testing.assert_allclose(csr_transpose_times_dense(*args, G, 14), X.T @ G,
                                   atol=1e-14)
