"""GPU paths against the CPU result (skipped without CuPy and a device)."""

import numpy as np
import pytest

from spectral_sheaf import _backend
from spectral_sheaf.graphs import erdos_renyi_graph, graph_laplacian

from ._device import GPU_MARKS

pytestmark = GPU_MARKS


@pytest.mark.parametrize("normalization", ["combinatorial", "sym", "rw", "signless"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cupy_laplacian_matches_cpu(normalization, dtype):
    A = erdos_renyi_graph(300, 0.03, rng=0).astype(dtype)
    L_cpu = graph_laplacian(A, normalization=normalization)
    L_gpu = graph_laplacian(_backend.to_cupy(A), normalization=normalization)
    assert _backend.is_cupy(L_gpu)
    assert L_gpu.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_backend.to_numpy(L_gpu).toarray(), L_cpu.toarray(), atol=tol)
