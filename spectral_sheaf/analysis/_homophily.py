"""Homophily measures of labelled graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_index_array
from ..graphs._laplacian import _checked_adjacency

__all__ = ["adjusted_homophily", "class_homophily", "edge_homophily", "node_homophily"]


def _labelled_edges(adjacency: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Endpoints of every stored off-diagonal entry (both directions) and the labels."""
    A = _checked_adjacency(adjacency, dtype=None, symmetric=True,
                           context="for a homophily measure")
    n = A.shape[0]
    y = as_index_array(labels, "labels")
    if y.shape != (n,):
        raise ValueError(f"labels must have one entry per node, shape ({n},); got {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be >= 0 (class indices); got {int(y.min())}")
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    cols = A.indices
    keep = (rows != cols) & (A.data != 0)
    if not keep.any():
        raise ValueError("adjacency must have at least one edge (besides self-loops) for a "
                         "homophily measure; got none")
    return rows[keep], cols[keep], y, n


def edge_homophily(adjacency: Any, labels: Any) -> float:
    """Fraction of edges joining nodes of the same class (Zhu et al., 2020).

    Self-loops are ignored and weights are not used: every edge counts once.
    """
    r, c, y, _ = _labelled_edges(adjacency, labels)
    return float(np.mean(y[r] == y[c]))


def node_homophily(adjacency: Any, labels: Any) -> float:
    """Mean over non-isolated nodes of the fraction of neighbours in the same class.

    The measure of Pei et al. (Geom-GCN, 2020).
    """
    r, c, y, n = _labelled_edges(adjacency, labels)
    deg = np.bincount(r, minlength=n)
    same = np.bincount(r, weights=(y[r] == y[c]).astype(float), minlength=n)
    has = deg > 0
    return float(np.mean(same[has] / deg[has]))


def class_homophily(adjacency: Any, labels: Any) -> float:
    """Class-insensitive homophily of Lim et al. (2021).

    ``h = 1/(C - 1) sum_k max(0, h_k - |C_k| / n)`` with ``h_k`` the fraction of edge
    ends at class-``k`` nodes whose other end is also in class ``k``. It is 0 for a
    graph whose edges are blind to the classes and 1 for perfect homophily.
    """
    r, c, y, n = _labelled_edges(adjacency, labels)
    C = int(y.max()) + 1
    if C < 2:
        raise ValueError("labels must contain at least two classes for class_homophily; "
                         "got one")
    ends = np.bincount(y[r], minlength=C).astype(float)
    same = np.bincount(y[r], weights=(y[r] == y[c]).astype(float), minlength=C)
    h_k = np.divide(same, ends, out=np.zeros(C), where=ends > 0)
    share = np.bincount(y, minlength=C) / n
    return float(np.sum(np.maximum(0.0, h_k - share)) / (C - 1))


def adjusted_homophily(adjacency: Any, labels: Any) -> float:
    """Compute the adjusted homophily of Platonov et al. (2023), corrected for chance.

    ``(h_edge - sum_k p_k^2) / (1 - sum_k p_k^2)`` with ``p_k`` the share of edge ends
    (degree mass) in class ``k``. 0 when edges ignore the classes, negative for
    heterophily, 1 for perfect homophily.
    """
    r, c, y, _ = _labelled_edges(adjacency, labels)
    C = int(y.max()) + 1
    p = np.bincount(y[r], minlength=C) / r.size
    chance = float(np.sum(p**2))
    if chance >= 1.0:
        raise ValueError("labels must put edge ends in at least two classes for "
                         "adjusted_homophily; all edges touch one class")
    return (float(np.mean(y[r] == y[c])) - chance) / (1.0 - chance)
