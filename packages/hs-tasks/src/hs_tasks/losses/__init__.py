"""Losses of the tasks (beyond what ``torch.nn.functional`` provides).

* :mod:`~hs_tasks.losses.segmentation`: Lovász-softmax, weighted cross-entropy + Lovász (the
  multispectral change-detection loss), and a cross-entropy that tolerates batches whose pixels are
  all ignored.
* :mod:`~hs_tasks.losses.detection`: upstream's pseudo-label loss on an unbounded score map.
"""

from hs_tasks.losses.detection import score_pair_cross_entropy
from hs_tasks.losses.segmentation import cross_entropy_lovasz, lovasz_grad, lovasz_softmax, masked_cross_entropy

__all__ = [
    "cross_entropy_lovasz",
    "lovasz_grad",
    "lovasz_softmax",
    "masked_cross_entropy",
    "score_pair_cross_entropy",
]
