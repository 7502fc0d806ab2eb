"""HyperSIGMA spatial and spectral ViT backbones, spectral enhancement, registry and official weights."""

from hs_backbone._version import __version__

__all__ = ["__version__"]
