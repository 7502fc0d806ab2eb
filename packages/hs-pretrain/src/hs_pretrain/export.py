"""Export a pretrained MAE's encoder in the format hs-backbone loads, and build a backbone from it.

:func:`export_encoder` writes hs-backbone's own weights format (``{'state_dict', 'config'}`` ``.pt``
or ``.safetensors``, the format of :func:`hs_backbone.convert_checkpoint`): the encoder only, under
upstream's key names (``patch_embed.proj.*`` or ``spat_map.*``, ``pos_embed``, ``blocks.*``,
``norm.*``), with a config recording the architecture, the bands, the backbone to build and the
provenance. :func:`export_official` writes upstream's container (``{'model', 'epoch', 'args'}``, every
MAE key, decoder included) for tools that expect the released layout. Both load with
``hs_backbone.create_backbone(name, pretrained=path)``; :func:`create_backbone_from_export` picks the
matching registered backbone and sizes from the config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from hs_backbone import create_backbone, read_converted
from hs_backbone.training import atomic_save, atomic_write, load_checkpoint
from hs_pretrain._version import __version__
from hs_pretrain.mae import MAE, to_official_keys
from hs_pretrain.variants import MAE_SIZES, create_mae, mae_family

__all__ = [
    "backbone_recipe",
    "create_backbone_from_export",
    "encoder_state_dict",
    "export_encoder",
    "export_official",
    "load_mae",
]

PathLike = str | os.PathLike


def encoder_state_dict(mae_state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The encoder's weights of an MAE state dict, under upstream's names (``encoder.`` removed)."""
    return {
        k[len("encoder.") :]: v.detach().contiguous()
        for k, v in mae_state.items()
        if k.startswith("encoder.")
    }


