"""The single version source of hs-tasks."""

__version__ = "0.1.0"
