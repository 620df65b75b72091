"""Training speed and memory of the learner: ours next to PyTorch autograd, in one process.

For texas, chameleon and film (``../shared/data/graphs``), stalk dimension d = 3 and 5,
and each sheaf class (diag, orthogonal, general), one training epoch of the discrete
Neural Sheaf Diffusion model (4 layers, 16 channels per stalk dimension, dropout 0.2):
forward, loss, every gradient and one Adam step, on the full graph.

* ours: ``learn.forward_backward`` (hand-written reverse pass, Numba kernels, numpy
  BLAS held to one thread as ``SheafDiffusionClassifier.fit`` does) and ``learn.Adam``;
* torch: the same model written with PyTorch autograd, vectorised over edges and nodes
  with ``index_add`` the way the Neural Sheaf Diffusion reference code is, each sheaf
  class using its structure as that code does (diagonal maps as vectors, the degree of
  an orthogonal sheaf as a scalar, a batched ``eigh`` for general maps), and
  ``torch.optim.Adam``. Same threads: ``torch.set_num_threads`` is set to Numba's
  thread count. Timed in float64 (our precision) and, for reference, float32; and a
  third time (``split64``) with the algebra ours uses: the sheaf learner's linear map
  applied to the nodes and gathered for the edges, ``x_u P_top + x_v P_bottom``,
  instead of to the concatenation ``[x_u || x_v]`` (the reference code's and the
  tests' form), and sparse input features (``torch.sparse.mm``) where they are under
  10 % non-zero: the ratio to that column is the gain of the hand-written gradients
  and kernels alone.

Each round times, for each of the four in turn, a run of consecutive epochs (as many as
take ours about 0.05 s: one on film, up to some thirty on texas; the ``run`` column), as
training runs them: timed alone right after another framework's epoch, an epoch on a
small graph measures mostly the hand-over of the cores between two OpenMP thread pools
(on texas, d = 3, diag, ours took 1.9-2.0 ms an epoch that way against 1.3-1.4 ms in a
run; torch 6.1-6.3 against 5.6-6.1 ms).

Before timing, each row checks that the two compute the same thing: loss and every
gradient of the same weights on that data set, without dropout (``grad diff`` is the
largest ``max |ours - torch| / max |torch|`` over the parameters).

Peak memory per epoch: each implementation trains in a child process whose glibc maps
every array over 128 KiB and unmaps it when freed (a fixed ``MALLOC_MMAP_THRESHOLD_``),
so that the resident set follows the live arrays; after a warm-up epoch the kernel's
high-water mark is reset (``/proc/self/clear_refs``), and the peak resident memory of
the following epochs above the resident memory between epochs is reported (Linux
only; ``nan`` elsewhere).

Finally the whole ten-split protocol on texas with the estimator's defaults is timed.
Run: ``python benchmarks/learner_speed.py [--data-dir DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from _timing import interleaved_median_times  # benchmarks/_timing.py (a script)
from threadpoolctl import threadpool_limits

from spectral_sheaf.datasets import load_dataset
from spectral_sheaf.learn import (
    Adam,
    NSDConfig,
    SheafDiffusionClassifier,
    evaluate_splits,
    forward_backward,
    graph_structure,
    init_params,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphs"
HIDDEN, LAYERS, DROPOUT, LR, WD, SD = 16, 4, 0.2, 0.02, 5e-3, 5e-4


# ----------------------------------------------------------------------- the peer


def torch_logits(torch, t, X, u, v, n, config, training, split=False):
    """Logits of the NSD model in PyTorch, vectorised; ``t`` maps names to tensors.

    ``split``: apply the sheaf learner's linear map to the nodes and gather for the
    edges (as ours does) instead of to the concatenated endpoint features.
    """
    F = torch.nn.functional
    d, h, m = config.d, config.hidden, u.shape[0]
    p = config.dropout if training else 0.0
    if X.is_sparse:  # the benchmark runs without input dropout
        H = torch.sparse.mm(X, t["W_in"]) + t["b_in"]
    else:
        H = F.dropout(X, config.input_dropout, training) @ t["W_in"] + t["b_in"]
    x = F.dropout(F.elu(H), p, training).reshape(n, d, h)
    eye = torch.eye(d, dtype=X.dtype)
    iu = torch.triu_indices(d, d, offset=1)
    for layer in range(config.layers):
        xm = F.dropout(x, p if layer > 0 else 0.0, training).reshape(n, d * h)
        P = t[f"P{layer}"]
        if split:
            N1, N2 = xm @ P[: d * h], xm @ P[d * h:]
            T = torch.tanh(torch.cat([N1[u] + N2[v], N1[v] + N2[u]], 0))
        else:
            C = torch.cat([torch.cat([xm[u], xm[v]], 1), torch.cat([xm[v], xm[u]], 1)], 0)
            T = torch.tanh(C @ P)
        xd = F.dropout(x, p, training)
        X2 = torch.einsum("ij,njh->nih", t[f"W1_{layer}"], xd) @ t[f"W2_{layer}"]
        if config.sheaf == "diag":  # maps as vectors (m, d)
            fu, fv = T[:m], T[m:]
            D = torch.zeros(n, d, dtype=X.dtype).index_add(0, u, fu * fu)
            D = D.index_add(0, v, fv * fv)
            s = (D + 1.0).rsqrt()
            Z = s[:, :, None] * X2
            off = (fu * fv)[:, :, None]
            W = D[:, :, None] * Z
            W = W.index_add(0, u, -off * Z[v]).index_add(0, v, -off * Z[u])
            Y = s[:, :, None] * W
        else:
            if config.sheaf == "general":
                Fm = T.reshape(2 * m, d, d)
            else:  # Cayley: (I - S)^-1 (I + S), S skew from the strict upper triangle
                S = torch.zeros(2 * m, d, d, dtype=X.dtype)
                S[:, iu[0], iu[1]] = T
                S = S - S.transpose(1, 2)
                Fm = torch.linalg.solve(eye - S, eye + S)
            Fu, Fv = Fm[:m], Fm[m:]
            Auv = Fu.transpose(1, 2) @ Fv  # (m, d, d): the off-diagonal block (u, v)
            if config.sheaf == "orthogonal":  # F^T F = I: D_u = deg_u I
                deg = torch.zeros(n, dtype=X.dtype).index_add(
                    0, torch.cat([u, v]), torch.ones(2 * m, dtype=X.dtype))
                s = (deg + 1.0).rsqrt()[:, None, None]
                Z = s * X2
                W = deg[:, None, None] * Z
                Y_scale = s
            else:
                D = torch.zeros(n, d, d, dtype=X.dtype)
                D = D.index_add(0, u, Fu.transpose(1, 2) @ Fu)
                D = D.index_add(0, v, Fv.transpose(1, 2) @ Fv)
                lam, Q = torch.linalg.eigh(D + eye)
                Sinv = (Q * lam.rsqrt()[:, None, :]) @ Q.transpose(1, 2)
                Z = Sinv @ X2
                W = D @ Z
                Y_scale = Sinv
            W = W.index_add(0, u, -(Auv @ Z[v])).index_add(0, v, -(Auv.transpose(1, 2) @ Z[u]))
            Y = Y_scale * W if config.sheaf == "orthogonal" else Y_scale @ W
        x = (1 + torch.tanh(t[f"eps{layer}"]))[None, :, None] * x - F.elu(Y)
    return x.reshape(n, d * h) @ t["W_out"] + t["b_out"]


class TorchModel:
    """Parameters as leaf tensors, ``torch.optim.Adam`` with the same decay groups."""

    def __init__(self, torch, params, X, labels, train, graph, config, dtype, split=False):
        self.torch, self.config, self.n, self.split = torch, config, graph.n, split
        self.t = {k: torch.tensor(v, dtype=dtype, requires_grad=True)
                  for k, v in params.items()}
        self.X = torch.tensor(X, dtype=dtype)
        if split and np.count_nonzero(X) < 0.1 * X.size:  # sparse features, as ours
            self.X = self.X.to_sparse_coo()
        self.y = torch.tensor(labels)
        self.idx = torch.tensor(np.flatnonzero(train))
        self.u = torch.tensor(graph.edges[:, 0])
        self.v = torch.tensor(graph.edges[:, 1])
        groups: dict[float, list] = {}
        for k, p in self.t.items():
            decay = 0.0 if k.startswith(("b_", "eps")) else SD if k.startswith("P") else WD
            groups.setdefault(decay, []).append(p)
        self.opt = torch.optim.Adam([{"params": ps, "weight_decay": wd}
                                     for wd, ps in groups.items()], lr=LR)

    def loss(self, training):
        logits = torch_logits(self.torch, self.t, self.X, self.u, self.v, self.n,
                              self.config, training, self.split)
        return self.torch.nn.functional.cross_entropy(logits[self.idx], self.y[self.idx])

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        self.loss(True).backward()
        self.opt.step()


class OurModel:
    def __init__(self, params, X, labels, train, graph, config):
        if np.count_nonzero(X) < 0.1 * X.size:  # as SheafDiffusionClassifier.fit does
            X = sp.csr_array(X)
        self.params = {k: v.copy() for k, v in params.items()}
        self.X, self.y, self.train, self.graph, self.config = X, labels, train, graph, config
        self.adam = Adam(self.params, lr=LR, weight_decay=WD, sheaf_decay=SD)
        self.rng = np.random.default_rng(0)

    def step(self):
        # call inside threadpool_limits(1, "blas"), entered once (as fit does): entering
        # it costs milliseconds, a third of an epoch on texas
        _, _, g = forward_backward(self.params, self.X, self.y, self.train, self.graph,
                                   self.config, rng=self.rng)
        self.adam.step(self.params, g)


def blas_one_thread():
    """numpy's BLAS on one thread, as ``SheafDiffusionClassifier.fit`` runs it."""
    return threadpool_limits(limits=1, user_api="blas")


