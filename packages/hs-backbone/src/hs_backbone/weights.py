"""Official HyperSIGMA checkpoints: safe loading, key mapping, adaptation, conversion.

The released files (``spat-vit-{base,large,huge}-ultra-checkpoint-1599.pth``, ``spec-vit-...``) are MAE
training checkpoints ``{'model', 'optimizer', 'epoch', 'scaler', 'args'}`` (``args`` an
``argparse.Namespace``; ``shared/fixtures/hypersigma_reference/README.md``). They are read with
``torch.load(weights_only=True)`` and an allow-list holding only ``argparse.Namespace``; nothing else in
them is code. Loading maps their keys to the model, drops the MAE decoder, and adapts or re-initialises
what the task changes; every key that is not copied as it is appears in the returned
:class:`LoadReport` with the reason.

Shape legend: ``c`` bands, ``d`` features, ``p`` patch size, ``n`` tokens, ``t`` spectral tokens,
``h w`` image rows/columns.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import pickle
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from hs_backbone._version import __version__
from hs_backbone.hypersigma import HyperSIGMA
from hs_backbone.layers import resize_pos_embed_1d, resize_pos_embed_2d
from hs_backbone.spatial_vit import SpatialViT
from hs_backbone.spectral_vit import SpectralViT
from hs_backbone.training.state import atomic_write

__all__ = [
    "SAFE_GLOBALS",
    "LoadReport",
    "adapt_state_dict",
    "convert_checkpoint",
    "extract_state_dict",
    "load_checkpoint_file",
    "load_pretrained",
    "read_converted",
    "save_weights",
    "split_official_fusion_state_dict",
]

log = logging.getLogger(__name__)

Adapter = Literal["reinit", "interpolate"]
PathLike = str | os.PathLike

# The only non-tensor, non-builtin type in the released checkpoints (the MAE training arguments).
SAFE_GLOBALS: tuple[type, ...] = (argparse.Namespace,)
FORMAT = "hs_backbone"
FORMAT_VERSION = 1
UPSTREAM = "WHU-Sigma/HyperSIGMA@07e9ea24e3072fcb5c3a92a2bcb8185e43b295b9"

# Keys of the official models that their forward never reads (shared/fixtures README; hypersigma.md §7.2).
_DEAD = re.compile(r"^(classifier1?\.|cls\.|conv_[qkv]\.|conv_features\.|conv\.)")
_DECODER = re.compile(r"^(decoder_|mask_token$)")


@dataclass
class LoadReport:
    """What happened to every key when weights were loaded into a model.

    Attributes:
        loaded: model keys copied from the checkpoint as they are.
        adapted: model key → how the checkpoint tensor was transformed to fit.
        initialised: model key → why it keeps its fresh initialisation.
        dropped: checkpoint key → why it was not used.
        source: where the weights came from.
    """

    loaded: list[str] = field(default_factory=list)
    adapted: dict[str, str] = field(default_factory=dict)
    initialised: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    def merge(self, other: LoadReport, prefix: str = "") -> None:
        """Add ``other``'s entries, prefixing model and checkpoint keys with ``prefix``."""
        self.loaded += [prefix + k for k in other.loaded]
        self.adapted.update({prefix + k: v for k, v in other.adapted.items()})
        self.initialised.update({prefix + k: v for k, v in other.initialised.items()})
        self.dropped.update({prefix + k: v for k, v in other.dropped.items()})

    def summary(self) -> str:
        """Counts plus every non-loaded key grouped by reason."""
        lines = [
            f"loaded {len(self.loaded)}, adapted {len(self.adapted)}, initialised {len(self.initialised)}, "
            f"dropped {len(self.dropped)}" + (f" (from {self.source})" if self.source else "")
        ]
        for title, entries in (
            ("adapted", self.adapted),
            ("initialised", self.initialised),
            ("dropped", self.dropped),
        ):
            by_reason: dict[str, list[str]] = {}
            for key, reason in entries.items():
                by_reason.setdefault(reason, []).append(key)
            for reason, keys in by_reason.items():
                shown = ", ".join(keys[:4]) + (f", ... ({len(keys)} keys)" if len(keys) > 4 else "")
                lines.append(f"  {title}: {shown}: {reason}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------------- reading files
def load_checkpoint_file(path: PathLike, *, extra_safe_globals: Iterable[Any] = ()) -> Any:
    """Read a checkpoint without executing code: ``torch.load(weights_only=True)`` plus an allow-list.

    The allow-list is :data:`SAFE_GLOBALS` (``argparse.Namespace``, for the ``args`` of the released
    MAE checkpoints) plus ``extra_safe_globals``. Large files are memory-mapped, so the optimizer state
    of a training checkpoint is not read into memory unless it is used.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file holds a type outside the allow-list (named in the message).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    allowed = [*SAFE_GLOBALS, *extra_safe_globals]
    with torch.serialization.safe_globals(allowed):
        try:
            try:
                return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as exc:  # legacy (non-zip) files cannot be memory-mapped
                if "mmap" not in str(exc):
                    raise
                return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            found = re.search(r"GLOBAL ([\w.]+)", str(exc))
            what = f"the type {found.group(1)}" if found else "a type"
            raise ValueError(
                f"{path}: refused to unpickle {what}, which is outside the allow-list "
                f"({', '.join(f'{t.__module__}.{t.__qualname__}' for t in allowed)}). If you trust the file, "
                "pass that type in extra_safe_globals=[...]"
            ) from exc


def extract_state_dict(container: Any) -> dict[str, Tensor]:
    """The model weights of a checkpoint container.

    Accepts ``{'model': sd, ...}`` (MAE checkpoints), ``{'state_dict': sd}`` or a state dict itself,
    and strips a leading ``module.`` (DDP) from every key.

    Raises:
        ValueError: no tensor mapping was found.
    """
    sd: Any = container
    if isinstance(container, Mapping):
        for key in ("model", "state_dict"):
            if key in container and isinstance(container[key], Mapping):
                sd = container[key]
                break
    if not isinstance(sd, Mapping) or not sd or not all(isinstance(v, Tensor) for v in sd.values()):
        keys = list(container)[:8] if isinstance(container, Mapping) else type(container).__name__
        raise ValueError(f"expected a state dict or a checkpoint with a 'model' state dict, got keys {keys}")
    return {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}


# ---------------------------------------------------------------------------- adaptation
def _resample_patch_embed(weight: Tensor, shape: torch.Size) -> Tensor:
    """``(d, c0, p0, p0)`` → ``(d, c, p, p)``: linear resampling over bands (end bands kept), bilinear
    (antialiased) over the kernel, rescaled so spatially and spectrally smooth inputs keep their response."""
    w = weight.double()
    d, c0, ph0, pw0 = w.shape
    _, c, ph, pw = shape
    if (ph0, pw0) != (ph, pw):
        w = F.interpolate(w, size=(ph, pw), mode="bilinear", align_corners=False, antialias=True)
        w = w * (ph0 * pw0) / (ph * pw)
    if c0 != c:
        seq = rearrange(w, "d c h w -> (d h w) 1 c")
        if c0 == 1:
            seq = seq.expand(-1, -1, c)
        else:
            seq = F.interpolate(seq, size=c, mode="linear", align_corners=True)
        w = rearrange(seq, "(d h w) 1 c -> d c h w", d=d, h=ph, w=pw) * (c0 / c)
    return w.to(weight.dtype)


def _resample_spat_map(weight: Tensor, new_hw: tuple[int, int], old_hw: tuple[int, int] | None) -> Tensor:
    """``(d, h0·w0)`` → ``(d, h·w)``: bilinear (antialiased) over the pixel grid, rescaled by the
    pixel ratio."""
    n0 = weight.shape[1]
    if old_hw is None:
        side = math.isqrt(n0)
        if side * side != n0:
            raise ValueError(
                f"spat_map: the checkpoint maps {n0} pixels, not a square image; cannot resample it, use "
                "size_adapter='reinit'"
            )
        old_hw = (side, side)
    grid = rearrange(weight.double(), "d (h w) -> d 1 h w", h=old_hw[0], w=old_hw[1])
    grid = F.interpolate(grid, size=new_hw, mode="bilinear", align_corners=False, antialias=True)
    scale = (old_hw[0] * old_hw[1]) / (new_hw[0] * new_hw[1])
    return (rearrange(grid, "d 1 h w -> d (h w)") * scale).to(weight.dtype)


def _map_key(key: str, model: nn.Module) -> str:
    if isinstance(model, SpectralViT):
        m = re.fullmatch(r"l(\d+)\.weight", key)
        if m:
            return f"level_proj.{int(m.group(1)) - 1}.weight"
    return key


def _drop_reason(key: str, model: nn.Module) -> str:
    name = type(model).__name__
    if _DECODER.match(key):
        return "MAE decoder (pretraining only)"
    if key.startswith("norm.") and getattr(model, "norm", None) is None:
        return (
            "final encoder LayerNorm: applied by the MAE encoder, never applied by upstream's fine-tuning "
            "encoders; build the model with final_norm=True to load and use it"
        )
    if key == "pos_embed":
        return "the model has no position embedding (use_abs_pos_emb=False)"
    if _DEAD.match(key):
        return "dead in upstream's forward (never read by the official model)"
    if key.startswith("spat_output_maps") or (key.startswith("spat_map") and isinstance(model, SpatialViT)):
        return f"spectral-tokeniser weights, not part of {name}"
    if key.startswith("patch_embed.") and isinstance(model, SpectralViT):
        return f"spatial patch embedding, not part of {name}"
    if re.match(r"^blocks\.\d+\.", key):
        return f"block beyond the model's depth ({getattr(model, 'depth', '?')})"
    if re.match(r"^(fpn\d|level_proj\.)", key):
        return "task-specific layer of another configuration (not in this model)"
    return f"not a parameter of {name}"


def _init_reason(key: str, model: nn.Module) -> str:
    offset_init = getattr(model, "offset_init", "detr")
    if ".attn.sampling_offsets." in key:
        return (
            f"SSA offsets are not in pretraining checkpoints (the MAEs use global attention); "
            f"initialised with offset_init={offset_init!r}"
        )
    if key.startswith("fpn") or key.startswith("level_proj."):
        return "task-specific layer (fresh initialisation)"
    if key == "pos_embed":
        return "not in the checkpoint (fresh trunc_normal(0.02) initialisation)"
    return "not in the checkpoint (fresh initialisation)"


def _mismatch(key: str, got: torch.Size, want: torch.Size, model: nn.Module) -> ValueError:
    hint = ""
    if (len(got) >= 1 and len(want) >= 1 and got[-1] != want[-1]) or (len(got) == len(want) == 1):
        hint = (
            f"; the checkpoint was trained with a different embedding size: build the matching size "
            f"(embed_dim {getattr(model, 'embed_dim', '?')} here)"
        )
    return ValueError(
        f"{key}: checkpoint tensor {tuple(got)} does not fit the model's {tuple(want)}{hint}. Only the patch "
        "embedding (band count, patch size), spat_map (input size) and position embeddings are adapted"
    )


def adapt_state_dict(
    model: SpatialViT | SpectralViT,
    state_dict: Mapping[str, Tensor],
    *,
    band_adapter: Adapter = "reinit",
    size_adapter: Adapter = "reinit",
    pos_embed_adapter: Adapter = "interpolate",
    upstream_spectral_pos_embed: bool = False,
    source_img_size: tuple[int, int] | None = None,
    source: str | None = None,
) -> tuple[dict[str, Tensor], LoadReport]:
    """Map a (pretraining or fine-tuning) checkpoint of one branch onto ``model``.

    Args:
        model: the branch to load into.
        state_dict: checkpoint weights with upstream's (or this package's) key names.
        band_adapter: ``patch_embed.proj`` when the band count or patch size differs: ``"reinit"``
            (upstream: always re-initialised) or ``"interpolate"`` (resample over bands and kernel
            pixels, rescaled so smooth inputs keep their response).
        size_adapter: ``spat_map`` when the input size differs: ``"reinit"`` (upstream) or
            ``"interpolate"`` (resample its ``h0 × w0`` pixel grid).
        pos_embed_adapter: ``pos_embed`` when the token count differs: ``"interpolate"`` (bicubic over
            the 2-D grid, or along the band tokens for the spectral branch) or ``"reinit"``.
        upstream_spectral_pos_embed: reproduce upstream's spectral ``init_weights``, which drops token 0
            and resamples the other ``t − 1`` tokens to ``t`` even when the sizes agree.
        source_img_size: the checkpoint's input size, for resampling a non-square ``spat_map``.
        source: a label for the report.

    Returns:
        The state dict to load (model key names, model dtypes) and the report.

    Raises:
        ValueError: a tensor that cannot be adapted does not fit (the message names it and why).
    """
    for name, choice in (("band_adapter", band_adapter), ("size_adapter", size_adapter)):
        if choice not in ("reinit", "interpolate"):
            raise ValueError(f"{name}: expected 'reinit' or 'interpolate', got {choice!r}")
    if pos_embed_adapter not in ("reinit", "interpolate"):
        raise ValueError(f"pos_embed_adapter: expected 'reinit' or 'interpolate', got {pos_embed_adapter!r}")
    target = model.state_dict()
    report = LoadReport(source=source)
    out: dict[str, Tensor] = {}
    skip_bias: set[str] = set()
    for ckpt_key, tensor in state_dict.items():
        key = _map_key(ckpt_key, model)
        if key not in target:
            report.dropped[ckpt_key] = _drop_reason(key, model)
            continue
        want = target[key]
        value = tensor.detach()
        if key == "pos_embed" and isinstance(model, SpectralViT) and upstream_spectral_pos_embed:
            value = resize_pos_embed_1d(value[:, 1:], model.num_tokens)
            report.adapted[key] = (
                f"upstream spectral rule: token 0 dropped, {tensor.shape[1] - 1} → {model.num_tokens} "
                "tokens (bicubic)"
            )
        elif value.shape == want.shape:
            report.loaded.append(key)
        elif key == "pos_embed" and value.ndim == 3 and value.shape[-1] == want.shape[-1]:
            if pos_embed_adapter == "reinit":
                report.initialised[key] = (
                    f"checkpoint has {value.shape[1]} positions, the model {want.shape[1]}; "
                    "pos_embed_adapter='reinit'"
                )
                continue
            if isinstance(model, SpatialViT):
                value = resize_pos_embed_2d(value, model.grid_size)
                report.adapted[key] = f"bicubic resampling of the position grid to {model.grid_size}"
            else:
                value = resize_pos_embed_1d(value, model.num_tokens)
                report.adapted[key] = (
                    f"bicubic resampling of {tensor.shape[1]} → {model.num_tokens} band-token positions "
                    "(all tokens kept; no upstream off-by-one)"
                )
        elif key == "patch_embed.proj.weight" and value.ndim == 4 and value.shape[0] == want.shape[0]:
            what = f"checkpoint {tuple(value.shape[1:])} (bands, p, p), model {tuple(want.shape[1:])}"
            if band_adapter == "reinit":
                report.initialised[key] = f"band count or patch size differs ({what}); band_adapter='reinit'"
                skip_bias.add("patch_embed.proj.bias")
                continue
            value = _resample_patch_embed(value, want.shape)
            report.adapted[key] = f"resampled over bands and kernel pixels ({what})"
        elif key == "spat_map.weight" and value.ndim == 2 and value.shape[0] == want.shape[0]:
            what = f"checkpoint maps {value.shape[1]} pixels, the model {want.shape[1]}"
            if size_adapter == "reinit":
                report.initialised[key] = f"input size differs ({what}); size_adapter='reinit'"
                skip_bias.add("spat_map.bias")
                continue
            value = _resample_spat_map(value, model.img_size, source_img_size)
            report.adapted[key] = f"resampled over the pixel grid ({what})"
        else:
            raise _mismatch(ckpt_key, value.shape, want.shape, model)
        out[key] = value.to(dtype=want.dtype)
    for key in skip_bias:
        if key in out:
            del out[key]
            report.loaded.remove(key)
            report.initialised[key] = "re-initialised together with its weight"
    for key in target:
        if key not in out and key not in report.initialised:
            report.initialised[key] = _init_reason(key, model)
    return out, report


def _load_branch(
    model: SpatialViT | SpectralViT, state_dict: Mapping[str, Tensor], **opts: Any
) -> LoadReport:
    sd, report = adapt_state_dict(model, state_dict, **opts)
    result = model.load_state_dict(sd, strict=False)
    # Internal consistency: everything not loaded was reported, nothing unexpected reached the model.
    assert not result.unexpected_keys, result.unexpected_keys
    assert set(result.missing_keys) == set(report.initialised), (result.missing_keys, report.initialised)
    if any(".attn.sampling_offsets." in k for k in report.initialised):
        model.reset_offsets()  # offsets follow the model's chosen scheme, not a stale draw
    return report


# ---------------------------------------------------------------------------- the fusion classifier
def split_official_fusion_state_dict(
    state_dict: Mapping[str, Tensor],
) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, str]]:
    """Split the state dict of upstream's classifier (``ss_fusion_cls.SSFusionFramework``).

    Maps ``spat_encoder.*`` → ``spatial.*``, ``spec_encoder.*`` → ``spectral.*`` (``l1`` →
    ``level_proj.0``), and, because upstream pairs ``DR_j``/``fc_spec_j`` with its deepest-first
    spatial outputs, ``DR{j}`` → ``sem.proj.{L-j}`` and ``fc_spec{j}`` → ``sem.gates.{L-j}``.

    Returns:
        ``(backbone, head, dropped)``: :class:`HyperSIGMA` keys; the MLP head's keys (``classifier.*``,
        for ``hs-tasks``); dropped dead keys with reasons.
    """
    levels = len({k.split(".")[0] for k in state_dict if re.match(r"^DR\d+\.", k)})
    backbone: dict[str, Tensor] = {}
    head: dict[str, Tensor] = {}
    dropped: dict[str, str] = {}
    for key, value in state_dict.items():
        key = key[7:] if key.startswith("module.") else key
        if key.startswith("spat_encoder."):
            sub = key[len("spat_encoder.") :]
            if _DEAD.match(sub) or sub.startswith("norm."):
                dropped[key] = "dead in upstream's forward (never read by the official model)"
            else:
                backbone["spatial." + sub] = value
        elif key.startswith("spec_encoder."):
            sub = key[len("spec_encoder.") :]
            m = re.fullmatch(r"l(\d+)\.weight", sub)
            if m:
                backbone[f"spectral.level_proj.{int(m.group(1)) - 1}.weight"] = value
            elif _DEAD.match(sub) or sub.startswith("norm."):
                dropped[key] = "dead in upstream's forward (never read by the official model)"
            else:
                backbone["spectral." + sub] = value
        elif m := re.fullmatch(r"DR(\d+)\.weight", key):
            backbone[f"sem.proj.{levels - int(m.group(1))}.weight"] = value
        elif m := re.fullmatch(r"fc_spec(\d+)\.(\d+)\.weight", key):
            backbone[f"sem.gates.{levels - int(m.group(1))}.{m.group(2)}.weight"] = value
        elif key.startswith("classifier."):
            head[key] = value
        else:
            dropped[key] = "dead in upstream's forward (never read by the official model)"
    return backbone, head, dropped


# ---------------------------------------------------------------------------- our own format
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_SIZE_BY_DIM = {768: "base", 1024: "large", 1280: "huge"}


def _describe(sd: Mapping[str, Tensor], args: Mapping[str, Any]) -> dict[str, Any]:
    """Architecture of a branch from its weights (heads from the registry's size table)."""
    from hs_backbone._sizes import SIZES

    depth = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    if "patch_embed.proj.weight" in sd:
        d, c, p, _ = sd["patch_embed.proj.weight"].shape
        family = "spatial_vit"
        n = sd["pos_embed"].shape[1] if "pos_embed" in sd else None
        side = math.isqrt(n) if n else None
        img = int(args.get("image_size") or (side * p if side else 64))
        arch: dict[str, Any] = {"in_chans": int(c), "patch_size": int(p), "img_size": img}
        bands = int(c)
    elif "spat_map.weight" in sd:
        d, hw = sd["spat_map.weight"].shape
        family = "spectral_vit"
        side = math.isqrt(hw)
        t = sd["pos_embed"].shape[1] if "pos_embed" in sd else int(args.get("num_tokens", 100))
        arch = {"num_tokens": int(t), "img_size": int(args.get("image_size") or side)}
        bands = int(args.get("in_chans", args.get("in_channels", t)))
    else:
        raise ValueError(
            "cannot tell the branch: neither patch_embed.proj.weight nor spat_map.weight present"
        )
    size = _SIZE_BY_DIM.get(int(d))
    heads = SIZES[size].num_heads if size else None
    arch.update({"embed_dim": int(d), "depth": depth, "num_heads": heads})
    if size:
        arch.update({"interval": SIZES[size].interval, "out_indices": list(SIZES[size].out_indices)})
    return {
        "family": family,
        "size": size,
        "name": f"{family}_{size}" if size else None,
        "arch": arch,
        "bands": bands,
    }


def convert_checkpoint(
    src: PathLike,
    dst: PathLike,
    *,
    bands_note: str | None = None,
    wavelengths_nm: list[float] | None = None,
    extra_safe_globals: Iterable[Any] = (),
) -> dict[str, Any]:
    """Convert an official MAE checkpoint to this package's format (the encoder only).

    Writes ``dst`` atomically: ``.safetensors`` (tensors + the config as JSON metadata) or, for any
    other suffix, a plain ``torch.save`` dict ``{'state_dict', 'config'}`` loadable with
    ``weights_only=True``. The MAE decoder and the optimizer state are dropped; shapes stay as trained
    (adaptation happens when loading into a model).

    Args:
        src: the released ``.pth`` (or any state dict of one branch).
        dst: output path.
        bands_note: free text on the bands the weights were trained on (recorded in the config).
        wavelengths_nm: band centres, when known.
        extra_safe_globals: more allowed types for :func:`load_checkpoint_file`.

    Returns:
        The config written: ``family``, ``size``, ``name`` (registry name), ``arch`` (constructor
        arguments of the pretraining shapes), ``bands`` and ``provenance``.
    """
    src, dst = Path(src), Path(dst)
    container = load_checkpoint_file(src, extra_safe_globals=extra_safe_globals)
    sd = extract_state_dict(container)
    args: dict[str, Any] = {}
    raw_args = container.get("args") if isinstance(container, Mapping) else None
    if isinstance(raw_args, argparse.Namespace):
        for k, v in vars(raw_args).items():
            path_like = k.endswith(("_path", "_dir", "_url")) or k in ("resume", "device")
            if not path_like and (isinstance(v, (int, float, bool)) or v is None or k == "model"):
                args[k] = v
    encoder = {k: v.contiguous() for k, v in sd.items() if not _DECODER.match(k)}
    dropped = sorted(k for k in sd if _DECODER.match(k))
    info = _describe(encoder, args)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "family": info["family"],
        "size": info["size"],
        "name": info["name"],
        "arch": info["arch"],
        "bands": {"count": info["bands"], "wavelengths_nm": wavelengths_nm, "note": bands_note},
        "provenance": {
            "source_file": src.name,
            "source_sha256": _sha256(src),
            "epoch": container.get("epoch") if isinstance(container, Mapping) else None,
            "training_args": args,
            "dropped": {"MAE decoder (pretraining only)": dropped} if dropped else {},
            "upstream": UPSTREAM,
            "converted_with": f"hs-backbone {__version__}",
        },
    }
    if dst.suffix == ".safetensors":
        from safetensors.torch import save_file

        meta = {"format": FORMAT, "config": json.dumps(config)}
        atomic_write(dst, lambda tmp: save_file(encoder, tmp, metadata=meta))
    else:
        atomic_write(dst, lambda tmp: torch.save({"state_dict": encoder, "config": config}, tmp))
    return config


