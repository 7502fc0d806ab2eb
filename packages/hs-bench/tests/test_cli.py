"""The `hs-bench datasets` command: honest known / present / missing output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hs_data
from hs_bench import datasets
from hs_bench.cli import main


def test_datasets_reexport_is_hs_data() -> None:
    assert datasets.load_scene is hs_data.load_scene
    assert datasets.Split is hs_data.splits.Split
    assert set(datasets.__all__) <= set(dir(datasets))


def test_datasets_lists_every_registered_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in hs_data.list_datasets():
        assert name in out
    assert f"{len(hs_data.list_datasets())} datasets:" in out
    assert "missing" in out and "no-source" in out
    # nothing is present in an empty root: no dataset may claim to be
    lines = [ln for ln in out.splitlines() if ln.startswith("pavia_university ")]
    assert lines and " missing " in lines[0] and "download=True" in lines[0]


def test_datasets_with_the_shared_folder(capsys: pytest.CaptureFixture[str]) -> None:
    root = hs_data.data_root()
    if root is None:
        pytest.skip("HS_DATA_ROOT is not set: the present/partial states need the shared data folder")
    assert main(["datasets", "--task", "classification"]) == 0
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if ln.startswith("pavia_university "))
    assert " partial " in row and "loadable: label, train_map, test_map" in row
    assert "salinas_a" in out and "jasper_ridge" not in out  # task filter


def test_describe_one_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "pavia_university", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PaviaU.mat [MISSING]" in out
    assert "https://www.ehu.eus/ccwintco/uploads/e/ee/PaviaU.mat" in out and "seen-in-public-code" in out
    assert "23f6a426928f9b32984adffe659e29f554f9fb6c93b5a107528d308d5087a829" in out  # the GT's sha256
    assert "Asphalt" in out and "official splits: fixed" in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "--json", "--real", "--root", str(tmp_path), "--task", "unmixing"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(hs_data.list_datasets("unmixing", synthetic=False))
    assert all(r["state"] in ("missing", "partial", "present") for r in rows)


def test_unknown_dataset_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets", "pavia_univercity"]) == 2
    assert "did you mean ['pavia_university']" in capsys.readouterr().err


def test_verify_reports_checksum_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = hs_data.get_dataset_info("liu_wetland_yancheng").file("Reference_Map_Binary.mat")
    bad = tmp_path / spec.path
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not the reference map")
    assert main(["datasets", "liu_wetland_yancheng", "--root", str(tmp_path), "--verify"]) == 1
    out = capsys.readouterr().out
    assert f"expected {spec.sha256}" in out and "actual " in out
    assert main(["datasets", "--root", str(tmp_path), "--verify", "--task", "change_detection"]) == 1
    assert "CHECKSUM MISMATCHES" in capsys.readouterr().out


def test_no_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "datasets" in capsys.readouterr().out
