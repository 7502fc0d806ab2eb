"""The single version source of hs-data."""

__version__ = "0.1.0"