def read_converted(path: PathLike) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read a file written by :func:`convert_checkpoint` (or :func:`save_weights`): ``(state_dict, config)``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not in this package's format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: weights file not found")
    if path.suffix == ".safetensors":
        from safetensors import safe_open
        from safetensors.torch import load_file

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not an {FORMAT} safetensors file (no 'format' metadata)")
        return load_file(str(path)), json.loads(meta["config"])
    obj = load_checkpoint_file(path)
    if not (isinstance(obj, Mapping) and isinstance(obj.get("config"), Mapping) and "state_dict" in obj):
        raise ValueError(f"{path}: not an {FORMAT} file (expected {{'state_dict', 'config'}})")
    if obj["config"].get("format") != FORMAT:
        raise ValueError(f"{path}: config has format {obj['config'].get('format')!r}, expected {FORMAT!r}")
    return dict(obj["state_dict"]), dict(obj["config"])


def save_weights(model: nn.Module, path: PathLike, *, config: Mapping[str, Any] | None = None) -> None:
    """Save a model's weights in this package's format (atomic; safetensors by suffix)."""
    path = Path(path)
    cfg = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": type(model).__name__,
        **(config or {}),
    }
    sd = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        meta = {"format": FORMAT, "config": json.dumps(cfg)}
        atomic_write(path, lambda tmp: save_file(sd, tmp, metadata=meta))
    else:
        atomic_write(path, lambda tmp: torch.save({"state_dict": sd, "config": cfg}, tmp))


