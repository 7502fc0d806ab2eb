"""Task models (``TaskModel`` subclasses with their evaluators), registered task factories
(``hs_tasks.create_task_model``) and recipes (``hs_tasks.run_recipe``), one module per task family.

Importing this package registers them:

* :mod:`~hs_tasks.tasks.classification`: ``classification`` (patch-based), ``classification_image``.
* :mod:`~hs_tasks.tasks.detection`: ``target_detection``, ``anomaly_detection`` (pseudo-labels from a
  coarse detector).
* :mod:`~hs_tasks.tasks.change_detection`: ``change_detection`` (Siamese, hyperspectral pairs).
* :mod:`~hs_tasks.tasks.multispectral_change`: ``multispectral_change_detection`` (stem + FPN head).
* :mod:`~hs_tasks.tasks.unmixing`: ``unmixing``.
* :mod:`~hs_tasks.tasks.denoising`: ``denoising``.
* :mod:`~hs_tasks.tasks.super_resolution`: ``super_resolution``.
"""

from hs_tasks.tasks import (
    change_detection,
    classification,
    denoising,
    detection,
    multispectral_change,
    super_resolution,
    unmixing,
)
from hs_tasks.tasks.change_detection import ChangeEvaluator, PairPatchDataset, SiameseChangeDetector
from hs_tasks.tasks.classification import (
    ClassificationEvaluator,
    DenseClassificationEvaluator,
    ImageClassifier,
    PatchClassifier,
    load_official_classifier,
)
from hs_tasks.tasks.common import TileAccumulator, build_backbone, predict
from hs_tasks.tasks.denoising import DenoisingModel, denoising_model, denoising_recipe
from hs_tasks.tasks.detection import (
    AnomalyDetector,
    DetectionEvaluator,
    TargetDetector,
    coarse_detection,
    pseudo_labels,
)
from hs_tasks.tasks.multispectral_change import DenseChangeEvaluator, MultispectralChangeDetector
from hs_tasks.tasks.super_resolution import (
    SuperResolutionModel,
    super_resolution_model,
    super_resolution_recipe,
)
from hs_tasks.tasks.unmixing import UnmixingEvaluator, UnmixingModel, unmixing_model, unmixing_recipe

__all__ = [
    "AnomalyDetector",
    "ChangeEvaluator",
    "ClassificationEvaluator",
    "DenoisingModel",
    "DenseChangeEvaluator",
    "DenseClassificationEvaluator",
    "DetectionEvaluator",
    "ImageClassifier",
    "MultispectralChangeDetector",
    "PairPatchDataset",
    "PatchClassifier",
    "SiameseChangeDetector",
    "SuperResolutionModel",
    "TargetDetector",
    "TileAccumulator",
    "UnmixingEvaluator",
    "UnmixingModel",
    "build_backbone",
    "change_detection",
    "classification",
    "coarse_detection",
    "denoising",
    "denoising_model",
    "denoising_recipe",
    "detection",
    "load_official_classifier",
    "multispectral_change",
    "predict",
    "pseudo_labels",
    "super_resolution",
    "super_resolution_model",
    "super_resolution_recipe",
    "unmixing",
    "unmixing_model",
    "unmixing_recipe",
]
