"""Signals on triangle meshes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array, check_finite, check_shape
from ..mesh import validate_mesh

__all__ = ["plot_mesh"]


def plot_mesh(
    vertices: Any,
    faces: Any,
    values: Any = None,
    *,
    ax: Any = None,
    cmap: str = "coolwarm",
    title: str | None = None,
    view: tuple[float, float] = (20.0, -60.0),
    colorbar: bool = True,
) -> Any:
    """Draw a triangle mesh in 3-D, coloured by a vertex signal.

    Parameters
    ----------
    vertices : array, shape (n, 3)
    faces : array of int, shape (f, 3)
    values : array, shape (n,), optional
        A signal on the vertices (an eigenvector, a heat kernel signature); each face
        is coloured by the mean over its corners. Symmetric colour limits when the
        signal changes sign. Grey faces when omitted.
    ax : matplotlib 3-D Axes, optional
        Where to draw; a new figure is made when omitted.
    cmap : str
        Matplotlib colormap name.
    title : str, optional
    view : (elevation, azimuth)
        Camera angles in degrees.
    colorbar : bool
        Add a colour bar (when ``values`` is given).

    Returns
    -------
    matplotlib Axes (3-D)
    """
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    V, F = validate_mesh(vertices, faces)
    if ax is None:
        fig = plt.figure(figsize=(5, 4.5))
        ax = fig.add_subplot(projection="3d")
    elif not hasattr(ax, "zaxis"):
        raise TypeError("ax must be a 3-D Axes (fig.add_subplot(projection='3d'))")
    if values is None:
        face_colors = np.tile([0.75, 0.75, 0.78, 1.0], (F.shape[0], 1))
    else:
        x = as_float_array(values, "values", ndim=(1,))
        check_shape(x, (V.shape[0],), "values")
        check_finite(x, "values")
        per_face = x[F].mean(axis=1)
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 < hi:
            lo, hi = -max(-lo, hi), max(-lo, hi)
        norm = colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
        mapper = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        face_colors = mapper.to_rgba(per_face)
        if colorbar:
            ax.figure.colorbar(mapper, ax=ax, shrink=0.6)
    # Lambertian shading from the face normals, so that the shape reads in 3-D
    poly = Poly3DCollection(V[F], facecolors=face_colors, linewidths=0.0, shade=True)
    ax.add_collection3d(poly)
    lo3, hi3 = V.min(axis=0), V.max(axis=0)
    mid, half = (lo3 + hi3) / 2, (hi3 - lo3).max() / 2
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_zlim(mid[2] - half, mid[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(*view)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
