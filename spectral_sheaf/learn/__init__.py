"""The restriction-map learner: Neural Sheaf Diffusion with hand-written gradients.

Supervised
    SheafDiffusionClassifier, evaluate_splits, TenSplitResult, SplitResult, Adam
Unsupervised
    fit_smooth_sheaf, SmoothSheafResult (maps under which given signals are smooth)
Model internals
    NSDConfig, forward_backward, init_params, graph_structure, learned_sheaves,
    layer_energies

No autodiff framework is used: the reverse pass is written out, with the per-edge and
per-node work of the normalised sheaf Laplacian in Numba kernels.
"""

from ._model import NSDConfig, forward_backward, graph_structure, init_params
from ._smooth import SmoothSheafResult, fit_smooth_sheaf
from ._train import (
    Adam,
    SheafDiffusionClassifier,
    SplitResult,
    TenSplitResult,
    evaluate_splits,
    layer_energies,
    learned_sheaves,
)

__all__ = [
    "Adam",
    "NSDConfig",
    "SheafDiffusionClassifier",
    "SmoothSheafResult",
    "SplitResult",
    "TenSplitResult",
    "evaluate_splits",
    "fit_smooth_sheaf",
    "forward_backward",
    "graph_structure",
    "init_params",
    "layer_energies",
    "learned_sheaves",
]
