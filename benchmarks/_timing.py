"""Timing helper shared by the side-by-side benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after one warm-up run.

    The warm-up absorbs Numba compilation, allocator growth and cold caches.
    """
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def interleaved_median_times(fns: list[Callable[[], object]], repeats: int,
                             contexts: list[Callable[[], AbstractContextManager]] | None
                             = None) -> list[float]:
    """Median wall time of each of ``fns``, timed in turn round after round.

    One warm-up run each, then ``repeats`` rounds that run every function once: on a
    machine whose speed drifts (a shared VM), each function sees the same conditions,
    so the ratios between them hold better than those of back-to-back medians.
    ``contexts[i]``, when given, makes a context manager entered around each call of
    ``fns[i]``, outside the timed region (a thread-pool limit, which costs milliseconds
    to enter).
    """
    ctx = contexts or [nullcontext] * len(fns)
    for fn, c in zip(fns, ctx, strict=True):
        with c():
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            with ctx[i]():
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]
