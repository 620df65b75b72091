"""Laplace-Beltrami eigenbases of triangle meshes and the heat kernel signature.

These sit in analysis/ because they join mesh/ (the operators) and spectral/ (the
verified eigen-solver), and mesh/ sits above spectral/ in the package's dependency
order.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._validation import as_float_array, check_finite, check_int, check_option
from ..mesh import cotangent_laplacian, intrinsic_delaunay_laplacian, mass_matrix
from ..spectral import EigenResult, eigsh

__all__ = ["heat_kernel_signature", "laplace_beltrami_basis"]


def laplace_beltrami_basis(
    vertices: Any,
    faces: Any,
    k: int,
    *,
    laplacian: Literal["cotangent", "intrinsic_delaunay"] = "cotangent",
    mass: Literal["voronoi", "barycentric", "full"] = "voronoi",
    method: str = "auto",
    tol: float = 1e-8,
    unreferenced: Literal["raise", "isolate"] = "raise",
    rng: Any = None,
) -> EigenResult:
    """Compute the ``k`` lowest Laplace-Beltrami eigenpairs ``L phi = lambda M phi``.

    The kernel (constants on each connected piece of the mesh) is known and returned
    exactly; the rest comes from :func:`spectral_sheaf.spectral.eigsh`, verified
    (residuals, and the check for members of degenerate groups that the solver might
    have skipped: on a sphere the eigenvalue ``l (l + 1)`` has multiplicity
    ``2 l + 1``).

    Parameters
    ----------
    vertices : array, shape (n, 3)
    faces : array of int, shape (f, 3)
    k : int
        Number of eigenpairs.
    laplacian : {"cotangent", "intrinsic_delaunay"}
        The cotangent Laplacian of the mesh as given, or of its intrinsic Delaunay
        triangulation (non-negative weights; better on badly shaped meshes).
    mass : {"voronoi", "barycentric", "full"}
        Mass matrix (:func:`spectral_sheaf.mesh.mass_matrix`).
    method, tol, rng
        Passed to :func:`spectral_sheaf.spectral.eigsh`.
    unreferenced : {"raise", "isolate"}
        As in :func:`spectral_sheaf.mesh.cotangent_laplacian`. Isolated vertices get
        zero rows and unit mass: each adds an eigenvalue 0 with an indicator vector.

    Returns
    -------
    EigenResult
        Eigenvectors M-orthonormal (``Phi.T @ M @ Phi = I``).
    """
    check_option(laplacian, "laplacian", ("cotangent", "intrinsic_delaunay"))
    k = check_int(k, "k", minimum=1)
    if laplacian == "cotangent":
        L = cotangent_laplacian(vertices, faces, unreferenced=unreferenced)
        M = mass_matrix(vertices, faces, kind=mass, unreferenced=unreferenced)
    else:
        L, M = intrinsic_delaunay_laplacian(vertices, faces, mass=mass,
                                            unreferenced=unreferenced)
    n = L.shape[0]
    if k >= n:
        raise ValueError(f"k must be less than the number of vertices {n}; got {k}")
    pattern = sp.csr_array((np.ones(L.nnz), L.indices, L.indptr), shape=L.shape)
    n_comp, labels = connected_components(pattern, directed=False)
    kernel = None
    if n_comp <= k:
        kernel = np.zeros((n, n_comp))
        kernel[np.arange(n), labels] = 1.0
    return eigsh(L, k, M=M, method=method, tol=tol, known_kernel=kernel, rng=rng)  # type: ignore[arg-type]


def heat_kernel_signature(basis: EigenResult, times: Any) -> np.ndarray:
    """Heat kernel signature ``HKS(x, t) = sum_i exp(-lambda_i t) phi_i(x)^2``.

    Sun, Ovsjanikov and Guibas (2009), truncated to the eigenpairs of ``basis``
    (M-orthonormal, as :func:`laplace_beltrami_basis` returns them). The truncation
    error is below ``exp(-lambda_k t)`` times a bound on the remaining terms, so small
    ``t`` needs many eigenpairs.

    Parameters
    ----------
    basis : EigenResult
    times : array of float, shape (t,)
        Positive diffusion times.

    Returns
    -------
    ndarray, shape (n, t)
    """
    if not isinstance(basis, EigenResult):
        raise TypeError(
            f"basis must be an EigenResult (laplace_beltrami_basis); got {type(basis).__name__}"
        )
    t = as_float_array(times, "times", dtype=np.float64, ndim=(0, 1)).reshape(-1)
    check_finite(t, "times")
    if t.size == 0 or (t <= 0).any():
        raise ValueError(f"times must be positive (and at least one); got {t.tolist()}")
    decay = np.exp(-np.outer(np.maximum(basis.eigenvalues, 0.0), t))
    return (basis.eigenvectors**2) @ decay
