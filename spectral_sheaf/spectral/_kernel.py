"""The kernel of a graph Laplacian, recognised from the matrix alone.

A symmetric matrix ``L`` with non-positive off-diagonal entries and a positive vector
``v`` with ``L v = 0`` is ``diag(v)^-1 C diag(v)^-1`` for ``C = diag(v) L diag(v)``,
whose off-diagonal entries are non-positive and whose rows sum to zero: a combinatorial
graph Laplacian, ``x^T C x = sum over edges of w_ij (x_i - x_j)^2``. So ``ker L`` is
``v`` times the indicators of the connected components of ``L``'s off-diagonal
pattern, exactly. Two candidates ``v`` cover the Laplacians people build: all ones (a
combinatorial Laplacian, any non-negative weights) and ``sqrt(c_i)``, ``c_i`` the
off-diagonal entries of row ``i`` (the symmetric normalised Laplacian of an unweighted
graph, ``-1 / sqrt(c_i c_j)`` off the diagonal), 1 on an isolated node. Each is
checked row by row against the rounding error of the row's own sum, so a matrix is
recognised only when the vector is its null vector to rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit

from ..graphs import connected_components

__all__ = ["detect_laplacian_kernel"]

_EPS = float(np.finfo(np.float64).eps)


@njit(cache=True)
def _null_candidate(indptr, indices, data, counts):  # pragma: no cover - compiled
    """Which candidate null vector passes: 1 (ones), 2 (sqrt of counts), or 0 (none).

    ``counts`` receives each row's off-diagonal non-zero entries. Any positive
    off-diagonal entry rules both out. A row passes for ``v`` when
    ``|sum_j L_ij v_j| <= 2 (nnz_i + 4) eps sum_j |L_ij| v_j``, the rounding of the
    row's sum and of its entries.
    """
    n = indptr.size - 1
    for i in range(n):
        c = 0
        for p in range(indptr[i], indptr[i + 1]):
            a = data[p]
            if indices[p] != i and a != 0.0:
                if a > 0.0:
                    return 0
                c += 1
        counts[i] = c
    for candidate in (1, 2):
        ok = True
        for i in range(n):
            s = 0.0
            t = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                vj = 1.0
                if candidate == 2 and counts[j] > 0:
                    vj = np.sqrt(counts[j])
                s += data[p] * vj
                t += abs(data[p]) * vj
            if abs(s) > 2.0 * (indptr[i + 1] - indptr[i] + 4) * _EPS * t:
                ok = False
                break
        if ok:
            return candidate
    return 0


def detect_laplacian_kernel(L: Any) -> np.ndarray | None:
    """Orthonormal basis of ``ker L`` if ``L`` is recognisably a graph Laplacian, else None.

    Recognised, from the matrix alone: a combinatorial Laplacian ``D - W`` (any
    non-negative weights; the kernel is the component indicators) and the symmetric
    normalised Laplacian of an unweighted graph (``D^{1/2}`` times the indicators).
    The test (non-positive off-diagonal entries, and the candidate null vector's
    product with ``L`` zero to the rounding of each row) proves the kernel, whatever
    built the matrix (module notes). Anything else, a weighted normalised Laplacian
    included, gives None: :func:`eigsh` then iterates for the kernel. Real sparse
    matrices only; one pass over the matrix and a connected-components search.

    Parameters
    ----------
    L : sparse, shape (n, n)
        Symmetric.

    Returns
    -------
    ndarray, shape (n, r), or None
        One column per connected component, ``v`` on the component and 0 elsewhere,
        unit norm; columns in order of each component's first node.
    """
    if not sp.issparse(L) or L.shape[0] != L.shape[1] or np.iscomplexobj(L.data):
        return None
    A = sp.csr_array(L)
    n = A.shape[0]
    if n == 0 or not np.all(np.isfinite(A.data)):
        return None
    counts = np.empty(n, dtype=np.int64)
    data = A.data.astype(np.float64, copy=False)
    candidate = _null_candidate(A.indptr, A.indices, data, counts)
    if candidate == 0:
        return None
    v = np.ones(n) if candidate == 1 else np.sqrt(np.maximum(counts, 1).astype(float))
    if np.any(A.data == 0):  # stored zeros are not edges
        A = A.copy()
        A.eliminate_zeros()
    r, labels = connected_components(A)
    K = np.zeros((n, r))
    K[np.arange(n), labels] = v
    return K / np.linalg.norm(K, axis=0)
