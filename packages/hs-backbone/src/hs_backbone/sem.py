"""The spectral enhancement module (SEM) of HyperSIGMA.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.7): a squeeze-and-excitation style
gate whose descriptor comes from the spectral branch. With ``v`` one scalar per spectral token (the
spectral features averaged over their channels),

    w_l = sigmoid(W2_l · relu(W1_l · v))            # (b, c'), no biases
    F_l = (1 + w_l) ⊙ DR_l(S_l)                      # DR_l: optional bias-free 1×1 conv d → c'

so ``w → 0`` gives back the (projected) spatial feature.

Shape legend: ``b`` batch, ``t`` spectral tokens, ``k`` spectral features, ``d`` spatial features,
``h w`` map rows/columns; ``c'`` the gated channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["SpectralEnhancement"]


class SpectralEnhancement(nn.Module):
    """SEM: per-level channel gates computed from a spectral descriptor.

    Upstream's task variants are all instances: classification ``(t=100, hidden=128, out=128,
    levels=4, in_channels=768)``; segmentation ``(100, 128, 768, 4)`` without projection; detection
    ``(100, 32, 128, 1)``; change detection ``(144, 32, 144, 4, in_channels=768)``; unmixing
    ``(64, 32, 64, 4, in_channels=768)``; multispectral change detection ``(100, 768, 768, shared=True)``.

    Parameters: ``proj.{l}.weight`` ``(c', d, 1, 1)`` (upstream ``DR{l+1}``, when ``in_channels``
    is given) and ``gates.{l}.0.weight`` ``(hidden, t)``, ``gates.{l}.2.weight`` ``(c', hidden)``
    (upstream ``fc_spec{l+1}``). PyTorch's default initialisation, as upstream.

    Args:
        num_tokens: ``t``, the length of the descriptor.
        hidden: hidden size of each gate MLP.
        out_channels: ``c'``, channels of the gated maps.
        num_levels: number of spatial levels gated.
        in_channels: ``d``: project each level by a bias-free 1×1 convolution ``d → c'`` before gating;
            ``None`` gates the levels as they are (then they must have ``c'`` channels).
        shared: one gate MLP for all levels instead of one per level.
    """

    def __init__(
        self,
        num_tokens: int,
        hidden: int,
        out_channels: int,
        num_levels: int = 4,
        *,
        in_channels: int | None = None,
        shared: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("num_tokens", num_tokens),
            ("hidden", hidden),
            ("out_channels", out_channels),
            ("num_levels", num_levels),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive int, got {value!r}")
        dd: dict = {"device": device, "dtype": dtype}
        self.num_tokens, self.hidden, self.out_channels = num_tokens, hidden, out_channels
        self.num_levels, self.in_channels, self.shared = num_levels, in_channels, bool(shared)
        self.proj = (
            nn.ModuleList(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False, **dd)
                for _ in range(num_levels)
            )
            if in_channels is not None
            else None
        )
        self.gates = nn.ModuleList(
            nn.Sequential(
                nn.Linear(num_tokens, hidden, bias=False, **dd),
                nn.ReLU(),
                nn.Linear(hidden, out_channels, bias=False, **dd),
                nn.Sigmoid(),
            )
            for _ in range(1 if shared else num_levels)
        )

    @staticmethod
    def descriptor(spectral: Tensor) -> Tensor:
        """``v``: the spectral features averaged over their channels, ``(b, t, k)`` → ``(b, t)``."""
        return spectral.mean(dim=-1)

    def gate_weights(self, v: Tensor) -> list[Tensor]:
        """The gates ``w_l`` before the ``1 +``: ``v (b, t)`` → one ``(b, c')`` per level."""
        if v.ndim != 2 or v.shape[1] != self.num_tokens:
            raise ValueError(
                f"SpectralEnhancement: expected a (b, {self.num_tokens}) spectral descriptor, got shape "
                f"{tuple(v.shape)}; the spectral branch must have num_tokens={self.num_tokens}"
            )
        if self.shared:
            return [self.gates[0](v)] * self.num_levels
        return [gate(v) for gate in self.gates]

    def forward(self, features: Sequence[Tensor], v: Tensor) -> list[Tensor]:
        """Gate each level.

        Args:
            features: ``num_levels`` maps ``(b, d, h_l, w_l)`` (``(b, c', h_l, w_l)`` without projection).
            v: ``(b, t)`` spectral descriptor (:meth:`descriptor`).

        Returns:
            One ``(b, c', h_l, w_l)`` map per level: ``(1 + w_l) ⊙ DR_l(features[l])``.
        """
        if len(features) != self.num_levels:
            raise ValueError(f"SpectralEnhancement: expected {self.num_levels} levels, got {len(features)}")
        out = []
        for level, (feat, w) in enumerate(zip(features, self.gate_weights(v))):
            if self.proj is not None:
                feat = self.proj[level](feat)
            if feat.shape[1] != self.out_channels:
                raise ValueError(
                    f"SpectralEnhancement: level {level} has {feat.shape[1]} channels, expected "
                    f"{self.out_channels} (set in_channels= to project {feat.shape[1]} → {self.out_channels})"
                )
            out.append((1 + w)[:, :, None, None] * feat)
        return out

    def extra_repr(self) -> str:
        return (
            f"num_tokens={self.num_tokens}, hidden={self.hidden}, out_channels={self.out_channels}, "
            f"num_levels={self.num_levels}, in_channels={self.in_channels}, shared={self.shared}"
        )
