"""The patch dataset: formats, band windows, bad bands, determinism, streaming, bad files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from hs_pretrain import GF5_AHSI_BAD_BANDS, HYPERION_BAD_BANDS, PatchDataset, kept_bands
from hs_pretrain import data as data_module


def _cube(bands: int = 12, h: int = 20, w: int = 18, seed: int = 0) -> np.ndarray:
    """(c, h, w) with each value encoding (band, row, col), plus noise, so a crop can be located."""
    c, y, x = np.meshgrid(np.arange(bands), np.arange(h), np.arange(w), indexing="ij")
    return (c * 10000 + y * 100 + x).astype(np.float32) + np.random.default_rng(seed).random(
        (bands, h, w)
    ).astype(np.float32) * 0.01


def test_bad_band_lists() -> None:
    assert len(HYPERION_BAD_BANDS) == 67 and len(kept_bands(242, "hyperion")) == 175
    assert kept_bands(242, "hyperion")[:3].tolist() == [7, 8, 9]  # bands 1-7 (1-based) removed
    assert 57 not in kept_bands(242, "hyperion") and 56 in kept_bands(242, "hyperion")  # band 58 (1-based)
    assert len(GF5_AHSI_BAD_BANDS) == 180 and kept_bands(330, "GF-5").tolist() == list(range(150))
    assert kept_bands(5, [1, 5]).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="applies to the full 242-band product, but the cube has 175"):
        kept_bands(175, "hyperion")
    with pytest.raises(ValueError, match="unknown sensor 'aviris'"):
        kept_bands(224, "aviris")
    with pytest.raises(ValueError, match=r"in \[1, 5\] expected, got \[6\]"):
        kept_bands(5, [6])


def test_every_format_gives_the_same_samples(tmp_path: Path) -> None:
    import h5py
    import scipy.io
    import tifffile

    cube = _cube()
    hwc = np.ascontiguousarray(cube.transpose(1, 2, 0))
    np.save(tmp_path / "a.npy", cube)
    scipy.io.savemat(tmp_path / "b.mat", {"data": hwc, "gt": np.zeros((20, 18))})
    with h5py.File(tmp_path / "c.mat", "w") as f:  # v7.3 stores MATLAB arrays with reversed axes
        f.create_dataset("data", data=hwc.T)
    tifffile.imwrite(tmp_path / "d.tif", cube)  # band-sequential pages
    tifffile.imwrite(tmp_path / "e.tif", hwc, photometric="minisblack", planarconfig="contig")
    np.save(tmp_path / "f.npy", hwc)
    kwargs = {"crop": 8, "num_bands": 5, "scale": None, "samples_per_epoch": 6, "seed": 3}
    reference = PatchDataset([tmp_path / "a.npy"], **kwargs)
    for name, extra in (
        ("b.mat", {}),
        ("c.mat", {}),
        ("d.tif", {}),
        ("e.tif", {}),
        ("f.npy", {"layout": "hwc"}),
    ):
        ds = PatchDataset([tmp_path / name], **kwargs, **extra)  # type: ignore[arg-type]
        for i in range(6):
            assert torch.equal(ds[i]["image"], reference[i]["image"]), name
            assert ds[i]["seed"] == reference[i]["seed"]


def test_crops_and_windows_come_from_the_scene(tmp_path: Path) -> None:
    cube = _cube(bands=12, h=20, w=18)
    np.save(tmp_path / "a.npy", cube)
    ds = PatchDataset([tmp_path], crop=8, num_bands=5, scale=None, samples_per_epoch=40)
    starts = set()
    for i in range(40):
        img = ds[i]["image"].numpy()
        assert img.shape == (5, 8, 8)
        b0, y0, x0 = (
            round(float(v)) for v in (img[0, 0, 0] // 10000, img[0, 0, 0] % 10000 // 100, img[0, 0, 0] % 100)
        )
        np.testing.assert_array_equal(img, cube[b0 : b0 + 5, y0 : y0 + 8, x0 : x0 + 8])  # contiguous window
        starts.add(b0)
    assert starts == set(range(8))  # every window start 0..7 occurs


def test_per_sample_and_per_file_band_windows(tmp_path: Path) -> None:
    for i in range(3):
        np.save(tmp_path / f"s{i}.npy", _cube(bands=30, h=8, w=8, seed=i))
    per_sample = PatchDataset([tmp_path], crop=8, num_bands=10, scale=None, seed=1)
    per_file = PatchDataset([tmp_path], crop=8, num_bands=10, scale=None, seed=1, band_window="per_file")

    def start(ds: PatchDataset, i: int) -> int:
        return int(ds[i]["image"][0, 0, 0] // 10000)

    windows_sample, windows_file = set(), set()
    for epoch in range(6):
        per_sample.set_epoch(epoch)
        per_file.set_epoch(epoch)
        windows_sample |= {(i, start(per_sample, i)) for i in range(3)}
        windows_file |= {(i, start(per_file, i)) for i in range(3)}
    assert len(windows_file) == 3  # one window per file, whatever the epoch (upstream)
    for i, s in windows_file:
        r = np.random.default_rng([1, 0xF11E, i]).random()
        assert s == round(20 * r)  # round((c - window) * r), r ~ U(0, 1) drawn once per file
    assert len(windows_sample) > 6  # redrawn per sample and epoch


def test_samples_depend_on_seed_epoch_and_index_only(scenes) -> None:
    folder = scenes(n=3, bands=20, size=24)
    kwargs = {"crop": 8, "num_bands": 8, "samples_per_epoch": 12, "seed": 5, "flip": True}
    a, b = PatchDataset([folder], **kwargs), PatchDataset([folder], **kwargs)
    torch.manual_seed(99)  # the global RNG plays no role
    first = [a[i] for i in range(12)]
    assert all(
        torch.equal(x["image"], b[i]["image"]) and x["seed"] == b[i]["seed"] for i, x in enumerate(first)
    )
    assert all(torch.equal(x["image"], a[i]["image"]) for i, x in enumerate(first))  # repeatable
    a.set_epoch(1)
    assert not torch.equal(a[0]["image"], first[0]["image"])
    loader = torch.utils.data.DataLoader(b, batch_size=4, num_workers=2)  # worker processes agree
    batches = torch.cat([batch["image"] for batch in loader])
    assert torch.equal(batches, torch.stack([x["image"] for x in first]))


def test_bad_files_are_skipped_counted_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import scipy.io

    np.save(tmp_path / "good.npy", _cube(bands=12, h=16, w=16))
    (tmp_path / "garbage.mat").write_bytes(b"this is not a MAT file" * 10)
    good = tmp_path / "truncated.npy"
    np.save(good, _cube(bands=12, h=16, w=16))
    good.write_bytes(good.read_bytes()[:60])
    (tmp_path / "empty.tif").write_bytes(b"")
    scipy.io.savemat(tmp_path / "labels.mat", {"gt": np.zeros((16, 16))})
    np.save(tmp_path / "small.npy", _cube(bands=12, h=6, w=6))
    np.save(tmp_path / "few_bands.npy", _cube(bands=3, h=16, w=16))
    with caplog.at_level(logging.WARNING, logger="hs_pretrain.data"):
        ds = PatchDataset([tmp_path], crop=8, num_bands=5)
    assert [Path(r.source).name for r in ds.scenes] == ["good.npy"]
    reasons = {Path(s).name: r for s, r in ds.skipped}
    assert set(reasons) == {
        "garbage.mat",
        "truncated.npy",
        "empty.tif",
        "labels.mat",
        "small.npy",
        "few_bands.npy",
    }
    assert "unreadable" in reasons["garbage.mat"] and "no 3-D numeric array" in reasons["labels.mat"]
    assert (
        "smaller than the 8x8 crop" in reasons["small.npy"] and "3 usable bands" in reasons["few_bands.npy"]
    )
    assert ds.summary()["skipped"] == 6 and "skipping" in caplog.text and "truncated.npy" in caplog.text
    with pytest.raises(ValueError, match=r"no usable scene among the sources.*garbage\.mat: unreadable"):
        PatchDataset([tmp_path / "garbage.mat", tmp_path / "small.npy"], crop=8, num_bands=5)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        PatchDataset([tmp_path / "nothing*.zzz"], crop=8, num_bands=5)


def test_a_file_that_breaks_after_the_scan_is_replaced_deterministically(tmp_path: Path) -> None:
    import scipy.io

    for i in range(3):
        scipy.io.savemat(
            tmp_path / f"s{i}.mat", {"data": _cube(bands=6, h=8, w=8, seed=i).transpose(1, 2, 0)}
        )
    ds = PatchDataset([tmp_path], crop=8, num_bands=6, scale=None)
    healthy = [ds[i]["image"] for i in range(3)]
    (tmp_path / "s1.mat").write_bytes(b"corrupted after the scan")
    fresh = PatchDataset.__new__(PatchDataset)
    fresh.__dict__.update({**ds.__dict__, "_cache": type(ds._cache)(), "read_failures": {}})
    got = [fresh[i]["image"] for i in range(3)]
    assert torch.equal(got[0], healthy[0]) and torch.equal(got[2], healthy[2])
    assert int(got[1][0, 0, 0]) // 100 == int(healthy[2][0, 0, 0]) // 100  # drawn from the next scene, s2
    assert list(fresh.read_failures) == [str(tmp_path / "s1.mat")]
    for name in ("s0.mat", "s2.mat"):
        (tmp_path / name).write_bytes(b"")
    broken = PatchDataset.__new__(PatchDataset)
    broken.__dict__.update({**ds.__dict__, "_cache": type(ds._cache)(), "read_failures": {}})
    with pytest.raises(RuntimeError, match="none of the 3 scenes can be read"):
        broken[0]


def test_block_order_streams_through_a_bounded_cache(scenes, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = scenes(n=10, bands=8, size=16)
    ds = PatchDataset([folder], crop=8, num_bands=8, order="blocks", block_scenes=2, cache_scenes=2, seed=4)
    reads: list[str] = []
    real = data_module._read
    monkeypatch.setattr(data_module, "_read", lambda rec: reads.append(rec.source) or real(rec))
    for epoch in range(2):
        ds.set_epoch(epoch)
        plan = ds.plan(epoch)
        assert sorted(plan.tolist()) == sorted(ds._base_plan.tolist())  # every scene's share, shuffled
        reads.clear()
        for i in range(len(ds)):
            ds[i]
        # with room for 2 scenes, no scene is read twice in an epoch (a scene of the previous
        # epoch's last block may still be cached)
        assert len(reads) == len(set(reads)) >= 8
    assert not np.array_equal(ds.plan(0), ds.plan(1))


def test_short_scenes_are_resampled_and_scaling(tmp_path: Path) -> None:
    spectrum = np.linspace(0.0, 9.0, 10, dtype=np.float32)  # linear in the band index
    np.save(tmp_path / "a.npy", np.broadcast_to(spectrum[:, None, None], (10, 8, 8)).copy())
    ds = PatchDataset([tmp_path], crop=8, num_bands=19, scale=None, short_scenes="resample")
    np.testing.assert_allclose(ds[0]["image"][:, 3, 3].numpy(), np.linspace(0, 9, 19), atol=1e-5)
    assert PatchDataset([tmp_path], crop=8, num_bands=5, scale=3.0)[0]["image"].max() == pytest.approx(3.0)
    pct = PatchDataset([tmp_path], crop=8, num_bands=10, scale="percentile")[0]["image"]
    assert pct.max() == pytest.approx(9.0 / np.percentile(np.tile(spectrum, 64), 99), rel=1e-5)


def test_registry_scenes_from_the_shared_data(data_root: Path) -> None:
    ds = PatchDataset(["hs-data:*", "hs-data:not_a_dataset"], scale="percentile")
    names = {r.source for r in ds.scenes}
    assert len(names) >= 10 and "hs-data:salinas_a" in names and "hs-data:jasper_ridge" in names
    held_out = PatchDataset(["hs-data:*"], scale="percentile", exclude=["hs-data:salinas_a", "hs-data:abu_*"])
    assert {r.source for r in held_out.scenes} == names - {"hs-data:salinas_a"} - {
        n for n in names if n.startswith("hs-data:abu_")
    }
    reasons = dict(ds.skipped)
    assert "smaller than the 64x64 crop" in reasons["hs-data:muufl_gulfport_htd"]
    assert "unknown dataset 'not_a_dataset'" in reasons["hs-data:not_a_dataset"]
    for i in range(0, len(ds), 3):
        img = ds[i]["image"]
        assert img.shape == (100, 64, 64) and torch.isfinite(img).all() and 0 < img.abs().max() < 50
