"""Training machinery shared by hs-pretrain and hs-tasks (their lowest common package is this one).

- :mod:`~hs_backbone.training.optim`: AdamW parameter groups with layer-wise learning-rate decay that
  applies to hs-backbone parameter names (upstream's is a no-op), and the warm-up + cosine schedule.
- :mod:`~hs_backbone.training.state`: atomic checkpoint writes, safe loading, RNG state capture.
- :mod:`~hs_backbone.training.loop`: :class:`Trainer`, a resumable loop (step-for-step identical after
  a kill and restart), :class:`ResumableSampler` and :func:`epoch_loader`.
"""

from hs_backbone.training.loop import (
    Callback,
    NonFiniteLossError,
    ResumableSampler,
    TrainConfig,
    Trainer,
    epoch_loader,
)
from hs_backbone.training.optim import EMBEDDING_NAMES, WarmupCosine, build_adamw, layer_id, param_groups
from hs_backbone.training.state import (
    CheckpointError,
    atomic_save,
    atomic_write,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
)

__all__ = [
    "EMBEDDING_NAMES",
    "Callback",
    "CheckpointError",
    "NonFiniteLossError",
    "ResumableSampler",
    "TrainConfig",
    "Trainer",
    "WarmupCosine",
    "atomic_save",
    "atomic_write",
    "build_adamw",
    "capture_rng_state",
    "epoch_loader",
    "layer_id",
    "load_checkpoint",
    "param_groups",
    "restore_rng_state",
]