# ---------------------------------------------------------------------------- entry point
def _read_any(
    source: PathLike | Mapping[str, Tensor], **opts: Any
) -> tuple[dict[str, Tensor], dict[str, Any], str]:
    if isinstance(source, Mapping):
        return extract_state_dict(source), {}, "state dict"
    path = Path(source)
    if path.suffix == ".safetensors":
        sd, config = read_converted(path)
        return sd, config, str(path)
    container = load_checkpoint_file(path, extra_safe_globals=opts.get("extra_safe_globals", ()))
    if (
        isinstance(container, Mapping)
        and isinstance(container.get("config"), Mapping)
        and container["config"].get("format") == FORMAT
    ):
        return dict(container["state_dict"]), dict(container["config"]), str(path)
    return extract_state_dict(container), {}, str(path)


def load_pretrained(
    model: nn.Module,
    source: PathLike | Mapping[str, Any],
    *,
    band_adapter: Adapter = "reinit",
    size_adapter: Adapter = "reinit",
    pos_embed_adapter: Adapter = "interpolate",
    upstream_spectral_pos_embed: bool = False,
    extra_safe_globals: Iterable[Any] = (),
) -> LoadReport:
    """Load weights into a :class:`SpatialViT`, :class:`SpectralViT` or :class:`HyperSIGMA`.

    ``source`` may be an official checkpoint, a file of this package's format, a state dict, or for
    :class:`HyperSIGMA` a mapping ``{'spatial': ..., 'spectral': ...}`` of branch sources (each of the
    previous kinds), a converted whole-model file, or upstream's fine-tuned classifier state dict
    (``spat_encoder.*``/``spec_encoder.*``; its MLP head is reported as dropped, since heads live in
    ``hs-tasks``). Adapter options: see :func:`adapt_state_dict`. The report is also logged.

    Returns:
        The :class:`LoadReport` (also stored as ``model.load_report``).
    """
    opts: dict[str, Any] = {
        "band_adapter": band_adapter,
        "size_adapter": size_adapter,
        "pos_embed_adapter": pos_embed_adapter,
        "upstream_spectral_pos_embed": upstream_spectral_pos_embed,
    }
    report = _load_any(model, source, opts, extra_safe_globals)
    # Keys that keep a fresh initialisation or were transformed change what the model computes: say so
    # loudly (WARNING reaches stderr even without logging configured); a clean load is INFO.
    level = logging.WARNING if (report.initialised or report.adapted) else logging.INFO
    log.log(level, "hs-backbone: loaded weights into %s: %s", type(model).__name__, report.summary())
    model.load_report = report  # type: ignore[assignment]
    return report


