"""HyperSIGMA: the spatial and the spectral ViT fused by the spectral enhancement module.

HyperSIGMA (arXiv 2406.11519; ``shared/reference/hypersigma.md`` §2.7, Appendix B): the spatial branch
gives multi-level maps ``S_l``; the spectral branch gives tokens whose channel mean is the descriptor
``v``; SEM gates (a projection of) each ``S_l`` with ``v``. Task heads (``hs-tasks``) consume
:class:`HyperSIGMAOutput` and only add a head.

Shape legend: ``b`` batch, ``c`` bands, ``h w`` rows/columns, ``t`` spectral tokens, ``k`` spectral
features, ``d`` spatial features, ``c'`` gated channels.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from hs_backbone.sem import SpectralEnhancement
from hs_backbone.spatial_vit import SpatialViT
from hs_backbone.spectral_vit import SpectralViT

__all__ = ["HyperSIGMA", "HyperSIGMAOutput"]


@dataclass
class HyperSIGMAOutput:
    """What :class:`HyperSIGMA` computes.

    Attributes:
        spatial: spatial levels ``(b, d, h_l, w_l)``, shallowest first (after the pyramid).
        spectral: the spectral level that feeds SEM, ``(b, t, k)``.
        descriptor: ``v = spectral.mean(-1)``, ``(b, t)``.
        enhanced: SEM outputs ``(b, c', h_l, w_l)``, one per spatial level, shallowest first.
    """

    spatial: list[Tensor]
    spectral: Tensor
    descriptor: Tensor
    enhanced: list[Tensor]


class HyperSIGMA(nn.Module):
    """Spatial ViT + spectral ViT + SEM.

    Upstream's classification model (``SSFusionFramework``) pairs its ``DR_j``/``fc_spec_j`` with the
    spatial outputs in its own (deepest-first) order; here SEM level ``l`` gates spatial level ``l``
    (shallowest first), so the official ``DR_j`` is ``sem.proj.{L - j}`` (see
    :func:`hs_backbone.convert_official_fusion_classifier`). The spectral blocks after the deepest
    spectral level used are not run (upstream runs them and discards the result).

    Args:
        spatial: the spatial branch.
        spectral: the spectral branch.
        sem: the enhancement module; ``sem.num_levels`` must equal the spatial levels and
            ``sem.num_tokens`` the spectral tokens.
        spectral_level: the spectral level (position in ``spectral.out_indices``) whose projected
            tokens give the descriptor (upstream: 0).
    """

    def __init__(
        self, spatial: SpatialViT, spectral: SpectralViT, sem: SpectralEnhancement, *, spectral_level: int = 0
    ) -> None:
        super().__init__()
        levels = len(spatial.out_indices)
        if sem.num_levels != levels:
            raise ValueError(f"sem: has {sem.num_levels} levels but the spatial branch returns {levels}")
        if sem.num_tokens != spectral.num_tokens:
            raise ValueError(
                f"sem: built for num_tokens={sem.num_tokens} but the spectral branch has "
                f"num_tokens={spectral.num_tokens}"
            )
        expected = sem.in_channels if sem.in_channels is not None else sem.out_channels
        if expected != spatial.embed_dim:
            raise ValueError(
                f"sem: expects {expected}-channel spatial levels but the spatial branch has embed_dim="
                f"{spatial.embed_dim}"
            )
        if not 0 <= spectral_level < len(spectral.out_indices):
            raise ValueError(
                f"spectral_level: expected a position in [0, {len(spectral.out_indices) - 1}], "
                f"got {spectral_level}"
            )
        self.spatial, self.spectral, self.sem = spatial, spectral, sem
        self.spectral_level = spectral_level

    @property
    def in_chans(self) -> int:
        """Bands of the input cube."""
        return self.spatial.in_chans

    @property
    def feature_info(self) -> list[dict]:
        """Per enhanced level: ``num_chs`` (``c'``) and ``reduction`` (input pixels per map pixel)."""
        return [
            {"index": info["index"], "num_chs": self.sem.out_channels, "reduction": info["reduction"]}
            for info in self.spatial.feature_info
        ]

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Gradient checkpointing of every block of both branches."""
        self.spatial.set_grad_checkpointing(enable)
        self.spectral.set_grad_checkpointing(enable)

    def set_attention_backends(self, *, ssa: str | None = None, global_: str | None = None) -> None:
        """Switch the attention backends of both branches in place."""
        self.spatial.set_attention_backends(ssa=ssa, global_=global_)
        self.spectral.set_attention_backends(ssa=ssa, global_=global_)

    def no_weight_decay(self) -> set[str]:
        """Position embeddings of both branches (with their prefixes)."""
        return {f"spatial.{n}" for n in self.spatial.no_weight_decay()} | {
            f"spectral.{n}" for n in self.spectral.no_weight_decay()
        }

    def forward(self, x: Tensor) -> HyperSIGMAOutput:
        """``x``: ``(b, c, h, w)`` → :class:`HyperSIGMAOutput`."""
        spatial = self.spatial(x)
        spectral = self.spectral(x, levels=[self.spectral_level])[0]
        v = self.sem.descriptor(spectral)
        return HyperSIGMAOutput(
            spatial=spatial, spectral=spectral, descriptor=v, enhanced=self.sem(spatial, v)
        )
