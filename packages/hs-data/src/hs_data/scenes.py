"""Load a registered scene into the sample vocabulary shared by every hsigma package.

Sample keys (numpy arrays; :func:`hs_data.datasets.to_tensors` makes tensors of them):

==================  =====================  ===================================================
key                 shape / dtype          meaning
==================  =====================  ===================================================
``image``           ``(c, h, w)`` float32  the cube, stored values / ``info.scale`` (``units``)
``image_pre/post``  ``(c, h, w)`` float32  change detection: the two dates
``image_ms``        ``(c, h, w)`` float32  co-registered multispectral image (fusion / SR)
``image_pan``       ``(h', w')`` float32   panchromatic image (its own grid)
``label``           ``(h, w)`` int64       class map (0 = unlabelled, classes 1..k) or binary
                                           map (detection: 1 = target/anomaly; change: 1 = changed)
``mask``            ``(h, w)`` bool        pixels with a known label (classification: ``label > 0``)
``train_map``       ``(h, w)`` int64       official training map (classes 1..k, 0 = not training)
``test_map``        ``(h, w)`` int64       official test map
``abundances``      ``(e, h, w)`` float32  reference abundance maps
``endmembers``      ``(e, c)`` float32     reference endmember spectra
``target_spectrum`` ``(c,)`` float32       prior target spectrum (target detection)
``wavelengths``     ``(c,)`` float32       band centres in nm (only where known, never invented)
``band_mask``       ``(c,)`` bool          False for bands repaired because they held NaN/Inf
``band_indices``    ``(c,)`` int64         original sensor band numbers kept (as stored, 1-based)
``image_noisy``     ``(c, h, w)`` float32  semi-synthetic denoising input (``image`` = clean)
``image_lr/hr``     ``(c, h, w)`` float32  super-resolution pair (semi-synthetic scenes)
``meta``            dict                   name, task, synthetic, scale, units, classes, files
==================  =====================  ===================================================

Bad input is reported, never silently used: a missing file raises
:class:`~hs_data.errors.DatasetNotFoundError` (with how to get it); a checksum mismatch raises
:class:`~hs_data.errors.ChecksumError` (expected and actual); a file that cannot be parsed, lacks a
key, has the wrong shape, labels out of range, or a cube and label of different sizes raises
:class:`~hs_data.errors.DataFormatError` naming the file(s). NaN/Inf values in a cube are, by
default (``nonfinite="mask"``), set to 0, their bands flagged ``False`` in ``band_mask`` and
logged (a documented repair); ``nonfinite="raise"`` refuses them instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from hs_data.download import resolve_file
from hs_data.errors import DataFormatError, DatasetNotFoundError
from hs_data.io import read_array
from hs_data.registry import DatasetInfo, Role, get_dataset_info

__all__ = ["IMAGE_KEYS", "LABEL_KEYS", "load_scene", "missing_files"]

log = logging.getLogger(__name__)

IMAGE_KEYS = ("image", "image_pre", "image_post", "image_ms")
LABEL_KEYS = ("label", "train_map", "test_map", "label_purr", "label_multiclass")
_DERIVED = ("label", "mask", "wavelengths")


def _needed_roles(info: DatasetInfo, keys: Iterable[str]) -> list[str]:
    roles: list[str] = []
    for key in keys:
        if key in info.roles:
            roles.append(key)
        elif key in ("label", "mask"):
            if "label" in info.roles:
                roles.append("label")
            elif "train_map" in info.roles and "test_map" in info.roles:
                roles += ["train_map", "test_map"]
            elif "changed_mask" in info.roles and "unchanged_mask" in info.roles:
                roles += ["changed_mask", "unchanged_mask"]
            else:
                raise ValueError(
                    f"dataset {info.name!r} has no label map (sample keys: {sorted(info.roles)})"
                )
        elif key == "wavelengths" and info.wavelengths_nm is not None:
            continue
        else:
            known = sorted(set(info.roles) | {"mask"} | ({"label"} if _has_label(info) else set()))
            raise ValueError(f"dataset {info.name!r}: unknown sample key {key!r}; known: {known}")
    return list(dict.fromkeys(roles))


def _has_label(info: DatasetInfo) -> bool:
    r = info.roles
    return (
        "label" in r
        or ("train_map" in r and "test_map" in r)
        or ("changed_mask" in r and "unchanged_mask" in r)
    )


def _default_keys(info: DatasetInfo) -> list[str]:
    keys = list(info.roles)
    if _has_label(info):
        keys = [k for k in keys if k not in ("changed_mask", "unchanged_mask")] + ["label", "mask"]
    if info.wavelengths_nm is not None:
        keys.append("wavelengths")
    return list(dict.fromkeys(keys))


def missing_files(
    name: str,
    keys: Iterable[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Relative paths of the files needed for ``keys`` (default: every key) that are not present."""
    from hs_data.download import locate_file

    info = get_dataset_info(name)
    roles = _needed_roles(info, keys if keys is not None else _default_keys(info))
    specs = info.files_for(roles)
    return [s.path for s in specs if locate_file(s, root=root, cache=cache_dir) is None]


