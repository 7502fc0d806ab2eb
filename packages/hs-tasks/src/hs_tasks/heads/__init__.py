"""Task heads: the layers a task adds on top of an hs-backbone model.

* :mod:`~hs_tasks.heads.common`: generic layers (feature access for HyperSIGMA and SpatSIGMA, conv
  blocks, resampling) shared by every head.
* :mod:`~hs_tasks.heads.classification`: patch-based pooled MLP, image-based segmentation head.
* :mod:`~hs_tasks.heads.detection`: target (spectrum dot product) and anomaly (logits) heads.
* :mod:`~hs_tasks.heads.change_detection`: Siamese difference head, FPN change head, channel stem.
"""

from hs_tasks.heads.change_detection import ChannelReductionStem, FPNChangeHead, SiameseDifferenceHead
from hs_tasks.heads.classification import PooledMLPHead, SegmentationHead
from hs_tasks.heads.common import ConvNormAct, DoubleConv, backbone_levels, level_channels, resize_to
from hs_tasks.heads.detection import AnomalyDetectionHead, LevelSum, TargetDetectionHead

__all__ = [
    "AnomalyDetectionHead",
    "ChannelReductionStem",
    "ConvNormAct",
    "DoubleConv",
    "FPNChangeHead",
    "LevelSum",
    "PooledMLPHead",
    "SegmentationHead",
    "SiameseDifferenceHead",
    "TargetDetectionHead",
    "backbone_levels",
    "level_channels",
    "resize_to",
]
