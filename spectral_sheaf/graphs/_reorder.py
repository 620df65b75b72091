"""Node reordering for locality: reverse Cuthill-McKee, permutation, bandwidth."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee as _rcm

from .._validation import as_csr, as_index_array, check_square

__all__ = ["bandwidth", "permute", "reverse_cuthill_mckee"]


def reverse_cuthill_mckee(adjacency: Any) -> np.ndarray:
    """Reverse Cuthill-McKee ordering (scipy's), on the symmetrised pattern.

    Returns
    -------
    perm : ndarray of int64, shape (n,)
        New node ``i`` is old node ``perm[i]``; apply with :func:`permute` and
        ``X[perm]`` for node data.
    """
    A = as_csr(adjacency, "adjacency")
    if check_square(A, "adjacency") == 0:
        raise ValueError("adjacency must have at least one node; got shape (0, 0)")
    pattern = sp.csr_array(
        (np.ones(A.nnz, dtype=np.int8), A.indices, A.indptr), shape=A.shape
    )
    pattern = sp.csr_array(pattern + pattern.T)
    return np.asarray(_rcm(pattern, symmetric_mode=True), dtype=np.int64)


def permute(adjacency: Any, perm: Any) -> sp.csr_array:
    """Renumber nodes: ``B[i, j] = A[perm[i], perm[j]]``.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Any square matrix.
    perm : array of int, shape (n,)
        A permutation of ``0..n-1``.

    Returns
    -------
    csr_array, shape (n, n)
    """
    A = as_csr(adjacency, "adjacency", dtype=None)
    n = check_square(A, "adjacency")
    p = as_index_array(perm, "perm")
    if p.shape != (n,) or not np.array_equal(np.sort(p), np.arange(n)):
        raise ValueError(
            f"perm must be a permutation of 0..{n - 1} (shape ({n},)); got shape {p.shape} "
            "with repeated or out-of-range entries"
        )
    inv = np.empty(n, dtype=np.int64)
    inv[p] = np.arange(n)
    R = sp.csr_array(A[p])  # row selection
    B = sp.csr_array((R.data, inv[R.indices], R.indptr), shape=(n, n))
    B.sort_indices()
    return B


def bandwidth(adjacency: Any) -> int:
    """Largest ``|i - j|`` over stored entries (0 for a diagonal matrix)."""
    A = as_csr(adjacency, "adjacency")
    if A.nnz == 0:
        return 0
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return int(np.abs(rows - A.indices).max())
