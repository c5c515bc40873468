"""The analyst workflow on a real Sentinel-1/2 chip (Sen1Floods11, hand-labelled flood): a short CI version of
``bench/analyst.py``. Reference polygons from the hand label of the left half, a lite model trained for a few
epochs on the CPU, the right half mapped and assessed against a stratified sample labelled from the hand label.

Threshold: the water IoU of the right half must exceed 0.5, clearly above the 0.36 of mapping the whole half as
water (water covers 36 % of it); the benchmark, with a longer budget, reports the full result.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from landfuse.backend.analyst.assess import assess
from landfuse.backend.analyst.classmap import open_class_map
from landfuse.backend.analyst.sampling import draw_points, plan_sample
from landfuse.backend.analyst.train import TrainOptions, train_from_references
from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.bench import analyst as bench

pytestmark = pytest.mark.skipif(not bench.OPTICAL.is_file(), reason="the shared Sen1Floods11 chip is not present")
CI_EPOCHS = 6
CI_IOU_THRESHOLD = 0.5


def test_reference_polygons_lie_in_the_left_half_and_match_the_label():
    label, transform = bench.read_label()
    polygons = bench.draw_reference_polygons(label, transform, slice(0, 256))
    assert [c for _, c in polygons].count("water") == bench.WATER_POLYGONS
    assert [c for _, c in polygons].count("not_water") == bench.LAND_POLYGONS
    from rasterio import features

    for geometry, name in polygons:
        burnt = features.rasterize([(geometry, 1)], out_shape=label.shape, transform=transform) == 1
        assert not burnt[:, 256:].any()
        assert (label[burnt] == (1 if name == "water" else 0)).all()


def test_a_short_training_maps_the_flood_of_the_unseen_half(tmp_path):
    label, transform = bench.read_label()
    references = bench.write_geojson(
        tmp_path / "references.geojson", bench.draw_reference_polygons(label, transform, slice(0, 256))
    )
    training = train_from_references(
        str(bench.OPTICAL),
        str(bench.SAR),
        str(references),
        tmp_path / "flood.onnx",
        classes=bench.CLASSES,
        options=TrainOptions(epochs=CI_EPOCHS, device="cpu", threads=1),
    )
    assert training["reference"]["optical_bands"][:2] == ["B1", "B2"] and training["reference"]["sar_bands"] == [
        "VV",
        "VH",
    ]
    extent = bench.half_extent(transform, 512, 512, right=True)
    classify(
        str(bench.OPTICAL),
        str(bench.SAR),
        tmp_path / "flood.onnx",
        tmp_path / "right.tif",
        options=ClassifyOptions(extent=extent, device="cpu"),
    )
    with rasterio.open(tmp_path / "right.tif") as src:
        mapped = src.read(1)
    truth = label[:, 256:]
    assert mapped.shape == (512, 256)
    assert bench.water_iou(mapped, truth) > CI_IOU_THRESHOLD

    class_map = open_class_map(str(tmp_path / "right.tif"), with_areas=True)
    design = plan_sample(class_map, 0.03, 0.8, minimum=30)
    points = draw_points(class_map, [c["points"] for c in design["classes"]], seed=0)
    labelled, _ = bench.label_points(points, label, transform, tmp_path / "labelled.geojson")
    assessment = assess(str(tmp_path / "right.tif"), str(labelled))
    water = assessment["per_class"][1]
    low, high = water["hectares_interval"]
    assert 0 < low < water["hectares_estimate"] < high
    true_water_ha = float((class_map.grid.row_pixel_areas(0, 512)[:, None] * (truth == 1)).sum() / 1e4)
    # the sample corrects the map's area towards the hand label's
    assert abs(water["hectares_estimate"] - true_water_ha) < abs(water["mapped_hectares"] - true_water_ha)
    assert np.isfinite(assessment["oa"]) and assessment["oa_interval"][0] < assessment["oa"]
