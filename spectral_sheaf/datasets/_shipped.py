"""Data shipped inside the package."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ..mesh._io import parse_obj

__all__ = ["load_spot"]


def load_spot() -> tuple[np.ndarray, np.ndarray]:
    """Spot the cow (Keenan Crane, public domain): a clean closed genus-0 triangle mesh.

    Returns
    -------
    vertices : ndarray, shape (2930, 3), float64
    faces : ndarray, shape (5856, 3), int64
    """
    ref = resources.files(__package__).joinpath("data", "spot.obj.gz")
    with ref.open("rb") as raw, gzip.open(raw, "rt") as fh:
        return parse_obj(fh.read(), "spot.obj.gz")