def load_scene(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    keys: Iterable[str] | None = None,
    download: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    mirror: str | None = None,
    checksum: bool = True,
    nonfinite: str = "mask",
) -> dict[str, Any]:
    """Load a registered scene as one sample dict (see the module docstring for the keys).

    Args:
        name: registry name (:func:`hs_data.list_datasets`).
        root: data root; default ``$HS_DATA_ROOT``.
        keys: sample keys to load (e.g. ``("label",)`` for a GT-only scene); default every key the
            registry knows for the dataset.
        download: fetch missing files into the cache (see :mod:`hs_data.download`).
        cache_dir: download cache; default ``$HS_CACHE_DIR`` or ``~/.cache/hsigma/data``.
        mirror: base URL serving the data-root layout (default ``$HS_DATA_MIRROR``).
        checksum: verify sha256 where the registry knows it (default; ~0.1 s per 40 MB).
        nonfinite: ``"mask"`` (zero NaN/Inf, flag the bands in ``band_mask``, log a warning),
            ``"raise"``, or ``"keep"``.

    Returns:
        The sample dict.

    Raises:
        DatasetNotFoundError, ChecksumError, DataFormatError, DownloadError: see the module docstring.
        ValueError: unknown dataset or key.
    """
    if nonfinite not in ("mask", "raise", "keep"):
        raise ValueError(f"nonfinite must be 'mask', 'raise' or 'keep', got {nonfinite!r}")
    info = get_dataset_info(name)
    if info.base is not None:
        from hs_data.synthetic.scenes import build_semisynthetic

        return build_semisynthetic(
            name,
            root,
            download=download,
            cache_dir=cache_dir,
            mirror=mirror,
            checksum=checksum,
            nonfinite=nonfinite,
        )
    if not info.roles:
        raise DatasetNotFoundError(
            f"dataset {name!r}: no loadable files are registered "
            f"({info.how_to_get or 'no public source known'})"
        )
    wanted = list(keys) if keys is not None else _default_keys(info)
    roles = _needed_roles(info, wanted)
    specs = info.files_for(roles)
    paths: dict[str, Path] = {}
    missing: list[str] = []
    for spec in specs:
        try:
            paths[spec.path] = resolve_file(
                info, spec, root=root, cache=cache_dir, download=download, mirror=mirror, checksum=checksum
            )
        except DatasetNotFoundError as exc:
            missing.append(str(exc))
    if missing:
        have = [k for k in _default_keys(info) if not _missing_for(info, k, root, cache_dir)]
        hint = f" Keys loadable from the files present: {have}." if have else ""
        raise DatasetNotFoundError(" | ".join(missing) + hint)

    raw: dict[str, np.ndarray] = {}
    for role_name in roles:
        role = info.roles[role_name]
        raw[role_name] = _read_role(info, role_name, role, paths[role.file])

    sample: dict[str, Any] = {}
    _assemble(info, raw, wanted, sample, nonfinite)
    _check_sizes(info, sample, paths)
    sample["meta"] = {
        "name": info.name,
        "task": info.task,
        "synthetic": info.synthetic,
        "scale": info.scale,
        "units": info.units,
        "classes": list(info.classes),
        "endmembers": list(info.endmembers),
        "files": {p: str(paths[p]) for p in paths},
    }
    return sample


def _missing_for(info: DatasetInfo, key: str, root: Any, cache: Any) -> bool:
    from hs_data.download import locate_file

    try:
        specs = info.files_for(_needed_roles(info, [key]))
    except ValueError:
        return True
    return any(locate_file(s, root=root, cache=cache) is None for s in specs)


