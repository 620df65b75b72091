"""Sheaves whose diffusion limit separates given classes.

The constructive results of Bodnar, Di Giovanni, Chamberlain, Lio and Bronstein,
"Neural Sheaf Diffusion: A Topological Perspective on Heterophily and Oversmoothing in
GNNs" (NeurIPS 2022, arXiv:2202.04579), the section on the power of sheaf diffusion.

Proposition numbers are those of the arXiv version. "Separate" means: for almost
all initial conditions, the limit of the normalised diffusion ``dX/dt = -Delta X``
with ``Delta = D^{-1/2} L_F D^{-1/2}`` puts each class on its own side of a
hyperplane (one class against the rest), as :func:`separation_power` tests.

The constructions all rest on one observation: if ``x`` is a node signal (vector
per node) and the maps satisfy ``F_{v <| e} x_v = F_{u <| e} x_u`` on every edge,
then ``x`` is a global section, and on a connected graph with invertible maps and
path-independent transport the harmonic space is spanned by such sections.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import as_index_array, check_int, check_option
from ..graphs import connected_components
from ..sheaf import Sheaf, sheaf_edges

__all__ = ["separating_sheaf"]

_CLASSES = ("symmetric", "general", "diagonal", "orthogonal")


def _sign_maps(edges: np.ndarray, section: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """D = 1 maps making ``section`` (nonzero entries) a global section: Prop. 10.

    ``F_{u <| e} = alpha_e x_v`` and ``F_{v <| e} = alpha_e x_u`` give
    ``F_v x_v - F_u x_u = alpha_e (x_u x_v - x_v x_u) = 0``.
    """
    u, v = edges[:, 0], edges[:, 1]
    return np.stack([alpha * section[v], alpha * section[u]], axis=1)  # (m, 2)


def _quaternion_left(q: np.ndarray) -> np.ndarray:
    """4 x 4 matrices of left multiplication by quaternions ``q = (a, b, c, d)``."""
    a, b, c, d = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([
        np.stack([a, -b, -c, -d], -1),
        np.stack([b, a, -d, c], -1),
        np.stack([c, d, a, -b], -1),
        np.stack([d, -c, b, a], -1),
    ], -2)


def _quaternion_product(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...j->...i", _quaternion_left(p), q)


# unit quaternions +-1, +-i, +-j, +-k: the eight class "directions" for d = 4
_UNITS_4 = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
                     [-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 0], [0, 0, 0, -1]], float)


def _rotation(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def separating_sheaf(
    adjacency: Any,
    labels: Any,
    *,
    sheaf_class: Literal["symmetric", "general", "diagonal", "orthogonal"],
    d: int = 1,
) -> Sheaf:
    """Build a sheaf of the requested class whose diffusion limit separates the labels.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        A connected undirected graph.
    labels : array of int, shape (n,)
        Classes ``0 .. C - 1``, each present, ``C >= 2``.
    sheaf_class : {"symmetric", "general", "diagonal", "orthogonal"}
        Which hypothesis class the sheaf must belong to.
    d : int
        Stalk dimension (``d_v = d_e = d``).

    Returns
    -------
    Sheaf

    Raises
    ------
    ValueError
        Naming the proposition whose hypotheses fail:

        * ``"symmetric"`` (``F_u = F_v``, d = 1; weighted graph Laplacians):
          Prop. 8 needs two classes, one of which has a same-class neighbour at every
          node. Prop. 9 shows that no symmetric sheaf separates the two sides of a
          balanced connected bipartite graph.
        * ``"general"`` with d = 1: Prop. 10 separates any two classes; Prop. 11 shows
          that no d = 1 sheaf separates three or more. For d >= 2 the diagonal (d >= C)
          or orthogonal (d in {2, 4}, C <= 2d) construction is used.
        * ``"diagonal"``: Prop. 12 needs ``d >= C`` (d = 1 with two classes is Prop. 10).
        * ``"orthogonal"``: ``d >= C`` with the diagonal construction and maps +-1 (which
          are orthogonal), else Prop. 13: ``d in {2, 4}`` and ``C <= 2d``.

    Notes
    -----
    Constructions (each makes a chosen node signal a global section; see the module
    docstring):

    * Prop. 8: weights ``alpha_e`` large on edges inside class A and 1 elsewhere, so
      that the kernel of the normalised Laplacian, ``sqrt(degree)``, is larger on A.
    * Prop. 10: section ``+1`` on class A, ``-1`` on class B, maps from
      :func:`_sign_maps`; transport is -1 across classes.
    * Prop. 12: coordinate ``k`` of the stalk carries the Prop. 10 sheaf of "class k
      against the rest".
    * Prop. 13: ``d = 2``: class ``k`` gets the rotation by ``k pi / 2``; ``d = 4``: the
      left multiplication by one of the unit quaternions ``+-1, +-i, +-j, +-k``. With
      ``F_v = I`` and ``F_u`` the rotation taking class(u)'s frame to class(v)'s, the
      transport around any cycle telescopes to the identity, the harmonic space has
      dimension ``d``, and its sections point in class-specific directions.
    """
    check_option(sheaf_class, "sheaf_class", _CLASSES)
    d = check_int(d, "d", minimum=1)
    edges, _, n = sheaf_edges(adjacency)
    y = as_index_array(labels, "labels")
    if y.shape != (n,):
        raise ValueError(f"labels must have one entry per node, shape ({n},); got {y.shape}")
    classes = np.unique(y)
    C = classes.size
    if C < 2:
        raise ValueError(f"labels must contain at least two classes; got only class "
                         f"{int(classes[0])}")
    if classes[0] != 0 or classes[-1] != C - 1:
        raise ValueError(f"labels must be 0 .. C - 1 with every class present; got classes "
                         f"{classes.tolist()}")
    k, _ = connected_components(adjacency)
    if k != 1:
        raise ValueError(
            f"adjacency must be connected: Bodnar et al. (2022) state the separation "
            f"results for connected graphs; got {k} components. Use the largest component "
            f"(graphs.largest_component) or one sheaf per component"
        )
    if sheaf_class == "symmetric":
        return _symmetric(edges, y, n, d)
    if sheaf_class == "general" and d == 1:
        return _prop10(edges, y, n, C, "general")
    if sheaf_class == "diagonal" or d >= C:
        if d < C and not (d == 1 and C == 2):
            raise ValueError(
                f"diagonal sheaves separate C classes when d >= C (Bodnar et al. 2022, "
                f"Prop. 12); got d = {d} < C = {C}. Raise d, or use an orthogonal sheaf "
                "(Prop. 13: d in {2, 4}, C <= 2d)"
            )
        return _prop12(edges, y, n, C, d)
    if sheaf_class == "orthogonal" and d == 1:
        return _prop10(edges, y, n, C, "orthogonal")
    if d in (2, 4) and 2 * d >= C:
        return _prop13(edges, y, n, d)
    raise ValueError(
        f"no construction of Bodnar et al. (2022) gives a {sheaf_class} sheaf with d = {d} "
        f"for C = {C} classes: Prop. 12 needs d >= C, Prop. 13 needs d in {{2, 4}} and "
        f"C <= 2d. Raise d"
    )


def _symmetric(edges: np.ndarray, y: np.ndarray, n: int, d: int) -> Sheaf:
    if d != 1:
        raise ValueError(f"symmetric sheaves are covered for d = 1 (Bodnar et al. 2022, "
                         f"Prop. 8); got d = {d}")
    C = int(y.max()) + 1
    if C != 2:
        raise ValueError(f"Prop. 8 of Bodnar et al. (2022) covers symmetric sheaves with two "
                         f"classes; got C = {C}. Use sheaf_class='diagonal' with d >= C")
    u, v = edges[:, 0], edges[:, 1]
    for A in (0, 1):
        inside = (y[u] == A) & (y[v] == A)
        has_friend = np.zeros(n, dtype=bool)
        has_friend[u[inside]] = True
        has_friend[v[inside]] = True
        if np.all(has_friend[y == A]):
            deg = np.bincount(np.concatenate([u, v]), minlength=n)
            big = np.sqrt(2.0 * (deg[y != A].max() + 1.0))
            alpha = np.where(inside, big, 1.0)
            maps = np.stack([alpha, alpha], axis=1)[:, :, None, None]
            return Sheaf(n, edges, maps)
    raise ValueError(
        "Prop. 8 of Bodnar et al. (2022) needs one class whose every node has a neighbour "
        "of the same class; neither class has that. Symmetric sheaves (weighted graph "
        "Laplacians, the class of GCN) cannot separate, e.g., the sides of a balanced "
        "bipartite graph (Prop. 9): use sheaf_class='general'"
    )


def _prop10(edges: np.ndarray, y: np.ndarray, n: int, C: int, what: str) -> Sheaf:
    if C >= 3:
        raise ValueError(
            f"sheaves with d = 1 cannot separate C >= 3 classes (Bodnar et al. 2022, "
            f"Prop. 11: the harmonic space has dimension <= 1); got C = {C} for a {what} "
            f"sheaf. Use d >= C (diagonal, Prop. 12) or orthogonal with C <= 2d (Prop. 13)"
        )
    section = np.where(y == 0, 1.0, -1.0)
    maps = _sign_maps(edges, section, np.ones(edges.shape[0]))
    return Sheaf(n, edges, maps[:, :, None, None])


def _prop12(edges: np.ndarray, y: np.ndarray, n: int, C: int, d: int) -> Sheaf:
    m = edges.shape[0]
    diag = np.ones((m, 2, d))
    classes = range(C) if C > 2 else range(1)  # two classes need one coordinate
    for k in classes:
        diag[:, :, k] = _sign_maps(edges, np.where(y == k, 1.0, -1.0), np.ones(m))
    maps = np.zeros((m, 2, d, d))
    maps[:, :, np.arange(d), np.arange(d)] = diag
    return Sheaf(n, edges, maps)


def _prop13(edges: np.ndarray, y: np.ndarray, n: int, d: int) -> Sheaf:
    u, v = edges[:, 0], edges[:, 1]
    m = edges.shape[0]
    if d == 2:
        theta = y * (np.pi / 2.0)
        Fu = _rotation(theta[v] - theta[u])
    else:
        q = _UNITS_4[y]
        conj = q * np.array([1.0, -1.0, -1.0, -1.0])
        Fu = _quaternion_left(_quaternion_product(q[v], conj[u]))
    Fv = np.broadcast_to(np.eye(d), (m, d, d))
    return Sheaf(n, edges, np.stack([Fu, Fv], axis=1))
