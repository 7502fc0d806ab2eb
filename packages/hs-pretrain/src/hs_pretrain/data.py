"""Pretraining patches from any collection of hyperspectral scenes.

:class:`PatchDataset` draws ``crop × crop`` patches with a contiguous window of ``num_bands`` bands
from scenes given as files (``.mat`` v5/v7.3, GeoTIFF, ``.npy``), folders, glob patterns or hs-data
registry names (``hs-data:salinas_a``, ``hs-data:*``). Upstream (``shared/reference/hypersigma.md``
§3.1) stores 64 × 64 patches as one ``.mat`` each (key ``img``, ``(bands, h, w)``), draws a 100-band
window **once per file** and divides by 4000; here:

- the crop position, the band window (``band_window="per_sample"``, the default) and optional flips
  are drawn per sample and per epoch from a generator seeded with ``(seed, epoch, index)``, so the
  data of an epoch depends on nothing else (exact resume, and data-parallel runs that see the same
  global batches as a single process); ``band_window="per_file"`` is upstream's window, fixed per
  file;
- the bad and water-vapour bands of EO-1 Hyperion and the SWIR bands of GF-5 AHSI can be removed
  first (:data:`BAD_BANDS`);
- scaling is a constant divisor (4000 as upstream), a per-scene 99th percentile, or none;
- scenes are read lazily, at most ``cache_scenes`` are held in memory (``.npy`` files are memory
  mapped), and ``order="blocks"`` visits the scenes in shuffled blocks so a corpus larger than memory
  streams through a bounded cache;
- a file that cannot be read, is too small or has too few bands is skipped with a logged warning and
  counted (:attr:`PatchDataset.skipped`); only an empty result is an error. A file that passes the
  header scan but fails to read later is replaced, deterministically, by the next readable scene.

Shape legend: ``c`` bands, ``h w`` rows/columns.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import math
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = [
    "BAD_BANDS",
    "GF5_AHSI_BAD_BANDS",
    "HYPERION_BAD_BANDS",
    "PatchDataset",
    "SceneRecord",
    "expand_sources",
    "kept_bands",
]

log = logging.getLogger(__name__)

SUFFIXES = (".mat", ".npy", ".tif", ".tiff")
REGISTRY_PREFIX = "hs-data:"


def _ranges(*spans: tuple[int, int]) -> tuple[int, ...]:
    return tuple(b for lo, hi in spans for b in range(lo, hi + 1))


#: EO-1 Hyperion L1 (242 bands): the 67 bad and water-vapour bands HyperSIGMA removes, 1-based
#: (bands 1-7, 58-76, 121-126, 167-180, 222-242; maintainer answer on HyperSIGMA issue #29), leaving 175.
HYPERION_BAD_BANDS: tuple[int, ...] = _ranges((1, 7), (58, 76), (121, 126), (167, 180), (222, 242))

#: GF-5 AHSI (330 bands: 150 VNIR 0.39-1.03 µm, then 180 SWIR): HyperSIGMA keeps "150 spectral bands
#: ranging from 0.4 to 1.0 µm" (paper, quoted on issue #29), i.e. the VNIR detector; the SWIR bands
#: 151-330 (1-based) are removed. [inferred from the sensor's band layout]
GF5_AHSI_BAD_BANDS: tuple[int, ...] = _ranges((151, 330))

#: Sensor name -> (band count of the full product, 1-based bands to remove).
BAD_BANDS: dict[str, tuple[int, tuple[int, ...]]] = {
    "hyperion": (242, HYPERION_BAD_BANDS),
    "gf5": (330, GF5_AHSI_BAD_BANDS),
}


def kept_bands(num_bands: int, bad_bands: str | Sequence[int] | None) -> np.ndarray:
    """0-based indices of the bands left after removing ``bad_bands``.

    Args:
        num_bands: bands of the stored cube.
        bad_bands: ``None``; a sensor of :data:`BAD_BANDS` (the cube must have that sensor's full band
            count); or 1-based band numbers.

    Raises:
        ValueError: unknown sensor, a band count that does not match the sensor, or bands out of range.
    """
    if bad_bands is None:
        return np.arange(num_bands)
    if isinstance(bad_bands, str):
        key = bad_bands.lower().replace("-", "").replace("_", "")
        if key not in BAD_BANDS:
            raise ValueError(f"bad_bands: unknown sensor {bad_bands!r}; known: {sorted(BAD_BANDS)} or a list")
        full, bad = BAD_BANDS[key]
        if num_bands != full:
            raise ValueError(
                f"bad_bands={bad_bands!r} applies to the full {full}-band product, but the cube has "
                f"{num_bands} bands (already subset?); pass bad_bands=None or an explicit 1-based list"
            )
    else:
        bad = tuple(int(b) for b in bad_bands)
        out_of_range = [b for b in bad if not 1 <= b <= num_bands]
        if out_of_range:
            raise ValueError(
                f"bad_bands: 1-based band numbers in [1, {num_bands}] expected, got {out_of_range}"
            )
    drop = np.zeros(num_bands, dtype=bool)
    drop[np.asarray(bad, dtype=np.int64) - 1] = True
    return np.flatnonzero(~drop)


def expand_sources(sources: Iterable[str | os.PathLike[str]], exclude: Iterable[str] = ()) -> list[str]:
    """Files of folders (recursive), glob patterns, and ``hs-data:`` names, in a stable order.

    ``hs-data:NAME`` is one registered scene; ``hs-data:PATTERN`` (e.g. ``hs-data:*``) every registered
    real scene matching it whose image is present locally. Duplicates are removed, and so is every
    source matching one of the ``exclude`` glob patterns (on the whole source or its file name, e.g.
    ``hs-data:salinas_a`` or ``*_gt.mat``), to keep an evaluation scene out of pretraining.

    Raises:
        FileNotFoundError: a path that is neither a file, a folder nor a pattern with matches.
    """
    out: list[str] = []
    for src in sources:
        text = str(src)
        if text.startswith(REGISTRY_PREFIX):
            out += _registry_names(text[len(REGISTRY_PREFIX) :])
            continue
        path = Path(text)
        if path.is_dir():
            out += sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            out.append(str(path))
        else:
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise FileNotFoundError(
                    f"{text}: no such file or folder, and no file matches it as a pattern"
                )
            out += [m for m in matches if Path(m).is_file()]
    patterns = list(exclude)

    def excluded(src: str) -> bool:
        return any(fnmatch.fnmatchcase(src, p) or fnmatch.fnmatchcase(Path(src).name, p) for p in patterns)

    return [s for s in dict.fromkeys(out) if not excluded(s)]


def _registry_names(pattern: str) -> list[str]:
    import hs_data

    if not any(ch in pattern for ch in "*?["):
        return [REGISTRY_PREFIX + pattern]
    names = []
    for name in hs_data.list_datasets(synthetic=False):
        info = hs_data.get_dataset_info(name)
        wanted = fnmatch.fnmatchcase(name, pattern) and "image" in info.roles
        if wanted and not hs_data.missing_files(name, keys=("image",)):
            names.append(REGISTRY_PREFIX + name)
    return names


@dataclass
class SceneRecord:
    """One usable scene: where it is, how it is stored, and which bands are used.

    Attributes:
        source: file path, or ``hs-data:NAME``.
        kind: ``"npy"``, ``"mat"``, ``"tiff"`` or ``"registry"``.
        key: MAT variable.
        layout: ``"chw"`` or ``"hwc"`` (the stored axis order).
        height, width: pixels.
        bands: 0-based stored band indices left after bad-band removal.
    """

    source: str
    kind: str
    key: str | None
    layout: str
    height: int
    width: int
    bands: np.ndarray = field(repr=False)


def _mat_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{variable: (MATLAB shape, class)}`` of a MAT file, reading headers only."""
    with path.open("rb") as f:
        head = f.read(520)
    if (
        head.startswith(b"MATLAB 7.3")
        or head[512:520] == b"\x89HDF\r\n\x1a\n"
        or head[:8] == b"\x89HDF\r\n\x1a\n"
    ):
        import h5py

        out: dict[str, tuple[tuple[int, ...], str]] = {}
        with h5py.File(path, "r") as h5:
            for name, node in h5.items():
                if isinstance(node, h5py.Dataset) and not name.startswith("#"):
                    out[name] = (tuple(reversed(node.shape)), str(node.dtype))
        return out
    import scipy.io

    return {name: (tuple(shape), cls) for name, shape, cls in scipy.io.whosmat(str(path))}


