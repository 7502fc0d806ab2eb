"""The dataset layer of hsigma, re-exported from hs-data: the stable import path for users.

Everything here is defined in :mod:`hs_data` (the bottom package, so that hs-pretrain and hs-tasks
can use it too); see its README for the registry, loaders, splits and preprocessing.
"""

from hs_data import (
    TASKS,
    ArraySpec,
    ChecksumError,
    DataFormatError,
    DatasetInfo,
    DatasetNotFoundError,
    DownloadError,
    FileSpec,
    Role,
    cache_dir,
    data_root,
    get_dataset_info,
    list_datasets,
    load_scene,
    missing_files,
)
from hs_data.datasets import PixelPatchDataset, SceneDataset, TileDataset, to_tensors
from hs_data.preprocessing import PCA, BandScaler, fit_on_split
from hs_data.report import DatasetStatus, dataset_status, describe_dataset, format_status_table
from hs_data.splits import (
    Split,
    fixed_split,
    leaking_train_pixels,
    official_split,
    per_class_split,
    spatially_disjoint_split,
)

__all__ = [
    "PCA",
    "TASKS",
    "ArraySpec",
    "BandScaler",
    "ChecksumError",
    "DataFormatError",
    "DatasetInfo",
    "DatasetNotFoundError",
    "DatasetStatus",
    "DownloadError",
    "FileSpec",
    "PixelPatchDataset",
    "Role",
    "SceneDataset",
    "Split",
    "TileDataset",
    "cache_dir",
    "data_root",
    "dataset_status",
    "describe_dataset",
    "fit_on_split",
    "fixed_split",
    "format_status_table",
    "get_dataset_info",
    "leaking_train_pixels",
    "list_datasets",
    "load_scene",
    "missing_files",
    "official_split",
    "per_class_split",
    "spatially_disjoint_split",
    "to_tensors",
]
