"""Sieve + polygonize into a GeoPackage: areas and counts on a hand-made class map, blocks, style."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import ogr

from landfuse.backend.analyst.vectorise import mmu_pixels, polygon_area, vectorise
from landfuse.backend.engine.grid import Grid
from tests.backend.analyst.helpers import write_class_map

NAMES, COLOURS = ["water", "crops", "trees"], ["#1f78b4", "#ffdd00", "#33a02c"]


def hand_made() -> np.ndarray:
    """40 x 60 pixels of 10 m (0.01 ha each): crops everywhere, a 10 x 10 water pond (1 ha) with a 2 x 2
    island of crops inside (a hole), a 3 x 3 tree clump (0.09 ha, below a 0.1 ha MMU) in the crops, a
    20 x 20 wood (4 ha) and a nodata corner of 5 x 5."""
    ids = np.ones((40, 60), np.uint8)
    ids[5:15, 5:15] = 0
    ids[9:11, 9:11] = 1
    ids[30:33, 5:8] = 2
    ids[10:30, 35:55] = 2
    ids[35:, 55:] = 255
    return ids


def read_layer(path) -> list[dict]:
    dataset = ogr.Open(str(path))
    layer = dataset.GetLayerByName("land_cover")
    features = [
        {
            "class_id": f.GetField("class_id"),
            "class_name": f.GetField("class_name"),
            "area_ha": f.GetField("area_ha"),
            "ogr_area": f.GetGeometryRef().GetArea() / 1e4,
        }
        for f in layer
    ]
    return features


def totals(features: list[dict]) -> dict:
    result = {}
    for feature in features:
        count, area = result.get(feature["class_name"], (0, 0.0))
        result[feature["class_name"]] = (count + 1, round(area + feature["area_ha"], 6))
    return result


@pytest.fixture()
def class_map(tmp_path):
    return write_class_map(tmp_path / "map.tif", hand_made(), NAMES, COLOURS)


def test_polygons_without_sieve_have_the_class_areas_and_holes(class_map, tmp_path):
    result = vectorise(str(class_map), str(tmp_path / "polygons.gpkg"))
    features = read_layer(tmp_path / "polygons.gpkg")
    # crops: the big region (with the pond, clump and wood as holes) and the island in the pond
    # 2400 pixels less 25 nodata: water 100 - 4, trees 9 + 400, crops the rest (1870)
    assert totals(features) == {"water": (1, 0.96), "crops": (2, 18.7), "trees": (2, 4.09)}
    assert result["features"] == 5 and result["mmu_pixels"] == 0
    for feature in features:
        assert feature["area_ha"] == pytest.approx(feature["ogr_area"])  # planar grid: the geometry's own area


def test_the_sieve_removes_regions_below_the_minimum_mapping_unit(class_map, tmp_path):
    """0.1 ha = 10 pixels: the 4-pixel island joins the water, the 9-pixel clump joins the crops."""
    result = vectorise(str(class_map), str(tmp_path / "polygons.gpkg"), mmu_hectares=0.1)
    features = read_layer(tmp_path / "polygons.gpkg")
    assert totals(features) == {"water": (1, 1.0), "crops": (1, 18.75), "trees": (1, 4.0)}
    assert result["mmu_pixels"] == 10
    assert {c["name"]: c["polygons"] for c in result["classes"]} == {"water": 1, "crops": 1, "trees": 1}


def test_blocks_cut_polygons_but_keep_areas_and_the_sieve(class_map, tmp_path):
    # A map of 2 x 2 hand-made maps (80 x 120) in 64-pixel blocks: 2 x 2 blocks cutting the pond and the wood.
    big = np.tile(hand_made(), (2, 2))
    big[big == 255] = 1
    tiled = write_class_map(tmp_path / "tiled.tif", big, NAMES, COLOURS)
    one = vectorise(str(tiled), str(tmp_path / "one.gpkg"), mmu_hectares=0.1, block=2048)
    four = vectorise(str(tiled), str(tmp_path / "four.gpkg"), mmu_hectares=0.1, block=64)
    assert four["blocks"] == 4 and one["blocks"] == 1
    assert [c["hectares"] for c in four["classes"]] == pytest.approx([c["hectares"] for c in one["classes"]])
    assert four["features"] > one["features"]
    one_totals, four_totals = totals(read_layer(tmp_path / "one.gpkg")), totals(read_layer(tmp_path / "four.gpkg"))
    assert {k: v[1] for k, v in one_totals.items()} == pytest.approx({k: v[1] for k, v in four_totals.items()})


def test_geographic_areas_come_from_the_rows_on_the_ellipsoid():
    """A 2 x 1 pixel rectangle on a 0.001 degree grid at 60 degrees north: the sum of its rows' true areas."""
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    grid = Grid(CRS.from_epsg(4326), from_origin(10.0, 60.0, 0.001, 0.001), 10, 10)
    areas = grid.row_pixel_areas(0, 10)
    cumulative = np.concatenate([[0.0], np.cumsum(areas)])
    ring = np.array([[2, 3], [3, 3], [3, 5], [2, 5], [2, 3]], dtype=float)  # column 2, rows 3-4
    assert polygon_area([ring], cumulative) == pytest.approx(areas[3] + areas[4])
    assert mmu_pixels(0.5, 100.0) == 50 and mmu_pixels(0.0, 100.0) == 0 and mmu_pixels(0.501, 100.0) == 51


def test_the_geopackage_carries_fields_crs_and_the_class_style(class_map, tmp_path):
    vectorise(str(class_map), str(tmp_path / "polygons.gpkg"), mmu_hectares=0.1)
    dataset = ogr.Open(str(tmp_path / "polygons.gpkg"))
    layer = dataset.GetLayerByName("land_cover")
    definition = layer.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    assert names == ["class_id", "class_name", "area_ha"]
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32633"
    assert layer.GetGeomType() == ogr.wkbPolygon
    styles = dataset.ExecuteSQL("SELECT f_table_name, useAsDefault, styleQML FROM layer_styles")
    (style,) = list(styles)
    assert style.GetField("f_table_name") == "land_cover" and style.GetField("useAsDefault") == 1
    qml = style.GetField("styleQML")
    assert 'type="categorizedSymbol" attr="class_id"' in qml and 'value="31,120,180,255"' in qml
    dataset.ReleaseResultSet(styles)


def test_a_small_region_across_block_edges_is_sieved_like_on_the_whole_map(tmp_path):
    """A 3 x 3 clump on the corner of four 64-pixel blocks: its pixels lie in four blocks, each seeing it whole
    through the margin, so it is removed; without a sieve it comes out in four pieces."""
    ids = np.ones((128, 128), np.uint8)
    ids[62:65, 62:65] = 2
    path = write_class_map(tmp_path / "corner.tif", ids, NAMES, COLOURS)
    sieved = vectorise(str(path), str(tmp_path / "sieved.gpkg"), mmu_hectares=0.1, block=64)
    assert {c["name"]: c["polygons"] for c in sieved["classes"]} == {"water": 0, "crops": 4, "trees": 0}
    vectorise(str(path), str(tmp_path / "kept.gpkg"), block=64)
    trees = [f for f in read_layer(tmp_path / "kept.gpkg") if f["class_name"] == "trees"]
    assert sorted(round(f["area_ha"], 2) for f in trees) == [0.01, 0.02, 0.02, 0.04]