_NUMERIC_MAT = {"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"}


def _scan(source: str, key: str | None, layout: str) -> tuple[str, str | None, str, tuple[int, int, int]]:
    """``(kind, key, layout, (c, h, w))`` of a source, from its header where the format allows."""
    if source.startswith(REGISTRY_PREFIX):
        import hs_data

        name = source[len(REGISTRY_PREFIX) :]
        info = hs_data.get_dataset_info(name)
        if "image" not in info.roles:
            raise ValueError(f"registered dataset {name!r} has no image cube")
        missing = hs_data.missing_files(name, keys=("image",))
        if missing:
            raise FileNotFoundError(f"registered dataset {name!r}: image file(s) not present: {missing}")
        c, h, w = hs_data.load_scene(name, keys=("image",))["image"].shape
        return "registry", None, "chw", (c, h, w)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{source}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
        shape, lay = tuple(arr.shape), "chw" if layout == "auto" else layout
        kind = "npy"
    elif suffix in (".tif", ".tiff"):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape, axes = tuple(series.shape), series.axes
        if len(shape) != 3:
            raise ValueError(f"expected a 3-D band stack, found a TIFF of shape {shape} (axes {axes!r})")
        if axes.startswith("YX"):
            shape, lay = (shape[2], shape[0], shape[1]), "chw"  # read_tiff returns bands first
        else:
            lay = "chw"
        kind = "tiff"
    elif suffix == ".mat":
        variables = _mat_shapes(path)
        if key is None:
            cubes = {
                n: s
                for n, (s, cls) in variables.items()
                if len(s) == 3 and (cls in _NUMERIC_MAT or not cls.isalpha())
            }
            if not cubes:
                raise ValueError(f"no 3-D numeric array; variables: {sorted(variables)}")
            key = max(cubes, key=lambda n: int(np.prod(cubes[n])))
        if key not in variables:
            raise ValueError(f"no variable {key!r}; variables: {sorted(variables)}")
        shape = variables[key][0]
        if len(shape) != 3:
            raise ValueError(f"variable {key!r} has shape {shape}, not a 3-D cube")
        lay = ("chw" if key == "img" else "hwc") if layout == "auto" else layout
        kind = "mat"
    else:
        raise ValueError(f"unsupported file type {suffix!r} (expected one of {SUFFIXES})")
    if len(shape) != 3:
        raise ValueError(f"expected a 3-D cube, found shape {shape}")
    if lay == "chw":
        c, h, w = shape
    elif lay == "hwc":
        h, w, c = shape
    else:
        raise ValueError(f"layout: expected 'auto', 'chw' or 'hwc', got {layout!r}")
    return kind, key, lay, (int(c), int(h), int(w))


