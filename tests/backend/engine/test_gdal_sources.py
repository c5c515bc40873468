"""Any raster GDAL opens is an input: a file in a zip, a GeoPackage table, a NetCDF variable, a raster
placed by ground control points only (Sentinel-1 GRD as delivered)."""

import zipfile

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.shutil import copy as gdal_copy
from rasterio.warp import calculate_default_transform

from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.errors import LandFuseError
from landfuse.backend.runners import OnnxRunner
from tests.backend.engine.helpers import export_onnx, tiny_card, tiny_module
from tests.backend.engine.independent import OutputGrid, expected_outputs

OPTIONS = ClassifyOptions(tile_size=64, overlap=16)


def class_map(*args, **kwargs) -> np.ndarray:
    classify(*args, options=OPTIONS, **kwargs)
    with rasterio.open(args[3]) as dst:
        return dst.read(1)


def refusal(*args) -> LandFuseError:
    with pytest.raises(LandFuseError) as info:
        classify(*args, options=OPTIONS)
    return info.value


def test_raster_inside_a_zip(scene, tiny_runner, tmp_path):
    optical, sar = scene
    with zipfile.ZipFile(tmp_path / "scene.zip", "w") as archive:
        archive.write(optical, "s2/optical.tif")
    zipped = f"/vsizip/{tmp_path / 'scene.zip'}/s2/optical.tif"
    plain = class_map(optical, sar, tiny_runner, tmp_path / "plain.tif")
    np.testing.assert_array_equal(class_map(zipped, sar, tiny_runner, tmp_path / "zipped.tif"), plain)
    error = refusal(f"/vsizip/{tmp_path / 'scene.zip'}/s2/missing.tif", sar, tiny_runner, tmp_path / "m.tif")
    assert error.code == "UNREADABLE" and "does not exist in the file system" in str(error), "GDAL's own words"


