"""Numba kernels for graph Laplacian assembly on CSR arrays.

All kernels take the raw CSR buffers of a canonical matrix (sorted column indices, no
duplicates) and never loop in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Off-diagonal value modes of _fill_laplacian: how a_ij is scaled.
MODE_PLAIN = 0  # a_ij
MODE_BOTH = 1  # s_i a_ij s_j
MODE_ROW = 2  # s_i a_ij
MODE_COL = 3  # a_ij s_j


@njit(cache=True, parallel=True)
def offdiag_row_sums(indptr, indices, data, n):  # pragma: no cover - compiled
    """Row sums without the diagonal (float64), and whether each row holds a diagonal."""
    deg = np.empty(n, dtype=np.float64)
    has_diag = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] == i:
                has_diag[i] = True
            else:
                s += data[p]
        deg[i] = s
    return deg, has_diag


@njit(cache=True)
def laplacian_indptr(indptr, has_diag, n):  # pragma: no cover - compiled
    """Row pointer of D - A: each row loses its diagonal entry if any and gains one."""
    out = np.empty(n + 1, dtype=np.int64)
    out[0] = 0
    for i in range(n):
        out[i + 1] = out[i] + (indptr[i + 1] - indptr[i]) + (0 if has_diag[i] else 1)
    return out


@njit(cache=True, parallel=True)
def fill_laplacian(
    indptr, indices, data, out_indptr, out_indices, out_data, diag, scale, sign, mode
):  # pragma: no cover - compiled
    """Write diag_i on the diagonal and sign * scaled a_ij off it, row by row.

    Diagonal entries of the input (self-loops) are skipped: they cancel in D - A.
    """
    n = out_indptr.shape[0] - 1
    for i in prange(n):
        q = out_indptr[i]
        placed = False
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j == i:
                continue
            if not placed and j > i:
                out_indices[q] = i
                out_data[q] = diag[i]
                q += 1
                placed = True
            v = data[p]
            if mode == 1:
                v = scale[i] * v * scale[j]
            elif mode == 2:
                v = scale[i] * v
            elif mode == 3:
                v = v * scale[j]
            out_indices[q] = j
            out_data[q] = sign * v
            q += 1
        if not placed:
            out_indices[q] = i
            out_data[q] = diag[i]


@njit(cache=True, parallel=True)
def edge_energy(indptr, indices, data, Y):  # pragma: no cover - compiled
    """Per row i and channel k: sum over stored j != i of a_ij (y_ik - y_jk)^2 / 2."""
    n = indptr.shape[0] - 1
    c = Y.shape[1]
    out = np.zeros((n, c), dtype=np.float64)
    for i in prange(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j == i:
                continue
            w = 0.5 * data[p]
            for k in range(c):
                t = Y[i, k] - Y[j, k]
                out[i, k] += w * t * t
    return out
