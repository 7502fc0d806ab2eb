"""Random crops, tiling and stitching of the dense tasks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hs_data.synthetic import make_sr_pair
from hs_tasks.baselines import bicubic_upsample
from hs_tasks.core import TaskOutput
from hs_tasks.dense import (
    ImageQualityEvaluator,
    RandomCrops,
    SRCrops,
    SRTiles,
    Stitcher,
    dihedral,
    tile_starts,
)
from hs_tasks.metrics import image_quality


def test_dihedral_is_the_group_of_the_square() -> None:
    x = torch.arange(12.0).reshape(1, 3, 4)
    images = [dihedral(x, k) for k in range(8)]
    keys = {tuple(im.shape) + tuple(im.flatten().tolist()) for im in images}
    assert len(keys) == 8  # eight distinct transforms
    sq = torch.arange(16.0).reshape(1, 4, 4)
    for k in range(8):  # each has an inverse among them
        assert any(torch.equal(dihedral(dihedral(sq, k), j), sq) for j in range(8))
    with pytest.raises(ValueError, match=r"0\.\.7"):
        dihedral(x, 8)


@pytest.mark.parametrize(("n", "tile", "stride"), [(10, 4, 2), (10, 4, 4), (8, 8, 3), (9, 4, 3), (5, 1, 1)])
def test_tile_starts_cover_the_axis(n: int, tile: int, stride: int) -> None:
    starts = tile_starts(n, tile, stride)
    covered = np.zeros(n, bool)
    for s in starts:
        assert 0 <= s <= n - tile
        covered[s : s + tile] = True
    assert covered.all()
    assert starts == sorted(set(starts))
    with pytest.raises(ValueError):
        tile_starts(3, 4, 1)
    with pytest.raises(ValueError, match="gaps"):
        tile_starts(9, 4, 5)


def test_random_crops_are_windows_of_the_region_and_reproducible() -> None:
    # every pixel encodes its (row, col): a crop must be a contiguous window (up to a flip/rotation)
    h, w = 9, 7
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    cube = np.stack([rows, cols]).astype(np.float32)
    data = RandomCrops(cube, 4, 20)
    torch.manual_seed(3)
    first = [data[i]["image"] for i in range(20)]
    for crop in first:
        r, c = crop[0], crop[1]
        assert crop.shape == (2, 4, 4)
        assert int(r.max() - r.min()) == 3 and int(c.max() - c.min()) == 3
        assert set(r.flatten().tolist()) <= set(range(h)) and set(c.flatten().tolist()) <= set(range(w))
        assert len({(int(a), int(b)) for a, b in zip(r.flatten(), c.flatten())}) == 16
    torch.manual_seed(3)
    again = [data[i]["image"] for i in range(20)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    with pytest.raises(ValueError, match="size"):
        RandomCrops(cube, 8, 1)


def test_random_crops_make_sample_gets_a_seeded_generator() -> None:
    data = RandomCrops(np.zeros((1, 6, 6), np.float32), 3, 4, make_sample=lambda x, g: {"v": g.random()})
    torch.manual_seed(0)
    a = [data[i]["v"] for i in range(4)]
    torch.manual_seed(0)
    assert a == [data[i]["v"] for i in range(4)]
    assert len(set(a)) == 4


def test_stitcher_averages_overlaps_and_keeps_images_apart() -> None:
    st = Stitcher()
    st.add(torch.full((1, 2, 3, 3), 1.0), torch.tensor([[0, 0]]))
    st.add(torch.full((1, 2, 3, 3), 3.0), torch.tensor([[0, 2]]))
    st.add(np.full((1, 2, 2, 2), 5.0), [[0, 0]], image_ids=[7])
    first, second = st.images()
    assert first.shape == (2, 3, 5) and second.shape == (2, 2, 2)
    np.testing.assert_array_equal(first[0, 0], [1.0, 1.0, 2.0, 3.0, 3.0])
    assert (second == 5.0).all()
    lone = Stitcher()
    lone.add(torch.ones(3, 1, 2, 2))  # no origins: three images
    assert len(lone.images()) == 3


def test_image_quality_evaluator_matches_whole_image_metrics() -> None:
    rng = np.random.default_rng(0)
    clean = rng.random((3, 20, 24)).astype(np.float32)
    est = (clean + 0.05 * rng.standard_normal(clean.shape)).astype(np.float32)
    ev = ImageQualityEvaluator("image")
    for r in tile_starts(20, 12, 6):
        for c in tile_starts(24, 12, 6):
            batch = {
                "image": torch.from_numpy(clean[None, :, r : r + 12, c : c + 12]),
                "origin": torch.tensor([[r, c]]),
            }
            ev.update(TaskOutput(torch.from_numpy(est[None, :, r : r + 12, c : c + 12])), batch)
    expected = image_quality(clean, est, data_range=1.0).as_dict()
    got = ev.compute()
    assert set(got) == {"mpsnr", "mssim", "sam", "ergas", "cc", "rmse"}
    for k, v in got.items():
        assert v == pytest.approx(expected[k], rel=1e-6)


def test_sr_tiles_align_lr_hr_and_bicubic() -> None:
    rng = np.random.default_rng(1)
    pair = make_sr_pair(rng.random((2, 24, 16)), 4)
    bic = bicubic_upsample(pair["image_lr"], 4)
    tiles = SRTiles(pair["image_lr"], pair["image_hr"], bic, 2, 1)
    assert len(tiles) == 5 * 3
    for item in tiles:
        r, c = item["origin"].tolist()
        assert r % 4 == 0 and c % 4 == 0
        np.testing.assert_allclose(
            item["image_hr"].numpy(), pair["image_hr"][:, r : r + 8, c : c + 8], rtol=1e-6
        )
        np.testing.assert_allclose(
            item["image_lr"].numpy(), pair["image_lr"][:, r // 4 : r // 4 + 2, c // 4 : c // 4 + 2], rtol=1e-6
        )
        np.testing.assert_allclose(item["image_bicubic"].numpy(), bic[:, r : r + 8, c : c + 8], rtol=1e-6)
    with pytest.raises(ValueError, match="integer s"):
        SRTiles(pair["image_lr"], pair["image_hr"][:, :-1], bic, 2)


def test_sr_crops_match_whole_region_degradation() -> None:
    from hs_data.synthetic import bicubic_downsample

    rng = np.random.default_rng(2)
    hr = rng.random((3, 20, 24)).astype(np.float32)
    crops = SRCrops(
        hr,
        2,
        3,
        16,
        degrade=lambda x: bicubic_downsample(x, 2),
        upsample=lambda x: bicubic_upsample(x, 2),
        augment=False,
    )
    assert len(crops.images) == 4  # all 2x2 sub-pixel shifts
    lr0 = bicubic_downsample(hr, 2)  # shift (0, 0): the region's own LR image
    lr_img, hr_img, _ = crops.images[0]
    np.testing.assert_allclose(lr_img.numpy(), lr0, rtol=1e-5, atol=1e-6)
    torch.manual_seed(0)
    for i in range(16):
        item = crops[i]
        assert item["image_lr"].shape == (3, 3, 3) and item["image_hr"].shape == (3, 6, 6)
        assert item["image_bicubic"].shape == (3, 6, 6)
    # an HR crop is a window of the region (some shift), its LR the matching window of that shift's LR
    found = False
    for lr_img, hr_img, _ in crops.images:
        for r in range(lr_img.shape[1] - 2):
            for c in range(lr_img.shape[2] - 2):
                if torch.equal(lr_img[:, r : r + 3, c : c + 3], item["image_lr"]):
                    assert torch.equal(hr_img[:, 2 * r : 2 * r + 6, 2 * c : 2 * c + 6], item["image_hr"])
                    found = True
    assert found
    with pytest.raises(ValueError, match="no room"):
        SRCrops(hr, 8, 4, 1, degrade=lambda x: x, upsample=lambda x: x)
