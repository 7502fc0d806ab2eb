"""Hyperspectral datasets, splits and the hsigma leaderboard."""

from hs_bench._version import __version__

__all__ = ["__version__"]