def _read_role(info: DatasetInfo, role_name: str, role: Role, path: Path) -> np.ndarray:
    arr = read_array(path, role.key)
    where = f"{path}" + (f" [{role.key}]" if role.key else "")
    layout = role.layout
    h, w = info.height, info.width
    if layout in ("hwc", "hwe"):
        _ndim(arr, 3, where, layout)
        arr = np.transpose(arr, (2, 0, 1))
    elif layout == "chw":
        _ndim(arr, 3, where, layout)
    elif layout in ("hw", "mask255"):
        _ndim(arr, 2, where, layout)
        if layout == "mask255":
            arr = arr == 255
    elif layout in ("c_p", "e_p"):
        _ndim(arr, 2, where, layout)
        if h is None or w is None or arr.shape[1] != h * w:
            raise DataFormatError(
                where,
                f"expected {layout} with {h}x{w} = {None if h is None or w is None else h * w} pixels, "
                f"found shape {arr.shape}",
            )
        # pixels in MATLAB column-major order: p = row + col * h
        arr = np.transpose(arr.reshape(arr.shape[0], w, h), (0, 2, 1))
    elif layout == "ce":
        _ndim(arr, 2, where, layout)
        arr = arr.T
    elif layout == "ec":
        _ndim(arr, 2, where, layout)
    elif layout == "vec":
        if not (arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape)):
            raise DataFormatError(
                where, f"expected a vector ((n,), (n, 1) or (1, n)), found shape {arr.shape}"
            )
        arr = arr.reshape(-1)
    else:
        raise ValueError(f"dataset {info.name!r}: unknown layout {layout!r} for {role_name!r}")
    if role_name in LABEL_KEYS:
        arr = _label_map(arr, role, where, info, role_name)
    return np.ascontiguousarray(arr)


def _ndim(arr: np.ndarray, n: int, where: str, layout: str) -> None:
    if arr.ndim != n:
        raise DataFormatError(where, f"expected a {n}-D array (layout {layout!r}), found shape {arr.shape}")


def _label_map(arr: np.ndarray, role: Role, where: str, info: DatasetInfo, role_name: str) -> np.ndarray:
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise DataFormatError(where, "label map holds non-integer or non-finite values")
    elif arr.dtype.kind not in "iub":
        raise DataFormatError(where, f"label map has non-numeric dtype {arr.dtype}")
    lab = arr.astype(np.int64)
    if lab.size and lab.min() < 0:
        raise DataFormatError(where, f"label values must be >= 0, found minimum {int(lab.min())}")
    if role.remap is not None:
        out = np.zeros_like(lab)
        for src, dst in role.remap:
            out[lab == src] = dst
        lab = out
    top = role.max_value if role.max_value is not None else info.max_label
    if top is not None and lab.size and lab.max() > top:
        bad = sorted(int(v) for v in np.unique(lab[lab > top]))[:10]
        raise DataFormatError(
            where,
            f"label values out of range for {role_name!r}: allowed 0..{top}, found {bad} "
            f"({int((lab > top).sum())} pixels)",
        )
    return lab


def _repair_nonfinite(arr: np.ndarray, where: str, mode: str) -> tuple[np.ndarray, np.ndarray]:
    finite = np.isfinite(arr)
    band_ok = finite.reshape(arr.shape[0], -1).all(axis=1)
    if band_ok.all() or mode == "keep":
        return arr, band_ok if mode != "keep" else np.ones(arr.shape[0], dtype=bool)
    bad = np.flatnonzero(~band_ok).tolist()
    if mode == "raise":
        raise DataFormatError(where, f"NaN/Inf values in {len(bad)} band(s) {bad[:20]} (nonfinite='raise')")
    log.warning(
        "%s: %d band(s) hold NaN/Inf (%s); those values set to 0 and the bands flagged False in band_mask",
        where,
        len(bad),
        bad[:20],
    )
    return np.where(finite, arr, 0).astype(arr.dtype), band_ok


