"""Array back ends: numpy/scipy on the CPU, cupy/cupyx on the GPU.

Every kernel that should run on both asks this module, given its input arrays, for
the array namespace (``numpy`` or ``cupy``) and the sparse namespace
(``scipy.sparse`` or ``cupyx.scipy.sparse``). CuPy is never imported unless an input
is a CuPy object, so the CPU path works without it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import ModuleType
from typing import Any

import numpy as np
import scipy.sparse as sp_cpu

__all__ = [
    "all_blas_threads",
    "array_namespace",
    "dense_product",
    "diagonal_matrix",
    "is_cupy",
    "one_blas_thread",
    "require_cupy",
    "sparse_linalg_namespace",
    "sparse_namespace",
    "to_cupy",
    "to_numpy",
]

_GPU_HINT = 'CuPy is needed for GPU arrays: pip install "spectral_sheaf[gpu]"'


def is_cupy(obj: Any) -> bool:
    """Return whether ``obj`` is a CuPy array or a cupyx sparse matrix.

    Decided from the type's module name, so CuPy is not imported.
    """
    module = type(obj).__module__ or ""
    return module == "cupy" or module.startswith(("cupy.", "cupyx."))


def require_cupy() -> tuple[ModuleType, ModuleType]:
    """Import and return ``(cupy, cupyx.scipy.sparse)``.

    Raises
    ------
    ImportError
        If CuPy is not installed; the message names the ``gpu`` extra.
    """
    try:
        cp = importlib.import_module("cupy")
        cpx_sparse = importlib.import_module("cupyx.scipy.sparse")
    except ImportError as exc:  # pragma: no cover - exercised only without cupy
        raise ImportError(_GPU_HINT) from exc
    return cp, cpx_sparse


def array_namespace(*arrays: Any) -> ModuleType:
    """Return ``numpy`` or ``cupy``, whichever the inputs live in.

    Parameters
    ----------
    *arrays
        Arrays or sparse matrices; ``None`` entries are ignored.

    Raises
    ------
    TypeError
        If CPU and GPU arrays are mixed.
    """
    flags = {is_cupy(a) for a in arrays if a is not None}
    if flags == {True, False}:
        raise TypeError(
            "inputs mix numpy/scipy and cupy arrays; move them to one device first "
            "(spectral_sheaf._backend.to_numpy or to_cupy)"
        )
    if flags == {True}:
        return require_cupy()[0]
    return np


def sparse_namespace(*arrays: Any) -> ModuleType:
    """Return ``scipy.sparse`` or ``cupyx.scipy.sparse`` to match the inputs."""
    if array_namespace(*arrays) is np:
        return sp_cpu
    return require_cupy()[1]


def sparse_linalg_namespace(*arrays: Any) -> ModuleType:
    """Return ``scipy.sparse.linalg`` or ``cupyx.scipy.sparse.linalg`` to match the inputs."""
    return importlib.import_module(sparse_namespace(*arrays).__name__ + ".linalg")


def to_numpy(obj: Any) -> Any:
    """Copy a CuPy array or sparse matrix to the host; numpy/scipy pass through."""
    if not is_cupy(obj):
        return obj
    if hasattr(obj, "get"):
        host = obj.get()
        if sp_cpu.issparse(host):
            return sp_cpu.csr_array(host)
        return host
    return np.asarray(obj)  # pragma: no cover


def to_cupy(obj: Any) -> Any:
    """Copy a numpy array or scipy sparse array to the device (needs CuPy)."""
    cp, cpx_sparse = require_cupy()
    if is_cupy(obj):
        return obj
    if sp_cpu.issparse(obj):
        return cpx_sparse.csr_matrix(sp_cpu.csr_array(obj))
    return cp.asarray(obj)


def dense_product(A: Any, V: Any) -> Any:
    """Return ``A @ V`` (a matrix or operator times a dense block) as a plain array.

    A legacy scipy matrix class or a dense ``np.matrix`` gives an ``np.matrix``; it
    becomes an ndarray. CuPy results pass through.
    """
    W = A @ V
    return W if is_cupy(W) else np.asarray(W)


def diagonal_matrix(values: Any) -> Any:
    """Return a sparse CSR diagonal matrix on the device of ``values``."""
    if is_cupy(values):
        return require_cupy()[1].diags(values, format="csr")
    return sp_cpu.diags_array(values, format="csr")


_blas: dict[str, Any] = {"modules": -1, "controller": None, "held": []}


def _controller() -> Any:
    """Return threadpoolctl's controller of the loaded pools, rebuilt after an import."""
    from threadpoolctl import ThreadpoolController

    if _blas["modules"] != len(sys.modules) or _blas["controller"] is None:
        _blas["controller"] = ThreadpoolController()
        _blas["modules"] = len(sys.modules)
    return _blas["controller"]


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Return a context in which every loaded BLAS pool runs one thread (threadpoolctl).

    For CPU solvers whose BLAS calls on tall blocks alternate with single-threaded
    sparse work: with CHOLMOD loaded there are three OpenBLAS pools (numpy's, SciPy's,
    SuiteSparse's), each as wide as the machine, and the threads one leaves spinning
    take the cores from the next. Measured on this project's 2-core machine,
    shift-invert (CHOLMOD) with k = 10 took 1.24 s instead of 2.93 s on a 3-D kNN graph
    of 30000 nodes and 2.07 s instead of 5.57 s on an O(3) sheaf of 8000 nodes. The
    controller (about 1 ms to build) is kept while no module has been imported since,
    so entering costs some 20 microseconds. :func:`all_blas_threads` lifts the limit
    for the few calls long enough to pay for waking the threads.
    """
    controller = _controller()
    # each pool's width on entry, which all_blas_threads puts back
    widths = {lib.prefix: lib.num_threads for lib in controller.lib_controllers
              if lib.user_api == "blas"}
    _blas["held"].append(widths)
    try:
        with controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        _blas["held"].pop()


def all_blas_threads() -> AbstractContextManager:
    """Return a context that gives the BLAS pools back the widths they had before.

    Undoes the innermost :func:`one_blas_thread` for one long call: CHOLMOD's
    factorisation of a large matrix (its supernodal updates are dense BLAS). Each pool
    gets the width it had when that context was entered, so a pool the user narrowed
    (``OPENBLAS_NUM_THREADS=1``, ``threadpool_limits``) stays narrow. Outside
    :func:`one_blas_thread` it changes nothing.
    """
    if not _blas["held"]:
        return nullcontext()
    return _controller().limit(limits=dict(_blas["held"][-1]))