def test_geopackage_raster_table(scene, tiny_runner, tmp_path):
    optical, sar = scene
    with rasterio.open(optical) as src:
        profile = {**src.profile, "dtype": "uint8", "nodata": None}
        data = (src.read() // 40).astype(np.uint8)
    baseline = tmp_path / "optical8.tif"
    with rasterio.open(baseline, "w", **profile) as dst:
        dst.write(data)
    gdal_copy(baseline, tmp_path / "scene.gpkg", driver="GPKG", RASTER_TABLE="SCENE", TILE_FORMAT="PNG")
    table = f"GPKG:{tmp_path / 'scene.gpkg'}:SCENE"
    expected = class_map(baseline, sar, tiny_runner, tmp_path / "baseline.tif")
    np.testing.assert_array_equal(class_map(table, sar, tiny_runner, tmp_path / "gpkg.tif"), expected)
    error = refusal(f"GPKG:{tmp_path / 'scene.gpkg'}:OTHER", sar, tiny_runner, tmp_path / "m.tif")
    assert error.code == "UNREADABLE" and "Cannot find table 'OTHER'" in str(error)
    # the GeoPackage holding the input is an input too
    assert refusal(table, sar, tiny_runner, tmp_path / "scene.gpkg").code == "BAD_PARAMS"


def test_netcdf_subdataset_and_a_container_of_several(scene, tiny_runner, tmp_path):
    optical, sar = scene
    with rasterio.open(sar) as src:
        stacked = tmp_path / "stacked.tif"
        with rasterio.open(stacked, "w", **src.profile) as dst:
            dst.write(src.read())
            # GDAL writes one NetCDF variable with a polarisation dimension from these tags
            dst.update_tags(
                NETCDF_DIM_EXTRA="{polarisation}",
                NETCDF_DIM_polarisation_DEF="{2,4}",
                NETCDF_DIM_polarisation_VALUES="{1,2}",
            )
            for band in (1, 2):
                dst.update_tags(band, NETCDF_VARNAME="backscatter")
    gdal_copy(stacked, tmp_path / "sar.nc", driver="netCDF")
    subdataset = f'NETCDF:"{tmp_path / "sar.nc"}":backscatter'
    with rasterio.open(subdataset) as src:
        assert src.count == 2 and src.crs.to_epsg() == 4326
    expected = expected_outputs(tiny_runner.path, tiny_runner.card, optical, sar, 64, 16)
    classify(optical, subdataset, tiny_runner, tmp_path / "nc.tif", options=OPTIONS)
    expected.check_written(tmp_path / "nc.tif")

    gdal_copy(sar, tmp_path / "bands.nc", driver="netCDF")  # one variable per band: Band1, Band2
    error = refusal(optical, tmp_path / "bands.nc", tiny_runner, tmp_path / "m.tif")
    assert error.code == "UNREADABLE" and "2 subdataset(s)" in str(error)
    assert f'NETCDF:"{tmp_path / "bands.nc"}":Band1' in str(error)


def write_gcp_copy(source, path, step: int = 10):
    """``source`` without geotransform, placed by a lattice of GCPs that follow its affine transform exactly."""
    with rasterio.open(source) as src:
        profile = {k: v for k, v in src.profile.items() if k not in ("transform", "crs")}
        rows = sorted({*range(0, src.height + 1, step), src.height})
        cols = sorted({*range(0, src.width + 1, step), src.width})
        points = []
        for row in rows:
            for col in cols:
                x, y = src.transform @ (col, row)
                points.append(GroundControlPoint(row=row, col=col, x=x, y=y))
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(src.read())
            dst.gcps = (points, src.crs)
    return path


def test_sar_placed_by_ground_control_points(scene, tiny_runner, tmp_path):
    optical, sar = scene
    gcp_sar = write_gcp_copy(sar, tmp_path / "gcp_sar.tif")
    with rasterio.open(gcp_sar) as src:
        assert src.crs is None and src.transform.is_identity and len(src.gcps[0]) > 100
    report = classify(
        optical, gcp_sar, tiny_runner, tmp_path / "map.tif", confidence=tmp_path / "c.tif", options=OPTIONS
    )
    # the GCPs follow the original geotransform, so the map is the one of the original SAR sampled
    # bilinearly from the four pixels around each position (independent implementation)
    expected = expected_outputs(tiny_runner.path, tiny_runner.card, optical, sar, 64, 16, strict_bilinear=True)
    expected.check_written(tmp_path / "map.tif", tmp_path / "c.tif")
    assert report["sar_unit"] == "dB"


def test_ground_control_points_as_the_reference_raster(scene, tmp_path):
    card = tiny_card(optical=0)
    model = export_onnx(tiny_module(card), card, tmp_path / "sar_only.onnx")
    gcp_sar = write_gcp_copy(scene[1], tmp_path / "gcp_sar.tif")
    classify(None, gcp_sar, OnnxRunner(model, "cpu"), tmp_path / "map.tif", options=OPTIONS)
    with rasterio.open(gcp_sar) as src:
        points, crs = src.gcps
        transform, width, height = calculate_default_transform(crs, crs, src.width, src.height, gcps=points)
    grid = OutputGrid(crs, transform, width, height)
    with rasterio.open(tmp_path / "map.tif") as dst:
        assert (dst.crs, dst.shape) == (crs, (height, width))
        assert dst.transform.almost_equals(transform, 1e-12)
    expected = expected_outputs(model, card, None, scene[1], 64, 16, grid=grid, strict_bilinear=True)
    expected.check_written(tmp_path / "map.tif")


def test_ground_control_points_without_crs_are_refused_with_advice(scene, tiny_runner, tmp_path):
    source = write_gcp_copy(scene[1], tmp_path / "gcp_sar.tif", step=150)
    with rasterio.open(source) as src:
        points = "".join(
            f'<GCP Id="{i}" Pixel="{p.col}" Line="{p.row}" X="{p.x}" Y="{p.y}"/>' for i, p in enumerate(src.gcps[0])
        )
        bands = "".join(
            f'<VRTRasterBand dataType="Float32" band="{b}"><SimpleSource><SourceFilename relativeToVRT="0">{source}'
            f"</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource></VRTRasterBand>"
            for b in (1, 2)
        )
        size = f'rasterXSize="{src.width}" rasterYSize="{src.height}"'
    vrt = tmp_path / "no_crs.vrt"
    vrt.write_text(f'<VRTDataset {size}><GCPList Projection="">{points}</GCPList>{bands}</VRTDataset>')
    error = refusal(scene[0], vrt, tiny_runner, tmp_path / "map.tif")
    assert error.code == "NO_CRS" and "gdalwarp" in str(error)
