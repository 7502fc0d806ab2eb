"""torch ``Dataset`` wrappers over scenes and splits.

- :class:`SceneDataset`: one registered scene as a dataset of length 1 (the whole sample, tensors).
- :class:`PixelPatchDataset`: ``(2r+1) x (2r+1)`` patches centred on the pixels of one part of a
  :class:`~hs_data.splits.Split` (patch-based classification). Border patches are padded by
  reflection; a reflected pixel lies within the same window (distance <= r from the centre), so a
  spatially disjoint split with guard ``r`` stays leak-free with padding too.
- :class:`TileDataset`: fixed-size tiles of a scene (image-based models, denoising, SR).
- :func:`to_tensors`: numpy sample -> tensors (``meta`` left as is).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from hs_data.scenes import load_scene
from hs_data.splits import Split

__all__ = ["PixelPatchDataset", "SceneDataset", "TileDataset", "to_tensors"]

Sample = dict[str, Any]


def to_tensors(sample: Sample) -> Sample:
    """Convert every numpy array of a sample to a tensor (no copy where possible)."""
    out: Sample = {}
    for key, value in sample.items():
        if isinstance(value, np.ndarray):
            out[key] = torch.from_numpy(np.ascontiguousarray(value))
        else:
            out[key] = value
    return out


class SceneDataset(Dataset[Sample]):
    """A registered scene as a one-item dataset of tensors.

    Args:
        name: registry name.
        root: data root (default ``$HS_DATA_ROOT``).
        keys: sample keys to load (default all).
        transforms: callable applied to the tensor sample.
        download, cache_dir, checksum: see :func:`hs_data.load_scene`.
    """

    def __init__(
        self,
        name: str,
        root: str | os.PathLike[str] | None = None,
        *,
        keys: Sequence[str] | None = None,
        transforms: Callable[[Sample], Sample] | None = None,
        download: bool = False,
        cache_dir: str | os.PathLike[str] | None = None,
        checksum: bool = True,
    ) -> None:
        self.name = name
        self.transforms = transforms
        self._sample = to_tensors(
            load_scene(name, root, keys=keys, download=download, cache_dir=cache_dir, checksum=checksum)
        )

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Sample:
        if index not in (0, -1):
            raise IndexError(f"SceneDataset {self.name!r} has one item, got index {index}")
        sample = dict(self._sample)
        return self.transforms(sample) if self.transforms is not None else sample


class PixelPatchDataset(Dataset[Sample]):
    """Patches around the pixels of one part of a split.

    Args:
        image: ``(c, h, w)`` cube (already preprocessed, e.g. by a PCA fitted on the training part).
        split: the split giving pixel indices and labels.
        part: ``"train"``, ``"val"`` or ``"test"``.
        patch_radius: ``r``; patches are ``(c, 2r+1, 2r+1)``.
        padding: ``"reflect"`` (default) or ``"zero"`` (upstream zero padding).
        transforms: callable applied to each sample.

    Each item: ``{"image": (c, 2r+1, 2r+1) float32, "label": int64 scalar (class id as in the
    label map, 1..k; subtract 1 for a k-way loss), "index": int64 flat pixel index}``.
    """

    def __init__(
        self,
        image: np.ndarray | torch.Tensor,
        split: Split,
        part: str = "train",
        *,
        patch_radius: int = 4,
        padding: str = "reflect",
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        cube = image if isinstance(image, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(image))
        if cube.ndim != 3:
            raise ValueError(f"image must be (c, h, w), got shape {tuple(cube.shape)}")
        if tuple(cube.shape[1:]) != split.shape:
            raise ValueError(f"image spatial shape {tuple(cube.shape[1:])} != split shape {split.shape}")
        if patch_radius < 0:
            raise ValueError(f"patch_radius must be >= 0, got {patch_radius}")
        if padding not in ("reflect", "zero"):
            raise ValueError(f"padding must be 'reflect' or 'zero', got {padding!r}")
        r = patch_radius
        if padding == "reflect" and r >= min(split.shape):
            raise ValueError(f"reflect padding needs patch_radius < min(h, w) = {min(split.shape)}")
        mode = "reflect" if padding == "reflect" else "constant"
        self.padded = torch.nn.functional.pad(cube.float()[None], (r, r, r, r), mode=mode)[0]
        self.coords = torch.from_numpy(split.coords(part))
        self.labels = torch.from_numpy(split.labels(part))
        self.indices = torch.from_numpy(split.indices(part))
        self.r = r
        self.transforms = transforms

    def __len__(self) -> int:
        return int(self.indices.numel())

    def __getitem__(self, i: int) -> Sample:
        row, col = (int(v) for v in self.coords[i])
        size = 2 * self.r + 1
        sample = {
            "image": self.padded[:, row : row + size, col : col + size],
            "label": self.labels[i],
            "index": self.indices[i],
        }
        return self.transforms(sample) if self.transforms is not None else sample


class TileDataset(Dataset[Sample]):
    """Tiles of ``tile`` x ``tile`` pixels with ``stride`` over the spatial keys of a sample.

    Args:
        sample: a scene sample (numpy or tensors); keys with spatial axes ``(…, h, w)`` matching
            ``image`` (or ``image_pre``) are tiled, other keys are passed through.
        tile: tile side.
        stride: step between tiles (default ``tile``: no overlap). The last row/column of tiles is
            aligned to the border so the whole scene is covered.
        transforms: callable applied to each tile sample.

    Each item holds the tiled keys plus ``"origin"``: ``(row, col)`` of the tile's top-left pixel.
    """

    def __init__(
        self,
        sample: Sample,
        tile: int,
        stride: int | None = None,
        *,
        transforms: Callable[[Sample], Sample] | None = None,
    ) -> None:
        self.sample = to_tensors(sample)
        ref = next((self.sample[k] for k in ("image", "image_pre", "image_hr") if k in self.sample), None)
        if ref is None:
            raise ValueError("TileDataset needs an 'image', 'image_pre' or 'image_hr' key")
        h, w = int(ref.shape[-2]), int(ref.shape[-1])
        stride = stride or tile
        if tile < 1 or stride < 1 or tile > min(h, w):
            raise ValueError(
                f"need 1 <= tile <= min(h, w) = {min(h, w)} and stride >= 1, got {tile}, {stride}"
            )

        def starts(n: int) -> list[int]:
            s = list(range(0, n - tile + 1, stride))
            return s if s[-1] == n - tile else [*s, n - tile]

        self.origins = [(r, c) for r in starts(h) for c in starts(w)]
        self.spatial = [
            k
            for k, v in self.sample.items()
            if isinstance(v, torch.Tensor) and v.ndim >= 2 and tuple(v.shape[-2:]) == (h, w)
        ]
        self.tile = tile
        self.transforms = transforms

    def __len__(self) -> int:
        return len(self.origins)

    def __getitem__(self, i: int) -> Sample:
        r, c = self.origins[i]
        t = self.tile
        out: Sample = {k: v for k, v in self.sample.items() if k not in self.spatial}
        for k in self.spatial:
            out[k] = self.sample[k][..., r : r + t, c : c + t]
        out["origin"] = torch.tensor([r, c], dtype=torch.int64)
        return self.transforms(out) if self.transforms is not None else out
