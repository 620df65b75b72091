"""What every GPU test module needs: CuPy, or a skip of the whole module saying why."""

import pytest

cp = pytest.importorskip("cupy", reason="needs CuPy (the gpu extra)")
try:
    HAS_DEVICE = cp.cuda.runtime.getDeviceCount() > 0
except Exception:  # no driver or no device
    HAS_DEVICE = False

GPU_MARKS = [
    pytest.mark.gpu,
    pytest.mark.skipif(not HAS_DEVICE, reason="needs a CUDA device"),
]
