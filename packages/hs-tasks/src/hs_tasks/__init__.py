"""Heads, losses, metrics and fine-tuning for the seven HyperSIGMA tasks.

Available now (backbone-free): :mod:`hs_tasks.metrics` (every task's metrics) and
:mod:`hs_tasks.baselines` (one classical floor per task).
"""

from hs_tasks import baselines, metrics
from hs_tasks._version import __version__

__all__ = ["__version__", "baselines", "metrics"]
