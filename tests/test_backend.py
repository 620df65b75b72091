import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf import _backend

HAS_CUPY = importlib.util.find_spec("cupy") is not None


class FakeCupyArray:
    """Stands in for a cupy.ndarray: only its type's module name matters."""


FakeCupyArray.__module__ = "cupy"


def test_numpy_namespaces():
    x = np.ones(3)
    assert _backend.array_namespace(x, None, sp.csr_array(np.eye(3))) is np
    assert _backend.sparse_namespace(x) is sp
    assert _backend.to_numpy(x) is x
    assert not _backend.is_cupy(x)
    assert not _backend.is_cupy(sp.csr_array(np.eye(2)))


def test_cupy_detection_without_import():
    assert _backend.is_cupy(FakeCupyArray())


def test_mixing_devices_is_an_error():
    with pytest.raises(TypeError, match="inputs mix numpy/scipy and cupy arrays"):
        _backend.array_namespace(np.ones(2), FakeCupyArray())


@pytest.mark.skipif(HAS_CUPY, reason="checks the message shown when CuPy is missing")
def test_missing_cupy_names_the_extra():
    with pytest.raises(ImportError, match=r'pip install "spectral_sheaf\[gpu\]"'):
        _backend.array_namespace(FakeCupyArray())
    with pytest.raises(ImportError, match=r"spectral_sheaf\[gpu\]"):
        _backend.to_cupy(np.ones(2))
