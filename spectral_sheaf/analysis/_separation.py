"""Exact linear separability (linear programming) and the separation power of sheaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.linalg import expm_multiply

from .._validation import (
    as_float_array,
    as_index_array,
    check_finite,
    check_option,
    check_positive_real,
)
from ..sheaf import HarmonicSpace, Sheaf, harmonic_space, sheaf_laplacian
from ..sheaf._laplacian import _as_sheaf_signal

__all__ = ["Separability", "SeparationReport", "linear_separability", "separation_power"]


@dataclass(frozen=True)
class Separability:
    """Outcome of :func:`linear_separability`.

    Attributes
    ----------
    separable : bool
        Whether the classes are linearly separable (margin above the threshold).
    margin : float
        The smallest class margin (``kind="one_vs_rest"``) or the joint margin
        (``"multiclass"``), relative to ``max |points|`` and measured with ``|w|_inf <= 1``
        (an l1-norm distance).
    class_margins : ndarray, shape (C,)
        One-vs-rest margin of each class (``"multiclass"``: the joint margin repeated).
    threshold : float
        Margins at or below it count as not separable.
    kind : str
        Which notion of separability was tested.
    """

    separable: bool
    margin: float
    class_margins: np.ndarray
    threshold: float
    kind: str


def _checked_labels(labels: Any, n: int) -> tuple[np.ndarray, int]:
    y = as_index_array(labels, "labels")
    if y.shape != (n,):
        raise ValueError(f"labels must have one entry per point, shape ({n},); got {y.shape}")
    if y.min() < 0:
        raise ValueError(f"labels must be class indices >= 0; got {int(y.min())}")
    present = np.unique(y)
    if present.size < 2:
        raise ValueError(
            f"labels must contain at least two classes; got only class {int(present[0])}"
        )
    # renumber to 0..C-1 so that absent class indices do not create empty classes
    return np.searchsorted(present, y), int(present.size)


def _reduced(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Points scaled to max |x| = 1 and expressed in a basis of their linear span.

    A separating hyperplane can be taken inside the span of the points, so this
    changes no separability decision while shrinking the linear programs.
    """
    scale = float(np.abs(points).max())
    if scale == 0.0:
        return np.zeros((points.shape[0], 0)), 0.0
    Xs = points / scale
    U, s, _ = np.linalg.svd(Xs, full_matrices=False)
    rank = int(np.sum(s > max(Xs.shape) * np.finfo(float).eps * s[0]))
    return U[:, :rank] * s[:rank], scale


