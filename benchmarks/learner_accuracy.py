"""Accuracy of the learner on the Neural Sheaf Diffusion paper's benchmark.

The ten-split protocol (test accuracy at the best validation epoch, mean and standard
deviation over the ten fixed Geom-GCN splits) on texas, cornell, film, chameleon, cora
and citeseer (``../shared/data/graphs``), for diagonal, orthogonal and general sheaves,
printed next to the numbers of the paper's table (``../shared/data/README.md``).

Hyper-parameters: one default set per sheaf class (``DEFAULTS``), plus at most a small
grid per data set (``GRID``, whose points may also set the loader's ``features``
preprocessing, and ``edge_weights``, which only the orthogonal class takes); of a
grid, the point with the best mean *validation* accuracy is reported (the test
accuracy plays no part in the choice; where a grid has several points they all stop on
the same criterion, since the best validation accuracy over the epochs, which
``stop_on="acc"`` reports, is biased upwards beside the accuracy at the epoch of least
validation loss). The target: the
best of our three classes within one standard deviation (the paper's) of the best NSD
variant on every data set, and above GCN and MLP.

Beside the paper's GCN and MLP rows, the same two models run here (``BASELINE``: PyTorch,
two layers, 64 channels, dropout 0.5, Adam with lr 0.01 and weight decay 5e-4, test
accuracy at the epoch of least validation loss, patience 200; hyper-parameters fixed,
not tuned) on the very data and splits ours sees, seeded as ours; where the grid loads
the features in more than one form (``features``), they run on each and the form with
the better validation accuracy is reported. They check that the loaders and the
protocol reproduce the paper's baselines, and compare with ours on equal terms.
``--no-baselines`` skips them.

``--seeds 0,1,2`` repeats every run with each seed k (the estimator's ``random_state``,
its initial weights and dropout masks, is 1000 k: ``evaluate_splits`` adds the split's
index, so the seeds' streams never meet) and reports the mean over the seeds of the
ten-split mean and of the ten-split standard deviation (comparable to the paper's, which
is over the splits), the validation accuracy averaged the same way, and the spread of
the ten-split means across the seeds (their sample standard deviation): one seed alone
moves cora's mean by 0.4. ``--out`` writes every run: the estimator's ``params``,
``val``, ``test``, ``std`` (%, averaged over the seeds), ``seed_spread`` (%, ``null`` for
one seed), ``seconds`` (all seeds together), and per seed its ``val``, ``test``,
``std`` and ``per_split`` test accuracies (fractions).

Over three seeds (``--seeds 0,1,2``), the class chosen on validation: texas 85.86 and
cornell 84.23 (diag, at the points the reference implementation publishes for texas's
O(d) model, here without edge weights, and for cornell's Diag; stop 31), film 37.04
(diag), chameleon 68.93 (diag, the only class run, at the second of its points: val
70.96 against the first's 70.08, whose test was 68.64; stop 31), cora 86.67 +- 1.08
and citeseer 75.88 +- 1.47 (diag; stop 33): below the paper's GCN (86.98, 76.50) and
the GCN run here (87.19 +- 1.13, val 87.59; 76.80 +- 1.42, val 77.64), above the MLP
(here 75.84 and 73.54).

Run: ``python benchmarks/learner_accuracy.py [--data-dir DIR] [--datasets texas,cornell]
[--sheaves diag,orthogonal] [--splits 0-9] [--seeds 0] [--no-grid] [--out results.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from spectral_sheaf.datasets import load_dataset
from spectral_sheaf.learn import SheafDiffusionClassifier, evaluate_splits

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "graphs"
DATASETS = ("texas", "cornell", "film", "chameleon", "cora", "citeseer")
SHEAVES = ("diag", "orthogonal", "general")

# the paper's table as shared/data/README.md reproduces it: mean, std (test %)
PAPER = {
    "Diag-NSD": {"texas": (85.67, 6.95), "cornell": (86.49, 7.35), "film": (37.79, 1.01),
                 "chameleon": (68.68, 1.73), "citeseer": (77.14, 1.85),
                 "cora": (87.14, 1.06)},
    "O(d)-NSD": {"texas": (85.95, 5.51), "cornell": (84.86, 4.71), "film": (37.81, 1.15),
                 "chameleon": (68.04, 1.58), "citeseer": (76.70, 1.57),
                 "cora": (86.90, 1.13)},
    "Gen-NSD": {"texas": (82.97, 5.13), "cornell": (85.68, 6.51), "film": (37.80, 1.22),
                "chameleon": (67.93, 1.58), "citeseer": (76.32, 1.65),
                "cora": (87.30, 1.15)},
    "GCN": {"texas": (55.14, 5.16), "cornell": (60.54, 5.30), "film": (27.32, 1.10),
            "chameleon": (64.82, 2.24), "citeseer": (76.50, 1.36), "cora": (86.98, 1.27)},
    "MLP": {"texas": (80.81, 4.75), "cornell": (81.89, 6.40), "film": (36.53, 0.70),
            "chameleon": (46.21, 2.99), "citeseer": (74.02, 1.90), "cora": (75.69, 2.00)},
}

# one default set per sheaf class (Adam, early stopping on validation accuracy)
COMMON = {"hidden": 16, "layers": 4, "dropout": 0.5, "input_dropout": 0.0, "lr": 0.02,
          "weight_decay": 5e-3, "sheaf_decay": 5e-4, "epochs": 500, "patience": 100}
DEFAULTS = {"diag": {**COMMON, "d": 3}, "orthogonal": {**COMMON, "d": 3},
            "general": {**COMMON, "d": 3}}
# at most a small grid per data set, chosen on validation accuracy only
_TEXT = {"input_dropout": 0.8, "dropout": 0.2, "layers": 6}  # cora's and citeseer's
_TEXAS = {"hidden": 20, "dropout": 0.7, "sheaf_decay": 5e-3, "epochs": 1500, "patience": 200,
          "stop_on": "loss", "edge_weights": True}
_CORNELL = {"d": 4, "layers": 2, "dropout": 0.7, "input_dropout": 0.2, "lr": 0.02,
            "weight_decay": 6.9e-4, "sheaf_decay": 3.2e-4, "patience": 200,
            "stop_on": "loss", "high_pass": True}
_CHAMELEON = {"d": 4, "hidden": 32, "layers": 5, "dropout": 0.0, "input_dropout": 0.7,
              "lr": 0.01, "weight_decay": 3e-4, "sheaf_decay": 1.3e-3, "epochs": 1000,
              "features": "raw"}
GRID: dict[str, list[dict]] = {
    # the points the reference implementation publishes for texas (O(d)-NSD with edge
    # weights: 20 channels, dropout 0.7, sheaf decay 5e-3, patience 200) and cornell
    # (Diag-NSD, d = 4, two layers, with its add_lp: this model's high_pass), the latter
    # also without the fixed dimension, beside the defaults stopping on validation loss
    # as these points do, so that their validation accuracies compare. Stop 30's grids,
    # the defaults stopping on accuracy and two layers, had chosen texas 81.89 (general,
    # val 89.60) and cornell 80.63 (diag, val 86.38), three seeds; the two-layer points
    # had val 79.9-87.9 (test 73.2-81.5)
    "texas": [{"stop_on": "loss"}, _TEXAS],
    "cornell": [{"stop_on": "loss"}, _CORNELL, {**_CORNELL, "high_pass": False}],
    "film": [{}],
    # the configuration the reference implementation publishes for chameleon (Diag-NSD:
    # d = 4, 32 channels, 5 layers, input dropout 0.7, no dropout), on the published 0/1
    # features (a two-layer GCN on splits 0-2: 54-59 % row-normalised, 61-66 % raw).
    # It leaves out two options that script sets: the reference's add_lp stalk dimension
    # (this model's high_pass, added in stop 31) and its second encoder layer
    # (second_linear). Ten splits:
    # diag 68.71 +- 1.73 (val 70.64), O(d) 67.46 +- 1.79 (val 69.66; 68.95 +- 1.16, val
    # 70.45, before the orthogonal kernels lost fastmath's reassoc: last bits alone),
    # general 69.17 +- 1.42 (val 70.91, 1533 s here beside other work: the class chosen).
    # The second point adds both (stop 31, diag, seed 0: val 70.75, test 68.82, against
    # the first's 70.64 and 68.71; high_pass alone 70.53 and 69.21; seeds 0-2: val
    # 70.96, test 68.93, against the first's 70.08 and 68.64)
    "chameleon": [_CHAMELEON, {**_CHAMELEON, "high_pass": True, "second_linear": True}],
    # strong input dropout against memorising the bag-of-words features (splits 0-1 of
    # cora, diag: val 80.0 -> 87.8 against the defaults, whose training accuracy reached
    # 99.7 %), and the best epoch by validation loss, the reference implementation's
    # default; both points stop on loss, so that their validation accuracies compare
    # (the best validation accuracy over the epochs, which stop_on="acc" reports, is
    # biased upwards). Screens on splits 0-4, diag, validation accuracy: cora 86.43 and
    # 87.09 (32 channels), citeseer 77.46 and 76.99; lr 0.01 (86.23, 76.44) and weight
    # decay 5e-4 (86.28, 76.75) did worse. Ten splits, class and point chosen on
    # validation: cora 86.34 +- 1.43 (diag, 32 channels; val 87.12), citeseer
    # 76.30 +- 1.35 (diag, 16 channels; val 76.91); both below GCN (86.98, 76.50).
    # (Cora's general maps at 32 channels gave val 87.14, test 86.26 +- 1.01, before
    # their kernels lost fastmath's reassoc, and val 87.05, test 85.98 +- 1.09 after.)
    # The earlier grid (defaults and the first point stopping on accuracy) gave 86.36
    # and 75.87. A later screen (splits 0-4, diag, validation; twelve single changes to
    # the first point: d, layers, input dropout, dropout, patience, channels, weight and
    # sheaf decay, lr) found nothing better on citeseer and, on cora, 8 layers (val
    # 87.21), lr 0.03 (87.46) and d = 2 (87.09); over ten splits, diag: 8 layers val
    # 87.40 (test 86.78 +- 1.27), 10 layers 87.32 (86.86), 8 layers and 32 channels
    # 87.31 (86.34), lr 0.03 87.15 (86.28); citeseer with 8 layers 76.83 (76.02). The
    # reference's single sheaf learner for all layers (shared_maps) and its low-pass
    # stalk dimension (low_pass) screened level or lower on validation. Stop 29, ten
    # splits each, val (test): cora's chosen point with seeds 1 and 2, 86.96 (86.66) and
    # 87.39 (87.06), so the seed alone moves its test mean by 0.4; raw features 86.51;
    # patience 200 and 1500 epochs 87.39; d = 1 with 48 channels 86.92; dropout and input
    # dropout 0.5 82.05; O(d) with edge weights 87.25 (6 layers) and 87.16 (8 layers);
    # six random points (layers 4-10, 16-32 channels, d 2-4, input dropout 0.7-0.85,
    # dropout 0.1-0.3, lr 0.01-0.03, decays) at most 87.22. Citeseer: O(d) with edge
    # weights 76.58, nine random points at most 76.37. None passed the chosen points'
    # validation (87.40, 76.91). second_linear: cora (8 layers) 87.17 (86.64); on
    # citeseer, with these decays, it stalled on the majority class in 4 of 10 splits
    # (val 54.55). Single changes to the chosen points: cora (8 layers) input dropout
    # 0.75/0.85 87.10/87.01, dropout 0.15/0.25 87.05/86.60, 20 channels 86.86, d = 4
    # 87.10, weight decay 3e-3/8e-3 87.06/86.90; citeseer input dropout 0.75/0.85
    # 76.61/76.75, dropout 0.15/0.25 76.63/76.71, 20 channels 76.20, d = 4 76.51, 5
    # layers 76.79, weight decay 3e-3 76.59 and 8e-3 77.18 (test 75.96 +- 1.65): above
    # the chosen point on validation, so it joins citeseer's grid, whatever its test.
    # Stop 30, ten splits, val (test): biases and epsilons decayed, as the reference
    # does, cora (8 layers) 86.97 (86.50), citeseer 76.63 (76.15), with weight decay
    # 8e-3 75.05 (73.97); the normalised Laplacian's first 16 eigenvectors past its null
    # space appended to the features, cora 86.68 (86.42), citeseer 75.90 (75.67), and
    # 4 of them scaled by 3, 86.48 (85.79) and 75.86 (74.79); cora 12 layers 87.40
    # (86.42), 8 layers with sheaf decay 5e-3 86.70 (86.46) and with 8 channels 86.37
    # (85.86); citeseer d = 2 and 24 channels 76.89 (75.69), d = 1 and 48 channels 76.91
    # (75.99), 3 layers 75.62 (74.83), 8 channels 76.63 (75.28), sheaf decay 5e-3 76.87
    # (76.13). With --seeds 0,1,2 (diag; the grid's points in order): cora val 86.76,
    # 87.23, 87.23, test 86.11, 86.48, 86.66 (spread of the seeds' means 0.13-0.31);
    # citeseer val 76.76, 76.80, 76.79, test 75.85, 76.06, 75.79 (spread 0.02-0.32).
    # Averaged over seeds the points are level on validation, and the chosen ones sit
    # 0.32 (cora) and 0.44 (citeseer) below GCN. Stop 31, seed 0, the fixed high-pass
    # dimension (high_pass) added to the chosen points: cora (8 layers) val 86.60 (test
    # 86.00), citeseer 76.41 (75.66), both below them. Stop 32, seed 0, ten splits: a
    # random search (diag, O(d) with and without edge weights, general; 4-10 layers,
    # 16-32 channels, d 2-4, input dropout 0.7-0.9, dropout 0.1-0.3, lr 0.01-0.03,
    # weight decay 2e-3 to 1.2e-2, sheaf decay 1e-4 to 5e-3), 18 points on cora: val at
    # most 87.44 (O(d) with edge weights, 4 layers; test 86.38), tests 84.35-86.74; 17 on
    # citeseer: val at most 76.86 (test 76.09), one general point stalled on the
    # majority class (49.69). Sheaf decay 1e-4, 0, and 2e-5 with weight decay 3e-3 on
    # the chosen points: cora 86.96, 86.77, 86.75 (tests 86.38, 86.28, 85.81), citeseer
    # 76.72, 76.33, 76.06 (75.55, 75.00, 75.16). Only cora's O(d) point passed the
    # chosen point's seed-0 validation (87.44 against 87.40); over seeds 0-2 its val is
    # 87.01 against the chosen point's 87.23 (test 86.37), so the grids stay as they
    # are. The reference publishes no point for either
    # data set: its scripts cover the heterophilous sets, and its one logged citeseer
    # run is of its continuous model (test 71.70). Stop 33, seed 0, ten splits: the GCN
    # and MLP run here (BASELINE) reproduce the paper's rows (cora GCN val 87.61, test
    # 87.22, MLP 75.65; citeseer GCN val 77.55, test 76.98), so the gap is the model's
    # and not the loaders' or the protocol's. The constant sheaf (sheaf="identity", cora,
    # 8 layers) gave val 87.49 (test 86.54), level with the learned diagonal maps: on
    # cora the learned sheaf neither helps nor hurts. NSD at GCN's settings (2 layers,
    # d = 2, 32 channels, dropout and input dropout 0.5, weight decay 5e-4, lr 0.01)
    # fell to val 84.45 (cora) and 75.12 (citeseer): GCN averages the bag-of-words
    # features over the neighbours before its first non-linearity, NSD's encoder sees a
    # node's own features alone, and needs input dropout 0.8 against memorising them.
    # With seeds 0-2 (diag, the grid's points in order): cora val 86.76, 87.22, 87.30,
    # test 86.08, 86.29, 86.67; citeseer val 76.81, 76.80, 76.76, test 75.88, 76.06,
    # 75.83 (citeseer's first point now leads on validation by 0.01, where stop 30 had
    # the second by 0.04); GCN here cora val 87.59 (test 87.19), citeseer 77.64
    # (76.80): ahead of ours on validation too, by 0.3 and 0.8.
    "cora": [{**_TEXT, "stop_on": "loss"}, {**_TEXT, "stop_on": "loss", "hidden": 32},
             {**_TEXT, "stop_on": "loss", "layers": 8}],
    "citeseer": [{**_TEXT, "stop_on": "loss"}, {**_TEXT, "stop_on": "loss", "hidden": 32},
                 {**_TEXT, "stop_on": "loss", "weight_decay": 8e-3}],
}


# GCN (Kipf and Welling: two layers on the augmented normalised adjacency) and an MLP
# (two layers), in PyTorch on the same loaded data and splits, with one fixed set of
# hyper-parameters (the usual ones of the papers that report them, not tuned here) and
# the rule of the chosen grid points: test accuracy at the epoch of least validation loss
BASELINE = {"hidden": 64, "dropout": 0.5, "lr": 0.01, "weight_decay": 5e-4,
            "epochs": 1000, "patience": 200}


def _sparse_tensor(torch, M: sp.sparray):
    M = sp.coo_array(M)
    return torch.sparse_coo_tensor(np.vstack([M.row, M.col]), M.data, M.shape,
                                   check_invariants=True).coalesce()


def _baseline_fit(torch, kind: str, X, A_hat, y, split, n_classes: int, seed: int,
                  epochs: int) -> tuple[float, float]:
    """Validation and test accuracy of one run at its epoch of least validation loss."""
    F = torch.nn.functional
    c, p = BASELINE, BASELINE["dropout"]
    train, val, test = (torch.from_numpy(m) for m in (split.train, split.val, split.test))
    torch.manual_seed(seed)
    lin1 = torch.nn.Linear(X.shape[1], c["hidden"], dtype=torch.float64)
    lin2 = torch.nn.Linear(c["hidden"], n_classes, dtype=torch.float64)
    opt = torch.optim.Adam([*lin1.parameters(), *lin2.parameters()], lr=c["lr"],
                           weight_decay=c["weight_decay"])

    def prop(z):
        return torch.sparse.mm(A_hat, z) if kind == "gcn" else z

    def logits(training: bool):
        Xd = X
        if training:  # inverted dropout on the stored entries
            keep = (torch.rand(X.values().shape, dtype=torch.float64) >= p) / (1 - p)
            Xd = torch.sparse_coo_tensor(X.indices(), X.values() * keep, X.shape,
                                         check_invariants=False)  # X's own indices
        H = torch.relu(prop(torch.sparse.mm(Xd, lin1.weight.T)) + lin1.bias)
        return prop(F.dropout(H, p, training) @ lin2.weight.T) + lin2.bias

    best, waited, at_best = np.inf, 0, (0.0, 0.0)
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(logits(True)[train], y[train]).backward()
        opt.step()
        with torch.no_grad():
            z = logits(False)
            loss = float(F.cross_entropy(z[val], y[val]))
            pred = z.argmax(1)
        if loss < best:
            best, waited = loss, 0
            at_best = (float((pred[val] == y[val]).double().mean()),
                       float((pred[test] == y[test]).double().mean()))
        else:
            waited += 1
            if waited > c["patience"]:
                break
    return at_best


def baseline_runs(kind: str, data, splits: list[int], seed: int, epochs: int | None = None
                  ) -> list[tuple[float, float]]:
    """Validation and test accuracy of ``kind`` (gcn, mlp) on each split.

    Split ``i`` of seed ``k`` seeds torch with ``1000 k + i``, as the estimator's runs.
    """
    import torch

    n = data.n_nodes
    X = _sparse_tensor(torch, sp.csr_array(data.features))
    A = data.adjacency + sp.eye_array(n)
    s = 1.0 / np.sqrt(A.sum(axis=1))
    A_hat = _sparse_tensor(torch, sp.diags_array(s) @ A @ sp.diags_array(s))
    y = torch.from_numpy(np.maximum(data.labels, 0))  # unlabelled nodes are in no mask
    return [_baseline_fit(torch, kind, X, A_hat, y, data.splits[i], data.n_classes,
                          1000 * seed + i, epochs or BASELINE["epochs"]) for i in splits]


def seed_record(seed: int, per_split: list[tuple[float, float]]) -> dict:
    """One seed's ten-split outcome from its (validation, test) accuracy per split."""
    val, test = np.array(per_split).T
    return {"seed": seed, "test": 100 * float(test.mean()), "std": 100 * float(test.std()),
            "val": 100 * float(val.mean()), "per_split": test.tolist()}


