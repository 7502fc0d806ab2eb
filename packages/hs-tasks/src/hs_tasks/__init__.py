"""Heads, losses, metrics and fine-tuning for the seven HyperSIGMA tasks."""

from hs_tasks._version import __version__

__all__ = ["__version__"]
