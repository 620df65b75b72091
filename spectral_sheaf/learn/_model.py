"""The discrete Neural Sheaf Diffusion model (Bodnar et al. 2022), forward and reverse.

Shapes: ``n`` nodes, ``m`` undirected edges, stalk dimension ``d``, ``h`` hidden
channels per stalk dimension, ``C`` classes. With ``x`` of shape ``(n, d, h)``:

* encoder: ``x = dropout(ELU(dropout_in(X) W_in + b_in))``, with ``second_linear``
  followed by ``x W_mid + b_mid`` (the reference implementation's ``second_linear``),
  reshaped to ``(n, d, h)``;
* layer ``l``: maps ``F_{u<|e} = phi(tanh([x_u || x_v] P_l))`` for every edge side
  (``phi``: a diagonal, a Cayley-orthogonal or a general ``d x d`` matrix; or the
  identity, a fixed constant sheaf for comparison, fixed dimensions aside), the
  augmented normalised sheaf Laplacian ``Delta_l`` (:mod:`._kernels`), and
  ``x <- (1 + tanh eps_l) * x - ELU(Delta_l (W1_l x~ W2_l))`` with ``x~ = dropout(x)``
  (``W1_l`` acts on the stalk index, ``W2_l`` on the channels);
* read-out: ``logits = x.reshape(n, d h) W_out + b_out``, softmax cross-entropy averaged
  over the training nodes.

The orthogonal maps are :func:`spectral_sheaf.sheaf.cayley` of the ``d (d - 1) / 2``
predicted numbers (compiled for the batch of edge sides in :mod:`._kernels`, and tested
against it): rotations in SO(d), never reflections. The Laplacian sees only the
transports ``F_u^T F_v``, and maps that all share one determinant (as products of a
fixed number of Householder reflections do) give transports in SO(d) all the same.

With ``low_pass`` the stalks get one more dimension whose restriction maps are fixed to
1: on it the layer diffuses by the augmented normalised graph Laplacian (the reference
implementation's ``add_hp``, whose help calls it a fixed low-pass filter). With
``high_pass`` they get one whose maps are fixed to 1 on the edge's first side and -1 on
its second: its Laplacian is the signless ``D + A``, which keeps the alternating
signals that the graph Laplacian damps (the reference's ``add_lp``, whose help calls it
a fixed high-pass filter). The learned maps fill the first ``d`` dimensions, then come
the low-pass and the high-pass dimensions (the reference appends them the other way
round: it matters only to weights carried between the two); every other shape above
reads ``stalk = d + low_pass + high_pass`` for ``d``.

With ``edge_weights`` (orthogonal maps only, the reference implementation's default for
its O(d) model) each layer also learns a weight per edge,
``w_e = sigmoid([x_u || x_v] p_l) sigmoid([x_v || x_u] p_l)``, the same from both ends;
both maps of the edge are scaled by it, so the Laplacian's block is
``-w_e^2 F_u^T F_v`` and ``D_u = sum_e w_e^2 I``: orthogonal maps can then weaken an
edge, which they cannot do alone. The fixed dimensions are weighted too, unlike the
reference's, which keep the unweighted graph.

With ``shared_maps`` one sheaf learner ``P_0``, applied to the encoder's output, gives
the maps of every layer (the reference implementation's ``--linear=True``: one
Laplacian ``Delta_0`` for all layers); otherwise, as the reference's default, each
layer predicts its own from its input. The reverse pass then sums the layers' gradients
with respect to the shared maps before it goes through the learner once.

The reverse pass is written out by hand. The per-edge and per-node work, the
element-wise steps of each layer (fused, one pass each) and the sparse feature products
are Numba kernels (:mod:`._kernels`); the dense products are BLAS. The sheaf learners'
outputs are the maps without a copy: rows ``e`` and ``m + e`` hold the two sides of
edge ``e``. Orthogonal maps use ``D_u = deg_u I`` (``sum_e w_e^2 I`` with edge weights),
exact for them, so no eigen-decomposition runs. Nothing here imports an autodiff framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ..sheaf._kernels import node_incidence
from ._kernels import (
    NO_MASK,
    cayley_backward,
    cayley_forward,
    csr_times_dense,
    csr_transpose_times_dense,
    dropout_scale,
    elu_dropout,
    elu_dropout_backward,
    elu_residual,
    elu_residual_backward,
    gather_tanh,
    laplacian_backward,
    laplacian_backward_diag,
    laplacian_backward_orth,
    laplacian_forward,
    laplacian_forward_diag,
    laplacian_forward_orth,
    mix_stalks,
    mix_stalks_backward,
    scatter_tanh_backward,
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
    low_pass: bool = False
    high_pass: bool = False
    shared_maps: bool = False
    edge_weights: bool = False
    second_linear: bool = False

    def __post_init__(self) -> None:
        if self.edge_weights and self.sheaf != "orthogonal":
            raise ValueError(f"edge_weights=True needs sheaf='orthogonal' (the weights scale "
                             f"orthogonal maps, which cannot weaken an edge alone); got "
                             f"sheaf={self.sheaf!r}")

    @property
    def learners(self) -> int:
        """Sheaf learners: one per layer, or one for all with ``shared_maps``."""
        return 1 if self.shared_maps else self.layers

    @property
    def stalk(self) -> int:
        """Stalk dimension of the features: ``d``, plus one per fixed dimension."""
        return self.d + int(self.low_pass) + int(self.high_pass)

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


def graph_structure(adjacency: sp.csr_array) -> GraphStructure:
    """Edges ``u < v`` of a symmetric adjacency, its node incidence and both sides' ends."""
    A = sp.triu(sp.csr_array(adjacency), k=1).tocoo()
    edges = np.column_stack([A.row, A.col]).astype(np.int64)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges = np.ascontiguousarray(edges[order])
    n = adjacency.shape[0]
    first = np.concatenate([edges[:, 0], edges[:, 1]])
    second = np.concatenate([edges[:, 1], edges[:, 0]])
    return GraphStructure(n, edges, node_incidence(edges, n), first, second)


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


