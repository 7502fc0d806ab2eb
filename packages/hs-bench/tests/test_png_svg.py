"""The PNG writer and the SVG charts (no imaging or plotting library in the package)."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hs_bench.png import array_to_rgb, decode_png, encode_png, label_palette, label_rgb, scalar_rgb
from hs_bench.svg import bar_chart, heatmap, line_chart

SVG = "{http://www.w3.org/2000/svg}"


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    c=st.sampled_from([1, 3, 4]),
    seed=st.integers(0, 2**31 - 1),
)
def test_png_round_trip(h: int, w: int, c: int, seed: int) -> None:
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    img = img[:, :, 0] if c == 1 else img
    np.testing.assert_array_equal(decode_png(encode_png(img)), img)


def test_png_structure_follows_the_specification() -> None:
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = encode_png(img)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    w, h, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", data[16:29])
    assert (w, h, depth, colour, comp, filt, interlace) == (3, 2, 8, 2, 0, 0, 0)
    crc = struct.unpack(">I", data[29:33])[0]
    assert crc == zlib.crc32(data[12:29]) & 0xFFFFFFFF
    assert data.endswith(b"IEND\xaeB`\x82")  # the fixed CRC of an empty IEND chunk
    with pytest.raises(ValueError, match="CRC mismatch"):
        decode_png(data[:20] + bytes([data[20] ^ 1]) + data[21:])


def test_png_read_by_an_independent_decoder() -> None:
    Image = pytest.importorskip(
        "PIL.Image", reason="Pillow (brought by the `server` extra) decodes independently"
    )
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    back = np.asarray(Image.open(io.BytesIO(encode_png(img))).convert("RGB"))
    np.testing.assert_array_equal(back, img)
    grey = img[:, :, 0]
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encode_png(grey)))), grey)


def test_png_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="expected dtype uint8, got float64"):
        encode_png(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2\)"):
        encode_png(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="non-empty"):
        encode_png(np.zeros((0, 3), np.uint8))


def test_palette_and_colour_maps() -> None:
    pal = label_palette(16)
    assert pal.shape == (17, 3) and (pal[0] == 0).all()
    assert len({tuple(c) for c in pal}) == 17  # every class has its own colour
    labels = np.array([[0, 1], [2, 16]])
    rgb = label_rgb(labels)
    np.testing.assert_array_equal(rgb[1, 1], label_palette(16)[16])
    # the ends of the scalar map are viridis' first and last anchor colours
    s = scalar_rgb(np.array([[0.0, 1.0], [np.nan, 0.5]]))
    np.testing.assert_array_equal(s[0, 0], [68, 1, 84])
    np.testing.assert_array_equal(s[0, 1], [253, 231, 37])
    np.testing.assert_array_equal(s[1, 0], [0, 0, 0])  # not finite -> black
    # the middle is the middle anchor (0.5 * 8 = anchor 4)
    np.testing.assert_array_equal(s[1, 1], [33, 144, 141])


def test_array_to_rgb_picks_a_colouring() -> None:
    assert array_to_rgb(np.zeros((4, 5), np.int64)).shape == (4, 5, 3)
    abund = np.random.default_rng(0).random((3, 4, 5))
    tiled = array_to_rgb(abund)
    assert tiled.shape == (4, 3 * 5 + 2 * 2, 3)  # three maps with two 2-px gaps
    cube = np.random.default_rng(0).random((30, 6, 6))
    assert array_to_rgb(cube).shape == (6, 6, 3)
    assert array_to_rgb(np.zeros(5)) is None  # a vector is not an image


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_heights_are_proportional() -> None:
    svg = bar_chart(
        "t", ["d1", "d2"], ["m", "baseline"], [[0.5, 0.25], [1.0, None]], [[0.1, None], [None, None]]
    )
    root = _parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = {r.find(f"{SVG}title").text.split(":")[0]: float(r.get("height")) for r in bars}
    assert set(heights) == {"m on d1", "baseline on d1", "m on d2"}  # None draws no bar
    assert heights["m on d2"] == pytest.approx(2 * heights["m on d1"], rel=1e-3)
    assert heights["m on d1"] == pytest.approx(2 * heights["baseline on d1"], rel=1e-3)
    assert any(r.get("fill") == "#9a9a9a" for r in bars)  # the baseline is grey
    assert len(list(root.iter(f"{SVG}line"))) >= 1  # an error bar
    with pytest.raises(ValueError, match="expected 2 groups x 2 series"):
        bar_chart("t", ["a", "b"], ["m", "n"], [[1.0, 2.0]])


def test_line_chart_and_heatmap_are_valid_svg() -> None:
    root = _parse(line_chart("c", {"a": ([0, 1, 2], [0.1, 0.5, float("nan")]), "b": ([0, 1], [1.0, 2.0])}))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2 and len(lines[0].get("points").split()) == 2  # the NaN point is skipped
    hm = _parse(heatmap("cm", np.array([[3, 1], [0, 4]])))
    cells = [r for r in hm.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(cells) == 4
    assert cells[3].get("fill") == "rgb(0,0,255)"  # row 1 is all in the diagonal: full colour