def epochs_per_run(step, context, seconds=0.05):
    """How many consecutive epochs of ``step`` take about ``seconds`` (at least one)."""
    with context():
        step()
        t0 = time.perf_counter()
        step()
        once = time.perf_counter() - t0
    return max(1, math.ceil(seconds / once))


def run_of(step, epochs):
    """``step`` repeated ``epochs`` times, as one timed call."""
    def run():
        for _ in range(epochs):
            step()
    return run


def setup(data_dir, name, d, sheaf):
    ds = load_dataset(name, data_dir)
    labels = np.where(ds.labels < 0, 0, ds.labels)
    train = ds.splits[0].train
    config = NSDConfig(ds.features.shape[1], int(ds.labels.max()) + 1, d=d, hidden=HIDDEN,
                       layers=LAYERS, sheaf=sheaf, dropout=DROPOUT)
    graph = graph_structure(ds.adjacency)
    params = init_params(config, np.random.default_rng(1))
    return ds, labels, train, config, graph, params


def grad_difference(torch, params, X, labels, train, graph, config):
    """Largest relative gradient difference and loss difference, dropout off.

    Both torch forms (concatenated and split map) against ours.
    """
    loss, _, g = forward_backward(params, X, labels, train, graph, config)
    worst, loss_diff = 0.0, 0.0
    for split in (False, True):
        ref = TorchModel(torch, params, X, labels, train, graph, config, torch.float64,
                         split=split)
        ref_loss = ref.loss(False)
        ref_loss.backward()
        loss_diff = max(loss_diff, abs(loss - float(ref_loss.detach())))
        for k, p in ref.t.items():
            r = p.grad.numpy()
            if not np.isfinite(r).all():
                raise RuntimeError(f"torch gradient of {k} is not finite")
            worst = max(worst, float(np.abs(g[k] - r).max() / max(np.abs(r).max(), 1e-300)))
    return worst, loss_diff