# no edge weights: the orthogonal kernels' "every weight 1"
NO_WEIGHTS = np.empty(0)


def predict_edge_weights(xf: np.ndarray, Pw: np.ndarray, graph: GraphStructure
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Every edge's weight ``w`` (m,) and the sigmoids of both sides ``sig`` (2m,).

    ``w_e = sigmoid([x_u || x_v] Pw) sigmoid([x_v || x_u] Pw)``: symmetric in the ends.
    The Laplacian takes ``omega = w^2``.
    """
    k = xf.shape[1]
    a = (xf @ Pw[:k, 0])[graph.first] + (xf @ Pw[k:, 0])[graph.second]
    sig = expit(a)
    m = len(graph.edges)
    return sig[:m] * sig[m:], sig


def edge_weights_backward(domega: np.ndarray, w: np.ndarray, sig: np.ndarray,
                          xf: np.ndarray, Pw: np.ndarray, graph: GraphStructure
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Reverse pass of :func:`predict_edge_weights` and ``omega = w^2``.

    Returns the gradients of ``Pw`` and ``xf`` from that of ``omega``.
    """
    n, k = xf.shape
    m = len(graph.edges)
    dw = 2.0 * w * domega
    da = np.concatenate([dw * sig[m:], dw * sig[:m]]) * sig * (1.0 - sig)
    dn1 = np.bincount(graph.first, weights=da, minlength=n)
    dn2 = np.bincount(graph.second, weights=da, minlength=n)
    gPw = np.concatenate([xf.T @ dn1, xf.T @ dn2])[:, None]
    dxf = np.outer(dn1, Pw[:k, 0]) + np.outer(dn2, Pw[k:, 0])
    return gPw, dxf


def init_params(config: NSDConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw initial weights.

    PyTorch's ``Linear`` default, U(+-1/sqrt(fan_in)), for the encoder, read-out and
    sheaf learners; ``W1 = I``, ``W2`` orthogonal, ``eps = 0``.
    """
    s, h = config.stalk, config.hidden

    def uniform(fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape)

    p: dict[str, np.ndarray] = {
        "W_in": uniform(config.n_features, (config.n_features, s * h)),
        "b_in": uniform(config.n_features, (s * h,)),
        "W_out": uniform(s * h, (s * h, config.n_classes)),
        "b_out": uniform(s * h, (config.n_classes,)),
    }
    if config.second_linear:
        p["W_mid"] = uniform(s * h, (s * h, s * h))
        p["b_mid"] = uniform(s * h, (s * h,))
    for layer in range(config.layers):
        if layer < config.learners:
            p[f"P{layer}"] = uniform(2 * s * h, (2 * s * h, config.map_params))
            if config.edge_weights:
                p[f"Pw{layer}"] = uniform(2 * s * h, (2 * s * h, 1))
        # as the reference code: identity on the stalks, orthogonal on the channels
        p[f"W1_{layer}"] = np.eye(s)
        p[f"W2_{layer}"] = np.linalg.qr(rng.standard_normal((h, h)))[0]
        p[f"eps{layer}"] = np.zeros(s)
    return p


def _is_canonical_csr(X: Any) -> bool:
    """Tell whether ``X`` is float64 CSR with indices of one dtype, as the kernels take."""
    return (X.format == "csr" and X.dtype == np.float64
            and X.indices.dtype == X.indptr.dtype)


def _dropout_mask(rng: np.random.Generator | None, p: float, shape: tuple[int, ...]
                  ) -> np.ndarray:
    """Inverted-dropout scale (0 or 1/(1-p)) per entry, or NO_MASK when not training."""
    if rng is None or p == 0.0:
        return NO_MASK
    r = rng.random(shape)
    dropout_scale(r.reshape(-1), float(p))
    return r


def _fixed_diagonals(config: NSDConfig) -> np.ndarray:
    """Return the fixed dimensions' maps, ``(2, stalk - d)``.

    Row 0 is an edge's first side, row 1 its second; ``low_pass`` is 1 on both,
    ``high_pass`` 1 and -1.
    """
    sides = [(1.0, 1.0)] * config.low_pass + [(1.0, -1.0)] * config.high_pass
    return np.array(sides).reshape(-1, 2).T


def _with_fixed(F: np.ndarray, config: NSDConfig) -> np.ndarray:
    """Square maps ``(2m, d, d)`` as ``(2m, stalk, stalk)``, the fixed dimensions appended.

    They go on the diagonal, as :func:`_fixed_diagonals` gives them.
    """
    d, s = config.d, config.stalk
    if s == d:
        return np.ascontiguousarray(F)
    m = F.shape[0] // 2
    fixed = _fixed_diagonals(config)
    G = np.zeros((F.shape[0], s, s))
    G[:, :d, :d] = F
    idx = np.arange(d, s)
    G[:m, idx, idx] = fixed[0]
    G[m:, idx, idx] = fixed[1]
    return G


def layer_maps(T: np.ndarray, config: NSDConfig, m: int
               ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Build the maps in the layout the kernels of the class take, from the outputs ``T``.

    Returns ``(maps, Q, Minv)``: diagonal maps as ``(m, 2, stalk)`` diagonals, the others
    sides-major ``(2m, stalk, stalk)`` (for general maps without fixed dimensions, ``T``
    itself reshaped); ``Q`` and ``Minv`` are the Cayley factors the orthogonal reverse
    pass needs (else ``None``).
    """
    d, s = config.d, config.stalk
    if config.sheaf == "diag":
        if s == d:
            return np.ascontiguousarray(np.stack([T[:m], T[m:]], axis=1)), None, None
        maps = np.empty((m, 2, s))
        maps[:, 0, :d] = T[:m]
        maps[:, 1, :d] = T[m:]
        maps[:, :, d:] = _fixed_diagonals(config)
        return maps, None, None
    if config.sheaf == "orthogonal":
        Q, Minv = cayley_forward(T, d)
        return _with_fixed(Q, config), Q, Minv
    if config.sheaf == "identity":
        return _with_fixed(np.broadcast_to(np.eye(d), (2 * m, d, d)), config), None, None
    return _with_fixed(T.reshape(2 * m, d, d), config), None, None


def layer_maps_backward(dmaps: np.ndarray, Q: np.ndarray | None, Minv: np.ndarray | None,
                        config: NSDConfig, m: int) -> np.ndarray:
    """Return the gradient of ``T`` from that of the maps (reverses :func:`layer_maps`)."""
    d = config.d
    if config.sheaf == "diag":
        return np.concatenate([dmaps[:, 0, :d], dmaps[:, 1, :d]])
    if config.sheaf == "identity":
        return np.zeros((2 * m, 0))
    dF = dmaps[:, :d, :d] if config.stalk > d else dmaps
    if config.sheaf == "orthogonal":
        return cayley_backward(np.ascontiguousarray(dF), Q, Minv, d)
    return np.ascontiguousarray(dF).reshape(2 * m, d * d)


def maps_from_params(T: np.ndarray, config: NSDConfig, m: int) -> np.ndarray:
    """Build the maps, sides-major ``(2m, stalk, stalk)``, from the learner's outputs."""
    maps = layer_maps(T, config, m)[0]
    if config.sheaf == "diag":
        F = np.zeros((2 * m, config.stalk, config.stalk))
        idx = np.arange(config.stalk)
        F[:m, idx, idx] = maps[:, 0]
        F[m:, idx, idx] = maps[:, 1]
        return F
    return np.ascontiguousarray(maps)


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
    n, d, h, L = graph.n, config.stalk, config.hidden, config.layers
    m = len(graph.edges)
    edges, inc = graph.edges, graph.incidence
    # encoder
    sparse = sp.issparse(X)
    if sparse:
        X = X if _is_canonical_csr(X) else sp.csr_array(X)
    X0: Any = X
    if rng is not None and config.input_dropout > 0:
        if sparse:  # dropout on the stored entries: the zeros stay zero anyway
            X0 = sp.csr_array(X, copy=True)
            X0.data *= _dropout_mask(rng, config.input_dropout, (X0.nnz,))
        else:
            X0 = X * _dropout_mask(rng, config.input_dropout, X.shape)
    if sparse:
        H = csr_times_dense(X0.indptr, X0.indices, X0.data, params["W_in"])
        H += params["b_in"]
    else:
        H = X0 @ params["W_in"] + params["b_in"]
    mask_enc = _dropout_mask(rng, config.dropout, H.shape)
    x_enc = elu_dropout(H, mask_enc)
    x = (x_enc @ params["W_mid"] + params["b_mid"] if config.second_linear
         else x_enc).reshape(n, d, h)
    tape = []
    for layer in range(L):
        W1, W2 = params[f"W1_{layer}"], params[f"W2_{layer}"]
        learns = layer < config.learners  # shared maps: layer 0's serve every layer
        t_eps = np.tanh(params[f"eps{layer}"])
        mask_m = (_dropout_mask(rng, config.dropout if layer > 0 else 0.0, x.shape)
                  if learns else NO_MASK)
        mask_d = _dropout_mask(rng, config.dropout, x.shape)
        xf, xd, X1 = mix_stalks(W1, x, mask_m, mask_d)
        xf = xf.reshape(n, d * h)
        if learns:
            T = predict_map_params(xf, params[f"P{layer}"], graph)[0]
            maps, Q, Minv = layer_maps(T, config, m)
            w, sig = (predict_edge_weights(xf, params[f"Pw{layer}"], graph)
                      if config.edge_weights else (NO_WEIGHTS, NO_WEIGHTS))
            omega = w * w
        X2 = (X1.reshape(n * d, h) @ W2).reshape(n, d, h)
        if config.sheaf == "diag":  # the maps' diagonals (m, 2, d), a kernel of their own
            Y, *lap = laplacian_forward_diag(maps, X2, *inc)
        elif config.sheaf in ("orthogonal", "identity"):  # sides-major (2m, d, d)
            Y, *lap = laplacian_forward_orth(maps, omega, X2, *inc)
        else:  # general: sides-major, the learner's outputs themselves
            Y, *lap = laplacian_forward(maps, X2, *inc)
        tape.append((x, xf, T, maps, Q, Minv, omega, w, sig, mask_m, mask_d, xd, X1, X2, Y,
                     lap, t_eps))
        x = elu_residual(x, Y, t_eps)
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
    shared_dmaps = None  # shared maps: the later layers' gradients, summed
    shared_domega = None  # and their edge weights'
    no_dxf = None  # their learner input's gradient: zero, one read-only array for all
    for layer in range(L - 1, -1, -1):
        (x, xf, T, maps, Q, Minv, omega, w, sig, mask_m, mask_d, xd, X1, X2, Y, lap,
         t_eps) = tape[layer]
        W1, W2 = params[f"W1_{layer}"], params[f"W2_{layer}"]
        dY, dx_prev, dt = elu_residual_backward(dx, x, Y, t_eps)
        g[f"eps{layer}"] = dt * (1.0 - t_eps**2)
        if config.sheaf == "diag":
            dX2, dmaps = laplacian_backward_diag(dY, maps, X2, edges, *inc, *lap)
        elif config.sheaf in ("orthogonal", "identity"):
            dX2, dmaps, domega = laplacian_backward_orth(dY, maps, omega, X2, Y, edges, *inc,
                                                         *lap)
        else:
            dX2, dmaps = laplacian_backward(dY, maps, X2, edges, *inc, *lap)
        dX2 = dX2.reshape(n * d, h)
        g[f"W2_{layer}"] = X1.reshape(n * d, h).T @ dX2
        dX1 = (dX2 @ W2.T).reshape(n, d, h)
        if layer >= config.learners:  # a shared map's user: add to its gradient
            shared_dmaps = dmaps if shared_dmaps is None else shared_dmaps + dmaps
            if config.edge_weights:
                shared_domega = (domega if shared_domega is None
                                 else shared_domega + domega)
            if no_dxf is None:
                no_dxf = np.zeros((n, d * h))
            dxf = no_dxf
        else:
            if shared_dmaps is not None:
                dmaps = dmaps + shared_dmaps
                if config.edge_weights:
                    domega = domega + shared_domega
            P = params[f"P{layer}"]
            dT = layer_maps_backward(dmaps, Q, Minv, config, m)
            dN1, dN2 = scatter_tanh_backward(dT, T, inc[0], inc[2], inc[3])
            g[f"P{layer}"] = np.vstack([xf.T @ dN1, xf.T @ dN2])
            dxf = dN1 @ P[: d * h].T + dN2 @ P[d * h:].T
            if config.edge_weights:
                g[f"Pw{layer}"], dxf_w = edge_weights_backward(domega, w, sig, xf,
                                                               params[f"Pw{layer}"], graph)
                dxf += dxf_w
        # dx_prev += W1^T dX1 * mask_d + dxf * mask_m, in place
        g[f"W1_{layer}"] = mix_stalks_backward(W1, dX1, xd, mask_d, dxf.reshape(n, d, h),
                                               mask_m, dx_prev)
        dx = dx_prev
    dx_enc = dx.reshape(n, d * h)
    if config.second_linear:
        g["W_mid"] = x_enc.T @ dx_enc
        g["b_mid"] = dx_enc.sum(axis=0)
        dx_enc = dx_enc @ params["W_mid"].T
    dH = elu_dropout_backward(dx_enc, H, mask_enc)
    if sparse:
        g["W_in"] = csr_transpose_times_dense(X0.indptr, X0.indices, X0.data, dH,
                                              X0.shape[1])
    else:
        g["W_in"] = X0.T @ dH
    g["b_in"] = dH.sum(axis=0)
    return loss, logits, g
