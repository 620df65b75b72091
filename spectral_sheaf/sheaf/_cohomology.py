"""Harmonic spaces (global sections), cohomology dimensions, harmonic projection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh, splu

from .._validation import check_int, check_option, check_positive_real
from . import _kernels
from ._laplacian import _as_sheaf_signal, _check_sheaf, _scale, coboundary
from ._sheaf import Sheaf

__all__ = ["HarmonicSpace", "cohomology_dimensions", "harmonic_projection", "harmonic_space"]

DENSE_LIMIT = 4000  # columns of delta up to which "auto" uses the dense SVD


@dataclass(frozen=True)
class HarmonicSpace:
    """An orthonormal basis of a harmonic space and how it was decided.

    Attributes
    ----------
    basis : ndarray, shape (N, k)
        Orthonormal columns spanning the kernel (``N = n d_v`` for degree 0,
        ``m d_e`` for degree 1).
    dimension : int
        ``k``.
    values : ndarray
        The spectrum the rank decision was made on: singular values of the
        (scaled) coboundary for ``method="svd"``, Laplacian eigenvalues for
        ``"dense"`` and the smallest of them for ``"sparse"``.
    threshold : float
        Values at or below it counted as zero.
    method : str
        ``"svd"``, ``"dense"`` or ``"sparse"``.
    residual : float
        ``max_j ||M b_j||`` over basis vectors ``b_j`` of the operator ``M`` whose kernel
        was computed (the scaled coboundary or its transpose).
    """

    basis: np.ndarray
    dimension: int
    values: np.ndarray
    threshold: float
    method: str
    residual: float


def _operator_matrix(sheaf: Sheaf, degree: int, normalization: str) -> sp.csr_array:
    """Return the matrix whose kernel is the harmonic space: delta S or (delta S)^T."""
    B = coboundary(sheaf).astype(np.float64)
    if normalization != "none":
        S = _scale_matrix(sheaf, normalization)
        B = sp.csr_array(B @ S)
    return B if degree == 0 else sp.csr_array(B.T)


def _scale_matrix(sheaf: Sheaf, normalization: str) -> sp.csr_array:
    """Block-diagonal S = D^{-1/2} or (D + I)^{-1/2} as a sparse matrix."""
    scale, mode = _scale(sheaf, normalization, 1e-12)
    n, d = sheaf.n_nodes, sheaf.d_v
    if mode == _kernels.SCALE_DIAG:
        return sp.csr_array(sp.diags_array(scale[:, :, 0].ravel()))
    cols = np.broadcast_to(np.arange(n)[:, None, None] * d + np.arange(d), (n, d, d))
    indptr = np.arange(0, n * d * d + 1, d)
    return sp.csr_array((scale.ravel(), cols.ravel(), indptr), shape=(n * d, n * d))


def harmonic_space(
    sheaf: Sheaf,
    *,
    degree: Literal[0, 1] = 0,
    normalization: Literal["none", "sym", "augmented"] = "none",
    method: Literal["auto", "svd", "dense", "sparse"] = "auto",
    rtol: float | None = None,
    max_dim: int | None = None,
) -> HarmonicSpace:
    """Orthonormal basis of the harmonic space of a sheaf.

    Degree 0: ``ker L = ker delta = H^0`` (global sections), or, with a
    normalisation, ``ker S L S = S^{-1} H^0`` (the limit space of normalised
    diffusion). Degree 1: ``ker delta^T`` in the edge cochains, isomorphic to ``H^1``
    (a graph has no 2-cells).

    Parameters
    ----------
    sheaf : Sheaf
        The sheaf.
    degree : {0, 1}
        Which cohomology.
    normalization : {"none", "sym", "augmented"}
        Degree 0 only: kernel of ``L``, ``D^{-1/2} L D^{-1/2}`` or
        ``(D + I)^{-1/2} L (D + I)^{-1/2}``.
    method : {"auto", "svd", "dense", "sparse"}
        ``"svd"``: SVD of the (scaled) coboundary ``M``; a singular value counts as zero
        when ``s <= rtol * s_max``, default ``rtol = max(shape) * eps`` (the most
        accurate rank decision; cost ``O(rows * cols^2)``).
        ``"dense"``: symmetric eigendecomposition of ``M^T M`` (the Laplacian, formed
        sparse); an eigenvalue counts as zero when ``lam <= rtol * lam_max``, default
        ``rtol = 10 * N * eps`` with ``N`` its size (null eigenvalues come out at
        rounding level ``eps * lam_max``).
        ``"sparse"`` (degree 0): shift-invert Lanczos (``eigsh`` with a sparse LU
        factorisation of ``L + sigma I``, ``sigma`` a small positive shift) asking for
        more eigenpairs until one exceeds the threshold ``rtol * ||L||_1`` (default
        ``rtol = 1e-8``); every returned vector's residual is checked.
        ``"auto"``: ``"svd"`` while ``rows * cols^2 <= 2e8``, else ``"dense"`` up to
        4000 columns, else ``"sparse"``.
    rtol : float, optional
        Relative rank tolerance (see ``method``).
    max_dim : int, optional
        Sparse path: largest kernel dimension to look for (default: ``n d_v``).

    Returns
    -------
    HarmonicSpace
    """
    sheaf = _check_sheaf(sheaf)
    if degree not in (0, 1) or isinstance(degree, bool):
        raise ValueError(f"degree must be 0 or 1; got {degree!r}")
    check_option(normalization, "normalization", ("none", "sym", "augmented"))
    check_option(method, "method", ("auto", "svd", "dense", "sparse"))
    if degree == 1 and normalization != "none":
        raise ValueError("normalization must be 'none' for degree=1; got "
                         f"{normalization!r}")
    if rtol is not None:
        rtol = check_positive_real(rtol, "rtol")
    M = _operator_matrix(sheaf, degree, normalization)
    rows, cols = M.shape
    if method == "auto":
        if rows * cols**2 <= 2e8:
            method = "svd"
        elif cols <= DENSE_LIMIT or degree == 1:
            method = "dense"
        else:
            method = "sparse"
    if method == "sparse":
        if degree == 1:
            raise ValueError("method='sparse' supports degree=0 only; use method='dense'")
        return _sparse_kernel(M, rtol=1e-8 if rtol is None else rtol, max_dim=max_dim)
    if method == "dense":
        return _gram_kernel(M, rtol=rtol)
    return _dense_kernel(M, rtol=rtol)


def _dense_kernel(M: sp.csr_array, *, rtol: float | None) -> HarmonicSpace:
    rows, cols = M.shape
    if rows == 0:
        basis = np.eye(cols)
        return HarmonicSpace(basis, cols, np.zeros(0), 0.0, "dense", 0.0)
    # Vh is complete (cols x cols) without full_matrices when rows >= cols
    _, s, Vh = scipy.linalg.svd(M.toarray(), full_matrices=rows < cols, lapack_driver="gesdd")
    tol = (max(rows, cols) * np.finfo(np.float64).eps if rtol is None else rtol)
    threshold = tol * (float(s[0]) if s.size else 0.0)
    rank = int(np.sum(s > threshold))
    basis = Vh[rank:].T.copy()
    basis = _fix_signs(basis)
    res = float(np.abs(M @ basis).max()) if basis.size else 0.0
    return HarmonicSpace(basis, basis.shape[1], s, threshold, "svd", res)


def _gram_kernel(M: sp.csr_array, *, rtol: float | None) -> HarmonicSpace:
    G = sp.csr_array(M.T @ M).toarray()
    N = G.shape[0]
    w, V = scipy.linalg.eigh(G)
    tol = 10 * N * np.finfo(np.float64).eps if rtol is None else rtol
    threshold = tol * max(float(w[-1]), 0.0)
    k = int(np.sum(w <= threshold))
    basis = _fix_signs(V[:, :k].copy())
    res = float(np.abs(M @ basis).max()) if basis.size else 0.0
    return HarmonicSpace(basis, k, w, threshold, "dense", res)


def _fix_signs(basis: np.ndarray) -> np.ndarray:
    """Deterministic signs: the largest-magnitude entry of each column is positive."""
    if basis.size == 0:
        return basis
    idx = np.argmax(np.abs(basis), axis=0)
    signs = np.sign(basis[idx, np.arange(basis.shape[1])])
    signs[signs == 0] = 1.0
    return basis * signs


def _sparse_kernel(M: sp.csr_array, *, rtol: float, max_dim: int | None) -> HarmonicSpace:
    L = sp.csr_array(M.T @ M).tocsc()
    N = L.shape[0]
    norm1 = float(abs(L).sum(axis=0).max()) if L.nnz else 0.0
    threshold = rtol * norm1
    if norm1 == 0.0:
        return HarmonicSpace(np.eye(N), N, np.zeros(N), 0.0, "sparse", 0.0)
    limit = N if max_dim is None else check_int(max_dim, "max_dim", minimum=1)
    shift = 1e-3 * norm1 / max(N, 1) ** 0.5
    lu = splu(sp.csc_array(L + shift * sp.eye_array(N, format="csc")), permc_spec="MMD_AT_PLUS_A")
    from scipy.sparse.linalg import LinearOperator

    inv = LinearOperator((N, N), matvec=lu.solve, dtype=np.float64)
    k = min(8, N - 1)
    v0 = np.random.default_rng(0).standard_normal(N)  # fixed start: deterministic result
    while True:
        w, V = eigsh(L, k=k, sigma=-shift, OPinv=inv, which="LM", v0=v0, tol=1e-12,
                     maxiter=20 * N)
        order = np.argsort(w)
        w, V = w[order], V[:, order]
        n_zero = int(np.sum(w <= threshold))
        if n_zero < k or k >= min(limit + 1, N - 1):
            break
        k = min(2 * k, N - 1)
    basis = np.linalg.qr(V[:, :n_zero])[0] if n_zero else np.zeros((N, 0))
    basis = _fix_signs(basis)
    res = float(np.abs(M @ basis).max()) if basis.size else 0.0
    if n_zero and res > 1e3 * np.sqrt(threshold + np.finfo(float).eps):
        raise RuntimeError(
            f"sparse harmonic space did not converge: residual {res:.3g}; use method='dense'"
        )
    return HarmonicSpace(basis, n_zero, w, threshold, "sparse", res)


def cohomology_dimensions(
    sheaf: Sheaf, *, rtol: float | None = None
) -> tuple[int, int]:
    """``(dim H^0, dim H^1)`` from one dense SVD of the coboundary.

    ``dim H^0 = n d_v - rank(delta)`` and ``dim H^1 = m d_e - rank(delta)``, with the
    rank decided as in :func:`harmonic_space` (``method="dense"``).
    """
    sheaf = _check_sheaf(sheaf)
    B = coboundary(sheaf).astype(np.float64)
    rows, cols = B.shape
    if rows == 0:
        return cols, 0
    s = scipy.linalg.svd(B.toarray(), compute_uv=False)
    tol = max(rows, cols) * np.finfo(np.float64).eps if rtol is None else \
        check_positive_real(rtol, "rtol")
    rank = int(np.sum(s > tol * s[0])) if s.size else 0
    return cols - rank, rows - rank


def harmonic_projection(
    sheaf: Sheaf,
    signal: Any,
    *,
    normalization: Literal["none", "sym", "augmented"] = "none",
    space: HarmonicSpace | None = None,
) -> np.ndarray:
    """Orthogonal projection of a sheaf signal onto the harmonic space.

    This is the ``t -> infinity`` limit of the diffusion ``dx/dt = -Delta x`` with
    ``Delta`` the Laplacian of the given normalisation.

    Parameters
    ----------
    sheaf : Sheaf
        The sheaf.
    signal : array, shape (n d_v,) or (n d_v, c)
        Stalk-major signal.
    normalization : {"none", "sym", "augmented"}
        Which Laplacian's kernel.
    space : HarmonicSpace, optional
        A basis computed before by :func:`harmonic_space` with the same normalisation.
    """
    X = _as_sheaf_signal(sheaf, signal)
    if space is None:
        space = harmonic_space(sheaf, normalization=normalization)
    B = space.basis
    if B.shape[0] != X.shape[0]:
        raise ValueError(f"space must be a degree-0 basis with {X.shape[0]} rows; got "
                         f"{B.shape[0]}")
    return B @ (B.T @ X)
