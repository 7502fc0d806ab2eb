"""Losses of the tasks (torch, differentiable; beyond what ``torch.nn.functional`` provides).

* :mod:`~hs_tasks.losses.segmentation`: Lovász-softmax, weighted cross-entropy + Lovász (the
  multispectral change-detection loss), and a cross-entropy that tolerates batches whose pixels are
  all ignored.
* :mod:`~hs_tasks.losses.detection`: upstream's pseudo-label loss on an unbounded score map.
* :mod:`~hs_tasks.losses.unmixing`: :func:`sad_loss`, :func:`sparsity_loss`, :func:`abundance_tv`,
  :func:`upstream_endmember_tv` (logging only).
* :mod:`~hs_tasks.losses.image`: :func:`sr_loss` (L1 + SAM + gradient), :func:`sam_loss`,
  :func:`gradient_magnitude`.
"""

from hs_tasks.losses.detection import score_pair_cross_entropy
from hs_tasks.losses.image import gradient_magnitude, sam_loss, sr_loss
from hs_tasks.losses.segmentation import (
    cross_entropy_lovasz,
    lovasz_grad,
    lovasz_softmax,
    masked_cross_entropy,
)
from hs_tasks.losses.unmixing import abundance_tv, sad_loss, sparsity_loss, upstream_endmember_tv

__all__ = [
    "abundance_tv",
    "cross_entropy_lovasz",
    "gradient_magnitude",
    "lovasz_grad",
    "lovasz_softmax",
    "masked_cross_entropy",
    "sad_loss",
    "sam_loss",
    "score_pair_cross_entropy",
    "sparsity_loss",
    "sr_loss",
    "upstream_endmember_tv",
]