def seeds_summary(per_seed: list[dict]) -> dict:
    """Means over the seeds of the ten-split means, standard deviations and validation
    accuracies, and the spread of the ten-split means (``None`` for one seed)."""
    tests = [r["test"] for r in per_seed]
    return {"val": float(np.mean([r["val"] for r in per_seed])), "test": float(np.mean(tests)),
            "std": float(np.mean([r["std"] for r in per_seed])),
            "seed_spread": float(np.std(tests, ddof=1)) if len(tests) > 1 else None}


def parse_splits(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SPECTRAL_SHEAF_DATA", DEFAULT_DATA)))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--sheaves", default=",".join(SHEAVES))
    parser.add_argument("--splits", default="0-9")
    parser.add_argument("--seeds", default="0",
                        help="random_state values, each run once per split (0,1,2 or 0-2)")
    parser.add_argument("--no-grid", action="store_true", help="defaults only")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the GCN and MLP run here (PyTorch)")
    parser.add_argument("--epochs", type=int, default=None, help="override (smoke runs)")
    parser.add_argument("--out", type=Path, default=None, help="JSON of every run")
    args = parser.parse_args()
    datasets = args.datasets.split(",")
    sheaves = args.sheaves.split(",")
    splits = parse_splits(args.splits)
    try:
        seeds = parse_splits(args.seeds)
    except ValueError:
        parser.error(f"--seeds must look like '0,1,2' or '0-2'; got {args.seeds!r}")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        parser.error(f"--seeds must be distinct non-negative integers; got {args.seeds!r}")
    if not args.no_baselines:
        try:
            import torch  # noqa: F401
        except ImportError:
            parser.error("the GCN and MLP baselines run in PyTorch, which is not installed "
                         "(the bench extra pins it); --no-baselines skips them")
    runs = []
    chosen: dict[tuple[str, str], dict] = {}
    baselines: dict[tuple[str, str], dict] = {}
    for name in datasets:
        loaded: dict[str, object] = {}

        def load(features: str, name: str = name, loaded: dict = loaded):
            if features not in loaded:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # cornell is texas
                    loaded[features] = load_dataset(name, args.data_dir, features=features)
            return loaded[features]

        for sheaf in sheaves:
            grid = [{}] if args.no_grid else GRID.get(name, [{}])
            for overrides in grid:
                data = load(overrides.get("features", "row_normalised"))
                # features is the loader's; edge_weights exists for orthogonal maps only
                estimator = {k: v for k, v in overrides.items() if k != "features"
                             and (k != "edge_weights" or sheaf == "orthogonal")}
                params = {**DEFAULTS[sheaf], **estimator, "sheaf": sheaf}
                if args.epochs is not None:
                    params["epochs"] = args.epochs
                t0 = time.perf_counter()
                per_seed = []
                for seed in seeds:
                    res = evaluate_splits(data, SheafDiffusionClassifier(
                        **params, random_state=1000 * seed), splits=splits)
                    per_seed.append(seed_record(
                        seed, [(s.val_acc, s.test_acc) for s in res.splits]))
                seconds = time.perf_counter() - t0
                run = {"dataset": name, "sheaf": sheaf, "overrides": overrides,
                       "params": params, **seeds_summary(per_seed), "seconds": seconds,
                       "seeds": per_seed}
                runs.append(run)
                val, test, std, spread = (run[k] for k in ("val", "test", "std",
                                                           "seed_spread"))
                over_seeds = ("" if spread is None else
                              f"  seeds {args.seeds}: std of the mean {spread:4.2f}")
                print(f"  {name:9} {sheaf:10} {json.dumps(overrides):16} val {val:6.2f}  "
                      f"test {test:6.2f} +- {std:5.2f}  ({seconds:6.1f} s){over_seeds}",
                      flush=True)
                best = chosen.get((name, sheaf))
                if best is None or val > best["val"]:
                    chosen[(name, sheaf)] = run
        # the baselines see the features ours saw (each variant the grid loaded), the
        # variant with the better validation accuracy reported, as ours are chosen
        for kind in ("gcn", "mlp") if not args.no_baselines else ():
            for features, data in list(loaded.items()):
                t0 = time.perf_counter()
                per_seed = [seed_record(seed, baseline_runs(kind, data, splits, seed,
                                                            args.epochs)) for seed in seeds]
                run = {"dataset": name, "model": kind, "features": features,
                       "params": BASELINE, **seeds_summary(per_seed),
                       "seconds": time.perf_counter() - t0, "seeds": per_seed}
                runs.append(run)
                best = baselines.get((name, kind))
                if best is None or run["val"] > best["val"]:
                    baselines[(name, kind)] = run
                print(f"  {name:9} {kind.upper() + ' (here)':10} {features:16} "
                      f"val {run['val']:6.2f}  test {run['test']:6.2f} +- {run['std']:5.2f}  "
                      f"({run['seconds']:6.1f} s)", flush=True)
    seeds_text = f", averaged over seeds {args.seeds}" if len(seeds) > 1 else ""
    print(f"\nten-split test accuracy (%), mean +- std over splits {args.splits}{seeds_text}; "
          "ours at the grid point with the best validation accuracy")
    head = f"{'model':12}" + "".join(f"{n:>16}" for n in datasets)
    print(head)
    print("-" * len(head))
    label = {"diag": "ours diag", "orthogonal": "ours O(d)", "general": "ours general"}
    for sheaf in sheaves:
        cells = [chosen[(n, sheaf)] for n in datasets]
        print(f"{label[sheaf]:12}" + "".join(
            f"{c['test']:>9.2f} +-{c['std']:5.2f}" for c in cells))
    for kind in ("gcn", "mlp") if not args.no_baselines else ():
        cells = [baselines[(n, kind)] for n in datasets]
        print(f"{kind.upper() + ' (here)':12}" + "".join(
            f"{c['test']:>9.2f} +-{c['std']:5.2f}" for c in cells))
    for model, table in PAPER.items():
        print(f"{model:12}" + "".join(f"{table[n][0]:>9.2f} +-{table[n][1]:5.2f}"
                                      for n in datasets))
    print()
    for n in datasets:
        ours = max((chosen[(n, s)] for s in sheaves), key=lambda c: c["val"])
        nsd = max((PAPER[m][n] for m in ("Diag-NSD", "O(d)-NSD", "Gen-NSD")),
                  key=lambda x: x[0])
        within = ours["test"] >= nsd[0] - nsd[1]
        above = ours["test"] > max(PAPER["GCN"][n][0], PAPER["MLP"][n][0])
        here = ("" if args.no_baselines else "; here {}".format(
            "yes" if ours["test"] > max(baselines[(n, k)]["test"] for k in ("gcn", "mlp"))
            else "NO"))
        print(f"{n:9}: ours (class chosen on validation) {ours['test']:.2f} "
              f"({ours['sheaf']}); best NSD "
              f"{nsd[0]:.2f} +- {nsd[1]:.2f}: within one std {'yes' if within else 'NO'}; "
              f"above GCN and MLP: the paper's {'yes' if above else 'NO'}{here}")
    if args.out is not None:
        args.out.write_text(json.dumps(runs, indent=2))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
