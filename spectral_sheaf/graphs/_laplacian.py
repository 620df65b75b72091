"""Graph Laplacians, degrees, incidence matrices, Dirichlet energy, components.

Sign convention: every Laplacian here is positive semi-definite, ``L = D - A``.
Self-loops never enter a Laplacian: a loop contributes ``a_ii (x_i - x_i) = 0`` to
``(L x)_i``, so diagonal entries of the adjacency are ignored, also in the degrees
used by the normalised forms (as in ``scipy.sparse.csgraph.laplacian``).
Isolated nodes give zero rows and columns, never NaN or inf.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as _cc
from scipy.sparse.linalg import LinearOperator

from .. import _backend
from .._validation import (
    as_csr,
    as_float_array,
    check_bool,
    check_finite,
    check_nonnegative,
    check_option,
    check_square,
    check_symmetric,
    complex_dtype_for,
    float_dtype,
    symmetry_rtol,
)
from . import _kernels

__all__ = [
    "connected_components",
    "degrees",
    "directed_laplacian",
    "dirichlet_energy",
    "graph_laplacian",
    "incidence_matrix",
    "largest_component",
    "magnetic_laplacian",
]

_NORMALIZATIONS = ("combinatorial", "sym", "rw", "signless")
_FORMS = ("array", "operator")
_SYM_HINT = (
    "Build it with symmetrize='max' (adjacency_from_edges), or use directed_laplacian "
    "or magnetic_laplacian for a directed graph"
)


def _checked_adjacency(
    adjacency: Any, *, dtype: Any, symmetric: bool, context: str = ""
) -> sp.csr_array:
    """Validate an adjacency matrix: square, finite, non-negative, symmetric if asked."""
    A = as_csr(adjacency, "adjacency", dtype=dtype)
    n = check_square(A, "adjacency")
    if n == 0:
        raise ValueError("adjacency must have at least one node; got shape (0, 0)")
    check_finite(A.data, "adjacency")
    check_nonnegative(
        A.data, "adjacency", hint="Edge weights of a graph Laplacian must be >= 0; for "
        "signed graphs take absolute values or use a signed Laplacian"
    )
    if symmetric:
        check_symmetric(A, "adjacency", context=context, hint=_SYM_HINT)
    return A


def _safe_inverse(x: np.ndarray, power: float) -> np.ndarray:
    """x**(-power) where x > 0, else 0 (isolated nodes); raises if that overflows."""
    out = np.zeros_like(x)
    pos = x > 0
    with np.errstate(over="ignore", divide="ignore"):
        out[pos] = x[pos] ** (-power)
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"adjacency has degrees too small to normalise (min positive degree "
            f"{x[pos].min():.3g}); rescale the weights"
        )
    return out


def _finite_degrees(deg: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Degrees must stay finite in the result dtype (float32 overflows above 3.4e38)."""
    with np.errstate(over="ignore"):
        cast = deg.astype(dtype)
    if not np.all(np.isfinite(cast)):
        raise ValueError(
            f"adjacency weights are too large: a degree of {deg.max():.3g} overflows "
            f"{np.dtype(dtype).name}; rescale the weights or pass dtype=np.float64"
        )
    return deg


def _assemble(
    A: sp.csr_array, deg: np.ndarray, has_diag: np.ndarray, *, diag: np.ndarray,
    scale: np.ndarray, sign: float, mode: int, dtype: np.dtype,
) -> sp.csr_array:
    """Build the CSR array of diag(diag) + sign * scaled(A - diag(A)) with Numba."""
    n = A.shape[0]
    out_indptr = _kernels.laplacian_indptr(A.indptr, has_diag, n)
    nnz = int(out_indptr[-1])
    idx_dtype = np.int32 if max(nnz, n) < np.iinfo(np.int32).max else np.int64
    out_indices = np.empty(nnz, dtype=idx_dtype)
    out_data = np.empty(nnz, dtype=dtype)
    _kernels.fill_laplacian(
        A.indptr, A.indices, A.data, out_indptr, out_indices, out_data,
        diag.astype(dtype, copy=False), scale, sign, mode,
    )
    L = sp.csr_array((out_data, out_indices, out_indptr.astype(idx_dtype)), shape=(n, n))
    L.has_sorted_indices = True
    L.has_canonical_format = True
    return L


