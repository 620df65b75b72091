"""CHOLMOD's supernodal Cholesky through ctypes, which lets other threads run meanwhile.

scikit-sparse holds the GIL while CHOLMOD factorises, so a factorisation in one thread
stops every other Python thread for its whole length (a second or more on a 490k-row
grid). ctypes drops the GIL for the call. Shift-invert uses that to build the
multilevel start's coarse levels while the fine matrix is being factorised.

This binds the calls it needs (``cholmod_start``, ``_analyze``, ``_factorize``,
``_solve2``, ``_free_*``, ``_finish``, in their 32- and 64-bit index forms) and sets
three fields of ``cholmod_common``, whose layout is not published as an ABI. It is
used with CHOLMOD 3 only (SuiteSparse 5, as Debian 12 ships it), whose header it
follows, and only where the fields read and written hold the defaults that
``cholmod_start`` writes there; otherwise, or where the library is not found,
:func:`available` is False and the callers use scikit-sparse. The structs of sparse
and dense matrices and the four leading fields of a factor (``n``, ``minor``,
``Perm``, ``ColCount``) are CHOLMOD 3's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import struct
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Cholesky", "available"]

_INT, _LONG, _REAL, _DOUBLE = 0, 2, 1, 0  # CHOLMOD_INT, _LONG, _REAL, _DOUBLE
_SUPERNODAL = 2
SUPPORTED_MAJOR = (3,)  # CHOLMOD versions whose structs this follows (checked on 3.0.14)
INT32_MAX_NNZ = 2**31 - 1  # matrices with more entries go to the 64-bit routines
_COMMON_BYTES = 1 << 16  # sizeof(cholmod_common) is a few kB; room to spare
# offsets in cholmod_common (CHOLMOD 3-5) and the defaults cholmod_start writes there
_OFF_SUPERNODAL, _OFF_QUICK, _OFF_PRINT = 48, 136, 144
_DEFAULTS = (("d", 8, 1.2), ("d", 16, 1.2), ("Q", 24, 5), ("Q", 32, 8), ("d", 40, 40.0),
             ("i", 48, 1), ("d", 80, 0.8), ("d", 88, 0.1), ("d", 96, 0.05), ("Q", 104, 4),
             ("Q", 112, 16), ("Q", 120, 48), ("i", 144, 3))


class _Sparse(ctypes.Structure):
    _fields_ = [("nrow", ctypes.c_size_t), ("ncol", ctypes.c_size_t),
                ("nzmax", ctypes.c_size_t), ("p", ctypes.c_void_p), ("i", ctypes.c_void_p),
                ("nz", ctypes.c_void_p), ("x", ctypes.c_void_p), ("z", ctypes.c_void_p),
                ("stype", ctypes.c_int), ("itype", ctypes.c_int), ("xtype", ctypes.c_int),
                ("dtype", ctypes.c_int), ("sorted", ctypes.c_int), ("packed", ctypes.c_int)]


class _Dense(ctypes.Structure):
    _fields_ = [("nrow", ctypes.c_size_t), ("ncol", ctypes.c_size_t),
                ("nzmax", ctypes.c_size_t), ("d", ctypes.c_size_t), ("x", ctypes.c_void_p),
                ("z", ctypes.c_void_p), ("xtype", ctypes.c_int), ("dtype", ctypes.c_int)]


class _FactorHead(ctypes.Structure):
    _fields_ = [("n", ctypes.c_size_t), ("minor", ctypes.c_size_t),
                ("Perm", ctypes.c_void_p), ("ColCount", ctypes.c_void_p)]


_lib: Any = None
_checked: bool | None = None
_lock = threading.Lock()


def _load() -> Any:
    name = ctypes.util.find_library("cholmod")
    if name is None:
        return None
    lib = ctypes.CDLL(name)  # CDLL: the GIL is released for each call
    vp = ctypes.c_void_p
    sparse, dense = ctypes.POINTER(_Sparse), ctypes.POINTER(_Dense)
    signatures = {"start": ([vp], ctypes.c_int), "finish": ([vp], ctypes.c_int),
                  "analyze": ([sparse, vp], vp), "factorize": ([sparse, vp, vp], ctypes.c_int),
                  "solve2": ([ctypes.c_int, vp, dense, vp, ctypes.POINTER(dense), vp,
                              ctypes.POINTER(dense), ctypes.POINTER(dense), vp], ctypes.c_int),
                  "free_factor": ([ctypes.POINTER(vp), vp], ctypes.c_int),
                  "free_dense": ([ctypes.POINTER(dense), vp], ctypes.c_int)}
    lib.cholmod_version.argtypes = [ctypes.POINTER(ctypes.c_int)]
    lib.cholmod_version.restype = ctypes.c_int
    for pre in ("cholmod_", "cholmod_l_"):  # 32-bit and 64-bit indices
        for name, (args, res) in signatures.items():
            fn = getattr(lib, pre + name)
            fn.argtypes, fn.restype = args, res
    return lib


def _new_common(pre: str) -> ctypes.Array:
    common = ctypes.create_string_buffer(_COMMON_BYTES)
    getattr(_lib, pre + "start")(common)
    return common


def available() -> bool:
    """Whether CHOLMOD loads and its ``cholmod_common`` has the layout used here."""
    global _lib, _checked
    with _lock:
        if _checked is None:
            try:
                _lib = _load()
            except (OSError, AttributeError):
                _lib = None
            _checked = False
            if _lib is not None:
                version = (ctypes.c_int * 3)()
                _lib.cholmod_version(version)
                _checked = version[0] in SUPPORTED_MAJOR
                for pre in ("cholmod_", "cholmod_l_"):
                    common = _new_common(pre)
                    raw = bytes(common)
                    _checked &= all(struct.unpack_from(f"={fmt}", raw, off)[0] == value
                                    for fmt, off, value in _DEFAULTS)
                    getattr(_lib, pre + "finish")(common)
        return _checked


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """The supernodal Cholesky met a non-positive pivot."""


class Cholesky:
    """Supernodal ``P^T B P = L L^T`` of a symmetric positive definite sparse ``B``.

    The factorisation and each solve release the GIL; one factor serves one thread
    at a time (a lock). 32-bit indices where CHOLMOD can keep them (its symbolic
    analysis is faster with them), 64-bit where the factor would overflow them.
    Raises :class:`NotPositiveDefiniteError` when ``B`` is not positive definite, and
    MemoryError when CHOLMOD cannot allocate the factor. ``between`` is called after
    the symbolic analysis (an ordering, no BLAS) and before the numeric factorisation
    (dense BLAS updates): a caller can settle the BLAS threads meanwhile.

    Attributes
    ----------
    perm : ndarray
        CHOLMOD's fill-reducing ordering ``P``.
    column_counts : ndarray
        The number of entries of each column of ``L``, its diagonal included.
    """

    def __init__(self, B: Any, between: Callable[[], object] | None = None) -> None:
        if not available():
            raise RuntimeError("CHOLMOD could not be loaded through ctypes")
        Bc = sp.csc_array(B, dtype=np.float64)
        if not Bc.has_canonical_format:  # sorted, no duplicates; the caller's B untouched
            Bc = Bc.copy()
            Bc.sum_duplicates()
        self.n = n = Bc.shape[0]
        self._L: ctypes.c_void_p | None = None
        self._lock = threading.Lock()
        # the solve's workspace (cholmod_solve2's Y and E), kept between solves
        self._work = (ctypes.POINTER(_Dense)(), ctypes.POINTER(_Dense)())
        data = np.ascontiguousarray(Bc.data)
        small = Bc.nnz <= INT32_MAX_NNZ
        for pre, itype, idx in (("cholmod_", _INT, np.int32), ("cholmod_l_", _LONG, np.int64)):
            if idx is np.int32 and not small:
                continue
            indptr = np.ascontiguousarray(Bc.indptr, dtype=idx)
            indices = np.ascontiguousarray(Bc.indices, dtype=idx)
            A = _Sparse(n, n, data.size, indptr.ctypes.data, indices.ctypes.data, None,
                        data.ctypes.data, None, 1, itype, _REAL, _DOUBLE, 1, 1)  # upper
            common = _new_common(pre)
            for off, value in ((_OFF_SUPERNODAL, _SUPERNODAL), (_OFF_QUICK, 1),
                               (_OFF_PRINT, 0)):
                ctypes.c_int.from_buffer(common, off).value = value
            L = ctypes.c_void_p(getattr(_lib, pre + "analyze")(ctypes.byref(A), common))
            if L.value:  # else too large for 32-bit indices, or out of memory
                self._pre, self._common, self._L = pre, common, L
                if between is not None:
                    try:
                        between()
                    except BaseException:
                        self.close()
                        raise
                if not getattr(_lib, pre + "factorize")(ctypes.byref(A), L, common):
                    # FALSE on an error (out of memory); a matrix that is not
                    # positive definite returns TRUE, with L->minor < n
                    self.close()
                    raise MemoryError("CHOLMOD's numeric factorisation failed (out of "
                                      "memory)")
                break
            getattr(_lib, pre + "finish")(common)
        if self._L is None or not self._L.value:
            raise MemoryError("CHOLMOD's symbolic analysis failed (out of memory)")
        head = _FactorHead.from_address(self._L.value)
        if head.minor < n:
            col = int(head.minor)
            self.close()
            raise NotPositiveDefiniteError(f"the matrix is not positive definite (column "
                                           f"{col} of {n})")
        index = ctypes.POINTER(ctypes.c_int32 if self._pre == "cholmod_" else ctypes.c_int64)
        self.perm = np.ctypeslib.as_array(ctypes.cast(head.Perm, index),
                                          shape=(n,)).astype(np.int64)
        self.column_counts = np.ctypeslib.as_array(ctypes.cast(head.ColCount, index),
                                                   shape=(n,)).astype(np.int64)

    @property
    def index_bits(self) -> int:
        """32 or 64: the integer width of CHOLMOD's routines used."""
        return 32 if self._pre == "cholmod_" else 64

    def solve(self, rhs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``B^{-1} rhs`` for a real vector or ``(n, b)`` block, into ``out`` if given.

        ``out``: a column-major float64 array of ``rhs``'s shape, apart from it (a
        block already in memory spares fresh pages, which cost this machine about a
        millisecond a MB).

        Through ``cholmod_solve2``, which writes the solution into the array returned
        (a dense struct of exactly its shape, which CHOLMOD reuses rather than
        reallocating) and keeps its workspace from one call to the next: against
        ``cholmod_solve``, which allocates both afresh and whose result is then
        copied, 0.42 s against 0.52 s for 28 columns on the 700 x 700 grid.
        """
        rhs = np.asarray(rhs)
        if rhs.ndim not in (1, 2) or rhs.shape[0] != self.n:
            raise ValueError(f"rhs must have shape ({self.n},) or ({self.n}, b); got "
                             f"{rhs.shape}")
        if np.iscomplexobj(rhs):
            raise ValueError("rhs must be real (solve real and imaginary parts apart)")
        one = rhs.ndim == 1
        R = np.asfortranarray(rhs.reshape(self.n, -1), dtype=np.float64)
        n, b = R.shape
        if out is None:
            X = np.empty((n, b), order="F")
        elif (out.shape != rhs.shape or out.dtype != np.float64 or not out.flags.f_contiguous
              or not out.flags.writeable or np.may_share_memory(out, R)):
            raise ValueError(f"out must be a writeable column-major float64 array of "
                             f"shape {rhs.shape}, apart from rhs")
        else:
            X = out.reshape(n, b, order="F")
        rhs_struct = _Dense(n, b, n * b, n, R.ctypes.data, None, _REAL, _DOUBLE)
        out_struct = _Dense(n, b, n * b, n, X.ctypes.data, None, _REAL, _DOUBLE)
        handle = ctypes.pointer(out_struct)
        with self._lock:  # the workspace, and cholmod_common, are the factor's
            if self._L is None:
                raise ValueError("the factorisation was closed")
            ok = getattr(_lib, self._pre + "solve2")(
                0, self._L, ctypes.byref(rhs_struct), None, ctypes.byref(handle), None,
                ctypes.byref(self._work[0]), ctypes.byref(self._work[1]),
                self._common)  # 0: CHOLMOD_A
        if not ok:
            raise MemoryError("CHOLMOD's solve failed (out of memory)")
        if out is not None:
            return out
        return X[:, 0] if one else X

    __call__ = solve

    def close(self) -> None:
        """Free the factor and its workspace (also done when the object is collected)."""
        with self._lock:
            if self._L is None:
                return
            for work in self._work:
                if work:
                    getattr(_lib, self._pre + "free_dense")(ctypes.byref(work), self._common)
            getattr(_lib, self._pre + "free_factor")(ctypes.byref(self._L), self._common)
            getattr(_lib, self._pre + "finish")(self._common)
            self._L = None

    def __del__(self) -> None:
        if getattr(self, "_L", None) is not None and _lib is not None:
            self.close()
