"""Task heads: the layers a task adds on top of an hs-backbone model.

* :mod:`~hs_tasks.heads.common`: generic layers shared by every head (feature access for HyperSIGMA
  and SpatSIGMA, convolution blocks, resampling, pixel-shuffle upsampler, the transformer adapters
  and the gated adapter of the low-level heads).
* :mod:`~hs_tasks.heads.classification`: patch-based pooled MLP, image-based segmentation head.
* :mod:`~hs_tasks.heads.detection`: target (spectrum dot product) and anomaly (logits) heads.
* :mod:`~hs_tasks.heads.change_detection`: Siamese difference head, FPN change head, channel stem.
* :mod:`~hs_tasks.heads.unmixing`: :class:`UnmixingHead` (abundances + endmember decoder).
* :mod:`~hs_tasks.heads.denoising`: :class:`DenoisingHead`.
* :mod:`~hs_tasks.heads.super_resolution`: :class:`SuperResolutionHead`.
"""

from hs_tasks.heads.change_detection import ChannelReductionStem, FPNChangeHead, SiameseDifferenceHead
from hs_tasks.heads.classification import PooledMLPHead, SegmentationHead
from hs_tasks.heads.common import (
    ConvActNorm,
    ConvNormAct,
    DoubleConv,
    GatedAdapter,
    PixelShuffleUpsampler,
    SpectralTokenAdapter,
    TokenAdapter,
    backbone_levels,
    level_channels,
    resize_to,
)
from hs_tasks.heads.denoising import DenoisingHead
from hs_tasks.heads.detection import AnomalyDetectionHead, LevelSum, TargetDetectionHead
from hs_tasks.heads.super_resolution import SuperResolutionHead
from hs_tasks.heads.unmixing import EndmemberDecoder, SumToOne, UnmixingHead

__all__ = [
    "AnomalyDetectionHead",
    "ChannelReductionStem",
    "ConvActNorm",
    "ConvNormAct",
    "DenoisingHead",
    "DoubleConv",
    "EndmemberDecoder",
    "FPNChangeHead",
    "GatedAdapter",
    "LevelSum",
    "PixelShuffleUpsampler",
    "PooledMLPHead",
    "SegmentationHead",
    "SiameseDifferenceHead",
    "SpectralTokenAdapter",
    "SumToOne",
    "SuperResolutionHead",
    "TargetDetectionHead",
    "TokenAdapter",
    "UnmixingHead",
    "backbone_levels",
    "level_channels",
    "resize_to",
]
