"""Registered semi-synthetic scenes (``semisyn_*``) and tiny random scenes for tests.

Each ``semisyn_*`` registry entry names its real ``base`` dataset and a fixed recipe (function and
seed); :func:`build_semisynthetic` (called by :func:`hs_data.load_scene`) loads the base cube and
applies it. They exist only where this project has no real scene for the task, are flagged
``synthetic=True`` and are never reported in a real dataset's row.

:func:`make_synthetic_scene` draws a small random scene (no files) for unit tests and smoke runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import ndimage

from hs_data.registry import DatasetInfo, get_dataset_info, register_dataset
from hs_data.synthetic.change import implant_changes
from hs_data.synthetic.degradation import make_sr_pair
from hs_data.synthetic.noise import NOISE_CASES, noise_case

__all__ = ["SEMISYNTHETIC_RECIPES", "build_semisynthetic", "make_synthetic_scene"]

_TERMS_NOTE = "inherits the terms of its base dataset"


def _cd(
    base_sample: dict[str, Any], seed: int, n_regions: int, size_range: tuple[int, int]
) -> dict[str, Any]:
    out = implant_changes(base_sample["image"], n_regions=n_regions, size_range=size_range, seed=seed)
    out.pop("regions")
    return out


def _denoise(base_sample: dict[str, Any], case: int, seed: int) -> dict[str, Any]:
    clean = base_sample["image"]
    return {"image": clean, "image_noisy": noise_case(clean, case, seed=seed).astype(np.float32)}


def _sr(base_sample: dict[str, Any], factor: int, normalise_max: bool) -> dict[str, Any]:
    hr = base_sample["image"]
    if normalise_max:
        hr = (hr.astype(np.float64) / float(hr.max())).astype(np.float32)
    return make_sr_pair(hr, factor)


# name -> (base, builder, description)
SEMISYNTHETIC_RECIPES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    "semisyn_cd_salinas_a": (
        "salinas_a",
        lambda s: _cd(s, seed=0, n_regions=8, size_range=(4, 12)),
        "implant_changes(image, n_regions=8, size_range=(4, 12), seed=0)",
    ),
    "semisyn_cd_pavia_car": (
        "pavia_car_had",
        lambda s: _cd(s, seed=0, n_regions=10, size_range=(4, 14)),
        "implant_changes(image, n_regions=10, size_range=(4, 14), seed=0)",
    ),
    **{
        f"semisyn_denoising_cave_case{k}": (
            "cave_chart_and_stuffed_toy",
            functools.partial(_denoise, case=k, seed=k),
            f"noise_case(image, {k}, seed={k}): {NOISE_CASES[k]}",
        )
        for k in NOISE_CASES
    },
    "semisyn_sr_cave_x4": (
        "cave_chart_and_stuffed_toy",
        lambda s: _sr(s, 4, False),
        "make_sr_pair(image, 4) (MATLAB-style bicubic)",
    ),
    "semisyn_sr_cave_x8": (
        "cave_chart_and_stuffed_toy",
        lambda s: _sr(s, 8, False),
        "make_sr_pair(image, 8) (MATLAB-style bicubic)",
    ),
    "semisyn_sr_pavia_car_x4": (
        "pavia_car_had",
        lambda s: _sr(s, 4, True),
        "make_sr_pair(image / image.max(), 4) (MATLAB-style bicubic)",
    ),
}

_TASK_OF = {"cd": "change_detection", "denoising": "denoising", "sr": "super_resolution"}


def _register() -> None:
    for name, (base_name, _, recipe) in SEMISYNTHETIC_RECIPES.items():
        base = get_dataset_info(base_name)
        task = _TASK_OF[name.split("_")[1]]
        factor = int(name.rsplit("_x", 1)[1]) if task == "super_resolution" else 1
        h = (base.height or 0) // factor * factor if base.height else None
        w = (base.width or 0) // factor * factor if base.width else None
        image_file = base.roles["image"].file
        register_dataset(
            DatasetInfo(
                name=name,
                title=f"SEMI-SYNTHETIC from {base.title}",
                task=task,
                sensor=f"semi-synthetic from {base_name} ({base.sensor})",
                height=h,
                width=w,
                bands=base.bands,
                files=(base.file(image_file),),
                wavelength_range_nm=base.wavelength_range_nm,
                wavelengths_nm=base.wavelengths_nm,
                scale=base.scale,
                units=base.units,
                num_label_values=2 if task == "change_detection" else None,
                citation=base.citation,
                terms=f"{_TERMS_NOTE} ({base_name}): {base.terms}",
                homepage=base.homepage,
                how_to_get=f"built on the fly from {base_name}: {base.how_to_get}",
                synthetic=True,
                base=base_name,
                recipe=recipe,
                related=(base_name,),
                notes="semi-synthetic: never report it in a real dataset's row",
            )
        )


def build_semisynthetic(
    name: str,
    root: str | os.PathLike[str] | None = None,
    **load_kwargs: Any,
) -> dict[str, Any]:
    """Load the base cube of a ``semisyn_*`` entry and apply its fixed recipe.

    ``load_kwargs`` go to :func:`hs_data.load_scene` for the base (``download``, ``cache_dir``...).
    """
    from hs_data.scenes import load_scene

    if name not in SEMISYNTHETIC_RECIPES:
        raise ValueError(f"{name!r} is not a semi-synthetic dataset; known: {sorted(SEMISYNTHETIC_RECIPES)}")
    base_name, builder, recipe = SEMISYNTHETIC_RECIPES[name]
    load_kwargs.pop("keys", None)
    base_sample = load_scene(base_name, root, keys=("image",), **load_kwargs)
    sample = builder(base_sample)
    info = get_dataset_info(name)
    if info.wavelengths_nm is not None:
        sample["wavelengths"] = np.asarray(info.wavelengths_nm, dtype=np.float32)
    sample["meta"] = {
        "name": name,
        "task": info.task,
        "synthetic": True,
        "base": base_name,
        "recipe": recipe,
        "scale": info.scale,
        "units": info.units,
        "classes": [],
        "endmembers": [],
        "files": base_sample["meta"]["files"],
    }
    return sample


def make_synthetic_scene(
    task: str = "classification",
    *,
    bands: int = 16,
    size: tuple[int, int] = (32, 32),
    num_classes: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """A small random scene in the sample vocabulary (no files), for tests and smoke runs.

    Classes are smooth random regions, each with its own random spectrum plus noise; about 20 % of
    the pixels are unlabelled (0). ``task`` selects the extra keys: ``"classification"`` (``label``,
    ``mask``), ``"unmixing"`` (``abundances``, ``endmembers``; ``image = endmembers^T abundances``),
    ``"anomaly_detection"`` (a few anomalous pixels in ``label``), ``"change_detection"``
    (:func:`implant_changes`), ``"denoising"``, ``"super_resolution"`` (x2 pair).

    Returns:
        a sample dict with ``meta["synthetic"] = True``; ``image`` in [0, 1], float32.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    field = ndimage.gaussian_filter(rng.standard_normal((num_classes, h, w)), sigma=max(h, w) / 8)
    classes = field.argmax(axis=0) + 1
    spectra = rng.uniform(0.1, 0.9, size=(num_classes, bands))
    image = spectra[classes - 1].transpose(2, 0, 1) + rng.normal(0, 0.02, size=(bands, h, w))
    sample: dict[str, Any] = {}
    if task == "unmixing":
        logits = ndimage.gaussian_filter(rng.standard_normal((num_classes, h, w)), sigma=max(h, w) / 8) * 8
        abund = np.exp(logits - logits.max(axis=0))
        abund /= abund.sum(axis=0)
        image = np.einsum("ehw,ec->chw", abund, spectra)
        sample |= {"abundances": abund.astype(np.float32), "endmembers": spectra.astype(np.float32)}
    image = np.clip(image, 0, 1).astype(np.float32)
    if task == "classification":
        label = np.where(rng.random((h, w)) < 0.2, 0, classes)
        sample |= {"image": image, "label": label.astype(np.int64), "mask": label > 0}
    elif task == "unmixing":
        sample["image"] = image
    elif task == "anomaly_detection":
        label = np.zeros((h, w), dtype=np.int64)
        idx = rng.choice(h * w, size=max(1, h * w // 100), replace=False)
        label.reshape(-1)[idx] = 1
        image.reshape(bands, -1)[:, idx] = rng.uniform(0, 1, size=(bands, 1)).astype(np.float32)
        sample |= {"image": image, "label": label, "mask": np.ones((h, w), dtype=bool)}
    elif task == "change_detection":
        sample |= implant_changes(image, n_regions=3, size_range=(2, max(2, min(h, w) // 4)), seed=rng)
        sample.pop("regions")
    elif task == "denoising":
        sample["image"] = image
    elif task == "super_resolution":
        sample |= make_sr_pair(image, 2)
    else:
        raise ValueError(
            "task must be one of classification, unmixing, anomaly_detection, change_detection, "
            f"denoising, super_resolution; got {task!r}"
        )
    sample["meta"] = {"name": f"synthetic_{task}", "task": task, "synthetic": True, "seed": seed}
    return sample
