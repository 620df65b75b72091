"""The restriction-map learner: Neural Sheaf Diffusion with hand-written gradients.

Supervised
    SheafDiffusionClassifier, evaluate_splits, TenSplitResult, SplitResult, Adam
Model internals
    NSDConfig, forward_backward, init_params, graph_structure, learned_sheaves

No autodiff framework is used: the reverse pass is written out, with the per-edge and
per-node work of the normalised sheaf Laplacian in Numba kernels.
"""

from ._model import NSDConfig, forward_backward, graph_structure, init_params
from ._train import (
    Adam,
    SheafDiffusionClassifier,
    SplitResult,
    TenSplitResult,
    evaluate_splits,
    learned_sheaves,
)

__all__ = [
    "Adam",
    "NSDConfig",
    "SheafDiffusionClassifier",
    "SplitResult",
    "TenSplitResult",
    "evaluate_splits",
    "forward_backward",
    "graph_structure",
    "init_params",
    "learned_sheaves",
]