def _one_vs_rest_margin(X: np.ndarray, positive: np.ndarray) -> float:
    """Max t s.t. s_i (w.x_i + b) >= t, |w|_inf <= 1, t <= 1 (s = +1 / -1)."""
    N, p = X.shape
    s = np.where(positive, 1.0, -1.0)
    # variables [w (p), b, t]; minimise -t
    c = np.zeros(p + 2)
    c[-1] = -1.0
    A = np.hstack([-s[:, None] * X, -s[:, None], np.ones((N, 1))])
    bounds = [(-1.0, 1.0)] * p + [(None, None), (None, 1.0)]
    res = linprog(c, A_ub=A, b_ub=np.zeros(N), bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - the program is always feasible and bounded
        raise RuntimeError(f"linear program failed: {res.message}")
    return float(-res.fun) + 0.0  # + 0.0 turns -0.0 into 0.0


def _multiclass_margin(X: np.ndarray, y: np.ndarray, C: int) -> float:
    """Max t s.t. (w_{y_i} - w_c).x_i + b_{y_i} - b_c >= t for all c != y_i."""
    _N, p = X.shape
    nv = C * (p + 1) + 1
    rows, cols, vals = [], [], []
    r = 0
    others = [np.flatnonzero(np.arange(C) != k) for k in range(C)]
    for k in range(C):  # loop over classes; the constraint blocks are vectorised
        idx = np.flatnonzero(y == k)
        for c in others[k]:
            m = idx.size
            rid = r + np.arange(m)
            # -(w_k - w_c).x_i - (b_k - b_c) + t <= 0
            for col_base, sign in ((k * (p + 1), -1.0), (c * (p + 1), 1.0)):
                rows.append(np.repeat(rid, p + 1))
                cols.append(np.tile(col_base + np.arange(p + 1), m))
                vals.append(sign * np.hstack([X[idx], np.ones((m, 1))]).ravel())
            rows.append(rid)
            cols.append(np.full(m, nv - 1))
            vals.append(np.ones(m))
            r += m
    A = sp.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                     shape=(r, nv))
    c_obj = np.zeros(nv)
    c_obj[-1] = -1.0
    bounds = ([(-1.0, 1.0)] * p + [(None, None)]) * C + [(None, 1.0)]
    res = linprog(c_obj, A_ub=A, b_ub=np.zeros(r), bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover
        raise RuntimeError(f"linear program failed: {res.message}")
    return float(-res.fun) + 0.0  # + 0.0 turns -0.0 into 0.0


def linear_separability(
    points: Any,
    labels: Any,
    *,
    kind: Literal["one_vs_rest", "multiclass"] = "one_vs_rest",
    rtol: float = 1e-8,
) -> Separability:
    """Decide exactly, by linear programming, whether labelled points are linearly separable.

    Parameters
    ----------
    points : array, shape (N, p)
        One row per point.
    labels : array of int, shape (N,)
        Class of each point; at least two classes.
    kind : {"one_vs_rest", "multiclass"}
        ``"one_vs_rest"``: every class can be cut from the union of the others by a
        hyperplane (the notion under which d = 1 sheaves cannot separate three classes,
        Bodnar et al. 2022, Prop. 11). ``"multiclass"``: one affine function per class
        whose argmax is the label (a linear classifier fits the points exactly).
    rtol : float
        Margins (relative to ``max |points|``) at or below ``rtol`` count as zero, so
        that rounding noise never passes for separation.

    Returns
    -------
    Separability

    Notes
    -----
    Each program maximises the margin ``t`` subject to ``s_i (w . x_i + b) >= t`` with
    ``|w|_inf <= 1`` (HiGHS through ``scipy.optimize.linprog``); the points are first
    expressed in a basis of their span, which changes no decision.
    """
    check_option(kind, "kind", ("one_vs_rest", "multiclass"))
    rtol = check_positive_real(rtol, "rtol")
    X = as_float_array(points, "points", ndim=(2,)).astype(np.float64)
    check_finite(X, "points")
    y, C = _checked_labels(labels, X.shape[0])
    Xr, scale = _reduced(X)
    if scale == 0.0 or Xr.shape[1] == 0:
        margins = np.zeros(C)
    elif kind == "one_vs_rest":
        margins = np.array([_one_vs_rest_margin(Xr, y == k) for k in range(C)])
        if C == 2:  # one program decides both classes
            margins[:] = margins.min()
    else:
        margins = np.full(C, _multiclass_margin(Xr, y, C))
    margin = float(margins.min())
    return Separability(bool(margin > rtol), margin, margins, rtol, kind)


@dataclass(frozen=True)
class SeparationReport:
    """Outcome of :func:`separation_power`.

    Attributes
    ----------
    separability : Separability
        The linear-programming verdict on the diffused node features.
    features : ndarray, shape (n, d_v * c)
        The diffused features, one row per node (its stalk flattened with the channels).
    harmonic_dimension : int
        Dimension of the harmonic space of the Laplacian used (the limit space).
    time : float
        The diffusion time (``inf`` for the limit).
    """

    separability: Separability
    features: np.ndarray
    harmonic_dimension: int
    time: float

    @property
    def separable(self) -> bool:
        """Shortcut for ``separability.separable``."""
        return self.separability.separable


def separation_power(
    sheaf: Sheaf,
    features: Any,
    labels: Any,
    *,
    time: float | None = None,
    normalization: Literal["none", "sym", "augmented"] = "sym",
    kind: Literal["one_vs_rest", "multiclass"] = "one_vs_rest",
    rtol: float = 1e-8,
    space: HarmonicSpace | None = None,
) -> SeparationReport:
    """Whether sheaf diffusion of ``features`` separates the classes of the nodes.

    The features ``X(0)`` are diffused by ``dX/dt = -Delta X`` with ``Delta`` the sheaf
    Laplacian of the given normalisation (``"sym"``, ``D^{-1/2} L D^{-1/2}``, is the
    one of the Neural Sheaf Diffusion paper); ``time=None`` takes the limit
    ``t -> infinity``, the orthogonal projection onto the harmonic space. Each node's
    diffused stalk ``(d_v, c)`` is flattened and :func:`linear_separability` decides.

    Parameters
    ----------
    sheaf : Sheaf
        The sheaf.
    features : array, shape (n d_v,) or (n d_v, c)
        Stalk-major initial condition ``X(0)``.
    labels : array of int, shape (n,)
        Class of each node.
    time : float, optional
        Diffusion time ``> 0``; ``None`` for the limit.
    normalization : {"none", "sym", "augmented"}
        Which Laplacian diffuses.
    kind, rtol
        As in :func:`linear_separability`.
    space : HarmonicSpace, optional
        The harmonic space of this sheaf and normalisation, if already computed
        (``sheaf.harmonic_space``); saves recomputing it for many initial conditions.

    Returns
    -------
    SeparationReport
    """
    check_option(normalization, "normalization", ("none", "sym", "augmented"))
    X = _as_sheaf_signal(sheaf, features, "features").astype(np.float64)
    X2 = X.reshape(X.shape[0], -1)
    if space is None:
        space = harmonic_space(sheaf, normalization=normalization)
    elif space.basis.shape[0] != X2.shape[0]:
        raise ValueError(f"space must be a degree-0 harmonic space with {X2.shape[0]} rows; "
                         f"got {space.basis.shape[0]}")
    if time is None:
        out = space.basis @ (space.basis.T @ X2)
        t = float("inf")
    else:
        t = check_positive_real(time, "time")
        L = sheaf_laplacian(sheaf, normalization=normalization).astype(np.float64)
        out = expm_multiply(-t * L, X2)
    node_features = out.reshape(sheaf.n_nodes, -1)
    verdict = linear_separability(node_features, labels, kind=kind, rtol=rtol)
    return SeparationReport(verdict, node_features, space.dimension, t)
