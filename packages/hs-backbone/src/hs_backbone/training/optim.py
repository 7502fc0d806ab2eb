"""Optimiser parameter groups with layer-wise learning-rate decay, and the warm-up + cosine schedule.

Upstream HyperSIGMA builds its fine-tuning optimiser with ``LayerDecayOptimizerConstructor_ViT``, which
recognises only parameter names starting with ``backbone.``; HyperSIGMA's models name their encoders
``spat_encoder`` / ``spec_encoder``, so every parameter lands in the last layer and the decay is a no-op
(``shared/reference/hypersigma.md`` §4.0). Here the layer of a parameter is read from a
``blocks.<i>.`` component anywhere in its name, so the decay applies to both branches of any model
built from hs-backbone encoders, whatever prefix a task model gives them.

Layer ids: embeddings (``patch_embed``, ``pos_embed``, ``spat_map``, ...) are layer 0, block ``i`` is
layer ``i + 1``, everything else (final norms, projections, heads) is layer ``num_layers + 1``. The
learning-rate scale of layer ``l`` is ``layer_decay ** (num_layers + 1 - l)`` (BEiT convention), so the
head trains at the base rate and the embeddings at ``layer_decay ** (num_layers + 1)`` of it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "EMBEDDING_NAMES",
    "WarmupCosine",
    "build_adamw",
    "layer_id",
    "param_groups",
]

#: Name components that mark an embedding parameter (layer 0).
EMBEDDING_NAMES: tuple[str, ...] = ("patch_embed", "pos_embed", "spat_map", "cls_token", "mask_token")

_BLOCK = re.compile(r"(?:^|\.)blocks\.(\d+)\.")


def layer_id(name: str, num_layers: int, embedding_names: Iterable[str] = EMBEDDING_NAMES) -> int:
    """Depth of parameter ``name``: 0 for embeddings, ``i + 1`` in block ``i``, else ``num_layers + 1``."""
    match = _BLOCK.search(name)
    if match:
        block = int(match.group(1))
        if block >= num_layers:
            raise ValueError(
                f"num_layers: parameter {name!r} sits in block {block}, but num_layers={num_layers}"
            )
        return block + 1
    parts = name.split(".")
    if any(part in embedding_names for part in parts):
        return 0
    return num_layers + 1


def _no_weight_decay_names(model: nn.Module) -> set[str]:
    """Names listed by ``no_weight_decay()`` methods of the model and its submodules, fully qualified."""
    names: set[str] = set()
    for prefix, module in model.named_modules():
        method = getattr(module, "no_weight_decay", None)
        if callable(method):
            for short in method():
                names.add(f"{prefix}.{short}" if prefix else short)
    return names


def param_groups(
    model: nn.Module,
    *,
    weight_decay: float,
    layer_decay: float = 1.0,
    num_layers: int | None = None,
    embedding_names: Iterable[str] = EMBEDDING_NAMES,
) -> list[dict]:
    """Parameter groups for AdamW: one per (layer, decay or not), each with an ``lr_scale``.

    No weight decay for 1-D parameters (biases, norms), and for the names the model lists in
    ``no_weight_decay()`` (position embeddings). Frozen parameters are left out.

    Args:
        model: any module; blocks are found by their ``blocks.<i>.`` name component.
        weight_decay: decay for the decayed groups.
        layer_decay: per-layer learning-rate decay in (0, 1]; 1 disables it.
        num_layers: encoder depth; default: one more than the largest block index found.

    Returns:
        Groups with keys ``params``, ``names``, ``weight_decay``, ``lr_scale``, ``layer_id``.
    """
    if not 0.0 < layer_decay <= 1.0:
        raise ValueError(f"layer_decay: expected a value in (0, 1], got {layer_decay}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if num_layers is None:
        blocks = [int(m.group(1)) for n, _ in named if (m := _BLOCK.search(n))]
        num_layers = max(blocks) + 1 if blocks else 0
    skip = _no_weight_decay_names(model)
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in named:
        lid = layer_id(name, num_layers, embedding_names)
        decay = param.ndim > 1 and name not in skip and not name.endswith(".bias")
        key = (lid, decay)
        if key not in groups:
            groups[key] = {
                "params": [],
                "names": [],
                "weight_decay": weight_decay if decay else 0.0,
                "lr_scale": layer_decay ** (num_layers + 1 - lid),
                "layer_id": lid,
            }
        groups[key]["params"].append(param)
        groups[key]["names"].append(name)
    return [groups[k] for k in sorted(groups)]


def build_adamw(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float = 0.05,
    layer_decay: float = 1.0,
    betas: tuple[float, float] = (0.9, 0.999),
    num_layers: int | None = None,
) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups`; each group's ``lr`` starts at ``lr · lr_scale``."""
    groups = param_groups(model, weight_decay=weight_decay, layer_decay=layer_decay, num_layers=num_layers)
    for group in groups:
        group["lr"] = lr * group["lr_scale"]
        group["base_lr"] = lr
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


@dataclass(frozen=True)
class WarmupCosine:
    """Linear warm-up then half-cosine decay, stepped once per optimiser step (not per epoch).

    ``lr(s) = base · (s + 1) / warmup`` for ``s < warmup`` (no zero-rate first step), then
    ``min + (base − min) · (1 + cos(π · (s − warmup) / (total − warmup))) / 2``, and ``min`` after
    ``total``. :meth:`apply` writes ``lr(s) · lr_scale`` into every group, so layer decay survives.
    """

    base_lr: float
    total_steps: int
    warmup_steps: int = 0
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        if self.total_steps < 1:
            raise ValueError(f"total_steps: expected >= 1, got {self.total_steps}")
        if not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(
                f"warmup_steps: expected 0..total_steps={self.total_steps}, got {self.warmup_steps}"
            )

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        if step >= self.total_steps:
            return self.min_lr
        span = max(1, self.total_steps - self.warmup_steps)
        progress = (step - self.warmup_steps) / span
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every group's learning rate for optimiser step ``step``; returns the base rate."""
        lr = self.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        return lr
