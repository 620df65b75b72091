"""Graph Fourier transform over a computed eigenbasis, and known Laplacian kernels."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import as_float_array, check_option
from ..graphs import connected_components
from ..graphs._laplacian import _checked_adjacency
from ._eigsh import EigenResult

__all__ = ["gft", "igft", "laplacian_kernel"]


def _basis(basis: Any) -> np.ndarray:
    if isinstance(basis, EigenResult):
        return basis.eigenvectors
    U = as_float_array(basis, "basis", ndim=(2,))
    return U


def gft(basis: Any, signal: Any, *, M: Any = None) -> np.ndarray:
    """Graph Fourier coefficients ``U^T M x`` of a signal over an eigenbasis.

    Parameters
    ----------
    basis : EigenResult or array, shape (n, k)
        M-orthonormal eigenvectors (full or partial basis).
    signal : array, shape (n,) or (n, c)
        Node signal(s).
    M : sparse or dense, shape (n, n), optional
        The mass matrix of a generalised problem (identity when omitted).

    Returns
    -------
    ndarray, shape (k,) or (k, c)
    """
    U = _basis(basis)
    X = as_float_array(signal, "signal", ndim=(1, 2))
    if X.shape[0] != U.shape[0]:
        raise ValueError(f"signal must have {U.shape[0]} rows to match basis; got shape "
                         f"{X.shape}")
    MX = X if M is None else M @ X
    return U.T @ MX


def igft(basis: Any, coefficients: Any) -> np.ndarray:
    """Inverse graph Fourier transform ``U c`` (the projection onto the basis' span)."""
    U = _basis(basis)
    C = as_float_array(coefficients, "coefficients", ndim=(1, 2))
    if C.shape[0] != U.shape[1]:
        raise ValueError(f"coefficients must have {U.shape[1]} rows to match basis; got "
                         f"shape {C.shape}")
    return U @ C


def laplacian_kernel(
    adjacency: Any, *, normalization: Literal["combinatorial", "sym"] = "combinatorial"
) -> np.ndarray:
    """Orthonormal basis of the kernel of a graph Laplacian, known without iterating.

    ``"combinatorial"``: normalised component indicators. ``"sym"``: ``D^{1/2}`` times
    the indicators, normalised; an isolated node (zero row) contributes its unit
    vector. Pass it to :func:`eigsh` as ``known_kernel``.
    """
    check_option(normalization, "normalization", ("combinatorial", "sym"))
    A = _checked_adjacency(adjacency, dtype=None, symmetric=True,
                           context="for laplacian_kernel")
    n = A.shape[0]
    k, labels = connected_components(A)
    if normalization == "combinatorial":
        w = np.ones(n)
    else:
        rows = np.repeat(np.arange(n), np.diff(A.indptr))
        off = rows != A.indices
        deg = np.bincount(rows[off], weights=A.data[off], minlength=n)
        w = np.where(deg > 0, np.sqrt(deg), 1.0)
    K = np.zeros((n, k))
    K[np.arange(n), labels] = w
    return K / np.linalg.norm(K, axis=0)