def _assemble(
    info: DatasetInfo, raw: dict[str, np.ndarray], wanted: list[str], sample: dict[str, Any], nonfinite: str
) -> None:
    band_mask: np.ndarray | None = None
    for key, arr in raw.items():
        if key in IMAGE_KEYS:
            cube = (
                (arr.astype(np.float64) / info.scale).astype(np.float32)
                if info.scale != 1.0
                else arr.astype(np.float32)
            )
            cube, ok = _repair_nonfinite(
                cube, f"{info.file(info.roles[key].file).path} [{info.roles[key].key}]", nonfinite
            )
            band_mask = (
                ok if band_mask is None else (band_mask & ok if band_mask.shape == ok.shape else band_mask)
            )
            sample[key] = cube
        elif key in (
            "image_pan",
            "abundances",
            "endmembers",
            "target_spectrum",
            "dsm",
            "response",
            "wavelengths",
        ):
            sample[key] = arr.astype(np.float32)
        elif key == "band_indices":
            sample[key] = arr.astype(np.int64)
        elif key in ("changed_mask", "unchanged_mask"):
            continue
        else:
            sample[key] = arr
    if band_mask is not None:
        sample["band_mask"] = band_mask
    if ("label" in wanted or "mask" in wanted) and "label" not in raw:
        if "train_map" in raw and "test_map" in raw:
            tr, te = raw["train_map"], raw["test_map"]
            sample["label"] = np.where(tr > 0, tr, te)
        elif "changed_mask" in raw:
            changed, unchanged = raw["changed_mask"], raw["unchanged_mask"]
            if np.any(changed & unchanged):
                raise DataFormatError(info.name, "changed and unchanged reference masks overlap")
            sample["label"] = changed.astype(np.int64)
            sample["mask"] = changed | unchanged
    if "label" in sample and "mask" not in sample:
        lab = sample["label"]
        if info.task == "classification":
            sample["mask"] = lab > 0
        else:
            sample["mask"] = lab >= 0
            sample["label"] = np.maximum(lab, 0)
    for key in ("train_map", "test_map"):
        if key in sample and info.task != "classification":
            sample[key] = np.maximum(sample[key], 0)
    if "wavelengths" in wanted and "wavelengths" not in sample and info.wavelengths_nm is not None:
        sample["wavelengths"] = np.asarray(info.wavelengths_nm, dtype=np.float32)
    if "label" not in wanted and "mask" not in wanted:
        sample.pop("mask", None)
        if "label" not in info.roles or "label" not in raw:
            sample.pop("label", None)


def _check_sizes(info: DatasetInfo, sample: dict[str, Any], paths: dict[str, Path]) -> None:
    """Every (h, w) map and cube of the sample must agree with each other and with the registry."""

    def where(key: str) -> str:
        role = info.roles.get(key)
        return str(paths[role.file]) if role is not None and role.file in paths else key

    spatial: dict[str, tuple[int, int]] = {}
    for key, arr in sample.items():
        if not isinstance(arr, np.ndarray) or key in ("image_pan", "endmembers", "response"):
            continue
        if key in IMAGE_KEYS or key == "abundances":
            spatial[key] = (arr.shape[1], arr.shape[2])
        elif arr.ndim == 2:
            spatial[key] = (arr.shape[0], arr.shape[1])
    if info.height is not None and info.width is not None:
        expected = (info.height, info.width)
        for key, hw in spatial.items():
            if hw != expected:
                raise DataFormatError(
                    where(key),
                    f"{key!r} has spatial size {hw}, the registry says {expected} for {info.name!r}",
                )
    items = list(spatial.items())
    for key, hw in items[1:]:
        if hw != items[0][1]:
            raise DataFormatError(
                f"{where(items[0][0])} vs {where(key)}",
                f"mismatched spatial sizes: {items[0][0]!r} is {items[0][1]}, {key!r} is {hw}",
            )
    if info.bands is not None:
        for key in IMAGE_KEYS[:3]:
            if key in sample and sample[key].shape[0] != info.bands:
                raise DataFormatError(
                    where(key), f"{key!r} has {sample[key].shape[0]} bands, the registry says {info.bands}"
                )
    n_bands = next((sample[k].shape[0] for k in ("image", "image_pre") if k in sample), None)
    for key in ("wavelengths", "target_spectrum"):
        if key in sample and n_bands is not None and sample[key].shape[0] != n_bands:
            raise DataFormatError(
                where(key), f"{key!r} has {sample[key].shape[0]} entries for {n_bands} bands"
            )
    if (
        "endmembers" in sample
        and "abundances" in sample
        and sample["endmembers"].shape[0] != sample["abundances"].shape[0]
    ):
        raise DataFormatError(
            where("endmembers"),
            f"{sample['endmembers'].shape[0]} endmembers but {sample['abundances'].shape[0]} abundance maps",
        )
