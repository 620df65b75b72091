"""The learner's results do not depend on whether its kernels come from Numba's cache.

Each run is a fresh interpreter with its own ``NUMBA_CACHE_DIR``: the first compiles
every kernel and writes the cache, the second loads them from it. With ``"reassoc"``
among the orthogonal and general kernels' flags the two runs differed in the last bits
(Numba 0.68), and training carried the difference into every later epoch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

RUN = r"""
import json, sys
import numpy as np
import spectral_sheaf.learn._kernels as K
from spectral_sheaf.graphs import knn_graph
from spectral_sheaf.learn import Adam, NSDConfig, forward_backward, graph_structure, init_params

rng = np.random.default_rng(0)
n = 300
A = knn_graph(rng.random((n, 3)), 5)
X = rng.random((n, 7))
labels = rng.integers(0, 3, n)
train = np.zeros(n, dtype=bool)
train[: n // 2] = True
g = graph_structure(A)
out = {}
for sheaf in ("diag", "orthogonal", "general"):
    cfg = NSDConfig(7, 3, d=3, hidden=8, layers=2, sheaf=sheaf, dropout=0.3,
                    input_dropout=0.2)
    p = init_params(cfg, np.random.default_rng(1))
    adam = Adam(p, lr=0.02, weight_decay=5e-3, sheaf_decay=5e-4)
    drop = np.random.default_rng(2)
    for _ in range(3):  # training carries any difference into the next epoch
        loss, _, grads = forward_backward(p, X, labels, train, g, cfg, rng=drop)
        adam.step(p, grads)
    out[sheaf] = [loss] + [v.ravel().tolist() for _, v in sorted(p.items())]
# which kernels ran compiled, which from the cache
kernels = [getattr(K, name) for name in dir(K) if hasattr(getattr(K, name), "stats")]
out["hits"] = sum(sum(f.stats.cache_hits.values()) for f in kernels)
out["misses"] = sum(sum(f.stats.cache_misses.values()) for f in kernels)
json.dump(out, open(sys.argv[1], "w"))
"""


@pytest.mark.slow
def test_compiled_and_cached_kernels_give_the_same_bits(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = []
    for i in range(2):
        path = tmp_path / f"run{i}.json"
        subprocess.run([sys.executable, "-c", RUN, str(path)], env=env, cwd=tmp_path,
                       check=True, timeout=600)
        runs.append(json.loads(path.read_text()))
    compiled, cached = runs
    # the first run compiled the kernels (nothing to load), the second loaded them
    assert compiled["hits"] == 0
    assert compiled["misses"] > 0
    assert cached["hits"] > 0
    assert cached["misses"] == 0
    for sheaf in ("diag", "orthogonal", "general"):
        a, b = compiled[sheaf], cached[sheaf]
        assert a[0] == b[0], sheaf  # the last loss
        for x, y in zip(a[1:], b[1:], strict=True):
            assert np.array_equal(np.array(x).view(np.uint64), np.array(y).view(np.uint64)), sheaf
