"""Helpers for dense (image-to-image) tasks: random training crops made on the fly, tiled inference
with stitching, and an image-quality evaluator over stitched images.

The spectral branch of HyperSIGMA maps each band group's ``h·w`` pixels with a ``Linear(h·w → d)``,
so a model accepts one tile size: training uses random crops of that size, and evaluation covers a
whole region with overlapping tiles whose predictions are averaged where they overlap
(:class:`Stitcher`).

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``s`` scale factor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from hs_tasks.core import Evaluator, TaskModel, TaskOutput
from hs_tasks.metrics import image_quality

__all__ = [
    "ImageQualityEvaluator",
    "RandomCrops",
    "SRCrops",
    "SRTiles",
    "Stitcher",
    "average_tiles",
    "band_split",
    "dihedral",
    "run_evaluator",
    "take_band",
    "tile_starts",
]

Sample = dict[str, Any]


def dihedral(x: Tensor, k: int) -> Tensor:
    """One of the 8 flips/rotations of the last two axes (``k`` in 0..7; 0 is the identity)."""
    if not 0 <= k < 8:
        raise ValueError(f"k: expected 0..7, got {k}")
    if k >= 4:
        x = x.flip(-1)
    return torch.rot90(x, k % 4, dims=(-2, -1))


def tile_starts(n: int, tile: int, stride: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels with step ``stride`` covering ``[0, n)``; the last tile
    is aligned to the end (as :class:`hs_data.datasets.TileDataset`)."""
    if not 1 <= tile <= n or stride < 1:
        raise ValueError(f"need 1 <= tile <= n and stride >= 1, got n={n}, tile={tile}, stride={stride}")
    if stride > tile:
        raise ValueError(f"stride={stride} > tile={tile} would leave gaps between tiles")
    starts = list(range(0, n - tile + 1, stride))
    return starts if starts[-1] == n - tile else [*starts, n - tile]


SIDES = ("bottom", "top", "right", "left")