# ----------------------------------------------------------------------- memory


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def memory_child(data_dir, impl, name, d, sheaf, epochs):
    """Run in a child: print the peak resident memory above the between-epoch level."""
    import torch

    torch.set_num_threads(numba.get_num_threads())
    ds, labels, train, config, graph, params = setup(data_dir, name, d, sheaf)
    if impl == "ours":
        model = OurModel(params, ds.features, labels, train, graph, config)
    else:
        model = TorchModel(torch, params, ds.features, labels, train, graph, config,
                           torch.float64)
    with threadpool_limits(limits=1, user_api="blas"):
        model.step()  # warm-up: compilation, allocator growth
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current resident set
        base = _status_kb("VmRSS")
        for _ in range(epochs):
            model.step()
    print(json.dumps({"peak_mb": (_status_kb("VmHWM") - base) / 1024}))


def peak_memory(data_dir, impl, name, d, sheaf, epochs):
    if not Path("/proc/self/clear_refs").exists():
        return float("nan")
    # a fixed mmap threshold: glibc then maps every array over 128 KiB on allocation and
    # unmaps it when freed, so the resident set follows the live arrays (with its
    # default dynamic threshold, freed arrays stay in the heap and the second epoch
    # reuses them unseen)
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", impl, name, str(d), sheaf,
         str(epochs), "--data-dir", str(data_dir)],
        capture_output=True, text=True, check=True, timeout=900, env=env,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_mb"])


