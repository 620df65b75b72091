"""Helpers shared by the tests: containers, dtypes and dense oracles."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def as_container(A: sp.csr_array, container: str):
    """The same matrix as csr_array, legacy csr_matrix, coo_array or dense ndarray."""
    if container == "csr":
        return A
    if container == "csr_matrix":
        return sp.csr_matrix(A)
    if container == "coo":
        return sp.coo_array(A)
    if container == "dense":
        return A.toarray()
    raise ValueError(container)


CONTAINERS = ["csr", "csr_matrix", "coo", "dense"]
DTYPES = [np.float32, np.float64]


def dense_laplacian(A, normalization: str = "combinatorial") -> np.ndarray:
    """Dense oracle: the Laplacians of graphs/_laplacian.py written out with numpy."""
    A = np.array(A.toarray() if sp.issparse(A) else A, dtype=np.float64)
    np.fill_diagonal(A, 0.0)
    d = A.sum(axis=1)
    safe = np.where(d > 0, d, 1.0)
    inv_sqrt = np.where(d > 0, safe**-0.5, 0.0)
    inv = np.where(d > 0, 1.0 / safe, 0.0)
    active = np.diag((d > 0).astype(float))
    if normalization == "combinatorial":
        return np.diag(d) - A
    if normalization == "signless":
        return np.diag(d) + A
    if normalization == "sym":
        return active - inv_sqrt[:, None] * A * inv_sqrt[None, :]
    if normalization == "rw":
        return active - inv[:, None] * A
    raise ValueError(normalization)


def tolerance(dtype) -> float:
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-12
