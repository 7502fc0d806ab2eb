"""Machinery shared by the task models and recipes: building a backbone for a task from its registry
name, recipe options and fine-tuning defaults, stitching tile predictions into scene maps, and
running a model over a loader into an evaluator.

Backbone names (``hs_backbone.list_backbones()``): ``hypersigma_*`` / ``test_hypersigma`` build
HyperSIGMA (spatial + spectral + SEM); ``spatial_vit_*`` / ``test_spatial_vit`` build SpatSIGMA
(the spatial branch only, upstream's ablation). Spectral-only encoders are not task backbones.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``k`` classes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

import hs_backbone
import hs_data
from hs_data.splits import Split
from hs_tasks.core import Evaluator, TaskModel
from hs_tasks.dense import average_tiles
from hs_tasks.recipes import RecipeConfig

__all__ = [
    "SampleList",
    "TileAccumulator",
    "backbone_family",
    "build_backbone",
    "deepest_features",
    "dense_backbone",
    "is_test_backbone",
    "predict",
    "resolve_options",
    "split_record",
]

Family = Literal["hypersigma", "spatial"]


def backbone_family(name: str) -> Family:
    """``"hypersigma"`` (HyperSIGMA) or ``"spatial"`` (SpatSIGMA) for a registered backbone name.

    Raises:
        ValueError: an unknown name, or a spectral-only encoder.
    """
    if not hs_backbone.is_backbone(name):
        raise ValueError(
            f"backbone: unknown name {name!r}; task backbones are "
            f"{hs_backbone.list_backbones('*hypersigma*')} "
            f"(HyperSIGMA) and {hs_backbone.list_backbones('*spatial_vit*')} (SpatSIGMA)"
        )
    if "hypersigma" in name:
        return "hypersigma"
    if "spatial_vit" in name:
        return "spatial"
    raise ValueError(
        f"backbone: {name!r} is not a task backbone (use a hypersigma_* name for HyperSIGMA or a "
        "spatial_vit_* "
        "name for SpatSIGMA)"
    )


def is_test_backbone(name: str) -> bool:
    """Whether ``name`` is a tiny ``test_*`` variant (recipes then keep its widths and token count)."""
    return name.startswith("test_")


def build_backbone(
    name: str,
    *,
    in_chans: int,
    img_size: int | tuple[int, int],
    patch_size: int,
    fpn: str | None = None,
    use_abs_pos_emb: bool | None = None,
    num_tokens: int | None = None,
    sem_hidden: int | None = None,
    sem_channels: int | None = None,
    spectral_level: int | None = None,
    pretrained: Any = None,
    **overrides: Any,
) -> nn.Module:
    """A registered backbone configured for a task (``None`` keeps the variant's default).

    Arguments that only HyperSIGMA has (``num_tokens``, ``sem_*``, ``spectral_level``) are ignored for
    SpatSIGMA. With ``spectral_level`` the spectral branch projects that level (upstream's detection
    model reads its deepest spectral tap).

    Args:
        name: a ``hypersigma_*`` or ``spatial_vit_*`` registry name.
        in_chans: bands of the (preprocessed) input.
        img_size: input size of the model (patches, windows, tiles).
        patch_size: spatial patch size ``p``.
        fpn: spatial pyramid (``"identity"`` for full-resolution dense heads).
        use_abs_pos_emb: learned position embeddings (``False`` lets tiles of any size through).
        num_tokens, sem_hidden, sem_channels, spectral_level: HyperSIGMA's spectral/SEM settings.
        pretrained: see ``hs_backbone.create_backbone``.
        **overrides: any other constructor argument.
    """
    family = backbone_family(name)
    kwargs: dict[str, Any] = {
        "img_size": img_size,
        "patch_size": patch_size,
        "fpn": fpn,
        "use_abs_pos_emb": use_abs_pos_emb,
        **overrides,
    }
    if family == "hypersigma":
        kwargs |= {
            "num_tokens": num_tokens,
            "sem_hidden": sem_hidden,
            "sem_channels": sem_channels,
            "spectral_level": spectral_level,
        }
        if spectral_level is not None:
            kwargs["proj_levels"] = (spectral_level,)
    return hs_backbone.create_backbone(name, in_chans=in_chans, pretrained=pretrained, **kwargs)


def dense_backbone(
    config: RecipeConfig,
    *,
    in_chans: int,
    img_size: int,
    patch_size: int,
    num_tokens: int,
    use_abs_pos_emb: bool,
    level_proj_dim: int | None = None,
    sem_hidden: int | None = None,
    sem_channels: int | None = None,
    drop_path_rate: float | None = None,
) -> nn.Module:
    """:func:`build_backbone` for the dense low-level tasks (unmixing, denoising, super-resolution).

    The spatial branch keeps its token grid (``fpn="identity"``); the spectral branch's deepest level
    (3) feeds the enhancement and is the only one projected, as in upstream's unmixing, denoising and
    SR models. Arguments left ``None`` keep the variant's defaults; spectral arguments are dropped for
    a spatial-only backbone.

    Raises:
        ValueError: ``num_tokens`` is not a perfect square (the ``√t × √t`` spectral SSA grid).
    """
    if num_tokens < 1 or math.isqrt(num_tokens) ** 2 != num_tokens:
        raise ValueError(f"num_tokens: expected a perfect square (the √t × √t SSA grid), got {num_tokens}")
    overrides: dict[str, Any] = {"drop_path_rate": drop_path_rate}
    if backbone_family(config.backbone) == "hypersigma":
        overrides["level_proj_dim"] = level_proj_dim
    return build_backbone(
        config.backbone,
        in_chans=in_chans,
        img_size=img_size,
        patch_size=patch_size,
        fpn="identity",
        use_abs_pos_emb=use_abs_pos_emb,
        num_tokens=num_tokens,
        sem_hidden=sem_hidden,
        sem_channels=sem_channels,
        spectral_level=3,
        pretrained=config.pretrained,
        **overrides,
    )


def deepest_features(backbone: nn.Module, x: Tensor) -> tuple[Tensor, Tensor | None]:
    """The deepest spatial map ``(b, d, h/p, w/p)`` (last tap, before any pyramid) and the spectral
    tokens of the enhancement level ``(b, t, k)`` (``None`` for a spatial-only backbone).

    The backbone's own SEM is not used here: the low-level heads gate with their own adapter-level SEM,
    as upstream's denoising and SR models do.

    Raises:
        ValueError: ``backbone`` is neither a HyperSIGMA nor a SpatialViT.
    """
    if not isinstance(backbone, hs_backbone.HyperSIGMA | hs_backbone.SpatialViT):
        raise ValueError(
            f"backbone: expected a hs_backbone HyperSIGMA or SpatialViT, got {type(backbone).__name__}"
        )
    spatial = backbone.spatial if isinstance(backbone, hs_backbone.HyperSIGMA) else backbone
    assert isinstance(spatial, hs_backbone.SpatialViT)
    deepest = spatial.forward_intermediates(x, indices=[spatial.out_indices[-1]])[0]
    if not isinstance(backbone, hs_backbone.HyperSIGMA):
        return deepest, None
    return deepest, backbone.spectral(x, levels=[backbone.spectral_level])[0]


def is_semisynthetic(dataset: str) -> bool:
    """Whether ``dataset`` is a registered ``semisyn_*`` scene built from a base scene (False for any
    other name, registered or not)."""
    try:
        return hs_data.get_dataset_info(dataset).base is not None
    except ValueError:
        return False


def resolve_options(recipe: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``given``.

    Raises:
        ValueError: ``given`` names an option the recipe does not have (the known ones are listed).
    """
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(
            f"{recipe}: unknown option(s) {unknown}; the recipe's options are {sorted(defaults)}"
        )
    return {**defaults, **given}


class SampleList(Dataset):
    """A list of sample dicts as a dataset."""

    def __init__(self, samples: Iterable[dict[str, Any]]) -> None:
        self.samples = list(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.samples[i]


class TileAccumulator:
    """Collects tile predictions with their top-left ``origin`` and averages them into scene maps.

    Overlapping tiles are averaged; pixels no tile covers are ``fill``.
    """

    def __init__(self) -> None:
        self._tiles: list[tuple[int, int, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self._tiles)

    def add(self, origin: Tensor, values: Tensor) -> None:
        """``origin`` ``(b, 2)`` (row, col); ``values`` ``(b, ..., t_h, t_w)``."""
        if origin.ndim != 2 or origin.shape[1] != 2 or origin.shape[0] != values.shape[0]:
            raise ValueError(
                f"TileAccumulator: expected origins (b, 2) for {values.shape[0]} tiles, "
                f"got {tuple(origin.shape)}"
            )
        arr = values.detach().to("cpu", torch.float64).numpy()
        for (r, c), tile in zip(origin.tolist(), arr):
            self._tiles.append((int(r), int(c), tile))

    def assemble(self, shape: tuple[int, int] | None = None, *, fill: float = np.nan) -> np.ndarray:
        """The averaged map ``(..., h, w)``; ``shape`` defaults to the extent of the tiles."""
        if not self._tiles:
            raise ValueError("TileAccumulator: no tile was added")
        return average_tiles(self._tiles, shape, fill=fill)


@torch.no_grad()
def predict(
    model: TaskModel,
    data: Dataset | DataLoader,
    *,
    batch_size: int = 16,
    device: str | torch.device | None = None,
) -> Evaluator:
    """Run ``model`` (eval mode) over ``data`` and return its filled evaluator (metrics via
    ``compute()``; dense evaluators also keep the stitched maps)."""
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size=batch_size, shuffle=False)
    was_training = model.training
    model.eval()
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    evaluator = model.evaluator()
    try:
        for batch in loader:
            batch = {k: v.to(dev) if isinstance(v, Tensor) else v for k, v in batch.items()}
            evaluator.update(model(batch), batch)
    finally:
        model.train(was_training)
    return evaluator


def split_record(split: Split) -> dict[str, Any]:
    """A pixel split as plain data for ``RecipeResult.split`` (method, seed, parameters, scene shape
    and the flat pixel indices of each part)."""
    return {
        "method": split.method,
        "seed": split.seed,
        "params": split.params,
        "shape": list(split.shape),
        "train": split.train.tolist(),
        "val": split.val.tolist(),
        "test": split.test.tolist(),
    }
