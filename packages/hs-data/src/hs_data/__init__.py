"""hs-data: the hyperspectral dataset layer of hsigma (bottom package, no internal dependencies).

- :mod:`hs_data.registry`: what each benchmark scene is (task, sensor, size, bands, classes, files
  with keys and sha256, canonical URLs, citation, terms); :func:`list_datasets`, :func:`get_dataset_info`.
- :mod:`hs_data.scenes`: :func:`load_scene` -> one sample dict (``image`` ``(c, h, w)`` float32,
  ``label``, ``mask``, ``abundances``, ``endmembers``, ``wavelengths``...).
- :mod:`hs_data.download`: data root (``HS_DATA_ROOT``), cache, resumable checksummed downloads.
- :mod:`hs_data.splits`: per-class, official fixed, and spatially disjoint (guard-banded) splits,
  seeded and saved as JSON/.npz.
- :mod:`hs_data.preprocessing`: :class:`PCA`, :class:`BandScaler` fitted on training pixels only
  (transductive upstream variants behind explicit flags).
- :mod:`hs_data.synthetic`: noise models (cases 1-5), bicubic degradation, implanted changes, and the
  registered semi-synthetic scenes.
- :mod:`hs_data.datasets`: torch ``Dataset`` wrappers (scene, pixel patches, tiles).
- :mod:`hs_data.report`: what is known / present / missing, for ``hs-bench datasets``.
"""

from hs_data._version import __version__
from hs_data.download import cache_dir, data_root, download_url, sha256sum, verify_checksum
from hs_data.errors import ChecksumError, DataFormatError, DatasetNotFoundError, DownloadError
from hs_data.registry import TASKS, ArraySpec, DatasetInfo, FileSpec, Role, get_dataset_info, list_datasets
from hs_data.scenes import load_scene, missing_files

__all__ = [
    "TASKS",
    "ArraySpec",
    "ChecksumError",
    "DataFormatError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DownloadError",
    "FileSpec",
    "Role",
    "__version__",
    "cache_dir",
    "data_root",
    "download_url",
    "get_dataset_info",
    "list_datasets",
    "load_scene",
    "missing_files",
    "sha256sum",
    "verify_checksum",
]
