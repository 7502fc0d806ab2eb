"""torch wrappers, the registry's invariants, the README table and the version."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import torch

import hs_data
from hs_data import get_dataset_info, list_datasets
from hs_data.datasets import TileDataset, to_tensors
from hs_data.readme import registry_markdown_table, update_readme
from hs_data.synthetic import make_synthetic_scene

README = Path(__file__).resolve().parents[1] / "README.md"

HYPERSIGMA_20 = {
    "indian_pines", "pavia_university", "whu_hi_hanchuan", "whu_hi_honghu", "houston2013", "zy1_02d",
    "mosaic_htd", "aviris_htd", "renourban_htd", "pavia_had", "cri_had", "viareggio_had", "hermiston",
    "farmland", "bay_area", "santa_barbara", "urban", "washington_dc_mall", "houston2018", "oscd",
}  # fmt: skip


def test_version_matches_metadata() -> None:
    assert hs_data.__version__ == importlib.metadata.version("hs-data")


def test_registry_covers_the_hypersigma_datasets() -> None:
    assert set(list_datasets(hypersigma=True)) == HYPERSIGMA_20
    assert {n for n in HYPERSIGMA_20 if get_dataset_info(n).hypersigma == "v1"} == HYPERSIGMA_20 - {
        "houston2013", "zy1_02d", "renourban_htd", "viareggio_had"
    }  # fmt: skip
    assert len(HYPERSIGMA_20) - 4 == 16


def test_registry_invariants() -> None:
    for name in list_datasets():
        info = get_dataset_info(name)
        assert info.name == name and info.citation and info.terms and info.how_to_get, name
        if name.startswith("semisyn_"):
            assert info.synthetic and info.base and not get_dataset_info(info.base).synthetic
        for spec in info.files:
            assert spec.url_status in ("hash-checked", "seen-in-public-code", "unverified", "none")
            assert (spec.url_status == "none") == (not spec.urls), spec.path
            if spec.shared:
                assert spec.sha256 and spec.url_status == "hash-checked"
            else:
                assert spec.sha256 is None  # never invented


def test_real_and_synthetic_rows_never_mix() -> None:
    for name in list_datasets(synthetic=True):
        info = get_dataset_info(name)
        assert (
            "SYNTHETIC" in info.title.upper() or "SIMULATED" in info.title.upper()
        ) and not info.hypersigma
    assert "semisyn_cd_salinas_a" not in list_datasets(synthetic=False)


def test_readme_table_matches_registry() -> None:
    assert update_readme(README, check=True), "README table is stale: run python -m hs_data.readme README.md"
    assert registry_markdown_table().count("\n") == len(list_datasets()) + 1


def test_tile_dataset_covers_the_scene() -> None:
    sample = make_synthetic_scene("classification", size=(20, 30))
    ds = TileDataset(sample, tile=8, stride=6)
    seen = torch.zeros(20, 30, dtype=torch.bool)
    for i in range(len(ds)):
        item = ds[i]
        r, c = item["origin"].tolist()
        assert item["image"].shape == (16, 8, 8) and item["label"].shape == (8, 8)
        np.testing.assert_array_equal(item["image"].numpy(), sample["image"][:, r : r + 8, c : c + 8])
        seen[r : r + 8, c : c + 8] = True
    assert seen.all()


def test_to_tensors_keeps_meta() -> None:
    t = to_tensors(make_synthetic_scene("unmixing"))
    assert isinstance(t["image"], torch.Tensor) and isinstance(t["meta"], dict)


def test_synthetic_scene_tasks() -> None:
    s = make_synthetic_scene("unmixing")
    np.testing.assert_allclose(s["abundances"].sum(axis=0), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="task must be one of"):
        make_synthetic_scene("segmentation")


def test_scene_dataset_on_real_scene(data_root: Path) -> None:
    ds = hs_data.datasets.SceneDataset("samson", data_root)
    item = ds[0]
    assert len(ds) == 1 and item["image"].shape == (156, 95, 95) and item["abundances"].dtype == torch.float32
