"""The single version source of hs-pretrain."""

__version__ = "0.1.0"
