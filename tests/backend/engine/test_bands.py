"""Bands found by name in real GeoTIFFs whose band descriptions are set, by index, or by count when unnamed."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.bands import resolve_bands
from landfuse.backend.errors import BandError
from landfuse.common.card import BandSpec

SENTINEL2 = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
DEMO_OPTICAL = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12")
OPTICAL_SPECS = tuple(BandSpec(name, "reflectance x 10000", 1500.0, 1000.0) for name in DEMO_OPTICAL)
SAR_SPECS = tuple(BandSpec(name, "dB", -14.0, 5.0) for name in ("VV", "VH"))


def write_stack(path, descriptions, data=None):
    """A small uint16 GeoTIFF with one band per description (``None``: no description)."""
    count = len(descriptions)
    data = np.arange(count * 16, dtype=np.uint16).reshape(count, 4, 4) if data is None else data
    profile = dict(
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=count,
        dtype=data.dtype,
        crs="EPSG:32633",
        transform=from_origin(400000.0, 5000000.0, 10, 10),
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for index, name in enumerate(descriptions, start=1):
            if name:
                dst.set_band_description(index, name)
    return path


def resolved(path, requested, specs=OPTICAL_SPECS, name="optical"):
    with rasterio.open(path) as dataset:
        return resolve_bands(dataset, requested, specs, name)


def test_a_sentinel2_stack_gives_the_cards_bands_by_name(tmp_path):
    stack = write_stack(tmp_path / "s2.tif", SENTINEL2)
    assert resolved(stack, None) == [2, 3, 4, 5, 6, 7, 8, 12, 13]


def test_names_win_over_the_band_count(tmp_path):
    shuffled = ("B12", "B11", "B8", "B7", "B6", "B5", "B4", "B3", "B2")
    stack = write_stack(tmp_path / "shuffled.tif", shuffled)
    assert resolved(stack, None) == [9, 8, 7, 6, 5, 4, 3, 2, 1]
    spelled = write_stack(tmp_path / "spelled.tif", ("Sigma0_VH_db", "Sigma0_VV_db"))
    assert resolved(spelled, None, SAR_SPECS, "SAR") == [2, 1]


def test_unnamed_bands_are_taken_in_order_when_their_count_matches(tmp_path):
    assert resolved(write_stack(tmp_path / "unnamed.tif", [None] * 9), None) == list(range(1, 10))
    with pytest.raises(
        BandError, match=r"has 8 band\(s\) \(1 \(no name\), .*8 \(no name\)\) and none is named B2, .*B12"
    ):
        resolved(write_stack(tmp_path / "eight.tif", [None] * 8), None)


def test_named_bands_that_miss_a_card_band_are_refused_even_when_the_count_matches(tmp_path):
    first_nine = write_stack(tmp_path / "first-nine.tif", SENTINEL2[:9])
    with pytest.raises(BandError) as info:
        resolved(first_nine, None)
    message = str(info.value)
    assert "none is named B11, B12" in message and "9 'B8A'" in message


def test_requested_bands_may_be_indexes_or_names(tmp_path):
    stack = write_stack(tmp_path / "s2.tif", SENTINEL2)
    assert resolved(stack, ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B11", "B12"]) == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        12,
        13,
    ]
    assert resolved(stack, [2, "b3", 4, "B5", 6, 7, "B8", 12, 13]) == [2, 3, 4, 5, 6, 7, 8, 12, 13]


def test_a_requested_band_that_does_not_exist_is_named_in_the_error(tmp_path):
    stack = write_stack(tmp_path / "s2.tif", SENTINEL2)
    wrong_name = ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B13"]
    with pytest.raises(BandError, match=r"named 'B13' \(asked for the model's band B12\).*13 'B12'"):
        resolved(stack, wrong_name)
    with pytest.raises(BandError, match=r"bands 1\.\.13; band 14 \(for the model's band B12\) does not exist"):
        resolved(stack, [2, 3, 4, 5, 6, 7, 8, 12, 14])
    with pytest.raises(BandError, match="needs 9 optical bands"):
        resolved(stack, ["B2", "B3"])


def test_classify_finds_reordered_named_bands(scene, tiny_runner, tmp_path):
    """The same scene with its bands reversed and named classifies exactly like the original."""
    optical, sar = scene
    with rasterio.open(optical) as src:
        profile, data = src.profile, src.read()
    named = tmp_path / "reversed.tif"
    with rasterio.open(named, "w", **profile) as dst:
        dst.write(data[::-1])
        dst.descriptions = tuple(spec.name for spec in tiny_runner.card.optical_bands)[::-1]
    options = ClassifyOptions(tile_size=32, overlap=8, batch_size=2)
    classify(optical, sar, tiny_runner, tmp_path / "original.tif", options=options)
    classify(named, sar, tiny_runner, tmp_path / "by-name.tif", options=options)
    with rasterio.open(tmp_path / "original.tif") as a, rasterio.open(tmp_path / "by-name.tif") as b:
        assert np.array_equal(a.read(), b.read()) and len(np.unique(a.read())) > 1