def _parts(normalization: str, deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Diagonal, scaling vector, sign and scaling mode of each normalisation."""
    active = (deg > 0).astype(np.float64)
    if normalization == "combinatorial":
        return deg, deg, -1.0, _kernels.MODE_PLAIN
    if normalization == "signless":
        return deg, deg, 1.0, _kernels.MODE_PLAIN
    if normalization == "sym":
        return active, _safe_inverse(deg, 0.5), -1.0, _kernels.MODE_BOTH
    # "rw"
    return active, _safe_inverse(deg, 1.0), -1.0, _kernels.MODE_ROW


def _operator(
    A_off: sp.csr_array, diag: np.ndarray, scale: np.ndarray, sign: float, mode: int,
    dtype: np.dtype, *, symmetric: bool = True,
) -> LinearOperator:
    """Matrix-free diag(diag) + sign * S_row A_off S_col as a LinearOperator.

    ``symmetric`` says whether the operator is self-adjoint (then the adjoint products
    reuse the forward one); otherwise only forward products are provided.
    """
    n = A_off.shape[0]
    diag = diag.astype(dtype)
    s = scale.astype(dtype)

    def matmat(X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        squeeze = X.ndim == 1
        X2 = X.reshape(n, -1)
        if mode == _kernels.MODE_BOTH:
            Y = s[:, None] * (A_off @ (s[:, None] * X2))
        elif mode == _kernels.MODE_ROW:
            Y = s[:, None] * (A_off @ X2)
        elif mode == _kernels.MODE_COL:
            Y = A_off @ (s[:, None] * X2)
        else:
            Y = A_off @ X2
        out = diag[:, None] * X2 + sign * Y
        return out.ravel() if squeeze else out

    if symmetric:
        return LinearOperator(
            (n, n), matvec=matmat, matmat=matmat, rmatvec=matmat, rmatmat=matmat, dtype=dtype
        )
    return LinearOperator((n, n), matvec=matmat, matmat=matmat, dtype=dtype)


def _without_loops(A: sp.csr_array, has_diag: np.ndarray) -> sp.csr_array:
    if not has_diag.any():
        return A
    A = A.copy()
    A.setdiag(0)
    A.eliminate_zeros()
    return A


def graph_laplacian(
    adjacency: Any,
    *,
    normalization: Literal["combinatorial", "sym", "rw", "signless"] = "combinatorial",
    form: Literal["array", "operator"] = "array",
    dtype: Any = None,
) -> Any:
    """Laplacian of an undirected weighted graph.

    Parameters
    ----------
    adjacency : sparse array, sparse matrix or dense array, shape (n, n)
        Symmetric, finite, non-negative edge weights. Diagonal entries (self-loops)
        are ignored. A CuPy/cupyx input gives a cupyx result.
    normalization : {"combinatorial", "sym", "rw", "signless"}
        ``"combinatorial"``: ``L = D - A``.
        ``"sym"``: ``I - D^{-1/2} A D^{-1/2}`` (spectrum in [0, 2]).
        ``"rw"``: ``I - D^{-1} A`` (not symmetric; same spectrum as ``"sym"``).
        ``"signless"``: ``D + A``.
        Rows and columns of isolated nodes are zero in every form.
    form : {"array", "operator"}
        ``"array"`` returns a ``scipy.sparse.csr_array`` with an explicit diagonal;
        ``"operator"`` a matrix-free ``scipy.sparse.linalg.LinearOperator`` applying
        the same matrix to vectors and blocks ``(n, k)``.
    dtype : {None, float32, float64}
        Result dtype; ``None`` keeps float32 and turns everything else into float64.

    Returns
    -------
    csr_array or LinearOperator, shape (n, n)

    Raises
    ------
    ValueError
        If ``adjacency`` is not square, empty, holds NaN/inf or negative weights, or is
        not symmetric (within 1e-10 relative, 1e-5 for float32).

    Notes
    -----
    libigl and some geometry codes use the negative semi-definite sign convention;
    this library's Laplacians are positive semi-definite throughout.

    Examples
    --------
    >>> from spectral_sheaf.graphs import cycle_graph, graph_laplacian
    >>> L = graph_laplacian(cycle_graph(4))
    >>> L.toarray()[0]
    array([ 2., -1.,  0., -1.])
    """
    check_option(normalization, "normalization", _NORMALIZATIONS)
    check_option(form, "form", _FORMS)
    if _backend.is_cupy(adjacency):
        if form == "operator":
            raise ValueError(
                "form='operator' is not available for CuPy input; use form='array' "
                "(cupyx sparse products are already matrix-free enough)"
            )
        return _graph_laplacian_generic(adjacency, normalization=normalization, dtype=dtype)
    A = _checked_adjacency(
        adjacency, dtype=dtype, symmetric=True, context=f"for normalization={normalization!r}"
    )
    n = A.shape[0]
    deg, has_diag = _kernels.offdiag_row_sums(A.indptr, A.indices, A.data, n)
    _finite_degrees(deg, A.dtype)
    diag, scale, sign, mode = _parts(normalization, deg)
    if form == "operator":
        return _operator(_without_loops(A, has_diag), diag, scale, sign, mode, A.dtype,
                         symmetric=normalization != "rw")
    return _assemble(A, deg, has_diag, diag=diag, scale=scale, sign=sign, mode=mode,
                     dtype=A.dtype)


def _graph_laplacian_generic(adjacency: Any, *, normalization: str, dtype: Any) -> Any:
    """Array-API style assembly used for CuPy input (and tested on SciPy input).

    Uses only elementwise array operations and a COO -> CSR conversion, which
    ``cupyx.scipy.sparse`` and ``scipy.sparse`` share.
    """
    xp = _backend.array_namespace(adjacency)
    sparse = _backend.sparse_namespace(adjacency)
    A = adjacency.tocsr(copy=True)  # never sort the caller's buffers in place
    A.sum_duplicates()
    n = check_square(A, "adjacency")
    if n == 0:
        raise ValueError("adjacency must have at least one node; got shape (0, 0)")
    out_dtype = float_dtype(np.dtype(A.dtype.name), dtype)
    data = A.data.astype(out_dtype)
    # numpy's functions dispatch to cupy for cupy arrays (NEP 13/18), so the CPU
    # checks and their messages apply unchanged
    check_finite(data, "adjacency")
    check_nonnegative(data, "adjacency")
    if A.nnz:
        diff = A - A.T.tocsr()
        err = float(abs(diff.data).max()) if diff.nnz else 0.0
        scale = float(abs(A.data).max())
        if err > symmetry_rtol(out_dtype) * scale:
            raise ValueError(
                f"adjacency must be symmetric for normalization={normalization!r}; got max "
                f"|A - A.T| = {err:.3g}. {_SYM_HINT}"
            )
    # row of each stored entry; searchsorted works alike in numpy and cupy
    rows = xp.searchsorted(A.indptr, xp.arange(A.nnz), side="right") - 1
    cols = A.indices.astype(xp.int64)
    off = rows != cols
    rows, cols, data = rows[off], cols[off], data[off]
    deg = xp.bincount(rows, weights=data.astype(xp.float64), minlength=n)
    pos = deg > 0
    active = pos.astype(xp.float64)
    safe = xp.where(pos, deg, 1.0)
    if normalization in ("combinatorial", "signless"):
        diag_vals, vals = deg, data.astype(xp.float64)
    elif normalization == "sym":
        s = xp.where(pos, 1.0 / xp.sqrt(safe), 0.0)
        diag_vals, vals = active, s[rows] * data * s[cols]
    else:
        s = xp.where(pos, 1.0 / safe, 0.0)
        diag_vals, vals = active, s[rows] * data
    sign = 1.0 if normalization == "signless" else -1.0
    idx = xp.arange(n)
    all_rows = xp.concatenate([rows, idx])
    all_cols = xp.concatenate([cols, idx])
    all_vals = xp.concatenate([sign * vals, diag_vals]).astype(out_dtype)
    coo = (sparse.coo_array if hasattr(sparse, "coo_array") else sparse.coo_matrix)(
        (all_vals, (all_rows, all_cols)), shape=(n, n)
    )
    L = coo.tocsr()
    L.sum_duplicates()
    return sp.csr_array(L) if xp is np else L


def degrees(
    adjacency: Any, *, direction: Literal["out", "in"] = "out", dtype: Any = None
) -> np.ndarray:
    """Weighted degrees without self-loops.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Non-negative finite weights; may be directed (row = source).
    direction : {"out", "in"}
        Row sums (out-degree) or column sums (in-degree). Equal for symmetric input.
    dtype : {None, float32, float64}
        Result dtype, following the library's dtype policy.

    Returns
    -------
    ndarray, shape (n,)
    """
    check_option(direction, "direction", ("out", "in"))
    A = _checked_adjacency(adjacency, dtype=dtype, symmetric=False)
    return _degrees(A, direction).astype(A.dtype)


def _degrees(A: sp.csr_array, direction: str) -> np.ndarray:
    n = A.shape[0]
    if direction == "out":
        return _kernels.offdiag_row_sums(A.indptr, A.indices, A.data, n)[0]
    rows = np.repeat(np.arange(n), np.diff(A.indptr))
    off = rows != A.indices
    return np.bincount(A.indices[off], weights=A.data[off].astype(np.float64), minlength=n)


def directed_laplacian(
    adjacency: Any,
    *,
    degree: Literal["out", "in"] = "out",
    normalization: Literal["combinatorial", "rw"] = "combinatorial",
    form: Literal["array", "operator"] = "array",
    dtype: Any = None,
) -> Any:
    """Out- or in-degree Laplacian of a directed graph (``a_ij`` = weight of ``i -> j``).

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Non-negative finite weights; need not be symmetric. Self-loops are ignored.
    degree : {"out", "in"}
        ``"out"``: ``L = D_out - A`` (rows sum to zero; ``(L x)_i`` is the sum over
        out-neighbours of ``a_ij (x_i - x_j)``). ``"in"``: ``L = D_in - A`` (columns
        sum to zero).
    normalization : {"combinatorial", "rw"}
        ``"rw"`` with ``degree="out"``: ``I - D_out^{-1} A``, the generator of the random
        walk (rows sum to zero). With ``degree="in"``: ``I - A D_in^{-1}`` (columns sum
        to zero, the transpose picture). Zero-degree rows and columns stay zero.
    form : {"array", "operator"}
        Assembled ``csr_array`` or matrix-free ``LinearOperator``.
    dtype : {None, float32, float64}
        Result dtype.

    Returns
    -------
    csr_array or LinearOperator, shape (n, n)
        Not symmetric in general.
    """
    check_option(degree, "degree", ("out", "in"))
    check_option(normalization, "normalization", ("combinatorial", "rw"))
    check_option(form, "form", _FORMS)
    A = _checked_adjacency(adjacency, dtype=dtype, symmetric=False)
    n = A.shape[0]
    out_deg, has_diag = _kernels.offdiag_row_sums(A.indptr, A.indices, A.data, n)
    deg = out_deg if degree == "out" else _degrees(A, "in")
    _finite_degrees(deg, A.dtype)
    if normalization == "combinatorial":
        diag, scale, mode = deg, deg, _kernels.MODE_PLAIN
    else:
        # out: I - D_out^{-1} A (rows sum to 0); in: I - A D_in^{-1} (columns sum to 0)
        diag, scale = (deg > 0).astype(np.float64), _safe_inverse(deg, 1.0)
        mode = _kernels.MODE_ROW if degree == "out" else _kernels.MODE_COL
    if form == "operator":
        return _operator(_without_loops(A, has_diag), diag, scale, -1.0, mode, A.dtype,
                         symmetric=False)
    return _assemble(A, deg, has_diag, diag=diag, scale=scale, sign=-1.0, mode=mode,
                     dtype=A.dtype)


def magnetic_laplacian(
    adjacency: Any,
    *,
    q: float = 0.25,
    normalization: Literal["combinatorial", "sym"] = "combinatorial",
    form: Literal["array", "operator"] = "array",
    dtype: Any = None,
) -> Any:
    """Magnetic Laplacian of a directed graph: Hermitian and positive semi-definite.

    With ``A_s = (A + A^T) / 2``, phases ``Theta = 2 pi q (A - A^T)`` and
    ``H = A_s * exp(i Theta)`` (entrywise), the combinatorial form is ``D_s - H`` and
    the symmetric normalised form ``I - D_s^{-1/2} H D_s^{-1/2}``, as in MagNet
    (Zhang et al., NeurIPS 2021). For weighted graphs the phase uses the weight
    difference, as there; pass 0/1 weights for purely directional phases.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Non-negative finite weights, ``a_ij`` = weight of ``i -> j``.
    q : float
        Charge in ``[0, 0.5]``; ``q = 0`` gives the Laplacian of the symmetrised graph,
        ``q = 0.25`` is the usual choice for directed edges.
    normalization : {"combinatorial", "sym"}
        Form of the result.
    form : {"array", "operator"}
        Assembled ``csr_array``, or a ``LinearOperator`` applying
        ``diag - S H S`` without forming the difference.
    dtype : {None, float32, float64}
        Real dtype; the result is complex64 for float32 and complex128 otherwise.

    Returns
    -------
    csr_array or LinearOperator, shape (n, n), complex
    """
    from .._validation import check_in_range

    q = check_in_range(q, "q", 0.0, 0.5)
    check_option(normalization, "normalization", ("combinatorial", "sym"))
    check_option(form, "form", _FORMS)
    A = _checked_adjacency(adjacency, dtype=dtype, symmetric=False)
    n = A.shape[0]
    A = _without_loops(A, A.diagonal() != 0)
    r = np.repeat(np.arange(n), np.diff(A.indptr))
    c = A.indices.astype(np.int64)
    w = A.data.astype(np.float64)
    rows, cols = np.concatenate([r, c]), np.concatenate([c, r])
    # Both sums run over the same coordinate list, so their canonical CSR patterns agree.
    As = sp.coo_array((np.concatenate([w, w]) * 0.5, (rows, cols)), shape=(n, n)).tocsr()
    Ad = sp.coo_array((np.concatenate([w, -w]), (rows, cols)), shape=(n, n)).tocsr()
    As.sum_duplicates()
    Ad.sum_duplicates()
    H = sp.csr_array(
        (As.data * np.exp(2j * np.pi * q * Ad.data), As.indices, As.indptr), shape=(n, n)
    )
    deg = np.asarray(As.sum(axis=1)).ravel()
    cdt = complex_dtype_for(A.dtype)
    if form == "operator":
        if normalization == "combinatorial":
            return _operator(H.astype(cdt), deg, deg, -1.0, _kernels.MODE_PLAIN, cdt)
        return _operator(H.astype(cdt), (deg > 0).astype(np.float64),
                         _safe_inverse(deg, 0.5), -1.0, _kernels.MODE_BOTH, cdt)
    if normalization == "combinatorial":
        L = sp.diags_array(deg) - H
    else:
        Ds = sp.diags_array(_safe_inverse(deg, 0.5))
        L = sp.diags_array((deg > 0).astype(np.float64)) - Ds @ H @ Ds
    L = sp.csr_array(L).astype(cdt)
    L.sum_duplicates()
    return L


def incidence_matrix(
    adjacency: Any, *, weighted: bool = True, dtype: Any = None
) -> tuple[sp.csr_array, np.ndarray]:
    """Signed edge-node incidence (coboundary) matrix of an undirected graph.

    Edges are the stored pairs ``(u, v)`` with ``u < v`` in row-major order (the order
    of :func:`adjacency_to_edges` without self-loops). Row ``e`` of ``B`` holds
    ``-sqrt(w_e)`` at ``u`` and ``+sqrt(w_e)`` at ``v``, so ``(B x)_e = sqrt(w_e)
    (x_v - x_u)`` and ``B^T B = D - A``, the combinatorial Laplacian.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Symmetric, non-negative, finite.
    weighted : bool
        If False, entries are -1 and +1 whatever the weights (``B^T B`` is then the
        Laplacian of the unweighted graph).
    dtype : {None, float32, float64}
        Result dtype.

    Returns
    -------
    B : csr_array, shape (m, n)
    edges : ndarray of int64, shape (m, 2)
    """
    weighted = check_bool(weighted, "weighted")
    A = _checked_adjacency(adjacency, dtype=dtype, symmetric=True,
                           context="for an incidence matrix")
    U = sp.triu(A, k=1, format="csr")
    U.eliminate_zeros()
    n = A.shape[0]
    m = U.nnz
    u = np.repeat(np.arange(n, dtype=np.int64), np.diff(U.indptr))
    v = U.indices.astype(np.int64)
    w = np.sqrt(U.data) if weighted else np.ones(m, dtype=A.dtype)
    data = np.stack([-w, w], axis=1).ravel().astype(A.dtype)
    indices = np.stack([u, v], axis=1).ravel()
    indptr = np.arange(0, 2 * m + 1, 2, dtype=np.int64)
    B = sp.csr_array((data, indices, indptr), shape=(m, n))
    return B, np.stack([u, v], axis=1)


def dirichlet_energy(
    adjacency: Any,
    signal: Any,
    *,
    normalization: Literal["combinatorial", "sym"] = "combinatorial",
    per_channel: bool = False,
) -> Any:
    """Dirichlet energy ``x^T L x`` of node signals, summed over edges.

    ``E(x) = sum over edges {u, v} of w_uv ||y_u - y_v||^2`` with ``y = x`` for the
    combinatorial form and ``y_u = x_u / sqrt(d_u)`` for ``"sym"`` (isolated nodes
    contribute nothing). Computed edge by edge, so it is never negative.

    Parameters
    ----------
    adjacency : sparse or dense, shape (n, n)
        Symmetric, non-negative, finite.
    signal : array, shape (n,) or (n, c)
        Node signal(s).
    normalization : {"combinatorial", "sym"}
        Which Laplacian's quadratic form.
    per_channel : bool
        Return one energy per column of a 2-D signal instead of their sum.

    Returns
    -------
    float or ndarray of shape (c,)
    """
    check_option(normalization, "normalization", ("combinatorial", "sym"))
    per_channel = check_bool(per_channel, "per_channel")
    A = _checked_adjacency(adjacency, dtype=None, symmetric=True,
                           context="for a Dirichlet energy")
    n = A.shape[0]
    X = as_float_array(signal, "signal", ndim=(1, 2))
    if X.shape[0] != n:
        raise ValueError(
            f"signal must have one row per node, {n}; got shape {X.shape}"
        )
    check_finite(X, "signal")
    Y = X.reshape(n, -1).astype(np.float64)
    if normalization == "sym":
        deg = _kernels.offdiag_row_sums(A.indptr, A.indices, A.data, n)[0]
        Y = Y * _safe_inverse(deg, 0.5)[:, None]
    per = _kernels.edge_energy(A.indptr, A.indices, A.data, Y).sum(axis=0)
    if not np.all(np.isfinite(per)):
        raise ValueError("the Dirichlet energy overflows float64 for this signal; rescale it")
    if not per_channel or X.ndim == 1:
        return float(per.sum())
    return per


def connected_components(adjacency: Any) -> tuple[int, np.ndarray]:
    """Weakly connected components.

    Returns
    -------
    n_components : int
    labels : ndarray of int64, shape (n,)
        Component of each node, numbered from 0 in order of first appearance.
    """
    A = as_csr(adjacency, "adjacency")
    check_square(A, "adjacency")
    k, labels = _cc(A, directed=True, connection="weak")
    # renumber by first appearance so that labels do not depend on scipy internals
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    return int(k), remap[labels]


def largest_component(adjacency: Any) -> tuple[sp.csr_array, np.ndarray]:
    """Return the subgraph on the largest weakly connected component.

    Returns
    -------
    adjacency : csr_array, shape (k, k)
        Rows and columns of the component's nodes, in increasing node order.
    nodes : ndarray of int64, shape (k,)
        Their indices in the input (select node data with ``X[nodes]``).
    """
    A = as_csr(adjacency, "adjacency")
    if check_square(A, "adjacency") == 0:
        raise ValueError("adjacency must have at least one node; got shape (0, 0)")
    _, labels = connected_components(A)
    nodes = np.flatnonzero(labels == np.argmax(np.bincount(labels))).astype(np.int64)
    sub = sp.csr_array(A[nodes][:, nodes])
    sub.sort_indices()
    return sub, nodes
