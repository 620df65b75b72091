"""eigsh on CuPy input against the CPU (skipped without CuPy and a device)."""

import numpy as np
import pytest
import scipy.sparse as sp

from spectral_sheaf import _backend
from spectral_sheaf.graphs import graph_laplacian, grid_graph
from spectral_sheaf.spectral import eigsh

from ._device import GPU_MARKS

pytestmark = GPU_MARKS


@pytest.mark.parametrize("method", ["auto", "arpack", "lobpcg", "dense", "chfsi"])
@pytest.mark.parametrize("which", ["smallest", "largest"])
def test_cupy_eigsh_matches_cpu(method, which):
    L = graph_laplacian(grid_graph((24, 30)))
    cpu = eigsh(L, 6, which=which, method="dense")
    gpu = eigsh(_backend.to_cupy(L), 6, which=which, method=method)
    assert gpu.verified
    assert gpu.method.startswith(method if method != "auto" else "chfsi")
    assert _backend.is_cupy(gpu.eigenvectors)
    np.testing.assert_allclose(_backend.to_numpy(gpu.eigenvalues), cpu.eigenvalues,
                               atol=1e-7)
    # the same invariant subspace (degenerate pairs may rotate): projector distance
    U, V = cpu.eigenvectors, _backend.to_numpy(gpu.eigenvectors)
    np.testing.assert_allclose(V @ V.T, U @ U.T, atol=1e-5)


def test_cupy_eigsh_with_a_lumped_mass_and_known_kernel():
    L = graph_laplacian(grid_graph((20, 30)))
    M = sp.diags_array(np.random.default_rng(0).uniform(0.5, 2.0, 600)).tocsr()
    cpu = eigsh(L, 5, M=M, method="dense")
    gpu = eigsh(_backend.to_cupy(L), 5, M=_backend.to_cupy(M),
                known_kernel=_backend.to_cupy(np.ones((600, 1))))
    assert gpu.verified
    np.testing.assert_allclose(_backend.to_numpy(gpu.eigenvalues), cpu.eigenvalues,
                               atol=1e-7)
