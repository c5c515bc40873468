"""Real Sentinel-1/2 samples: Sen1Floods11 (EPSG:4326) and BigEarthNet (UTM, bands at 10/20 m in separate files)."""

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform

from landfuse.backend.engine import ClassifyOptions, classify
from tests.backend.engine.helpers import reference
from tests.paths import SHARED_DATA

FLOODS = SHARED_DATA / "sen1floods11"
BIGEARTHNET = SHARED_DATA / "bigearthnet-mm"
pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared real samples are not available")


def stack_vrt(sources: list[Path], path: Path) -> Path:
    """A VRT stacking single-band files onto the grid of the first one (others resampled by GDAL)."""
    with rasterio.open(sources[0]) as first:
        width, height, crs, transform = first.width, first.height, first.crs, first.transform
    bands = []
    for i, source in enumerate(sources, start=1):
        with rasterio.open(source) as src:
            dtype = {"uint16": "UInt16", "float32": "Float32"}[src.dtypes[0]]
            bands.append(
                f'<VRTRasterBand dataType="{dtype}" band="{i}"><Description>{source.stem.split("_")[-1]}</Description>'
                f'<SimpleSource resampling="bilinear"><SourceFilename relativeToVRT="0">{source}</SourceFilename>'
                f'<SourceBand>1</SourceBand><SrcRect xOff="0" yOff="0" xSize="{src.width}" ySize="{src.height}"/>'
                f'<DstRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/></SimpleSource></VRTRasterBand>'
            )
    geo = ", ".join(repr(v) for v in transform.to_gdal())
    path.write_text(
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><SRS>{crs.to_wkt()}</SRS>'
        f"<GeoTransform>{geo}</GeoTransform>{''.join(bands)}</VRTDataset>"
    )
    return path


def footprint_hectares(bounds, crs, utm) -> float:
    """Area of a lon/lat box in a UTM CRS (edges densified), hectares."""
    t = np.linspace(0, 1, 200)
    left, bottom, right, top = bounds
    xs = np.concatenate(
        [left + (right - left) * t, np.full(200, right), right - (right - left) * t, np.full(200, left)]
    )
    ys = np.concatenate(
        [np.full(200, bottom), bottom + (top - bottom) * t, np.full(200, top), top - (top - bottom) * t]
    )
    x, y = (np.array(v) for v in transform(crs, utm, xs, ys))
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 1e4


def test_sen1floods11_geographic_pair(tiny_runner, tmp_path):
    optical, sar = FLOODS / "Spain_7370579_S2Hand.tif", FLOODS / "Spain_7370579_S1Hand.tif"
    bands = {"optical": [4, 3, 8], "sar": [1, 2]}
    options = ClassifyOptions(tile_size=128, overlap=32, batch_size=4)
    expected, valid, streamed, streamed_valid = reference(tiny_runner, optical, sar, options, bands)
    np.testing.assert_array_equal(streamed_valid, valid)
    assert np.abs(streamed - expected).max() <= 1e-5
    out = tmp_path / "floods.tif"
    report = classify(
        optical, sar, tiny_runner, out, optical_bands=bands["optical"], sar_bands=bands["sar"], options=options
    )
    with rasterio.open(optical) as src, rasterio.open(out) as dst:
        assert (dst.crs, dst.transform, dst.shape) == (src.crs, src.transform, src.shape)
        classes = dst.read(1)
        utm_hectares = footprint_hectares(src.bounds, src.crs, "EPSG:32630")
    np.testing.assert_array_equal(classes == 255, ~valid)
    total = sum(c["hectares"] for c in report["classes"]) / report["valid_share"]
    assert report["grid"]["geographic"]
    assert total == pytest.approx(utm_hectares, rel=0.005)


def test_bigearthnet_bands_at_10_and_20_m(tiny_runner, tmp_path):
    s2 = BIGEARTHNET / "BigEarthNet-S2-Example" / "S2A_MSIL2A_20170613T101031_87_48"
    s1 = BIGEARTHNET / "BigEarthNet-S1-Example" / "S1A_IW_GRDH_1SDV_20170613T165043_33UUP_87_48"
    optical = stack_vrt([s2 / f"{s2.name}_{b}.tif" for b in ("B04", "B03", "B11")], tmp_path / "s2.vrt")
    sar = stack_vrt([s1 / f"{s1.name}_{p}.tif" for p in ("VV", "VH")], tmp_path / "s1.vrt")
    options = ClassifyOptions(tile_size=64, overlap=16, batch_size=2)
    bands = {"optical": [1, 2, 3]}  # B11 (20 m) stands in for the card's third band
    expected, valid, streamed, streamed_valid = reference(tiny_runner, optical, sar, options, bands)
    assert valid.all()
    assert np.abs(streamed - expected).max() <= 1e-5
    out = tmp_path / "bigearthnet.tif"
    report = classify(optical, sar, tiny_runner, out, optical_bands=bands["optical"], options=options)
    with rasterio.open(out) as dst:
        assert dst.crs.to_epsg() == 32633 and dst.res == (10.0, 10.0) and dst.shape == (120, 120)
    assert sum(c["hectares"] for c in report["classes"]) == pytest.approx(144.0)
    assert report["sar_unit"] == "dB"
