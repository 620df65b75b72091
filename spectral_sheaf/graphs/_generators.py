"""Graph generators: deterministic families with closed-form spectra and random models.

Every generator returns a symmetric ``csr_array`` adjacency (float64 weights of 1, no
self-loops); random ones draw only from their ``rng`` argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import (
    as_float_array,
    as_index_array,
    check_bool,
    check_finite,
    check_in_range,
    check_int,
    check_positive_real,
    check_rng,
)
from ._construct import adjacency_from_edges, radius_graph

__all__ = [
    "ContextualSBM",
    "complete_graph",
    "contextual_sbm",
    "cycle_graph",
    "erdos_renyi_graph",
    "grid_graph",
    "hypercube_graph",
    "path_graph",
    "random_geometric_graph",
    "star_graph",
    "stochastic_block_model",
]


def _from_pairs(u: np.ndarray, v: np.ndarray, n: int) -> sp.csr_array:
    return adjacency_from_edges(np.stack([u, v], axis=1), n, symmetrize="max")


def path_graph(n_nodes: int) -> sp.csr_array:
    """Path ``0 - 1 - … - (n-1)``; Laplacian eigenvalues ``2 - 2 cos(pi k / n)``."""
    n = check_int(n_nodes, "n_nodes", minimum=1)
    i = np.arange(n - 1)
    return _from_pairs(i, i + 1, n)


def cycle_graph(n_nodes: int) -> sp.csr_array:
    """Cycle on ``n >= 3`` nodes; Laplacian eigenvalues ``2 - 2 cos(2 pi k / n)``."""
    n = check_int(n_nodes, "n_nodes", minimum=3)
    i = np.arange(n)
    return _from_pairs(i, (i + 1) % n, n)


def complete_graph(n_nodes: int) -> sp.csr_array:
    """Complete graph; Laplacian eigenvalues 0 and ``n`` (multiplicity ``n - 1``)."""
    n = check_int(n_nodes, "n_nodes", minimum=1)
    u, v = np.triu_indices(n, k=1)
    return _from_pairs(u, v, n)


def star_graph(n_nodes: int) -> sp.csr_array:
    """Star with centre 0 and ``n - 1`` leaves; eigenvalues 0, 1 (``n - 2`` times), ``n``."""
    n = check_int(n_nodes, "n_nodes", minimum=1)
    leaves = np.arange(1, n)
    return _from_pairs(np.zeros_like(leaves), leaves, n)


def hypercube_graph(dim: int) -> sp.csr_array:
    """Hypercube ``Q_dim`` on ``2**dim`` nodes.

    Node ``i`` and ``i XOR 2**b`` are joined; Laplacian eigenvalues are ``2 j`` with
    multiplicity ``C(dim, j)``.
    """
    d = check_int(dim, "dim", minimum=0)
    if d > 24:
        raise ValueError(f"dim must be <= 24 (2**dim nodes); got {d}")
    n = 1 << d
    nodes = np.arange(n, dtype=np.int64)
    us, vs = [], []
    for b in range(d):  # loop over dimensions, not nodes
        mask = (nodes >> b) & 1 == 0
        us.append(nodes[mask])
        vs.append(nodes[mask] | (1 << b))
    if not us:
        return sp.csr_array((1, 1), dtype=np.float64)
    return _from_pairs(np.concatenate(us), np.concatenate(vs), n)


def grid_graph(shape: Any, *, periodic: Any = False) -> sp.csr_array:
    """n-dimensional grid (lattice) graph, optionally periodic (a torus).

    Node ``(i_0, ..., i_{k-1})`` has index ``np.ravel_multi_index`` in C order.
    Laplacian eigenvalues are sums over axes of the path (or, for periodic axes, the
    cycle) eigenvalues of that axis.

    Parameters
    ----------
    shape : int or sequence of int
        Side lengths, each >= 1.
    periodic : bool or sequence of bool
        Wrap-around per axis (one bool for all). A periodic axis needs length >= 3
        (for length 2 the wrap edge would repeat the existing one).

    Returns
    -------
    csr_array, shape (prod(shape), prod(shape))
    """
    dims = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    if not dims:
        raise ValueError("shape must have at least one axis; got ()")
    dims = tuple(check_int(s, "shape", minimum=1) for s in dims)
    if np.ndim(periodic) == 0:
        per = [check_bool(periodic, "periodic")] * len(dims)
    else:
        per = [check_bool(p, "periodic") for p in periodic]
        if len(per) != len(dims):
            raise ValueError(
                f"periodic must be one bool or one per axis ({len(dims)}); got {len(per)}"
            )
    n = int(np.prod(dims))
    idx = np.arange(n).reshape(dims)
    us, vs = [], []
    for ax, length in enumerate(dims):  # loop over axes
        if per[ax] and length < 3:
            raise ValueError(
                f"periodic axes need length >= 3; got length {length} on axis {ax}"
            )
        lo = np.take(idx, np.arange(length - 1), axis=ax)
        hi = np.take(idx, np.arange(1, length), axis=ax)
        us.append(lo.ravel())
        vs.append(hi.ravel())
        if per[ax]:
            us.append(np.take(idx, [length - 1], axis=ax).ravel())
            vs.append(np.take(idx, [0], axis=ax).ravel())
    return _from_pairs(np.concatenate(us), np.concatenate(vs), n)


def _triangle_pairs(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Map linear indices of the strict upper triangle (row-major) to ``(i, j)``."""
    k = k.astype(np.int64)
    # row i starts at s(i) = i (2n - i - 1) / 2
    b = 2 * n - 1
    i = np.floor((b - np.sqrt(np.maximum(b * b - 8.0 * k, 0.0))) / 2).astype(np.int64)
    i = np.clip(i, 0, n - 2)

    def start(r: np.ndarray) -> np.ndarray:
        return r * (2 * n - r - 1) // 2

    # correct rounding by at most a step either way
    i = np.where(start(i) > k, i - 1, i)
    i = np.where(start(i + 1) <= k, i + 1, i)
    j = k - start(i) + i + 1
    return i, j


