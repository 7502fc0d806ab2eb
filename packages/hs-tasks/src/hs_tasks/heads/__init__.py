"""Task heads: the layers each task adds on top of a hs-backbone model.

* :mod:`~hs_tasks.heads.common`: generic layers (convolution blocks, pixel-shuffle upsampler, the
  transformer adapters and the gated adapter of the low-level heads).
* :mod:`~hs_tasks.heads.unmixing`: :class:`UnmixingHead` (abundances + endmember decoder).
* :mod:`~hs_tasks.heads.denoising`: :class:`DenoisingHead`.
* :mod:`~hs_tasks.heads.super_resolution`: :class:`SuperResolutionHead`.
"""

from hs_tasks.heads.denoising import DenoisingHead
from hs_tasks.heads.super_resolution import SuperResolutionHead
from hs_tasks.heads.unmixing import EndmemberDecoder, SumToOne, UnmixingHead

__all__ = ["DenoisingHead", "EndmemberDecoder", "SumToOne", "SuperResolutionHead", "UnmixingHead"]