# ----------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SPECTRAL_SHEAF_DATA", DEFAULT_DATA)))
    parser.add_argument("--quick", action="store_true", help="texas, d = 3, few epochs")
    parser.add_argument("--memory-child", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        impl, name, d, sheaf, epochs = args.memory_child
        memory_child(args.data_dir, impl, name, int(d), sheaf, int(epochs))
        return
    import torch

    threads = numba.get_num_threads()
    torch.set_num_threads(threads)
    names = ("texas",) if args.quick else ("texas", "chameleon", "film")
    dims = (3,) if args.quick else (3, 5)
    repeats, mem_epochs = (3, 2) if args.quick else (7, 3)
    print(f"numba threads {threads}, torch threads {torch.get_num_threads()}, numpy BLAS "
          f"1 thread in ours; {LAYERS} layers, {HIDDEN} channels per stalk dimension, "
          f"dropout {DROPOUT}")
    print("seconds per training epoch (forward, backward, Adam step; median of "
          f"{repeats} rounds, each timing a run of epochs of the four in turn); peak MB "
          "above the between-epoch level")
    head = (f"{'data set':10} {'d':>2} {'sheaf':10} {'grad diff':>9} {'run':>3} {'ours s':>7} "
            f"{'torch64':>7} {'split64':>7} {'torch32':>7} {'t64/ours':>8} {'s64/ours':>8} "
            f"{'t32/ours':>8} {'ours MB':>7} {'torch MB':>8}")
    print(head)
    print("-" * len(head))
    ratios = []
    for name in names:
        for d in dims:
            for sheaf in ("diag", "orthogonal", "general"):
                ds, labels, train, config, graph, params = setup(args.data_dir, name, d,
                                                                 sheaf)
                X = ds.features
                diff, _ = grad_difference(torch, params, X, labels, train, graph,
                                          NSDConfig(**{**config.__dict__, "dropout": 0.0}))
                ours = OurModel(params, X, labels, train, graph, config)
                t64 = TorchModel(torch, params, X, labels, train, graph, config,
                                 torch.float64)
                split64 = TorchModel(torch, params, X, labels, train, graph, config,
                                     torch.float64, split=True)
                t32 = TorchModel(torch, params, X, labels, train, graph, config,
                                 torch.float32)
                # timed in turn, round after round, so that a drift in the machine's
                # speed hits all four alike; ours with numpy's BLAS on one thread, as
                # fit runs it (entering the limit is outside the timed region)
                k = epochs_per_run(ours.step, blas_one_thread)
                s_ours, s64, sp64, s32 = (s / k for s in interleaved_median_times(
                    [run_of(f.step, k) for f in (ours, t64, split64, t32)], repeats,
                    [blas_one_thread, nullcontext, nullcontext, nullcontext]))
                mem_ours = peak_memory(args.data_dir, "ours", name, d, sheaf, mem_epochs)
                mem_torch = peak_memory(args.data_dir, "torch", name, d, sheaf, mem_epochs)
                ratios.append((s64 / s_ours, sp64 / s_ours))
                print(f"{name:10} {d:>2} {sheaf:10} {diff:9.1e} {k:3d} {s_ours:7.4f} {s64:7.4f} "
                      f"{sp64:7.4f} {s32:7.4f} {s64 / s_ours:8.2f} {sp64 / s_ours:8.2f} "
                      f"{s32 / s_ours:8.2f} {mem_ours:7.1f} {mem_torch:8.1f}", flush=True)
    for i, what in enumerate(("torch float64 / ours", "torch float64, split map / ours")):
        r = [x[i] for x in ratios]
        print(f"{what}: min {min(r):.2f}x, median {float(np.median(r)):.2f}x, max "
              f"{max(r):.2f}x")
    ds = load_dataset("texas", args.data_dir)
    est = SheafDiffusionClassifier(random_state=0, **({"epochs": 5} if args.quick else {}))
    which = [0] if args.quick else None
    t0 = time.perf_counter()
    res = evaluate_splits(ds, est, splits=which)
    seconds = time.perf_counter() - t0
    print(f"ten-split protocol on texas, estimator defaults: {len(res.splits)} splits in "
          f"{seconds:.1f} s, test accuracy {res.mean:.2f} +- {res.std:.2f} %, "
          f"{sum(s.epochs for s in res.splits)} epochs in all")


if __name__ == "__main__":
    main()