def _sample_block(
    rng: np.random.Generator, first: int, size_a: int, second: int, size_b: int,
    p: float, same: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of one block of a random graph, each pair independently with probability p."""
    total = size_a * (size_a - 1) // 2 if same else size_a * size_b
    if total == 0 or p == 0.0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    m = int(rng.binomial(total, p))
    k = rng.choice(total, size=m, replace=False, shuffle=False)
    if same:
        i, j = _triangle_pairs(k, size_a)
        return first + i, first + j
    return first + k // size_b, second + k % size_b


def erdos_renyi_graph(n_nodes: int, p: float, *, rng: Any = None) -> sp.csr_array:
    """G(n, p): each of the ``n (n - 1) / 2`` pairs is an edge with probability ``p``.

    Sampling draws the edge count from the binomial law and then that many distinct
    pairs, so the cost is proportional to the number of edges, not ``n**2``.
    """
    n = check_int(n_nodes, "n_nodes", minimum=1)
    p = check_in_range(p, "p", 0.0, 1.0)
    g = check_rng(rng)
    u, v = _sample_block(g, 0, n, 0, n, p, same=True)
    return _from_pairs(u, v, n)


def random_geometric_graph(
    n_nodes: int, radius: float, *, dim: int = 2, rng: Any = None
) -> tuple[sp.csr_array, np.ndarray]:
    """Random geometric graph: uniform points in ``[0, 1]^dim``, joined within ``radius``.

    Returns
    -------
    adjacency : csr_array, shape (n, n)
        Binary weights.
    points : ndarray, shape (n, dim)
    """
    n = check_int(n_nodes, "n_nodes", minimum=2)
    d = check_int(dim, "dim", minimum=1)
    r = check_positive_real(radius, "radius")
    points = check_rng(rng).random((n, d))
    return radius_graph(points, r, weighting="binary"), points


def stochastic_block_model(
    sizes: Any, probs: Any, *, rng: Any = None
) -> tuple[sp.csr_array, np.ndarray]:
    """Stochastic block model.

    Parameters
    ----------
    sizes : sequence of int, length B
        Block sizes (each >= 1); nodes are numbered block by block.
    probs : array, shape (B, B)
        Symmetric edge probabilities in ``[0, 1]``.
    rng : Generator, int or None
        Random source.

    Returns
    -------
    adjacency : csr_array
    labels : ndarray of int64
        Block of each node.
    """
    s = as_index_array(sizes, "sizes")
    if s.ndim != 1 or s.size == 0 or (s < 1).any():
        raise ValueError(f"sizes must be a non-empty 1-D list of ints >= 1; got {sizes!r}")
    P = as_float_array(probs, "probs", ndim=(2,)).astype(np.float64)
    B = s.size
    if P.shape != (B, B):
        raise ValueError(f"probs must have shape ({B}, {B}) to match sizes; got {P.shape}")
    check_finite(P, "probs")
    if (P < 0).any() or (P > 1).any():
        raise ValueError("probs must lie in [0, 1]; got entries outside")
    if not np.allclose(P, P.T, rtol=0, atol=1e-12):
        raise ValueError("probs must be symmetric for an undirected SBM; got probs != probs.T")
    g = check_rng(rng)
    offsets = np.concatenate([[0], np.cumsum(s)])
    us, vs = [], []
    for a in range(B):  # loop over blocks, not nodes
        for b in range(a, B):
            u, v = _sample_block(g, int(offsets[a]), int(s[a]), int(offsets[b]), int(s[b]),
                                 float(P[a, b]), same=a == b)
            us.append(u)
            vs.append(v)
    n = int(offsets[-1])
    labels = np.repeat(np.arange(B, dtype=np.int64), s)
    return _from_pairs(np.concatenate(us), np.concatenate(vs), n), labels


@dataclass(frozen=True)
class ContextualSBM:
    """A graph with node features and labels drawn from a contextual SBM.

    Attributes
    ----------
    adjacency : csr_array, shape (n, n)
    features : ndarray, shape (n, n_features)
    labels : ndarray of int64, shape (n,)
    p_in, p_out : float
        Edge probabilities within and between classes that were used.
    """

    adjacency: sp.csr_array
    features: np.ndarray
    labels: np.ndarray
    p_in: float
    p_out: float


def contextual_sbm(
    n_nodes: int,
    *,
    n_classes: int = 2,
    avg_degree: float = 5.0,
    homophily: float = 0.5,
    n_features: int = 16,
    class_separation: float = 1.0,
    rng: Any = None,
) -> ContextualSBM:
    """Contextual stochastic block model with a homophily knob.

    Classes have (almost) equal sizes; nodes are numbered class by class. Edge
    probabilities are chosen so that the expected degree is ``avg_degree`` and the
    expected edge homophily (fraction of edges joining nodes of the same class) is
    ``homophily``: 0 gives a multipartite (fully heterophilous) graph, ``1/n_classes``
    an uninformative one, 1 disjoint classes. Features are Gaussian:
    ``x_i = mu_{y_i} + N(0, I)`` with class means ``mu_c ~ N(0, s^2 / (2 F) I)``, so that
    two class means are ``class_separation`` apart on average. This is the synthetic
    heterophily benchmark of the sheaf-diffusion papers (after Deshpande et al., 2018).

    Parameters
    ----------
    n_nodes : int
        Number of nodes, at least ``2 * n_classes``.
    n_classes : int
        Number of classes, >= 2.
    avg_degree : float
        Expected mean degree, > 0.
    homophily : float
        Expected edge homophily in ``[0, 1]``.
    n_features : int
        Feature dimension F, >= 1.
    class_separation : float
        Expected distance between class means, in units of the noise std.
    rng : Generator, int or None
        Random source.

    Returns
    -------
    ContextualSBM

    Raises
    ------
    ValueError
        If the requested degree and homophily need an edge probability above 1.
    """
    n = check_int(n_nodes, "n_nodes", minimum=2)
    C = check_int(n_classes, "n_classes", minimum=2)
    if n < 2 * C:
        raise ValueError(f"n_nodes must be >= 2 * n_classes = {2 * C}; got {n}")
    deg = check_positive_real(avg_degree, "avg_degree")
    h = check_in_range(homophily, "homophily", 0.0, 1.0)
    F = check_int(n_features, "n_features", minimum=1)
    sep = check_positive_real(class_separation, "class_separation", allow_zero=True)
    g = check_rng(rng)
    sizes = np.full(C, n // C)
    sizes[: n % C] += 1
    pairs_in = float(np.sum(sizes * (sizes - 1) / 2))
    pairs_out = n * (n - 1) / 2 - pairs_in
    m = n * deg / 2
    p_in, p_out = h * m / pairs_in, (1 - h) * m / pairs_out
    if p_in > 1 or p_out > 1:
        raise ValueError(
            f"avg_degree={deg} with homophily={h} needs edge probabilities "
            f"p_in={p_in:.3g}, p_out={p_out:.3g}; both must be <= 1. Lower avg_degree"
        )
    P = np.full((C, C), p_out)
    np.fill_diagonal(P, p_in)
    A, labels = stochastic_block_model(sizes, P, rng=g)
    means = g.standard_normal((C, F)) * (sep / np.sqrt(2.0 * F))
    X = means[labels] + g.standard_normal((n, F))
    return ContextualSBM(A, X, labels, float(p_in), float(p_out))
