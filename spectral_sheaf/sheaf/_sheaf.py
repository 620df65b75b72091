"""The cellular sheaf container."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, as_index_array, check_finite, check_int
from . import _kernels

__all__ = ["Sheaf"]


@dataclass(frozen=True, eq=False)
class Sheaf:
    """A cellular sheaf on a graph with ``d_v``-dimensional vertex stalks.

    Parameters
    ----------
    n_nodes : int
        Number of nodes (>= 1).
    edges : array of int, shape (m, 2)
        Oriented edges ``(u, v)``, ``u != v``; each unordered pair at most once.
    maps : array of float, shape (m, 2, d_e, d_v)
        Restriction maps: ``maps[e, 0]`` is ``F_{u <| e}`` and ``maps[e, 1]`` is
        ``F_{v <| e}`` for ``edges[e] = (u, v)``. float32 stays float32; other real
        dtypes become float64.

    Notes
    -----
    The coboundary is ``(delta x)_e = F_{v <| e} x_v - F_{u <| e} x_u`` and the sheaf
    Laplacian is ``delta^T delta``. Sheaf signals are stalk-major vectors of length
    ``n_nodes * d_v`` (node 0's stalk first), or arrays ``(n_nodes * d_v, channels)``.
    Construction validates everything once and keeps read-only copies of the arrays,
    so a sheaf cannot change after its checks.

    Examples
    --------
    >>> import numpy as np
    >>> from spectral_sheaf.sheaf import Sheaf
    >>> maps = np.stack([np.eye(2), -np.eye(2)])[None]      # one edge, F_v = -F_u
    >>> sheaf = Sheaf(2, np.array([[0, 1]]), maps)
    >>> sheaf.d_v, sheaf.d_e, sheaf.n_edges
    (2, 2, 1)
    """

    n_nodes: int
    edges: np.ndarray
    maps: np.ndarray

    def __post_init__(self) -> None:
        n = check_int(self.n_nodes, "n_nodes", minimum=1)
        E = as_index_array(self.edges, "edges")
        if E.ndim == 1 and E.size == 0:
            E = E.reshape(0, 2)
        if E.ndim != 2 or E.shape[1] != 2:
            raise ValueError(f"edges must have shape (m, 2); got {E.shape}")
        F = as_float_array(self.maps, "maps")
        m = E.shape[0]
        if F.ndim != 4 or F.shape[0] != m or F.shape[1] != 2:
            raise ValueError(
                f"maps must have shape (m, 2, d_e, d_v) with m = {m} edges; got {F.shape}"
            )
        if F.shape[2] < 1 or F.shape[3] < 1:
            raise ValueError(
                f"stalk dimensions must be >= 1; got d_e = {F.shape[2]}, d_v = {F.shape[3]}"
            )
        check_finite(F, "maps")
        if m:
            lo, hi = int(E.min()), int(E.max())
            if lo < 0 or hi >= n:
                raise ValueError(
                    f"edges must hold node indices in [0, n_nodes) = [0, {n}); got "
                    f"{lo if lo < 0 else hi}"
                )
            loops = np.flatnonzero(E[:, 0] == E[:, 1])
            if loops.size:
                k = int(loops[0])
                raise ValueError(
                    f"edges must not contain self-loops; got ({E[k, 0]}, {E[k, 1]}) at row "
                    f"{k}. A sheaf on a graph has no loops: drop them from the edge list"
                )
            dup = _kernels.first_duplicate_edge(E, n)
            if dup >= 0:
                raise ValueError(
                    f"edges must list each unordered pair once; got "
                    f"({E[dup, 0]}, {E[dup, 1]}) again at row {dup}. Merge parallel edges "
                    "(one map pair per edge)"
                )
        # private copies, frozen: the sheaf cannot change after its checks, and the
        # caller's arrays stay as they were (writable)
        E = np.array(E, order="C")
        F = np.array(F, order="C")
        E.flags.writeable = False
        F.flags.writeable = False
        object.__setattr__(self, "n_nodes", n)
        object.__setattr__(self, "edges", E)
        object.__setattr__(self, "maps", F)

    @property
    def n_edges(self) -> int:
        """Number of edges ``m``."""
        return int(self.edges.shape[0])

    @property
    def d_v(self) -> int:
        """Vertex stalk dimension."""
        return int(self.maps.shape[3])

    @property
    def d_e(self) -> int:
        """Edge stalk dimension."""
        return int(self.maps.shape[2])

    @property
    def dtype(self) -> np.dtype:
        """Dtype of the restriction maps (float32 or float64)."""
        return self.maps.dtype

    @property
    def shape(self) -> tuple[int, int]:
        """Shape ``(n_nodes * d_v, n_nodes * d_v)`` of the sheaf Laplacian."""
        return (self.n_nodes * self.d_v, self.n_nodes * self.d_v)

    def with_maps(self, maps: np.ndarray) -> Sheaf:
        """Return a sheaf on the same graph with other restriction maps (validated)."""
        return Sheaf(self.n_nodes, self.edges, maps)

    def __repr__(self) -> str:
        return (f"Sheaf(n_nodes={self.n_nodes}, n_edges={self.n_edges}, d_v={self.d_v}, "
                f"d_e={self.d_e}, dtype={self.dtype})")
