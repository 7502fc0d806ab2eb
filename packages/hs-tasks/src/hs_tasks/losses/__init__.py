"""Task losses (torch, differentiable).

* :mod:`~hs_tasks.losses.unmixing`: :func:`sad_loss`, :func:`sparsity_loss`, :func:`abundance_tv`,
  :func:`upstream_endmember_tv` (logging only).
* :mod:`~hs_tasks.losses.image`: :func:`sr_loss` (L1 + SAM + gradient), :func:`sam_loss`,
  :func:`gradient_magnitude`.
"""

from hs_tasks.losses.image import gradient_magnitude, sam_loss, sr_loss
from hs_tasks.losses.unmixing import abundance_tv, sad_loss, sparsity_loss, upstream_endmember_tv

__all__ = [
    "abundance_tv",
    "gradient_magnitude",
    "sad_loss",
    "sam_loss",
    "sparsity_loss",
    "sr_loss",
    "upstream_endmember_tv",
]
