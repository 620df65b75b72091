"""The discrete Neural Sheaf Diffusion model (Bodnar et al. 2022), forward and reverse.

Shapes: ``n`` nodes, ``m`` undirected edges, stalk dimension ``d``, ``h`` hidden
channels per stalk dimension, ``C`` classes. With ``x`` of shape ``(n, d, h)``:

* encoder: ``x = dropout(ELU(dropout_in(X) W_in + b_in))``, reshaped to ``(n, d, h)``;
* layer ``l``: maps ``F_{u<|e} = phi(tanh([x_u || x_v] P_l))`` for every edge side
  (``phi``: a diagonal, a Cayley-orthogonal or a general ``d x d`` matrix; or the
  identity, a fixed constant sheaf for comparison), the
  augmented normalised sheaf Laplacian ``Delta_l`` (:mod:`._kernels`), and
  ``x <- (1 + tanh eps_l) * x - ELU(Delta_l (W1_l x~ W2_l))`` with ``x~ = dropout(x)``
  (``W1_l`` acts on the stalk index, ``W2_l`` on the channels);
* read-out: ``logits = x.reshape(n, d h) W_out + b_out``, softmax cross-entropy averaged
  over the training nodes.

The reverse pass is written out by hand; the per-edge and per-node work is in the
Numba kernels, the rest is BLAS. Nothing here imports an autodiff framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..sheaf._kernels import node_incidence
from ._kernels import (
    cayley_backward,
    cayley_forward,
    gather_tanh,
    laplacian_backward,
    laplacian_backward_diag,
    laplacian_forward,
    laplacian_forward_diag,
)

SHEAF_CLASSES = ("diag", "orthogonal", "general", "identity")


@dataclass(frozen=True)
class NSDConfig:
    """Architecture of the model (everything but the weights)."""

    n_features: int
    n_classes: int
    d: int = 3
    hidden: int = 16
    layers: int = 4
    sheaf: str = "diag"
    dropout: float = 0.0
    input_dropout: float = 0.0

    @property
    def map_params(self) -> int:
        """Numbers the sheaf learner predicts per edge side."""
        d = self.d
        return {"diag": d, "general": d * d, "orthogonal": d * (d - 1) // 2,
                "identity": 0}[self.sheaf]


@dataclass(frozen=True)
class GraphStructure:
    """What the model needs of the graph, computed once."""

    n: int
    edges: np.ndarray  # (m, 2), u < v
    incidence: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    first: np.ndarray  # (2m,): u of every edge (sides 0), then v (sides 1)
    second: np.ndarray  # (2m,): the other endpoint
    scatter_first: sp.csr_array  # (n, 2m): sums edge-side rows into their first endpoint
    scatter_second: sp.csr_array  # (n, 2m): ... into their second endpoint


def graph_structure(adjacency: sp.csr_array) -> GraphStructure:
    """Edges ``u < v`` of a symmetric adjacency and the gather matrices of both sides."""
    A = sp.triu(sp.csr_array(adjacency), k=1).tocoo()
    edges = np.column_stack([A.row, A.col]).astype(np.int64)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges = np.ascontiguousarray(edges[order])
    n = adjacency.shape[0]
    m = len(edges)
    first = np.concatenate([edges[:, 0], edges[:, 1]])
    second = np.concatenate([edges[:, 1], edges[:, 0]])
    ones = np.ones(2 * m)
    rows = np.arange(2 * m)
    s1 = sp.csr_array((ones, (first, rows)), shape=(n, 2 * m))
    s2 = sp.csr_array((ones, (second, rows)), shape=(n, 2 * m))
    return GraphStructure(n, edges, node_incidence(edges, n), first, second, s1, s2)


def predict_map_params(xf: np.ndarray, P: np.ndarray, graph: GraphStructure
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``T = tanh([x_first || x_second] P)`` for every edge side, and ``xf P`` halves.

    The linear map of the concatenated endpoint features splits into one per endpoint,
    ``x_u P_top + x_v P_bottom``, so it is applied to the ``n`` nodes and gathered for
    the ``2 m`` edge sides, never forming the ``(2 m, 2 d h)`` concatenation.
    """
    k = xf.shape[1]
    N1 = xf @ P[:k]
    N2 = xf @ P[k:]
    return gather_tanh(N1, N2, graph.first, graph.second), N1, N2


