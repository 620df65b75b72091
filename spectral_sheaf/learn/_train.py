"""Training: Adam with weight decay, early stopping, an estimator, the ten-split protocol.

The estimator follows scikit-learn's conventions; the protocol is the Neural Sheaf
Diffusion paper's (test accuracy at the best validation epoch, over the ten splits).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_limits

from .._validation import (
    as_csr,
    as_float_array,
    as_index_array,
    check_bool,
    check_finite,
    check_in_range,
    check_int,
    check_option,
    check_positive_real,
    check_rng,
    check_symmetric,
)
from ..sheaf import Sheaf
from ._kernels import (
    NO_MASK,
    adam_update,
    adam_update_parallel,
    elu_dropout,
    elu_residual,
    laplacian_forward,
    mix_stalks,
)
from ._model import (
    SHEAF_CLASSES,
    GraphStructure,
    NSDConfig,
    forward_backward,
    graph_structure,
    init_params,
    maps_from_params,
    predict_edge_weights,
    predict_map_params,
)

__all__ = [
    "Adam",
    "SheafDiffusionClassifier",
    "SplitResult",
    "TenSplitResult",
    "evaluate_splits",
    "layer_energies",
]


# entries from which an Adam update runs over the threads (a parallel region costs
# more than a smaller update)
_PARALLEL_ADAM = 1 << 14


class Adam:
    """Adam (Kingma and Ba) with L2 decay added to the gradient, as ``torch.optim.Adam``.

    ``weight_decay`` applies to the encoder, diffusion and read-out weights and to the
    edge-weight learners (``Pw*``), as in the reference implementation, ``sheaf_decay``
    to the sheaf learners' (``P0``, ``P1``, ...), none to biases and ``eps*``. (The
    reference decays its biases and epsilons with ``weight_decay`` too; doing so here
    lowered the mean validation accuracy of cora's and citeseer's chosen points over
    ten splits, 87.40 to 86.97 and 76.91 to 76.63.) :meth:`step` updates the
    parameters in place.
    """

    def __init__(self, params: dict[str, np.ndarray], *, lr: float, weight_decay: float,
                 sheaf_decay: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        for k, v in params.items():
            if not (isinstance(v, np.ndarray) and v.dtype == np.float64
                    and v.flags.c_contiguous and v.flags.writeable):
                raise ValueError(f"params[{k!r}] must be a writeable C-contiguous float64 "
                                 f"array (Adam updates it in place); got "
                                 f"{type(v).__name__} {getattr(v, 'dtype', '')}")
        self.lr, self.betas, self.eps = lr, betas, eps
        self.decay = {k: (sheaf_decay if k.startswith("P") and not k.startswith("Pw")
                          else weight_decay) for k in params}
        self.decay.update({k: 0.0 for k in params if k.startswith(("b_", "eps"))})
        self.m1 = {k: np.zeros_like(v) for k, v in params.items()}
        self.m2 = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter from its gradient (one compiled pass each)."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        for k, p in params.items():
            # torch's form: p -= lr / c1 * m1 / (sqrt(m2 / c2) + eps)
            update = adam_update_parallel if p.size >= _PARALLEL_ADAM else adam_update
            update(p, np.ascontiguousarray(grads[k]), self.m1[k], self.m2[k],
                   self.decay[k], b1, b2, self.lr / c1, c2, self.eps)


def _bool_mask(m: Any, n: int, name: str, what: str = "one entry per node") -> np.ndarray:
    arr = np.asarray(m)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a boolean array; got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) ({what}); got {arr.shape}")
    return arr


def _check_masks(n: int, labels: np.ndarray, train: Any, val: Any) -> tuple[np.ndarray, ...]:
    train_m, val_m = (np.zeros(n, dtype=bool) if m is None else _bool_mask(m, n, name)
                      for name, m in (("train_mask", train), ("val_mask", val)))
    if not train_m.any():
        raise ValueError("train_mask must select at least one node; got none")
    if (train_m & val_m).any():
        raise ValueError(f"train_mask and val_mask must not overlap; got "
                         f"{int((train_m & val_m).sum())} nodes in both")
    for name, m in (("train_mask", train_m), ("val_mask", val_m)):
        if (labels[m] < 0).any():
            raise ValueError(f"{name} selects {int((labels[m] < 0).sum())} unlabelled nodes "
                             f"(label -1); exclude them")
    return train_m, val_m


_FITTED = "one entry per node of the fitted graph"


def _accuracy(pred: np.ndarray, labels: Any, mask: Any, n: int) -> float:
    y = as_index_array(labels, "labels")
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) (one per node of the fitted "
                         f"graph); got {y.shape}")
    m = (y >= 0) if mask is None else (_bool_mask(mask, n, "mask", _FITTED) & (y >= 0))
    if not m.any():
        raise ValueError("mask selects no labelled node; there is nothing to score")
    return float((pred[m] == y[m]).mean())


def _edge_pattern(A: sp.csr_array) -> sp.csr_array:
    """Return the non-zeros of a square, structurally symmetric ``csr_array`` as ones.

    The caller's arrays are never written: a stored zero (no edge) is dropped from a
    copy, and the ones are a new data array beside the shared index arrays.
    """
    if (A.data == 0).any():
        A = A.copy()
        A.eliminate_zeros()
    P = sp.csr_array((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)
    check_symmetric(P, "adjacency", context="(an undirected graph: every edge stored both "
                    "ways)", hint="Symmetrise it first, e.g. A.maximum(A.T)")
    return P


class SheafDiffusionClassifier(ClassifierMixin, BaseEstimator):
    """Neural Sheaf Diffusion for transductive node classification (numpy + Numba).

    The discrete model of Bodnar et al. (2022): a linear encoder to ``d``-dimensional
    stalks with ``hidden`` channels, ``layers`` sheaf diffusion layers whose
    restriction maps are predicted from the features of each edge's endpoints, and a
    linear read-out. Gradients are written by hand (no autodiff framework); training
    is full-batch Adam with early stopping on validation accuracy or loss.

    Parameters
    ----------
    sheaf : {"diag", "orthogonal", "general", "identity"}
        Class of the restriction maps: diagonal, Cayley-orthogonal (``d >= 2``) or
        general ``d x d``, predicted per edge; or ``"identity"``, every map fixed to
        the identity (a constant sheaf: the baseline without sheaf learning; the fixed
        dimensions of ``low_pass`` and ``high_pass`` are appended as for the others).
    d : int
        Stalk dimension.
    hidden : int
        Channels per stalk dimension.
    layers : int
        Diffusion layers.
    dropout, input_dropout : float
        Dropout in the layers and on the input features.
    lr : float
        Adam learning rate.
    weight_decay : float
        L2 penalty (Adam-style, added to the gradient) on every weight but the sheaf
        learners'.
    sheaf_decay : float
        L2 penalty on the sheaf learners' weights.
    epochs : int
        Maximum number of epochs.
    patience : int
        Stop after this many epochs without a better validation score (see
        ``stop_on``); the weights of the best epoch are kept.
    stop_on : {"acc", "loss"}
        What makes an epoch the best: the higher validation accuracy (ties go to the
        lower validation loss), or the lower validation loss (the reference
        implementation's default).
    low_pass : bool
        Append a stalk dimension whose restriction maps are fixed to 1 (the reference
        implementation's ``add_hp``, a fixed low-pass filter): plain graph diffusion
        beside the learned sheaf.
    high_pass : bool
        Append a stalk dimension whose maps are fixed to 1 and -1 on an edge's two
        sides (the reference implementation's ``add_lp``, a fixed high-pass filter):
        diffusion by the signless Laplacian ``D + A``, which keeps signals that
        alternate across edges. With ``low_pass`` as well the stalks have ``d + 2``
        dimensions.
    shared_maps : bool
        One sheaf learner, on the encoder's output, gives the restriction maps of
        every layer (the reference implementation's ``--linear=True``); ``False``, the
        reference's default: each layer predicts its own from its input.
    edge_weights : bool
        With ``sheaf="orthogonal"`` only: learn a weight in (0, 1) per edge beside the
        maps, ``sigmoid([x_u || x_v] p) sigmoid([x_v || x_u] p)``, which scales both of
        its maps (the reference implementation's default for its O(d) model; orthogonal
        maps alone cannot weaken an edge). Its learner takes ``weight_decay``, as the
        reference's does. The fixed dimensions (``low_pass``, ``high_pass``) are weighted
        too.
    second_linear : bool
        A second linear map (with bias, no activation) after the encoder's, as the
        reference implementation's ``second_linear``.
    random_state : int, Generator or None
        Initialisation and dropout.

    Attributes
    ----------
    params_ : dict of ndarray
        The weights of the best epoch.
    history_ : list of dict
        Per epoch: ``loss``, ``val_loss``, ``val_acc``.
    best_epoch_ : int
    """

    def __init__(self, sheaf: str = "diag", d: int = 3, hidden: int = 16, layers: int = 4,
                 dropout: float = 0.5, input_dropout: float = 0.0, lr: float = 0.02,
                 weight_decay: float = 5e-3, sheaf_decay: float = 5e-4, epochs: int = 500,
                 patience: int = 100, stop_on: str = "acc", low_pass: bool = False,
                 high_pass: bool = False, shared_maps: bool = False, edge_weights: bool = False,
                 second_linear: bool = False, random_state: Any = None) -> None:
        self.sheaf = sheaf
        self.d = d
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.sheaf_decay = sheaf_decay
        self.epochs = epochs
        self.patience = patience
        self.stop_on = stop_on
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.shared_maps = shared_maps
        self.edge_weights = edge_weights
        self.second_linear = second_linear
        self.random_state = random_state

    def _config(self, n_features: int, n_classes: int) -> NSDConfig:
        check_option(self.sheaf, "sheaf", SHEAF_CLASSES)
        d = check_int(self.d, "d", minimum=2 if self.sheaf == "orthogonal" else 1)
        return NSDConfig(
            n_features=n_features, n_classes=n_classes, d=d,
            hidden=check_int(self.hidden, "hidden", minimum=1),
            layers=check_int(self.layers, "layers", minimum=1), sheaf=self.sheaf,
            dropout=check_in_range(self.dropout, "dropout", 0.0, 0.99),
            input_dropout=check_in_range(self.input_dropout, "input_dropout", 0.0, 0.99),
            low_pass=check_bool(self.low_pass, "low_pass"),
            high_pass=check_bool(self.high_pass, "high_pass"),
            shared_maps=check_bool(self.shared_maps, "shared_maps"),
            edge_weights=check_bool(self.edge_weights, "edge_weights"),
            second_linear=check_bool(self.second_linear, "second_linear"),
        )

    def fit(self, adjacency: Any, features: Any, labels: Any, train_mask: Any,
            val_mask: Any = None, *, callback: Any = None) -> SheafDiffusionClassifier:
        """Train on the nodes of ``train_mask``; early-stop on ``val_mask``.

        Parameters
        ----------
        adjacency : sparse or dense, shape (n, n)
            Structurally symmetric (every edge stored both ways); weights and
            self-loops are ignored (an edge is a non-zero off the diagonal).
        features : array, shape (n, f)
        labels : array of int, shape (n,)
            Classes ``0 .. C-1``; ``-1`` marks an unlabelled node, which neither mask
            may select.
        train_mask, val_mask : bool arrays, shape (n,)
            Without ``val_mask`` the training loss takes the validation loss's place
            in early stopping (``stop_on`` then makes no difference) and ``history_``
            records a validation accuracy of 0.
        callback : callable, optional
            Called after every epoch as ``callback(epoch, record)`` with a copy of the
            epoch's ``history_`` record; training stops after the epoch when it returns
            a true value (the weights of the best epoch so far are kept).
        """
        A = as_csr(adjacency, "adjacency")
        X = as_float_array(features, "features", dtype=np.float64, ndim=(2,))
        check_finite(X, "features")
        n = X.shape[0]
        if A.shape != (n, n):
            raise ValueError(f"adjacency must be ({n}, {n}) to match features' {n} rows; "
                             f"got {A.shape}")
        A = _edge_pattern(A)
        y = as_index_array(labels, "labels")
        if y.shape != (n,):
            raise ValueError(f"labels must have shape ({n},); got {y.shape}")
        if (y < -1).any():
            raise ValueError(f"labels must be >= 0 (or -1 for unlabelled); got {y.min()}")
        train_m, val_m = _check_masks(n, y, train_mask, val_mask)
        n_classes = int(y.max()) + 1
        config = self._config(X.shape[1], n_classes)
        lr = check_positive_real(self.lr, "lr")
        wd = check_positive_real(self.weight_decay, "weight_decay", allow_zero=True)
        sd = check_positive_real(self.sheaf_decay, "sheaf_decay", allow_zero=True)
        epochs = check_int(self.epochs, "epochs", minimum=1)
        patience = check_int(self.patience, "patience", minimum=1)
        check_option(self.stop_on, "stop_on", ("acc", "loss"))
        rng = check_rng(self.random_state, "random_state")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None; got "
                            f"{type(callback).__name__}")
        graph = graph_structure(A)
        # BLAS single-threaded while training: the Numba kernels use the cores, and two
        # thread pools spinning against each other cost 2.5x per epoch on texas (2 cores)
        with threadpool_limits(limits=1, user_api="blas"):
            # sparse features (under 10 % non-zero) go through sparse products
            Xw = sp.csr_array(X) if np.count_nonzero(X) < 0.1 * X.size else X
            self._train(A, Xw, y, train_m, val_m, config, graph, rng, lr, wd, sd, epochs,
                        patience, callback)
        return self

    def _train(self, A: Any, X: Any, y: np.ndarray, train_m: np.ndarray,
               val_m: np.ndarray, config: NSDConfig, graph: GraphStructure,
               rng: np.random.Generator, lr: float, wd: float, sd: float, epochs: int,
               patience: int, callback: Any = None) -> None:
        params = init_params(config, rng)
        adam = Adam(params, lr=lr, weight_decay=wd, sheaf_decay=sd)
        best = (-1.0, np.inf)
        best_params = {k: v.copy() for k, v in params.items()}
        history = []
        best_epoch, waited = 0, 0
        for epoch in range(1, epochs + 1):
            loss, _, g = forward_backward(params, X, y, train_m, graph, config, rng=rng)
            if g is None:  # pragma: no cover - grad=True always returns gradients
                raise RuntimeError("no gradients")
            adam.step(params, g)
            if not np.isfinite(loss):
                raise FloatingPointError(f"training diverged at epoch {epoch} (loss "
                                         f"{loss}); lower lr")
            if val_m.any():
                val_loss, logits, _ = forward_backward(params, X, y, val_m, graph, config,
                                                       grad=False)
                val_acc = float((logits[val_m].argmax(1) == y[val_m]).mean())
            else:
                val_loss, val_acc = loss, 0.0
            history.append({"loss": loss, "val_loss": val_loss, "val_acc": val_acc})
            stop = callback is not None and bool(callback(epoch, dict(history[-1])))
            if self.stop_on == "loss":
                better = (-val_loss, val_acc) > (-best[1], best[0])
            else:
                better = (val_acc, -val_loss) > (best[0], -best[1])
            if better:
                best = (val_acc, val_loss)
                best_params = {k: v.copy() for k, v in params.items()}
                best_epoch, waited = epoch, 0
            else:
                waited += 1
            if stop or waited >= patience:
                break
        self.params_ = best_params
        self.config_ = config
        self.graph_ = graph
        self.features_ = X
        self.classes_ = np.arange(config.n_classes)
        self.history_ = history
        self.best_epoch_ = best_epoch

    def _logits(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise RuntimeError("this SheafDiffusionClassifier is not fitted yet; call fit")
        dummy = np.zeros(self.graph_.n, dtype=np.int64)
        mask = np.zeros(self.graph_.n, dtype=bool)
        mask[0] = True
        return forward_backward(self.params_, self.features_, dummy, mask, self.graph_,
                                self.config_, grad=False)[1]

    def predict_proba(self, mask: Any = None) -> np.ndarray:
        """Class probabilities of every node (or of the nodes in ``mask``)."""
        z = self._logits()
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return p if mask is None else p[_bool_mask(mask, self.graph_.n, "mask", _FITTED)]

    def predict(self, mask: Any = None) -> np.ndarray:
        """Predicted class of every node (or of the nodes in ``mask``)."""
        return self.predict_proba(mask).argmax(axis=1)

    def score(self, labels: Any, mask: Any = None) -> float:
        """Accuracy on ``mask`` (default: every labelled node).

        Raises ``ValueError`` when ``mask`` selects no labelled node, and for a
        ``labels`` or ``mask`` of the wrong length; ``mask`` must be boolean.
        """
        return _accuracy(self.predict(), labels, mask, self.graph_.n)

    def learned_sheaf(self, layer: int = 0) -> Sheaf:
        """Return the restriction maps layer ``layer`` predicts, as a :class:`Sheaf`."""
        _ = self._logits()
        layer = check_int(layer, "layer", minimum=0)
        if layer >= self.config_.layers:
            raise ValueError(f"layer must be < {self.config_.layers}; got {layer}")
        return learned_sheaves(self.params_, self.features_, self.graph_, self.config_)[layer]

    def dirichlet_energies(self) -> np.ndarray:
        """Energy of each layer's input and output under its learned sheaf.

        See :func:`layer_energies`: an array ``(layers, 2)``; the oversmoothing
        analysis of Bodnar et al. (2022) follows this energy through the layers.
        """
        _ = self._logits()
        return layer_energies(self.params_, self.features_, self.graph_, self.config_)


def _layer_states(params: dict[str, np.ndarray], X: Any, graph: GraphStructure,
                  config: NSDConfig) -> list[tuple[Sheaf, np.ndarray, np.ndarray]]:
    """Per layer, in evaluation mode: its sheaf, its input and its output (n, d, h).

    The forward pass of :func:`forward_backward` without dropout, through the general
    kernel whatever the class (the sheaf is what is wanted here, not speed).
    """
    n, d, h = graph.n, config.stalk, config.hidden
    H = np.ascontiguousarray(X @ params["W_in"] + params["b_in"])
    x = elu_dropout(H, NO_MASK)
    if config.second_linear:
        x = x @ params["W_mid"] + params["b_mid"]
    x = x.reshape(n, d, h)
    out = []
    for layer in range(config.layers):
        if layer < config.learners:  # shared maps: layer 0's serve every layer
            xf = x.reshape(n, d * h)
            T = predict_map_params(xf, params[f"P{layer}"], graph)[0]
            F = maps_from_params(T, config, len(graph.edges))  # sides-major
            if config.edge_weights:  # both maps of an edge scaled by its weight
                w = predict_edge_weights(xf, params[f"Pw{layer}"], graph)[0]
                F *= np.concatenate([w, w])[:, None, None]
        X1 = mix_stalks(params[f"W1_{layer}"], x, NO_MASK, NO_MASK)[2]
        X2 = (X1.reshape(n * d, h) @ params[f"W2_{layer}"]).reshape(n, d, h)
        Y = laplacian_forward(F, X2, *graph.incidence)[0]
        x_new = elu_residual(x, Y, np.tanh(params[f"eps{layer}"]))
        m = len(graph.edges)
        out.append((Sheaf(n, graph.edges, np.stack([F[:m], F[m:]], axis=1)), x, x_new))
        x = x_new
    return out


def layer_energies(params: dict[str, np.ndarray], X: Any, graph: GraphStructure,
                   config: NSDConfig) -> np.ndarray:
    """Sheaf Dirichlet energy of each layer's input and output under the layer's sheaf.

    Returns an array ``(layers, 2)``: ``E[l, 0]`` is ``tr(x_l^T Delta_l x_l)`` for the
    features ``x_l`` entering layer ``l`` (``n d x h``, stalk-major) and the augmented
    normalised Laplacian ``Delta_l`` of the sheaf that layer learned; ``E[l, 1]`` the
    same for the layer's output. Evaluation mode (no dropout).
    """
    from ..sheaf import sheaf_dirichlet_energy

    n, d, h = graph.n, config.stalk, config.hidden
    rows = []
    for sheaf, x_in, x_out in _layer_states(params, X, graph, config):
        rows.append([sheaf_dirichlet_energy(sheaf, x.reshape(n * d, h),
                                            normalization="augmented")
                     for x in (x_in, x_out)])
    return np.asarray(rows)


def learned_sheaves(params: dict[str, np.ndarray], X: Any, graph: GraphStructure,
                    config: NSDConfig) -> list[Sheaf]:
    """Return the sheaf of every layer, in evaluation mode."""
    return [state[0] for state in _layer_states(params, X, graph, config)]


@dataclass(frozen=True)
class SplitResult:
    """One split: test accuracy at the best validation epoch."""

    split: int
    test_acc: float
    val_acc: float
    best_epoch: int
    epochs: int
    seconds: float


@dataclass(frozen=True)
class TenSplitResult:
    """The protocol's outcome: per-split results, mean and standard deviation (in %)."""

    splits: list[SplitResult] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean test accuracy, in percent."""
        return 100.0 * float(np.mean([s.test_acc for s in self.splits]))

    @property
    def std(self) -> float:
        """Standard deviation of the test accuracy over the splits, in percent."""
        return 100.0 * float(np.std([s.test_acc for s in self.splits]))


def _split_seeds(random_state: Any, count: int) -> list[int | None]:
    """Give one ``random_state`` per split.

    An integer seed plus the split's index (so the protocol's streams never meet
    across seeds spaced 1000 apart), ``None`` for ``None``, and integers drawn from a
    Generator.
    """
    if random_state is None:
        return [None] * count
    if isinstance(random_state, np.random.Generator):
        return [int(s) for s in random_state.integers(0, 2**63 - 1, size=count)]
    check_rng(random_state, "random_state")  # the message for anything else
    return [int(random_state) + k for k in range(count)]


class _ProgressBar:
    """Splits done and the running split's epochs on stderr.

    Redrawn in place on a terminal; elsewhere (a log file, a notebook's captured
    stream) one line per split.
    """

    def __init__(self, name: str, total: int, epochs: int) -> None:
        self.name, self.total, self.epochs = name, total, epochs
        self.live = sys.stderr.isatty()
        self.done, self.split, self.last = 0, 0, 0.0

    def epoch(self, epoch: int, record: dict[str, float]) -> None:
        now = time.perf_counter()
        if now - self.last < 0.1:  # redrawn at most ten times a second
            return
        self.last = now
        frac = (self.done + epoch / self.epochs) / self.total
        bar = "#" * int(20 * frac) + "-" * (20 - int(20 * frac))
        sys.stderr.write(f"\r{self.name} [{bar}] split {self.split} ({self.done + 1}/"
                         f"{self.total}) epoch {epoch}/{self.epochs}, val acc "
                         f"{100 * record['val_acc']:.2f}%\x1b[K")
        sys.stderr.flush()

    def finished(self, result: SplitResult) -> None:
        self.done += 1
        print(f"{chr(13) if self.live else ''}[{self.done}/{self.total}] {self.name} split "
              f"{result.split}: test {100 * result.test_acc:.2f}% (val "
              f"{100 * result.val_acc:.2f}%, best epoch {result.best_epoch} of "
              f"{result.epochs}, {result.seconds:.1f} s)" + ("\x1b[K" if self.live else ""),
              file=sys.stderr, flush=True)


def evaluate_splits(dataset: Any, estimator: SheafDiffusionClassifier | None = None, *,
                    splits: Any = None, progress: bool = False) -> TenSplitResult:
    """Train once per split and report the test accuracy at the best validation epoch.

    Parameters
    ----------
    dataset : GraphDataset
        From :mod:`spectral_sheaf.datasets` (``adjacency``, ``features``, ``labels``,
        ``splits``).
    estimator : SheafDiffusionClassifier, optional
        Its parameters are used for every split (default: the defaults). An integer
        ``random_state`` k gives split i the seed ``k + i``; a Generator gives each
        split a seed drawn from it; ``None`` leaves every split unseeded.
    splits : iterable of int, optional
        Which splits (default: all), by index into ``dataset.splits``.
    progress : bool
        Show a progress bar on stderr (splits done, the running split's epoch and
        validation accuracy) and a line per finished split.
    """
    est = estimator if estimator is not None else SheafDiffusionClassifier()
    if not dataset.splits:
        where = getattr(dataset, "split_note", None)
        raise ValueError(f"dataset {dataset.name!r} has no splits"
                         + (f" ({where})" if where else ""))
    count = len(dataset.splits)
    which = list(range(count)) if splits is None else [
        check_int(i, "splits") for i in splits]
    if not which:
        raise ValueError("splits must name at least one split; got none")
    for i in which:
        if not 0 <= i < count:
            raise ValueError(f"splits must be indices in 0..{count - 1} (dataset "
                             f"{dataset.name!r} has {count} splits); got {i}")
        if not (dataset.splits[i].val.any() and dataset.splits[i].test.any()):
            raise ValueError(f"split {i} of dataset {dataset.name!r} has an empty "
                             f"validation or test mask; the protocol needs both")
    if len(set(which)) != len(which):
        raise ValueError(f"splits must name each split once; got {which}")
    base = est.get_params()
    seeds = _split_seeds(base.get("random_state"), count)
    bar = _ProgressBar(dataset.name, len(which), check_int(base["epochs"], "epochs",
                                                           minimum=1)) if progress else None
    results = []
    for i in which:
        s = dataset.splits[i]
        model = SheafDiffusionClassifier(**{**base, "random_state": seeds[i]})
        t0 = time.perf_counter()
        if bar is not None:
            bar.split = i
        model.fit(dataset.adjacency, dataset.features, dataset.labels, s.train, s.val,
                  callback=bar.epoch if bar is not None and bar.live else None)
        seconds = time.perf_counter() - t0
        pred, n = model.predict(), model.graph_.n
        result = SplitResult(i, _accuracy(pred, dataset.labels, s.test, n),
                             _accuracy(pred, dataset.labels, s.val, n), model.best_epoch_,
                             len(model.history_), seconds)
        results.append(result)
        if bar is not None:
            bar.finished(result)
    return TenSplitResult(results)
