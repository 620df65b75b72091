"""Shared input checks.

Every check names the parameter, says what was expected and what was got, and how to
fix it where there is a fix::

    adjacency must be symmetric for normalization='sym'; got max |A - A.T| = 0.5.
    Pass symmetrize='max' when building it, or use directed_laplacian.

Checks raise ``ValueError`` for a bad value and ``TypeError`` for a wrong type. They
never use ``assert`` (it vanishes under ``python -O``).

Dtype policy: float32 stays float32; every other real input becomes float64. Complex
results appear only where the mathematics is complex.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

__all__ = [
    "as_csr",
    "as_float_array",
    "as_index_array",
    "check_bool",
    "check_finite",
    "check_in_range",
    "check_index_range",
    "check_int",
    "check_nonnegative",
    "check_option",
    "check_positive_real",
    "check_rng",
    "check_shape",
    "check_square",
    "check_symmetric",
    "complex_dtype_for",
    "float_dtype",
    "symmetry_rtol",
]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: Any, requested: Any = None, *, name: str = "dtype") -> np.dtype:
    """Return the floating dtype a result should have.

    Parameters
    ----------
    dtype
        The dtype of the input data.
    requested
        A dtype the caller asked for, or ``None`` to follow the policy (float32 stays
        float32, everything else becomes float64).
    name
        Parameter name used in messages.
    """
    if requested is not None:
        try:
            req = np.dtype(requested)
        except TypeError as exc:
            raise TypeError(f"{name} must be float32 or float64; got {requested!r}") from exc
        if req not in _FLOAT_DTYPES:
            raise ValueError(f"{name} must be float32 or float64; got {req}")
        return req
    if np.dtype(dtype) == np.float32:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def complex_dtype_for(real: np.dtype) -> np.dtype:
    """Return complex64 for float32 and complex128 for float64."""
    return np.dtype(np.complex64) if real == np.float32 else np.dtype(np.complex128)


def symmetry_rtol(dtype: np.dtype) -> float:
    """Default relative tolerance of the symmetry check for a dtype."""
    return 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def check_option(value: Any, name: str, options: Collection[str]) -> str:
    """Check that ``value`` is one of the strings in ``options``."""
    if not isinstance(value, str) or value not in options:
        opts = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {{{opts}}}; got {value!r}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """Check that ``value`` is a bool (numpy bools too); strings like "no" are rejected."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return bool(value)


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_positive_real(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number, > 0 (or >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_in_range(value: Any, name: str, low: float, high: float) -> float:
    """Check that ``value`` is a real number in the closed interval ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not (low <= value <= high):  # also rejects NaN
        raise ValueError(f"{name} must lie in [{low}, {high}]; got {value}")
    return value


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Turn ``rng`` (Generator, integer seed or None) into a ``numpy.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} must be a non-negative integer seed; got {int(rng)}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be a numpy.random.Generator, an integer seed or None; "
        f"got {type(rng).__name__}. Legacy RandomState objects are not accepted."
    )


def check_shape(x: np.ndarray, shape: tuple[int | None, ...], name: str) -> None:
    """Check ``x.shape`` against ``shape``; ``None`` entries match any length."""
    ok = x.ndim == len(shape) and all(
        s is None or s == t for s, t in zip(shape, x.shape, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape)
        want += ",)" if len(shape) == 1 else ")"
        raise ValueError(f"{name} must have shape {want}; got {x.shape}")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def check_finite(values: np.ndarray, name: str, *, where: str = "") -> None:
    """Check that an array holds no NaN or inf.

    ``where`` may describe how flat positions map to entries (used in the message).
    """
    finite = np.isfinite(values)
    if finite.all():
        return
    bad = ~finite
    n_nan = int(np.isnan(values).sum())
    n_inf = int(bad.sum()) - n_nan
    pos = np.unravel_index(_first_bad(bad.ravel()), values.shape)
    at = where or f"index {tuple(int(p) for p in pos) if len(pos) > 1 else int(pos[0])}"
    raise ValueError(
        f"{name} must contain only finite values; got {n_nan} NaN and {n_inf} inf "
        f"entries (first at {at})"
    )


def check_nonnegative(values: np.ndarray, name: str, *, hint: str = "") -> None:
    """Check that an array holds no negative entries."""
    if values.size == 0:
        return
    low = values.min()
    if low < 0:
        n_neg = int((values < 0).sum())
        msg = f"{name} must be non-negative; got {n_neg} negative entries (min {low:.6g})"
        if hint:
            msg += f". {hint}"
        raise ValueError(msg)


def _asarray(x: Any, name: str) -> np.ndarray:
    """np.asarray with a message naming the parameter (ragged lists, CuPy arrays)."""
    if type(x).__module__.split(".")[0] in ("cupy", "cupyx"):
        raise TypeError(
            f"{name} is a CuPy array, which this function does not take yet; move it to the "
            "host with spectral_sheaf._backend.to_numpy"
        )
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a rectangular array of numbers; got {type(x).__name__} that "
            f"numpy cannot convert ({exc})"
        ) from exc


def as_float_array(
    x: Any, name: str, *, dtype: Any = None, ndim: tuple[int, ...] | None = None
) -> np.ndarray:
    """Convert to a floating numpy array under the dtype policy, rejecting non-numbers."""
    arr = _asarray(x, name)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers; got complex dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in ndim:
        dims = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {dims}; got {arr.ndim}-D with shape {arr.shape}")
    return arr.astype(float_dtype(arr.dtype, dtype), copy=False)


def as_index_array(x: Any, name: str) -> np.ndarray:
    """Convert to an int64 array, rejecting floats that are not whole numbers."""
    arr = _asarray(x, name)
    if (arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number)
            or np.iscomplexobj(arr)):
        raise TypeError(f"{name} must hold integer node indices; got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer) and (
        not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))
    ):
        raise ValueError(f"{name} must hold integer node indices; got non-integer values")
    if arr.size and (arr.max() > np.iinfo(np.int64).max or arr.min() < np.iinfo(np.int64).min):
        raise ValueError(f"{name} must hold indices that fit in int64; got {arr.max()}")
    return arr.astype(np.int64, copy=False)


def check_index_range(idx: np.ndarray, n: int, name: str, *, n_name: str = "n_nodes") -> None:
    """Check that every entry of ``idx`` lies in ``[0, n)``."""
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{name} must hold indices in [0, {n_name}) = [0, {n}); got {bad}. "
            f"Check {n_name} or renumber the nodes."
        )


def as_csr(A: Any, name: str, *, dtype: Any = None, allow_complex: bool = False) -> sp.csr_array:
    """Return ``A`` as a canonical ``csr_array`` (sorted indices, no duplicates).

    Accepts any scipy sparse array or matrix and dense 2-D array-likes. The input is
    never modified; a copy is made when conversion or canonicalisation is needed.
    """
    if sp.issparse(A):
        if not (np.issubdtype(A.dtype, np.number) or A.dtype == np.bool_):
            raise TypeError(f"{name} must hold numbers; got dtype {A.dtype}")
        # A csr_array is returned as itself, so that scipy's cached canonical-format
        # flag survives from call to call (a new wrapper would scan the indices again)
        out = A if type(A) is sp.csr_array else sp.csr_array(A)
    elif hasattr(A, "__array__") or isinstance(A, (list, tuple)):
        arr = _asarray(A, name)
        if arr.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D matrix; got {arr.ndim}-D with shape {arr.shape}"
            )
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name} must hold numbers; got dtype {arr.dtype}")
        if not np.iscomplexobj(arr):  # float16 and ints: scipy wants a supported dtype
            arr = arr.astype(float_dtype(arr.dtype, dtype, name="dtype"), copy=False)
        out = sp.csr_array(arr)
    else:
        raise TypeError(
            f"{name} must be a scipy sparse array or a 2-D array; got {type(A).__name__}"
        )
    if out.ndim != 2:
        raise ValueError(f"{name} must be 2-D; got shape {out.shape}")
    if np.iscomplexobj(out.data) and not allow_complex:
        raise TypeError(f"{name} must be real; got complex dtype {out.dtype}")
    if allow_complex and np.iscomplexobj(out.data):
        target = complex_dtype_for(float_dtype(out.data.real.dtype, dtype, name="dtype"))
    else:
        target = float_dtype(out.dtype, dtype, name="dtype")
    if out.dtype != target:
        out = out.astype(target)
    if not out.has_canonical_format:
        # csr_array(A) shares A's buffers; sorting in place would change the caller's
        # matrix, so canonicalise a copy.
        out = out.copy()
        out.sum_duplicates()
    return out


def check_square(A: Any, name: str) -> int:
    """Check that a matrix is square and return its size."""
    rows, cols = A.shape
    if rows != cols:
        raise ValueError(f"{name} must be square; got shape {A.shape}")
    return int(rows)


def check_symmetric(
    A: sp.csr_array, name: str, *, rtol: float | None = None, hint: str = "", context: str = ""
) -> None:
    """Check that ``A`` equals its (conjugate) transpose within ``rtol * max|A|``.

    Parameters
    ----------
    A
        Canonical ``csr_array``.
    name
        Parameter name for the message.
    rtol
        Relative tolerance; ``None`` picks one from the dtype (1e-10 for float64,
        1e-5 for float32).
    hint
        How to fix it, appended to the message.
    context
        What requires symmetry, e.g. ``"for normalization='sym'"``.
    """
    if A.nnz == 0:
        return
    if np.iscomplexobj(A.data):
        diff = A - A.T.conj()
        err = float(np.abs(diff.data).max()) if diff.nnz else 0.0
        scale = float(np.abs(A.data).max())
    else:
        if not A.has_sorted_indices:
            A = A.sorted_indices()
        # Fast exact test first: for symmetric A the gather product A x and the scatter
        # product A^T x add the same terms in the same order, so they agree bit for bit.
        # Only when they do not is the slower entry-by-entry comparison run.
        # A difference d in one term of row i can hide in rounding only if
        # 0.5 |d| <= 2 k_i eps S_i (k_i terms of sum S_i <= 1.5 sum_j |a_ij|), so the
        # fast verdict is trusted only when that bound is below the tolerance.
        probe = np.random.default_rng(0x5EAF).random(A.shape[0]) + 0.5
        same, hidden = _gather_equals_scatter(A.indptr, A.indices, A.data, probe)
        rel = symmetry_rtol(A.dtype) if rtol is None else rtol
        if same and hidden <= rel * float(np.abs(A.data).max()):
            return
        err, scale = _max_asymmetry(A.indptr, A.indices, A.data)
    tol = (symmetry_rtol(A.dtype) if rtol is None else rtol) * scale
    if err > tol:
        what = "Hermitian" if np.iscomplexobj(A.data) else "symmetric"
        msg = f"{name} must be {what}"
        if context:
            msg += f" {context}"
        msg += f"; got max |A - A.T| = {err:.3g}"
        if hint:
            msg += f". {hint}"
        raise ValueError(msg)


@njit(cache=True, parallel=True)
def _max_asymmetry(indptr, indices, data):  # pragma: no cover - compiled
    """Max over stored (i, j) of |a_ij - a_ji| (a missing entry counts as 0), and max |a|.

    Needs sorted column indices: a_ji is found by binary search in row j.
    """
    n = indptr.shape[0] - 1
    errs = np.zeros(n)
    scales = np.zeros(n)
    for i in prange(n):
        e = 0.0
        sc = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = float(data[p])
            sc = max(sc, abs(v))
            if j == i:
                continue
            lo = indptr[j]
            hi = indptr[j + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                if indices[mid] < i:
                    lo = mid + 1
                else:
                    hi = mid
            other = float(data[lo]) if lo < indptr[j + 1] and indices[lo] == i else 0.0
            e = max(e, abs(v - other))
        errs[i] = e
        scales[i] = sc
    return errs.max(), scales.max()


@njit(cache=True, parallel=True)
def _gather(indptr, indices, data, x):  # pragma: no cover - compiled
    """Compute A x and, per row, the asymmetry rounding could hide: 6 k_i eps sum |a_ij|."""
    n = indptr.shape[0] - 1
    y = np.empty(n)
    hide = np.zeros(n)
    eps = np.finfo(np.float64).eps
    for i in prange(n):
        acc = 0.0
        mag = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            acc += float(data[p]) * x[indices[p]]
            mag += abs(float(data[p]))
        y[i] = acc
        hide[i] = 6.0 * (indptr[i + 1] - indptr[i]) * eps * mag
    return y, hide


@njit(cache=True)
def _scatter(indptr, indices, data, x):  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    y = np.zeros(n)
    for i in range(n):
        xi = x[i]
        for p in range(indptr[i], indptr[i + 1]):
            y[indices[p]] += float(data[p]) * xi
    return y


def _gather_equals_scatter(indptr, indices, data, x) -> tuple[bool, float]:
    """Whether A x and A^T x agree exactly, and the asymmetry that could hide in rounding."""
    y, hide = _gather(indptr, indices, data, x)
    same = bool(np.array_equal(y, _scatter(indptr, indices, data, x)))
    return same, float(hide.max()) if hide.size else 0.0


def as_operator(A: Any, name: str, *, allow_complex: bool = False) -> tuple[Any, int]:
    """Return a square ``LinearOperator`` as is, or anything else as a canonical CSR.

    Returns the operator (or matrix) and its size ``n``.
    """
    from scipy.sparse.linalg import LinearOperator

    if isinstance(A, LinearOperator):
        n = A.shape[0]
        if A.shape != (n, n):
            raise ValueError(f"{name} must be square; got shape {A.shape}")
        return A, n
    M = as_csr(A, name, allow_complex=allow_complex)
    return M, check_square(M, name)


def as_signals(X: Any, n: int, name: str, *, match: str) -> np.ndarray:
    """Return node signals ``(n,)`` or ``(n, channels)`` as a float array, rows checked."""
    Xa = as_float_array(X, name, ndim=(1, 2))
    if Xa.shape[0] != n:
        raise ValueError(f"{name} must have shape (n,) or (n, channels) with n = {n} rows "
                         f"to match {match}; got shape {Xa.shape}")
    return Xa


def device_signals(A: Any, X: Any, *, a_name: str = "A", x_name: str = "X",
                   ) -> tuple[Any, int]:
    """Check an operator and signals on the device (CuPy): the checks of the CPU path.

    ``A`` must be square; ``X`` of shape ``(n,)`` or ``(n, channels)``, real and
    finite; float32 stays float32, the rest becomes float64. Returns ``(X, n)``. The
    arrays' namespace comes from :mod:`._backend` (numpy for SciPy input, which is how
    the device paths are tested without a device); a CPU/GPU mix is a TypeError.
    """
    from . import _backend

    xp = _backend.array_namespace(A, X)
    shape: tuple[int, ...] = tuple(getattr(A, "shape", ()))
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"{a_name} must be a square matrix; got shape {shape}")
    n = shape[0]
    Xa = xp.asarray(X)
    if Xa.ndim not in (1, 2) or Xa.shape[0] != n:
        raise ValueError(f"{x_name} must have shape (n,) or (n, channels) with n = {n} rows "
                         f"to match {a_name}; got shape {Xa.shape}")
    if xp.iscomplexobj(Xa):
        raise TypeError(f"{x_name} must be real; got a complex array")
    if not bool(xp.isfinite(Xa).all()):
        raise ValueError(f"{x_name} must contain only finite values; got NaN or inf")
    if Xa.dtype != xp.float32:
        Xa = Xa.astype(xp.float64)
    return Xa, n
