"""Data sets: loaders for the public graph layouts, and small data shipped in the package.

Node classification
    load_dataset, load_geom_gcn, load_planetoid, load_heterophilous_npz,
    GraphDataset, Split, GEOM_GCN, PLANETOID
Meshes
    load_spot

The graph data sets are read from a data directory (an argument, or the
``SPECTRAL_SHEAF_DATA`` environment variable): nothing is downloaded, and none of them
ships in the package, whose only shipped data is Spot (Keenan Crane, public domain;
``data/spot_README.txt``), compressed, so that the demo and the tests run with nothing
else.
"""

from ._graphs import (
    GEOM_GCN,
    PLANETOID,
    GraphDataset,
    Split,
    load_dataset,
    load_geom_gcn,
    load_heterophilous_npz,
    load_planetoid,
)
from ._shipped import load_spot

__all__ = [
    "GEOM_GCN",
    "PLANETOID",
    "GraphDataset",
    "Split",
    "load_dataset",
    "load_geom_gcn",
    "load_heterophilous_npz",
    "load_planetoid",
    "load_spot",
]