def _read(record: SceneRecord) -> np.ndarray:
    """The stored cube (memory-mapped for ``.npy``)."""
    if record.kind == "registry":
        import hs_data

        return hs_data.load_scene(record.source[len(REGISTRY_PREFIX) :], keys=("image",))["image"]
    if record.kind == "npy":
        return np.load(record.source, mmap_mode="r", allow_pickle=False)
    from hs_data import io

    if record.kind == "tiff":
        return io.read_tiff(record.source)
    assert record.key is not None
    return io.read_mat(record.source, [record.key])[record.key]


class PatchDataset(Dataset[dict[str, torch.Tensor]]):
    """Random ``crop × crop`` patches with a contiguous band window from a collection of scenes.

    Items are ``{"image": (num_bands, crop, crop) float32, "seed": int64}``; ``seed`` is a per-sample
    integer the training step turns into the sample's masking noise
    (:func:`hs_pretrain.masking.mask_noise`).

    Args:
        sources: files, folders, glob patterns or ``hs-data:`` names (:func:`expand_sources`).
        exclude: glob patterns of sources to leave out (:func:`expand_sources`).
        crop: patch size (upstream 64).
        num_bands: band window (upstream 100).
        band_window: ``"per_sample"`` (drawn per sample and epoch) or ``"per_file"`` (upstream: drawn
            once per file, ``start = round((c − num_bands) · r)``, ``r ~ U(0, 1)``).
        scale: divide the stored values by this constant (4000 as upstream), ``"percentile"`` (by
            each scene's 99th percentile, for collections in different units) or ``None``.
        bad_bands: ``None``, ``"hyperion"``, ``"gf5"`` or 1-based band numbers, removed before the
            window is drawn (applies to every source).
        key: MAT variable (default: the largest 3-D array).
        layout: stored axis order: ``"auto"`` (``.mat``: ``(c, h, w)`` for upstream's ``img`` key, else
            MATLAB's ``(h, w, c)``; ``.npy``: ``(c, h, w)``; TIFF and registry: read as they are),
            ``"chw"`` or ``"hwc"``.
        short_scenes: scenes with fewer than ``num_bands`` usable bands: ``"skip"`` or ``"resample"``
            (linearly resample all their bands to ``num_bands``).
        samples_per_epoch: length of an epoch (default: ``ceil(h·w / crop²)`` per scene, about one
            visit of every pixel).
        order: ``"global"`` (the training sampler shuffles) or ``"blocks"`` (the dataset itself
            shuffles scenes and, within blocks of ``block_scenes`` scenes, their samples; use a
            sequential sampler) for corpora larger than memory.
        block_scenes: scenes per block in ``order="blocks"``.
        flip: random horizontal and vertical flips (upstream: none).
        seed: data seed.
        cache_scenes: decoded scenes kept in memory per process.
        validate: ``"header"`` (read headers at construction; a file that fails later is replaced) or
            ``"full"`` (read every file once at construction).

    Raises:
        ValueError: no usable scene remains (the message lists why each was skipped).
    """

    def __init__(
        self,
        sources: Iterable[str | os.PathLike[str]],
        *,
        crop: int = 64,
        num_bands: int = 100,
        band_window: Literal["per_sample", "per_file"] = "per_sample",
        scale: float | Literal["percentile"] | None = 4000.0,
        bad_bands: str | Sequence[int] | None = None,
        key: str | None = None,
        layout: Literal["auto", "chw", "hwc"] = "auto",
        short_scenes: Literal["skip", "resample"] = "skip",
        samples_per_epoch: int | None = None,
        order: Literal["global", "blocks"] = "global",
        block_scenes: int = 8,
        flip: bool = False,
        seed: int = 0,
        cache_scenes: int = 8,
        validate: Literal["header", "full"] = "header",
        exclude: Iterable[str] = (),
    ) -> None:
        if crop < 1 or num_bands < 1:
            raise ValueError(f"crop / num_bands: expected positive sizes, got {crop} / {num_bands}")
        if band_window not in ("per_sample", "per_file"):
            raise ValueError(f"band_window: expected 'per_sample' or 'per_file', got {band_window!r}")
        if short_scenes not in ("skip", "resample"):
            raise ValueError(f"short_scenes: expected 'skip' or 'resample', got {short_scenes!r}")
        if order not in ("global", "blocks"):
            raise ValueError(f"order: expected 'global' or 'blocks', got {order!r}")
        if validate not in ("header", "full"):
            raise ValueError(f"validate: expected 'header' or 'full', got {validate!r}")
        if not (scale is None or scale == "percentile" or (isinstance(scale, (int, float)) and scale > 0)):
            raise ValueError(f"scale: expected a positive number, 'percentile' or None, got {scale!r}")
        self.crop, self.num_bands, self.band_window = crop, num_bands, band_window
        self.scale, self.short_scenes, self.order = scale, short_scenes, order
        self.block_scenes, self.flip, self.seed = max(1, block_scenes), flip, seed
        self.cache_scenes = max(1, cache_scenes)
        self.epoch = 0
        self.scenes: list[SceneRecord] = []
        self.skipped: list[tuple[str, str]] = []
        self.read_failures: dict[str, str] = {}
        self._cache: OrderedDict[int, tuple[np.ndarray, float]] = OrderedDict()
        self._plans: dict[int, np.ndarray] = {}

        for source in expand_sources(sources, exclude):
            try:
                kind, k, lay, (c, h, w) = _scan(source, key, layout)
                bands = kept_bands(c, bad_bands)
            except Exception as exc:  # any reader error: the file is skipped, not fatal
                self._skip(source, f"unreadable ({type(exc).__name__}: {exc})")
                continue
            if h < crop or w < crop:
                self._skip(source, f"{h}x{w} pixels, smaller than the {crop}x{crop} crop")
                continue
            if len(bands) < num_bands and short_scenes == "skip":
                self._skip(
                    source,
                    f"{len(bands)} usable bands, fewer than the {num_bands}-band window "
                    "(short_scenes='resample' resamples such scenes)",
                )
                continue
            record = SceneRecord(source, kind, k, lay, h, w, bands)
            if validate == "full":
                try:
                    _read(record)
                except Exception as exc:
                    self._skip(source, f"unreadable ({type(exc).__name__}: {exc})")
                    continue
            self.scenes.append(record)
        if not self.scenes:
            reasons = "; ".join(f"{s}: {r}" for s, r in self.skipped[:10]) or "no source given"
            raise ValueError(f"PatchDataset: no usable scene among the sources ({reasons})")
        natural = np.array([max(1, math.ceil(r.height * r.width / crop**2)) for r in self.scenes])
        self.natural_counts = natural
        self.length = int(samples_per_epoch) if samples_per_epoch else int(natural.sum())
        if self.length < 1:
            raise ValueError(f"samples_per_epoch: expected >= 1, got {samples_per_epoch}")
        # index -> scene, proportionally to each scene's natural share
        cum = np.concatenate([[0], np.cumsum(natural)])
        pos = (np.arange(self.length, dtype=np.float64) * cum[-1] / self.length).astype(np.int64)
        self._base_plan = (np.searchsorted(cum, pos, side="right") - 1).astype(np.int32)
        self._file_start = [self._per_file_start(i) for i in range(len(self.scenes))]
        if self.skipped:
            log.warning(
                "PatchDataset: %d source(s) skipped, %d scene(s) used", len(self.skipped), len(self.scenes)
            )

    # ------------------------------------------------------------------ bookkeeping
    def _skip(self, source: str, reason: str) -> None:
        log.warning("PatchDataset: skipping %s: %s", source, reason)
        self.skipped.append((source, reason))

    def summary(self) -> dict[str, Any]:
        """Counts: scenes used, sources skipped (with reasons), read failures, epoch length."""
        return {
            "scenes": len(self.scenes),
            "skipped": len(self.skipped),
            "skipped_reasons": dict(self.skipped),
            "read_failures": dict(self.read_failures),
            "samples_per_epoch": self.length,
        }

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose samples ``__getitem__`` returns (call before building its loader)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.length

    def _per_file_start(self, scene: int) -> int:
        spare = len(self.scenes[scene].bands) - self.num_bands
        if spare <= 0:
            return 0
        r = np.random.default_rng([self.seed, 0xF11E, scene]).random()
        return round(spare * r)

    def plan(self, epoch: int) -> np.ndarray:
        """Scene index of every sample of ``epoch``."""
        if self.order == "global":
            return self._base_plan
        if epoch not in self._plans:
            rng = np.random.default_rng([self.seed, 0xB10C, epoch])
            counts = np.bincount(self._base_plan, minlength=len(self.scenes))
            order = rng.permutation(len(self.scenes))
            parts = []
            for i in range(0, len(order), self.block_scenes):
                block = np.repeat(order[i : i + self.block_scenes], counts[order[i : i + self.block_scenes]])
                parts.append(rng.permutation(block))
            self._plans = {epoch: np.concatenate(parts).astype(np.int32)}
        return self._plans[epoch]

    # ------------------------------------------------------------------ reading
    def _scene_array(self, scene: int) -> tuple[np.ndarray, float]:
        if scene in self._cache:
            self._cache.move_to_end(scene)
            return self._cache[scene]
        record = self.scenes[scene]
        arr = _read(record)
        if arr.ndim != 3:
            raise ValueError(f"{record.source}: expected a 3-D cube, read shape {tuple(arr.shape)}")
        divisor = 1.0
        if self.scale == "percentile":
            flat = np.asarray(arr).reshape(-1)
            step = max(1, flat.size // 1_000_000)
            p99 = float(np.percentile(np.abs(flat[::step].astype(np.float64)), 99))
            divisor = p99 if p99 > 0 else 1.0
        elif self.scale is not None:
            divisor = float(self.scale)
        self._cache[scene] = (arr, divisor)
        while len(self._cache) > self.cache_scenes:
            self._cache.popitem(last=False)
        return arr, divisor

    def _readable_scene(self, scene: int) -> tuple[int, np.ndarray, float]:
        for step in range(len(self.scenes)):
            s = (scene + step) % len(self.scenes)
            if self.scenes[s].source in self.read_failures:
                continue
            try:
                arr, divisor = self._scene_array(s)
                return s, arr, divisor
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                self.read_failures[self.scenes[s].source] = reason
                log.warning(
                    "PatchDataset: cannot read %s (%s); its samples come from the next readable scene",
                    self.scenes[s].source,
                    reason,
                )
        raise RuntimeError(
            f"PatchDataset: none of the {len(self.scenes)} scenes can be read: {self.read_failures}"
        )

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} samples")
        rng = np.random.default_rng([self.seed, self.epoch, index])
        scene, arr, divisor = self._readable_scene(int(self.plan(self.epoch)[index]))
        record = self.scenes[scene]
        y = int(rng.integers(0, record.height - self.crop + 1))
        x = int(rng.integers(0, record.width - self.crop + 1))
        usable = len(record.bands)
        if usable <= self.num_bands:
            window = record.bands
        else:
            start = (
                int(rng.integers(0, usable - self.num_bands + 1))
                if self.band_window == "per_sample"
                else self._file_start[scene]
            )
            window = record.bands[start : start + self.num_bands]
        flips = rng.integers(0, 2, size=2) if self.flip else (0, 0)
        sample_seed = int(rng.integers(0, 2**62))
        cs = self.crop
        if record.layout == "chw":
            patch = np.asarray(arr[:, y : y + cs, x : x + cs])[window]
        else:
            patch = np.moveaxis(np.asarray(arr[y : y + cs, x : x + cs, :])[..., window], -1, 0)
        patch = np.nan_to_num(patch.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0) / np.float32(divisor)
        image = torch.from_numpy(np.ascontiguousarray(patch))
        if len(window) != self.num_bands:  # short scene, short_scenes="resample"
            flat = image.reshape(len(window), -1).T[:, None, :]
            image = torch.nn.functional.interpolate(
                flat, size=self.num_bands, mode="linear", align_corners=True
            )
            image = image[:, 0, :].T.reshape(self.num_bands, cs, cs).contiguous()
        if flips[0]:
            image = image.flip(-1)
        if flips[1]:
            image = image.flip(-2)
        return {"image": image, "seed": torch.tensor(sample_seed, dtype=torch.int64)}
