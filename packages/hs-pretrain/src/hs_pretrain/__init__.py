"""Spatial and spectral masked-autoencoder pretraining for HyperSIGMA backbones."""

from hs_pretrain._version import __version__

__all__ = ["__version__"]
