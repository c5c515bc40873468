"""End-to-end classification of GeoTIFFs the tests write: optical UTM 10 m, SAR EPSG:4326 ~20 m."""

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.windows import WindowPlan
from tests.backend.engine.helpers import reference, write_sar

OPTIONS = ClassifyOptions(tile_size=64, overlap=16, batch_size=3)


def test_streamed_probabilities_equal_the_in_memory_reference(scene, tiny_runner):
    expected, valid, streamed, streamed_valid = reference(tiny_runner, *scene, OPTIONS)
    np.testing.assert_array_equal(streamed_valid, valid)
    assert np.abs(streamed - expected).max() <= 1e-5


def test_outputs_on_optical_grid_with_nodata_styling_and_report(scene, tiny_runner, tmp_path):
    optical, sar = scene
    out = tmp_path / "landcover.tif"
    report = classify(
        optical,
        sar,
        tiny_runner,
        out,
        confidence=tmp_path / "confidence.tif",
        report=tmp_path / "report.json",
        options=OPTIONS,
    )
    expected, valid, _, _ = reference(tiny_runner, optical, sar, OPTIONS)
    card = tiny_runner.card
    with rasterio.open(optical) as src, rasterio.open(out) as dst, rasterio.open(tmp_path / "confidence.tif") as conf:
        assert (dst.crs, dst.transform, dst.shape) == (src.crs, src.transform, src.shape)
        assert dst.dtypes[0] == "uint8" and dst.nodata == card.nodata
        assert dst.profile["tiled"] and dst.compression is not None
        assert dst.colormap(1)[1][:3] == card.classes[1].rgb
        classes, confidence = dst.read(1), conf.read(1)
        optical_nodata = (src.read() == 0).all(axis=0)
    assert optical_nodata.sum() == 120 and not valid[optical_nodata].any()
    assert (~valid).sum() > 120, "the SAR NaN patch must be masked too"
    np.testing.assert_array_equal(classes == card.nodata, ~valid)
    top2 = np.sort(expected, axis=0)[-2:]
    clear = valid & (top2[1] - top2[0] > 1e-4)
    np.testing.assert_array_equal(classes[clear], expected.argmax(axis=0)[clear])
    percent = expected.max(axis=0) * 100
    rounded = valid & (np.abs(percent - np.floor(percent) - 0.5) > 1e-3)  # not on a rounding edge
    np.testing.assert_array_equal(confidence[rounded], np.rint(percent[rounded]))
    assert (confidence[~valid] == 255).all()

    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert report["grid"]["crs"] == "EPSG:32633" and report["grid"]["pixel_area_m2"] == pytest.approx(100.0)
    pixels = [c["pixels"] for c in report["classes"]]
    assert sum(pixels) == valid.sum()
    assert pixels == [int((classes == i).sum()) for i in range(card.num_classes)]
    assert [c["hectares"] for c in report["classes"]] == pytest.approx([p * 0.01 for p in pixels])
    assert report["valid_share"] == pytest.approx(valid.mean())
    assert report["mean_confidence"] == pytest.approx(expected.max(axis=0)[valid].mean(), abs=1e-5)
    assert set(report["timing_s"]) >= {"read", "infer", "write", "total"}
    assert report["sar_unit"] == "dB" and report["device"] == "cpu"
    parts = report["regions"]["parts"]
    height, width = classes.shape
    north_west = (slice(0, round(height / 3)), slice(0, round(width / 3)))
    assert [p["name"] for p in parts][:3] == ["north-west", "north", "north-east"]
    assert parts[0]["class_pixels"] == [int((classes[north_west] == i).sum()) for i in range(card.num_classes)]
    low = valid & (expected.max(axis=0) < report["low_confidence_threshold"])
    assert sum(p["low_confidence_pixels"] for p in parts) == int(low.sum())
    qml = out.with_suffix(".qml").read_text()
    assert 'type="paletted"' in qml and all(f'label="{c.name}"' in qml for c in card.classes)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["landcover.tif", "landcover.qml", "landcover.tif.aux.xml", "confidence.tif", "confidence.qml", "report.json"]
    )


def test_category_names_are_readable_by_gdal(scene, tiny_runner, tmp_path):
    gdal = pytest.importorskip("osgeo.gdal")
    classify(*scene, tiny_runner, tmp_path / "map.tif", options=OPTIONS)
    dataset = gdal.Open(str(tmp_path / "map.tif"))
    dataset.GetMetadata()  # GDAL 3.6 loads the .aux.xml lazily, on the first metadata request
    names = dataset.GetRasterBand(1).GetCategoryNames()
    assert names[:3] == [c.name for c in tiny_runner.card.classes]


def test_linear_sar_is_converted_to_db(scene, tiny_runner, tmp_path):
    optical, db_sar = scene
    linear = write_sar(tmp_path / "sar_linear.tif", 150, 170, linear=True)
    expected, valid, streamed, streamed_valid = reference(tiny_runner, optical, linear, OPTIONS, sar_unit="linear")
    np.testing.assert_array_equal(streamed_valid, valid)
    assert np.abs(streamed - expected).max() <= 1e-5
    # resampling onto the optical grid happens in the file's unit (power), so the dB raster gives a close,
    # not an equal, result
    in_db, db_valid, _, _ = reference(tiny_runner, optical, db_sar, OPTIONS)
    np.testing.assert_array_equal(db_valid, valid)
    assert 1e-5 < np.abs(streamed - in_db).max() < 0.01
    report = classify(optical, linear, tiny_runner, tmp_path / "map.tif", options=OPTIONS)
    assert report["sar_unit"] == "linear" and any("converted" in n for n in report["notes"])


