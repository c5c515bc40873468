"""Band names matched loosely but never confused: B2 is not B12 nor B1, B8 is not B8A."""

from __future__ import annotations

import pytest

from landfuse.common.bands import (
    band_key,
    band_listing,
    level_1c_warning,
    match_bands,
    reflectance_scale_warning,
    sar_unit_warning,
)

SENTINEL2_L1C = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"]
DEMO_OPTICAL = ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("B2", "B2"),
        ("B02", "B2"),
        ("b2", "B2"),
        ("Band 2: B02", "B2"),
        ("Band 2 (B2)", "B2"),
        ("B02_10m", "B2"),
        ("B8A", "B8A"),
        ("B08A", "B8A"),
        ("b8a", "B8A"),
        ("B12", "B12"),
        ("VV", "VV"),
        ("vv", "VV"),
        ("Sigma0_VV_db", "VV"),
        ("VV_dB", "VV"),
        ("sigma0_vh", "VH"),
        ("Band 1: Gamma0_HH", "HH"),
        ("Red edge 1", "REDEDGE1"),
        ("Band 3", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_band_key_reduces_each_spelling_to_one_key(name, key):
    assert band_key(name) == key


def test_a_sentinel2_stack_gives_the_cards_bands_by_name():
    assert match_bands(SENTINEL2_L1C, DEMO_OPTICAL) == [2, 3, 4, 5, 6, 7, 8, 12, 13]
    qgis_names = [f"Band {i}: {name}" for i, name in enumerate(SENTINEL2_L1C, start=1)]
    assert match_bands(qgis_names, DEMO_OPTICAL) == [2, 3, 4, 5, 6, 7, 8, 12, 13]


def test_similar_names_are_never_confused():
    assert match_bands(["B1", "B12"], ["B2"]) == [None]
    assert match_bands(["B8A"], ["B8"]) == [None]
    assert match_bands(["B8", "B8A"], ["B8A", "B8"]) == [2, 1]
    assert match_bands(["B02", "B12", "B01"], ["B1", "B2", "B12"]) == [3, 1, 2]


def test_sar_bands_match_whatever_the_product_calls_them():
    assert match_bands(["Sigma0_VH_db", "Sigma0_VV_db"], ["VV", "VH"]) == [2, 1]
    assert match_bands(["vv", "vh"], ["VV", "VH"]) == [1, 2]
    assert match_bands(["HH", "HV"], ["VV", "VH"]) == [None, None]


def test_unnamed_bands_match_nothing():
    assert match_bands(["", None, "Band 3"], ["B2", "B3", "B4"]) == [None, None, None]


def test_other_names_match_whole_or_as_a_single_word():
    assert match_bands(["Blue", "Green", "Red", "Red edge 1"], ["red", "green"]) == [3, 2]
    assert match_bands(["nir_10m", "swir_20m"], ["NIR"]) == [1]
    assert match_bands(["red_10m", "red_20m"], ["red"]) == [None]  # two candidates: no guess


def test_band_listing_names_each_band_and_stops_after_a_limit():
    assert band_listing(["B1", None]) == "1 'B1', 2 (no name)"
    assert band_listing([f"b{i}" for i in range(30)], limit=2) == "1 'b0', 2 'b1', ... 30 bands in all"


def test_reflectance_scale_is_checked_against_the_cards_unit():
    assert "scaled 0-1" in reflectance_scale_warning("reflectance x 10000", 0.6)
    assert reflectance_scale_warning("reflectance x 10000", 4200.0) is None
    assert "x 10000" in reflectance_scale_warning("reflectance", 4200.0)
    assert reflectance_scale_warning("reflectance", 0.7) is None
    assert reflectance_scale_warning("digital numbers", 0.7) is None


def test_sar_unit_is_checked_against_the_cards_unit():
    assert sar_unit_warning("dB", -35.0, -14.0) is None
    assert sar_unit_warning("dB", -6.0, 2.5) is None  # bright urban scene, still dB
    assert "linear" in sar_unit_warning("dB", 0.0, 0.08)
    assert "dB" in sar_unit_warning("linear", -30.0, -12.0)
    assert sar_unit_warning("linear", 0.0, 0.08) is None
    assert "neither" in sar_unit_warning("dB", 0.0, 140.0)


def test_level_1c_is_recognised_by_band_b10_or_by_name_unless_the_card_says_level_1c():
    assert "B10" in level_1c_warning(SENTINEL2_L1C, "/data/stack.tif", "reflectance x 10000")
    l2a = [name for name in SENTINEL2_L1C if name != "B10"]
    assert level_1c_warning(l2a, "/data/stack.tif", "reflectance x 10000") is None
    safe = "SENTINEL2_L1C:/data/S2A_MSIL1C_20190918.SAFE/MTD_MSIL1C.xml:10m:EPSG_32630"
    assert "name says L1C" in level_1c_warning(l2a, safe, "")
    assert level_1c_warning(SENTINEL2_L1C, "/data/stack.tif", "trained on Level-1C tiles") is None


def test_band_lists_take_names_and_indexes():
    from landfuse.common.bands import parse_band_list

    assert parse_band_list("B2, B3,4 ,") == ["B2", "B3", 4]
    assert parse_band_list("") == [] and parse_band_list(None) == []