def _load_any(model: nn.Module, source: Any, opts: dict[str, Any], safe: Iterable[Any]) -> LoadReport:
    if isinstance(model, HyperSIGMA):
        return _load_hypersigma(model, source, opts, safe)
    if isinstance(model, (SpatialViT, SpectralViT)):
        sd, config, label = _read_any(source, extra_safe_globals=safe)
        src_img = config.get("arch", {}).get("img_size")
        branch_opts = dict(opts)
        if isinstance(model, SpectralViT) and src_img:
            branch_opts["source_img_size"] = (
                (src_img, src_img) if isinstance(src_img, int) else tuple(src_img)
            )
        return _load_branch(model, sd, source=label, **branch_opts)
    raise ValueError(f"model: expected a SpatialViT, SpectralViT or HyperSIGMA, got {type(model).__name__}")


def _load_hypersigma(
    model: HyperSIGMA, source: PathLike | Mapping[str, Any], opts: dict[str, Any], safe: Iterable[Any]
) -> LoadReport:
    if isinstance(source, Mapping) and set(source) <= {"spatial", "spectral"} and source:
        report = LoadReport(source="per-branch sources")
        for branch in ("spatial", "spectral"):
            if branch in source:
                sub = _load_any(getattr(model, branch), source[branch], opts, safe)
                report.merge(sub, prefix=f"{branch}.")
            else:
                for key in getattr(model, branch).state_dict():
                    report.initialised[f"{branch}.{key}"] = f"no {branch} checkpoint given"
        for key in model.sem.state_dict():
            report.initialised[f"sem.{key}"] = "task-specific layer (fresh initialisation)"
        return report
    sd, _, label = _read_any(source, extra_safe_globals=safe)
    dropped: dict[str, str] = {}
    if any(k.startswith("spat_encoder.") for k in sd):
        sd, head, dropped = split_official_fusion_state_dict(sd)
        dropped.update({k: "classification head (belongs to hs-tasks)" for k in head})
    if not any(k.startswith(("spatial.", "spectral.")) for k in sd):
        raise ValueError(
            f"{label}: holds one branch's weights, not a whole HyperSIGMA; pass "
            "{'spatial': <spatial checkpoint>, 'spectral': <spectral checkpoint>}"
        )
    report = LoadReport(source=label, dropped=dropped)
    for branch in ("spatial", "spectral"):
        part = {k[len(branch) + 1 :]: v for k, v in sd.items() if k.startswith(branch + ".")}
        report.merge(_load_branch(getattr(model, branch), part, **opts), prefix=f"{branch}.")
    sem_sd = {k[4:]: v for k, v in sd.items() if k.startswith("sem.")}
    target = model.sem.state_dict()
    for key, value in sem_sd.items():
        if key not in target:
            report.dropped["sem." + key] = "not a parameter of this SEM configuration"
        elif value.shape != target[key].shape:
            raise _mismatch("sem." + key, value.shape, target[key].shape, model.sem)
        else:
            report.loaded.append("sem." + key)
    model.sem.load_state_dict({k: v for k, v in sem_sd.items() if k in target}, strict=False)
    for key in target:
        if key not in sem_sd:
            report.initialised["sem." + key] = "not in the checkpoint (fresh initialisation)"
    for key in [k for k in sd if not k.startswith(("spatial.", "spectral.", "sem."))]:
        report.dropped[key] = "not a parameter of HyperSIGMA"
    return report