def seam_ratio(probs: np.ndarray, plan: WindowPlan) -> float:
    """Mean class-probability jump across window edge columns / mean jump across other columns."""
    jumps = np.abs(np.diff(probs, axis=2)).mean(axis=(0, 1))
    edges = {x - 1 for x in plan.col_starts[1:]} | {x + plan.tile - 1 for x in plan.col_starts[:-1]}
    inner = [i for i in range(jumps.size) if i not in edges]
    return float(jumps[sorted(edges)].mean() / jumps[inner].mean())


def test_tiles_leave_no_seams(scene, tiny_runner):
    """Blended windows show no jump at their edges; butt-joined windows (no overlap) do, so the measure works."""
    single, valid, _, _ = reference(tiny_runner, *scene, options=ClassifyOptions(tile_size=192, overlap=0))
    blended, _, _, _ = reference(tiny_runner, *scene, options=ClassifyOptions(tile_size=48, overlap=24))
    butted, _, _, _ = reference(tiny_runner, *scene, options=ClassifyOptions(tile_size=48, overlap=0))
    assert seam_ratio(blended, WindowPlan(150, 170, 48, 24)) < 1.4
    assert seam_ratio(butted, WindowPlan(150, 170, 48, 0)) > 2.5
    assert np.abs(blended - single)[:, valid].mean() < 0.005


def test_target_crs_and_resolution(scene, tiny_runner, tmp_path):
    from rasterio.transform import array_bounds
    from rasterio.warp import calculate_default_transform

    options = ClassifyOptions(tile_size=64, overlap=16, target_crs="EPSG:3857", resolution=20.0)
    report = classify(*scene, tiny_runner, tmp_path / "map.tif", options=options)
    with rasterio.open(scene[0]) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3857", src.width, src.height, *src.bounds, resolution=(20.0, 20.0)
        )
    west, _, _, north = array_bounds(height, width, transform)
    expected, valid, streamed, _ = reference(tiny_runner, *scene, options)
    with rasterio.open(tmp_path / "map.tif") as dst:
        assert dst.crs.to_epsg() == 3857 and dst.res == (20.0, 20.0) and dst.shape == (height, width)
        assert (dst.transform.c, dst.transform.f) == pytest.approx((west, north), abs=1e-6)
        classes = dst.read(1)
    np.testing.assert_array_equal(classes == 255, ~valid)
    assert np.abs(streamed - expected).max() <= 1e-5
    assert report["grid"]["crs"] == "EPSG:3857" and report["valid_share"] == pytest.approx(valid.mean())


def test_utm_target_from_geographic_sar_only_model(tmp_path, scene):
    from landfuse.backend.runners import OnnxRunner
    from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module

    card = tiny_card(optical=0)
    runner = OnnxRunner(export_onnx(tiny_module(card), card, tmp_path / "sar_only.onnx"), "cpu")
    _, sar = scene
    native = classify(None, sar, runner, tmp_path / "native.tif", options=OPTIONS)
    utm = classify(None, sar, runner, tmp_path / "utm.tif", options=ClassifyOptions(tile_size=64, target_crs="utm"))
    assert native["grid"]["geographic"] and native["grid"]["crs"] == "EPSG:4326"
    assert utm["grid"]["crs"] == "EPSG:32633"

    def hectares(report):
        return sum(c["hectares"] for c in report["classes"])

    assert hectares(native) == pytest.approx(hectares(utm), rel=0.02)
    assert any("ellipsoid" in n for n in native["notes"])


def test_existing_output_is_replaced_only_on_success(scene, tiny_runner, tmp_path):
    out = tmp_path / "map.tif"
    out.write_bytes(b"previous")
    classify(*scene, tiny_runner, out, options=OPTIONS)
    with rasterio.open(out) as dst:
        assert dst.count == 1
    assert not [p for p in Path(tmp_path).iterdir() if p.name.endswith(".partial")]


def test_raster_smaller_than_a_tile_is_padded(tiny_runner, tmp_path):
    from tests.backend.engine.helpers import write_optical

    optical = write_optical(tmp_path / "small.tif", 40, 50, nodata_patch=False)
    sar = write_sar(tmp_path / "small_sar.tif", 40, 50, nan_patch=False)
    expected, valid, streamed, _ = reference(tiny_runner, optical, sar, OPTIONS)
    assert valid.all() and np.abs(streamed - expected).max() <= 1e-5
    fractions = []
    report = classify(
        optical, sar, tiny_runner, tmp_path / "map.tif", options=OPTIONS, progress=lambda f, m: fractions.append(f)
    )
    assert report["windows"]["total"] == 1 and report["grid"]["width"] == 50
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    with rasterio.open(tmp_path / "map.tif") as dst:
        np.testing.assert_array_equal(dst.read(1), expected.argmax(axis=0))