def init_params(config: NSDConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw initial weights.

    PyTorch's ``Linear`` default, U(+-1/sqrt(fan_in)), for the encoder, read-out and
    sheaf learners; ``W1 = I``, ``W2`` orthogonal, ``eps = 0``.
    """
    d, h = config.d, config.hidden

    def uniform(fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape)

    p: dict[str, np.ndarray] = {
        "W_in": uniform(config.n_features, (config.n_features, d * h)),
        "b_in": uniform(config.n_features, (d * h,)),
        "W_out": uniform(d * h, (d * h, config.n_classes)),
        "b_out": uniform(d * h, (config.n_classes,)),
    }
    for layer in range(config.layers):
        p[f"P{layer}"] = uniform(2 * d * h, (2 * d * h, config.map_params))
        # as the reference code: identity on the stalks, orthogonal on the channels
        p[f"W1_{layer}"] = np.eye(d)
        p[f"W2_{layer}"] = np.linalg.qr(rng.standard_normal((h, h)))[0]
        p[f"eps{layer}"] = np.zeros(d)
    return p


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def _elu_grad(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))


def _dropout_mask(rng: np.random.Generator | None, p: float, shape: tuple[int, ...]) -> Any:
    """Inverted-dropout scale (0 or 1/(1-p)), or 1.0 when not training."""
    if rng is None or p == 0.0:
        return 1.0
    return (rng.random(shape) >= p) / (1.0 - p)


def maps_from_params(T: np.ndarray, config: NSDConfig, m: int
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """Build maps ``(m, 2, d, d)`` from the learner's outputs ``T`` (sides 0, then 1).

    Also returns what the reverse pass reuses: ``(I - A)^{-1}`` of every Cayley map for
    orthogonal sheaves, else ``None``.
    """
    d = config.d
    Minv = None
    if config.sheaf == "diag":
        F = np.zeros((2 * m, d, d))
        idx = np.arange(d)
        F[:, idx, idx] = T
    elif config.sheaf == "general":
        F = T.reshape(2 * m, d, d)
    elif config.sheaf == "identity":
        F = np.broadcast_to(np.eye(d), (2 * m, d, d))
    else:
        F, Minv = cayley_forward(np.ascontiguousarray(T), d)
    return np.ascontiguousarray(np.stack([F[:m], F[m:]], axis=1)), Minv


def maps_vjp(dmaps: np.ndarray, maps: np.ndarray, Minv: np.ndarray | None,
             config: NSDConfig) -> np.ndarray:
    """Gradient with respect to ``T`` of ``sum(dmaps * maps)``, for the dense-map classes.

    ``maps`` and ``Minv`` are :func:`maps_from_params`' outputs (diagonal maps have a
    reverse pass of their own in :func:`forward_backward`).
    """
    d, m = config.d, maps.shape[0]
    dF = np.concatenate([dmaps[:, 0], dmaps[:, 1]])
    if config.sheaf == "general":
        return dF.reshape(2 * m, d * d)
    if config.sheaf == "identity":
        return np.zeros((2 * m, 0))
    # orthogonal: Cayley maps, with the (I - A)^{-1} kept by maps_from_params
    Q = np.concatenate([maps[:, 0], maps[:, 1]])
    return cayley_backward(np.ascontiguousarray(dF), Q, Minv, d)


def forward_backward(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    labels: np.ndarray,
    train_mask: np.ndarray,
    graph: GraphStructure,
    config: NSDConfig,
    *,
    rng: np.random.Generator | None = None,
    grad: bool = True,
) -> tuple[float, np.ndarray, dict[str, np.ndarray] | None]:
    """Loss, logits and (if ``grad``) the gradient of every parameter.

    ``X`` is a dense array or a scipy sparse array (bag-of-words features are 0.5-5 %
    non-zero: the encoder's two products then cost a twentieth). ``rng`` switches
    dropout on (training); ``None`` is evaluation mode.
    """
    n, d, h, L = graph.n, config.d, config.hidden, config.layers
    m = len(graph.edges)
    edges, inc = graph.edges, graph.incidence
    # encoder
    X0: Any
    if sp.issparse(X):  # dropout on the stored entries: the zeros stay zero either way
        X0 = X
        if rng is not None and config.input_dropout > 0:
            Xs = sp.csr_array(X, copy=True)
            Xs.data *= _dropout_mask(rng, config.input_dropout, (Xs.nnz,))
            X0 = Xs
    else:
        X0 = X * _dropout_mask(rng, config.input_dropout, X.shape)
    H = X0 @ params["W_in"] + params["b_in"]
    mask_enc = _dropout_mask(rng, config.dropout, H.shape)
    x = (_elu(H) * mask_enc).reshape(n, d, h)
    tape = []
    for layer in range(L):
        P, W1, W2 = params[f"P{layer}"], params[f"W1_{layer}"], params[f"W2_{layer}"]
        t_eps = np.tanh(params[f"eps{layer}"])
        mask_m = _dropout_mask(rng, config.dropout if layer > 0 else 0.0, x.shape)
        xf = (x * mask_m).reshape(n, d * h)
        T = predict_map_params(xf, P, graph)[0]
        mask_d = _dropout_mask(rng, config.dropout, x.shape)
        xd = x * mask_d
        X1 = np.einsum("ij,njh->nih", W1, xd)
        X2 = np.ascontiguousarray(X1 @ W2)
        if config.sheaf == "diag":  # the maps' diagonals (m, 2, d), a kernel of their own
            maps, Minv = np.ascontiguousarray(np.stack([T[:m], T[m:]], axis=1)), None
            Y, *lap = laplacian_forward_diag(maps, X2, *inc)
        else:
            maps, Minv = maps_from_params(T, config, m)
            Y, *lap = laplacian_forward(maps, X2, *inc)
        x_new = (1.0 + t_eps)[None, :, None] * x - _elu(Y)
        tape.append((x, mask_m, xf, T, maps, Minv, mask_d, xd, X1, X2, Y, lap, t_eps))
        x = x_new
    xf = x.reshape(n, d * h)
    logits = xf @ params["W_out"] + params["b_out"]
    shift = logits - logits.max(axis=1, keepdims=True)
    logp = shift - np.log(np.exp(shift).sum(axis=1, keepdims=True))
    idx = np.flatnonzero(train_mask)
    loss = float(-logp[idx, labels[idx]].mean())
    if not grad:
        return loss, logits, None
    g: dict[str, np.ndarray] = {}
    dlogits = np.zeros_like(logits)
    dlogits[idx] = np.exp(logp[idx])
    dlogits[idx, labels[idx]] -= 1.0
    dlogits /= idx.size
    g["W_out"] = xf.T @ dlogits
    g["b_out"] = dlogits.sum(axis=0)
    dx = (dlogits @ params["W_out"].T).reshape(n, d, h)
    for layer in range(L - 1, -1, -1):
        x, mask_m, xf, T, maps, Minv, mask_d, xd, X1, X2, Y, lap, t_eps = tape[layer]
        P, W1, W2 = params[f"P{layer}"], params[f"W1_{layer}"], params[f"W2_{layer}"]
        g[f"eps{layer}"] = (dx * x).sum(axis=(0, 2)) * (1.0 - t_eps**2)
        dY = np.ascontiguousarray(-dx * _elu_grad(Y))
        dx_prev = (1.0 + t_eps)[None, :, None] * dx
        if config.sheaf == "diag":
            dX2, dmaps = laplacian_backward_diag(dY, maps, X2, edges, *inc, *lap)
            dT = np.concatenate([dmaps[:, 0], dmaps[:, 1]])
        else:
            dX2, dmaps = laplacian_backward(dY, maps, X2, edges, *inc, *lap)
            dT = maps_vjp(dmaps, maps, Minv, config)
        g[f"W2_{layer}"] = X1.reshape(-1, h).T @ dX2.reshape(-1, h)
        dX1 = dX2 @ W2.T
        g[f"W1_{layer}"] = np.einsum("nih,njh->ij", dX1, xd)
        dx_prev += np.einsum("ij,nih->njh", W1, dX1) * mask_d
        dZ = dT * (1.0 - T**2)
        dN1 = graph.scatter_first @ dZ
        dN2 = graph.scatter_second @ dZ
        g[f"P{layer}"] = np.vstack([xf.T @ dN1, xf.T @ dN2])
        dxf = dN1 @ P[: d * h].T + dN2 @ P[d * h:].T
        dx_prev += dxf.reshape(n, d, h) * mask_m
        dx = dx_prev
    dH = dx.reshape(n, d * h) * mask_enc * _elu_grad(H)
    g["W_in"] = np.asarray(X0.T @ dH)
    g["b_in"] = dH.sum(axis=0)
    return loss, logits, g
