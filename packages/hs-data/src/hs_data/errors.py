"""Exceptions of hs-data. Every message names the file (or dataset) and says what was expected.

- :class:`DatasetNotFoundError` (a ``FileNotFoundError``): a file of a dataset is in neither the data
  root nor the cache, and ``download`` was not allowed or has no URL; the message says how to get it.
- :class:`ChecksumError` (a ``ValueError``): the sha256 of a file differs from the registry; the
  message shows the expected and the actual digest.
- :class:`DataFormatError` (a ``ValueError``): a file cannot be read (truncated, corrupted, wrong
  format), lacks a key, or holds arrays of the wrong shape or values (labels out of range, cube and
  label of different sizes).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ChecksumError", "DataFormatError", "DatasetNotFoundError", "DownloadError"]


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is missing locally; the message lists where it was looked for and how to get it."""


class ChecksumError(ValueError):
    """The sha256 of a file is not the registered one.

    Attributes:
        path: the file that was hashed.
        expected: the registered sha256 (hex).
        actual: the sha256 of the file (hex).
    """

    def __init__(
        self, path: str | os.PathLike[str], expected: str, actual: str, *, context: str = ""
    ) -> None:
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        extra = f" {context}" if context else ""
        super().__init__(f"{path}: sha256 mismatch: expected {expected}, actual {actual}.{extra}")


class DataFormatError(ValueError):
    """A file could not be read, or its content is not what the registry describes.

    Attributes:
        path: the file (or a description of the files involved).
        problem: what is wrong, in words.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class DownloadError(OSError):
    """A download failed for a reason other than a checksum mismatch (HTTP error, connection lost)."""
