"""The single version source of hs-attention."""

__version__ = "0.1.0"
