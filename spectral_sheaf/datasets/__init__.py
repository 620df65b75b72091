"""Data sets: small data shipped in the package.

Meshes
    load_spot

Spot (Keenan Crane, public domain; ``data/spot_README.txt``) ships compressed, so that
the demo and the tests run with nothing else.
"""

from ._shipped import load_spot

__all__ = ["load_spot"]
