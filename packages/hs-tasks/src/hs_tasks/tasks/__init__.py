"""Task models, evaluators and recipes, one module per task (importing :mod:`hs_tasks` registers them).

* :mod:`~hs_tasks.tasks.unmixing`: task and recipe ``"unmixing"``.
* :mod:`~hs_tasks.tasks.denoising`: task and recipe ``"denoising"``.
* :mod:`~hs_tasks.tasks.super_resolution`: task and recipe ``"super_resolution"``.
"""

from hs_tasks.tasks.denoising import DenoisingModel, denoising_model, denoising_recipe
from hs_tasks.tasks.super_resolution import (
    SuperResolutionModel,
    super_resolution_model,
    super_resolution_recipe,
)
from hs_tasks.tasks.unmixing import UnmixingEvaluator, UnmixingModel, unmixing_model, unmixing_recipe

__all__ = [
    "DenoisingModel",
    "SuperResolutionModel",
    "UnmixingEvaluator",
    "UnmixingModel",
    "denoising_model",
    "denoising_recipe",
    "super_resolution_model",
    "super_resolution_recipe",
    "unmixing_model",
    "unmixing_recipe",
]
