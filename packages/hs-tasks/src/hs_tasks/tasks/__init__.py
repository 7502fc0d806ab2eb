"""Task models (``TaskModel`` subclasses with their evaluators), registered task factories
(``hs_tasks.create_task_model``) and recipes (``hs_tasks.run_recipe``), one module per task family.

Importing this package registers them:

* :mod:`~hs_tasks.tasks.classification`: ``classification`` (patch-based), ``classification_image``.
* :mod:`~hs_tasks.tasks.detection`: ``target_detection``, ``anomaly_detection`` (pseudo-labels from a
  coarse detector).
* :mod:`~hs_tasks.tasks.change_detection`: ``change_detection`` (Siamese, hyperspectral pairs).
* :mod:`~hs_tasks.tasks.multispectral_change`: ``multispectral_change_detection`` (stem + FPN head).
"""

from hs_tasks.tasks import change_detection, classification, detection, multispectral_change
from hs_tasks.tasks.change_detection import ChangeEvaluator, PairPatchDataset, SiameseChangeDetector
from hs_tasks.tasks.classification import (
    ClassificationEvaluator,
    DenseClassificationEvaluator,
    ImageClassifier,
    PatchClassifier,
    load_official_classifier,
)
from hs_tasks.tasks.multispectral_change import DenseChangeEvaluator, MultispectralChangeDetector
from hs_tasks.tasks.detection import (
    AnomalyDetector,
    DetectionEvaluator,
    TargetDetector,
    coarse_detection,
    pseudo_labels,
)
from hs_tasks.tasks.common import TileAccumulator, build_backbone, predict

__all__ = [
    "ChangeEvaluator",
    "DenseChangeEvaluator",
    "MultispectralChangeDetector",
    "PairPatchDataset",
    "SiameseChangeDetector",
    "change_detection",
    "multispectral_change",
    "AnomalyDetector",
    "DetectionEvaluator",
    "TargetDetector",
    "coarse_detection",
    "detection",
    "pseudo_labels",
    "ClassificationEvaluator",
    "DenseClassificationEvaluator",
    "ImageClassifier",
    "PatchClassifier",
    "TileAccumulator",
    "build_backbone",
    "classification",
    "load_official_classifier",
    "predict",
]
