"""Implanted changes: the label marks exactly the changed pixels, and the change is spectral."""

from __future__ import annotations

import numpy as np

from hs_data.synthetic import implant_changes, make_synthetic_scene


def test_label_marks_exactly_the_changed_pixels() -> None:
    image = make_synthetic_scene("classification", bands=12, size=(40, 40), seed=1)["image"]
    out = implant_changes(image, n_regions=5, size_range=(3, 8), noise_sigma=0.0, seed=2)
    changed = np.abs(out["image_post"] - out["image_pre"]).max(axis=0) > 0
    np.testing.assert_array_equal(out["image_pre"], image)  # no noise: the pre image is the cube
    assert out["label"].sum() > 0
    assert not changed[out["label"] == 0].any()
    assert changed[out["label"] == 1].mean() > 0.9  # a donor pixel can equal the replaced one by chance
    for r0, c0, rh, rw, dr, dc, angle in out["regions"]:
        np.testing.assert_array_equal(
            out["image_post"][:, r0 : r0 + rh, c0 : c0 + rw], image[:, dr : dr + rh, dc : dc + rw]
        )
        assert angle >= 5.0


def test_seeded_and_noisy_dates_differ_everywhere() -> None:
    image = make_synthetic_scene("classification", bands=8, size=(32, 32), seed=3)["image"]
    a = implant_changes(image, seed=4)
    b = implant_changes(image, seed=4)
    np.testing.assert_array_equal(a["image_post"], b["image_post"])
    assert (a["image_pre"] != a["image_post"]).all(axis=0).mean() > 0.99  # independent noise per date
    assert a["mask"].all() and a["label"].dtype == np.int64
