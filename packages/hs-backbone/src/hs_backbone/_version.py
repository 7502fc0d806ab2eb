"""The single version source of hs-backbone."""

__version__ = "0.1.0"