def _taps(depth: int) -> list[int]:
    taps = [depth // 3 - 1, depth // 2 - 1, 2 * depth // 3 - 1, depth - 1]
    if len(set(taps)) < 4 or min(taps) < 0:
        return list(range(max(0, depth - 4), depth))
    return taps


def backbone_recipe(name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The registered hs-backbone name and overrides that rebuild this MAE's encoder for fine-tuning.

    For the released sizes (and ``test``) it is the registered backbone of that size with the
    pretraining input shapes; other sizes (``tiny``) override the width, depth and heads and use a
    global-attention block every third block with four taps spread over the depth.
    """
    family, size = mae_family(name)
    branch = "spatial_vit" if family == "spatial_mae" else "spectral_vit"
    shape: dict[str, Any] = {"img_size": _plain(kwargs["img_size"])}
    if branch == "spatial_vit":
        shape |= {"in_chans": kwargs["in_chans"], "patch_size": kwargs["patch_size"]}
    else:
        shape |= {"num_tokens": kwargs["num_tokens"], "in_chans": kwargs["in_chans"]}
    backbone_size = MAE_SIZES[size].backbone_size
    sizes = {k: kwargs[k] for k in ("embed_dim", "depth", "num_heads")}
    default = MAE_SIZES[size]
    if backbone_size is not None and sizes == {
        "embed_dim": default.embed_dim,
        "depth": default.depth,
        "num_heads": default.num_heads,
    }:
        registered = f"test_{branch}" if backbone_size == "test" else f"{branch}_{backbone_size}"
        return {"name": registered, "overrides": shape}
    depth = int(kwargs["depth"])
    return {
        "name": f"{branch}_base",
        "overrides": {**shape, **sizes, "interval": 3 if depth >= 3 else 1, "out_indices": _taps(depth)},
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _resolve(source: MAE | PathLike | Mapping[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """``(MAE state dict, run info)`` from a model, a training checkpoint path or a loaded checkpoint."""
    if isinstance(source, MAE):
        info = dict(getattr(source, "mae_config", {}) or {})
        if not info:
            raise ValueError("export: this MAE was not built by hs_pretrain.create_mae; pass a checkpoint")
        return {k: v.detach() for k, v in source.state_dict().items()}, {"pretrain": info}
    state = load_checkpoint(source) if not isinstance(source, Mapping) else dict(source)
    extra = state.get("config", {}).get("extra", {}) if isinstance(state.get("config"), Mapping) else {}
    if "pretrain" not in extra or "model" not in state:
        raise ValueError(
            f"{source if not isinstance(source, Mapping) else 'checkpoint'}: not an hs-pretrain training "
            "checkpoint (no model configuration in config.extra.pretrain)"
        )
    info = dict(extra)
    info["epoch"] = state.get("trainer", {}).get("epoch")
    info["global_step"] = state.get("trainer", {}).get("global_step")
    info["source_file"] = None if isinstance(source, Mapping) else str(source)
    return dict(state["model"]), info


def export_encoder(
    source: MAE | PathLike | Mapping[str, Any],
    dst: PathLike,
    *,
    bands_note: str | None = None,
    wavelengths_nm: list[float] | None = None,
) -> dict[str, Any]:
    """Write the encoder of a trained MAE in hs-backbone's format (atomically).

    Args:
        source: an MAE built by :func:`hs_pretrain.create_mae`, an hs-pretrain training checkpoint
            (``last.pt``) or such a checkpoint already loaded.
        dst: output path (``.safetensors`` or any other suffix for a ``torch.save`` dict).
        bands_note: free text on the bands the encoder was trained on.
        wavelengths_nm: band centres, when known.

    Returns:
        The config written (``family``, ``size``, ``name``, ``arch``, ``backbone``, ``bands``,
        ``provenance``).
    """
    mae_state, info = _resolve(source)
    run = info["pretrain"]
    name, kwargs = run["model"], run["kwargs"]
    family, size = mae_family(name)
    encoder = encoder_state_dict(mae_state)
    recipe = backbone_recipe(name, kwargs)
    arch = {
        k: _plain(kwargs[k])
        for k in ("img_size", "in_chans", "embed_dim", "depth", "num_heads")
        if k in kwargs
    }
    arch |= {k: kwargs[k] for k in ("patch_size", "num_tokens") if k in kwargs}
    config = {
        "format": "hs_backbone",
        "format_version": 1,
        "family": "spatial_vit" if family == "spatial_mae" else "spectral_vit",
        "size": MAE_SIZES[size].backbone_size,
        "name": recipe["name"],
        "arch": arch,
        "backbone": recipe,
        "bands": {"count": kwargs.get("in_chans"), "wavelengths_nm": wavelengths_nm, "note": bands_note},
        "provenance": {
            "trained_with": f"hs-pretrain {__version__}",
            "mae": name,
            "mae_kwargs": {k: _plain(v) for k, v in kwargs.items() if k not in ("dtype", "device")},
            "upstream_mode": bool(run.get("upstream", False)),
            "epoch": info.get("epoch"),
            "global_step": info.get("global_step"),
            "source_file": Path(info["source_file"]).name if info.get("source_file") else None,
            "training": info.get("training", {}),
        },
    }
    dst = Path(dst)
    if dst.suffix == ".safetensors":
        import json

        from safetensors.torch import save_file

        meta = {"format": "hs_backbone", "config": json.dumps(config)}
        atomic_write(dst, lambda tmp: save_file(encoder, tmp, metadata=meta))
    else:
        atomic_save({"state_dict": encoder, "config": config}, dst)
    return config


def export_official(source: MAE | PathLike | Mapping[str, Any], dst: PathLike) -> None:
    """Write the whole MAE in upstream's container layout: ``{'model', 'epoch', 'args'}``, upstream keys."""
    mae_state, info = _resolve(source)
    run = info["pretrain"]
    args = {
        "model": run["model"],
        **{k: _plain(v) for k, v in run["kwargs"].items() if k not in ("dtype", "device")},
    }
    atomic_save({"model": to_official_keys(mae_state), "epoch": info.get("epoch"), "args": args}, dst)


def create_backbone_from_export(path: PathLike, **overrides: Any) -> nn.Module:
    """Build the registered hs-backbone encoder an export was made for and load it.

    Args:
        path: a file written by :func:`export_encoder`.
        **overrides: task settings (``in_chans``, ``img_size``, ``patch_size``, ``num_tokens`` ...),
            applied over the export's pretraining shapes; the pretrained weights are adapted by
            :func:`hs_backbone.load_pretrained`.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        _, config = read_converted(path)
    else:
        state = load_checkpoint(path)
        config = state.get("config", {})
    recipe = config.get("backbone") if isinstance(config, Mapping) else None
    if not recipe:
        raise ValueError(f"{path}: not an hs-pretrain export (its config has no 'backbone' recipe)")
    kwargs = {**recipe["overrides"], **overrides}
    return create_backbone(recipe["name"], pretrained=str(path), **kwargs)


def load_mae(source: PathLike | Mapping[str, Any]) -> MAE:
    """Rebuild the MAE of an hs-pretrain training checkpoint and load its weights.

    Raises:
        ValueError: not an hs-pretrain checkpoint.
    """
    mae_state, info = _resolve(source)
    run = info["pretrain"]
    kwargs = dict(run["kwargs"])
    if isinstance(kwargs.get("dtype"), str):
        kwargs["dtype"] = getattr(torch, kwargs["dtype"])
    model = create_mae(run["model"], upstream=bool(run.get("upstream", False)), **kwargs)
    model.load_state_dict(mae_state)
    return model
