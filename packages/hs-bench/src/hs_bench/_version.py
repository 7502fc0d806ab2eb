"""The single version source of hs-bench."""

__version__ = "0.1.0"