def band_split(
    n: int,
    test_fraction: float,
    val_fraction: float,
    minimum: int,
    *,
    side: str = "bottom",
    multiple: int = 1,
) -> dict[str, tuple[int, int]]:
    """Split one spatial axis of ``n`` pixels into three bands ``[start, stop)``: ``test`` at one end,
    ``val`` next to it, ``train`` the rest (spatially disjoint regions for image-to-image tasks).

    Args:
        n: pixels along the axis (rows for ``side`` bottom/top, columns for right/left).
        test_fraction: share of the axis for testing, in (0, 1).
        val_fraction: share for validation, in [0, 1) (0: no validation band).
        minimum: smallest width of a non-empty band (a tile).
        side: where the test band lies: ``"bottom"``/``"right"`` (end of the axis) or
            ``"top"``/``"left"`` (start).
        multiple: every band width is a multiple of this (the SR scale factor).

    Raises:
        ValueError: bad fractions or side, or a band narrower than ``minimum``.
    """
    if side not in SIDES:
        raise ValueError(f"side: expected one of {SIDES}, got {side!r}")
    if not (0 < test_fraction < 1 and 0 <= val_fraction < 1 and test_fraction + val_fraction < 1):
        raise ValueError(
            f"need 0 < test_fraction, 0 <= val_fraction, sum < 1; got {test_fraction}, {val_fraction}"
        )
    floor = -(-minimum // multiple) * multiple  # minimum rounded up to the multiple

    def width(fraction: float) -> int:
        return max(floor, round(fraction * n) // multiple * multiple) if fraction > 0 else 0

    n_test, n_val = width(test_fraction), width(val_fraction)
    n_train = (n - n_test - n_val) // multiple * multiple
    if n_train < minimum:
        raise ValueError(
            f"an axis of {n} pixels leaves {n_train} training pixels with test_fraction={test_fraction}, "
            f"val_fraction={val_fraction}, bands of at least {minimum} (multiples of {multiple}): lower the "
            "fractions or the tile size"
        )
    if side in ("top", "left"):
        return {
            "test": (0, n_test),
            "val": (n_test, n_test + n_val),
            "train": (n_test + n_val, n_test + n_val + n_train),
        }
    return {"train": (0, n_train), "val": (n - n_test - n_val, n - n_test), "test": (n - n_test, n)}


def take_band(cube: np.ndarray, band: tuple[int, int], side: str) -> np.ndarray:
    """The rows (``side`` bottom/top) or columns (right/left) ``[start, stop)`` of a ``(c, h, w)`` cube."""
    part = slice(*band)
    return cube[:, part] if side in ("bottom", "top") else cube[:, :, part]


class RandomCrops(Dataset[Sample]):
    """``length`` random ``size x size`` crops of one cube per epoch, made on the fly.

    The crop position, the flip/rotation (when ``augment``) and the seed handed to ``make_sample``
    are drawn from torch's global generator, so a run seeded by the fine-tuning loop (whose
    checkpoints save that generator) is reproducible and resumes exactly.

    Args:
        cube: ``(c, h, w)`` array or tensor (the training region only: nothing outside it is seen).
        size: crop side.
        length: crops per epoch.
        make_sample: ``(crop (c, size, size) float32 tensor, numpy Generator) -> sample dict`` (adds
            noise, degrades, ...); default ``{"image": crop}``.
        augment: apply one of the 8 flips/rotations at random (upstream denoising/SR/unmixing use
            flips or the 8-fold dihedral augmentation).
    """

    def __init__(
        self,
        cube: Any,
        size: int,
        length: int,
        *,
        make_sample: Callable[[Tensor, np.random.Generator], Sample] | None = None,
        augment: bool = True,
    ) -> None:
        self.cube = torch.as_tensor(np.asarray(cube) if not isinstance(cube, Tensor) else cube).float()
        if self.cube.ndim != 3:
            raise ValueError(f"cube: expected (c, h, w), got shape {tuple(self.cube.shape)}")
        h, w = self.cube.shape[-2:]
        if not 1 <= size <= min(h, w):
            raise ValueError(f"size: expected 1..{min(h, w)} (the region is {h}x{w}), got {size}")
        if length < 1:
            raise ValueError(f"length: expected >= 1, got {length}")
        self.size, self.length, self.augment = size, length, augment
        self.make_sample = make_sample

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> Sample:
        h, w = self.cube.shape[-2:]
        r = int(torch.randint(0, h - self.size + 1, ()))
        c = int(torch.randint(0, w - self.size + 1, ()))
        k = int(torch.randint(0, 8, ())) if self.augment else 0
        seed = int(torch.randint(0, 2**62, ()))
        crop = dihedral(self.cube[:, r : r + self.size, c : c + self.size], k).contiguous()
        if self.make_sample is None:
            return {"image": crop}
        return self.make_sample(crop, np.random.default_rng(seed))


class SRCrops(Dataset[Sample]):
    """``length`` random super-resolution training crops per epoch, consistent with whole-image
    degradation.

    Degrading each HR crop on its own would give its LR border pixels a mirrored neighbourhood that
    the test LR image (degraded as a whole) does not have; with small LR tiles that is a large part of
    the input. Instead the region is degraded as a whole once per sub-pixel shift ``(dy, dx)`` of the HR
    grid (``s²`` shifts, or ``max_shifts`` of them drawn with ``seed``), and crops are cut at aligned
    positions of those LR images, with the matching HR and bicubic windows. The 8 flips/rotations
    commute with the (symmetric, separable) bicubic resampling, so augmented crops stay consistent.

    Args:
        hr: ``(c, H, W)`` HR training region.
        scale: ``s``.
        lr_size: LR crop side (the HR crop is ``s·lr_size``).
        length: crops per epoch.
        degrade: ``hr (c, H', W') -> lr`` (``hs_data.synthetic.bicubic_downsample(·, s)``).
        upsample: ``lr -> (c, s·h, s·w)`` (the bicubic branch, ``bicubic_upsample(·, s)``).
        augment: apply one of the 8 flips/rotations at random.
        max_shifts: at most this many HR shifts (memory: each keeps a bicubic copy of the region).
        seed: chooses the shifts when there are more than ``max_shifts``.

    Items: ``image_lr`` ``(c, lr_size, lr_size)``, ``image_hr`` and ``image_bicubic``.
    """

    def __init__(
        self,
        hr: Any,
        scale: int,
        lr_size: int,
        length: int,
        *,
        degrade: Callable[[np.ndarray], np.ndarray],
        upsample: Callable[[np.ndarray], np.ndarray],
        augment: bool = True,
        max_shifts: int = 16,
        seed: int = 0,
    ) -> None:
        region = np.asarray(hr, dtype=np.float32)
        if region.ndim != 3:
            raise ValueError(f"hr: expected (c, H, W), got shape {region.shape}")
        shifts = [(dy, dx) for dy in range(scale) for dx in range(scale)]
        if len(shifts) > max_shifts:
            pick = np.random.default_rng(seed).choice(len(shifts), size=max_shifts, replace=False)
            shifts = [shifts[i] for i in sorted(pick)]
        self.images: list[tuple[Tensor, Tensor, Tensor]] = []
        for dy, dx in shifts:
            h = (region.shape[1] - dy) // scale * scale
            w = (region.shape[2] - dx) // scale * scale
            if h < scale * lr_size or w < scale * lr_size:
                continue
            crop = region[:, dy : dy + h, dx : dx + w]
            lr = np.asarray(degrade(crop), dtype=np.float32)
            bic = np.asarray(upsample(lr), dtype=np.float32)
            self.images.append(
                (torch.from_numpy(lr), torch.from_numpy(np.ascontiguousarray(crop)), torch.from_numpy(bic))
            )
        if not self.images:
            raise ValueError(
                f"hr: a {region.shape[1]}x{region.shape[2]} region has no room for HR crops of "
                f"{scale * lr_size} (lr_size {lr_size} at x{scale})"
            )
        if length < 1:
            raise ValueError(f"length: expected >= 1, got {length}")
        self.scale, self.lr_size, self.length, self.augment = scale, lr_size, length, augment

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> Sample:
        lr, hr, bic = self.images[int(torch.randint(0, len(self.images), ()))]
        s, t = self.scale, self.lr_size
        r = int(torch.randint(0, lr.shape[1] - t + 1, ()))
        c = int(torch.randint(0, lr.shape[2] - t + 1, ()))
        k = int(torch.randint(0, 8, ())) if self.augment else 0
        return {
            "image_lr": dihedral(lr[:, r : r + t, c : c + t], k).contiguous(),
            "image_hr": dihedral(hr[:, s * r : s * (r + t), s * c : s * (c + t)], k).contiguous(),
            "image_bicubic": dihedral(bic[:, s * r : s * (r + t), s * c : s * (c + t)], k).contiguous(),
        }


class SRTiles(Dataset[Sample]):
    """Overlapping LR tiles of a super-resolution pair, with their HR and bicubic counterparts.

    Args:
        lr: ``(c, h, w)`` low-resolution image.
        hr: ``(c, s·h, s·w)`` reference.
        bicubic: ``(c, s·h, s·w)`` bicubic upsampling of ``lr``.
        tile: LR tile side.
        stride: LR step (default ``tile``).

    Items: ``image_lr`` ``(c, tile, tile)``, ``image_hr`` and ``image_bicubic`` ``(c, s·tile, s·tile)``,
    ``origin`` (HR row, column of the tile's top-left pixel).
    """

    def __init__(self, lr: Any, hr: Any, bicubic: Any, tile: int, stride: int | None = None) -> None:
        self.lr, self.hr, self.bicubic = (torch.as_tensor(np.asarray(a)).float() for a in (lr, hr, bicubic))
        h, w = self.lr.shape[-2:]
        s = self.hr.shape[-2] // h
        if s < 1 or tuple(self.hr.shape[-2:]) != (s * h, s * w) or self.bicubic.shape != self.hr.shape:
            raise ValueError(
                f"expected hr and bicubic of shape (c, s·{h}, s·{w}) for an integer s, got "
                f"{tuple(self.hr.shape)} and {tuple(self.bicubic.shape)}"
            )
        self.scale, self.tile = s, tile
        stride = stride or tile
        self.origins = [(r, c) for r in tile_starts(h, tile, stride) for c in tile_starts(w, tile, stride)]

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, i: int) -> Sample:
        r, c = self.origins[i]
        s, t = self.scale, self.tile
        return {
            "image_lr": self.lr[:, r : r + t, c : c + t],
            "image_hr": self.hr[:, s * r : s * (r + t), s * c : s * (c + t)],
            "image_bicubic": self.bicubic[:, s * r : s * (r + t), s * c : s * (c + t)],
            "origin": torch.tensor([s * r, s * c], dtype=torch.int64),
        }


def average_tiles(
    tiles: Sequence[tuple[int, int, np.ndarray]],
    shape: tuple[int, int] | None = None,
    *,
    fill: float = np.nan,
) -> np.ndarray:
    """Average ``(row, col, tile (..., t_h, t_w))`` tiles into one map ``(..., h, w)``.

    Overlaps are averaged; pixels no tile covers are ``fill``. ``shape`` defaults to the bounding box
    of the tiles (from the origin).
    """
    if not tiles:
        raise ValueError("average_tiles: no tile was given")
    if shape is None:
        shape = (
            max(r + t.shape[-2] for r, _, t in tiles),
            max(c + t.shape[-1] for _, c, t in tiles),
        )
    total = np.zeros((*tiles[0][2].shape[:-2], *shape))
    count = np.zeros(shape)
    for r, c, t in tiles:
        th, tw = t.shape[-2:]
        total[..., r : r + th, c : c + tw] += t
        count[r : r + th, c : c + tw] += 1
    covered = count > 0
    out = total / np.where(covered, count, 1)
    out[..., ~covered] = fill
    return out


class Stitcher:
    """Accumulates tiles by their origin and returns whole images, averaging overlaps.

    Tiles without an origin are whole images of their own. Every image's canvas is the bounding box of
    its tiles; pixels no tile covers are NaN.
    """

    def __init__(self) -> None:
        self._tiles: dict[int, list[tuple[int, int, np.ndarray]]] = defaultdict(list)
        self._next = 0

    def add(self, tiles: Any, origins: Any | None = None, image_ids: Sequence[int] | None = None) -> None:
        """Add ``(b, c, h, w)`` tiles with ``(b, 2)`` origins (row, column) and optional image ids."""
        arr = (
            tiles.detach().cpu().double().numpy()
            if isinstance(tiles, Tensor)
            else np.asarray(tiles, np.float64)
        )
        if arr.ndim != 4:
            raise ValueError(f"tiles: expected (b, c, h, w), got shape {arr.shape}")
        if origins is None:
            for tile in arr:
                self._tiles[-1 - self._next].append((0, 0, tile))
                self._next += 1
            return
        org = np.asarray(origins.cpu() if isinstance(origins, Tensor) else origins, dtype=np.int64).reshape(
            -1, 2
        )
        ids = [0] * len(arr) if image_ids is None else [int(i) for i in image_ids]
        if len(org) != len(arr) or len(ids) != len(arr):
            raise ValueError(f"got {len(arr)} tiles, {len(org)} origins and {len(ids)} image ids")
        for tile, (r, c), i in zip(arr, org, ids):
            self._tiles[i].append((int(r), int(c), tile))

    def __len__(self) -> int:
        return len(self._tiles)

    def images(self) -> list[np.ndarray]:
        """The stitched ``(c, H, W)`` images (float64), in order of their ids."""
        return [average_tiles(self._tiles[key]) for key in sorted(self._tiles)]


class ImageQualityEvaluator(Evaluator):
    """Image-quality metrics of stitched predictions (:func:`hs_tasks.metrics.image_quality`).

    ``update`` reads ``output.pred`` ``(b, c, h, w)``, the reference ``batch[reference_key]`` and, when
    present, ``batch["origin"]`` ``(b, 2)`` and ``batch["image_id"]`` ``(b,)``. ``compute`` stitches
    every image, scores it, and averages each metric over images (as HyperSIGMA averages per image).

    Args:
        reference_key: the clean / high-resolution key (``"image"`` for denoising, ``"image_hr"`` SR).
        data_range: peak-to-peak range for PSNR/SSIM (1.0: data scaled to [0, 1]).
        scale: resolution ratio for ERGAS (1 for denoising).
        metrics: names of :class:`~hs_tasks.metrics.ImageQualityReport` fields to report.
    """

    def __init__(
        self,
        reference_key: str,
        *,
        data_range: float = 1.0,
        scale: float = 1.0,
        metrics: Sequence[str] = ("mpsnr", "mssim", "sam", "ergas", "cc", "rmse"),
    ) -> None:
        self.reference_key, self.data_range, self.scale = reference_key, data_range, scale
        self.metrics = tuple(metrics)
        self.pred, self.ref = Stitcher(), Stitcher()

    def update(self, output: TaskOutput, batch: dict[str, Any]) -> None:
        origin = batch.get("origin")
        ids = batch.get("image_id")
        ids_list = None if ids is None else [int(i) for i in torch.as_tensor(ids).reshape(-1)]
        self.pred.add(output.pred, origin, ids_list)
        self.ref.add(batch[self.reference_key], origin, ids_list)

    def stitched(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The stitched predictions and references, ``(c, H, W)`` each."""
        return self.pred.images(), self.ref.images()

    def compute(self) -> dict[str, float]:
        preds, refs = self.stitched()
        if not preds:
            raise ValueError("ImageQualityEvaluator: no predictions were added")
        values: dict[str, list[float]] = defaultdict(list)
        for p, r in zip(preds, refs):
            report = image_quality(r, p, data_range=self.data_range, scale=self.scale).as_dict()
            for name in self.metrics:
                values[name].append(report[name])
        return {name: float(np.mean(v)) for name, v in values.items()}


def run_evaluator(
    model: TaskModel, data: Dataset | Iterable[Sample], *, batch_size: int = 8, device: str | None = None
) -> tuple[dict[str, float], Evaluator]:
    """Run ``model`` (eval mode, :meth:`TaskModel.evaluate`) over ``data``; return the metrics and the
    filled evaluator (to read what it keeps, e.g. stitched images)."""
    evaluator = model.evaluator()
    loader = DataLoader(data, batch_size=batch_size, shuffle=False) if isinstance(data, Dataset) else data
    return model.evaluate(loader, device=device, evaluator=evaluator), evaluator
