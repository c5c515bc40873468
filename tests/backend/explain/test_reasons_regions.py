"""The curated table of physical reasons, and low confidence by part of the map."""

import numpy as np
import pytest
import rasterio
from affine import Affine

from landfuse.backend.explain.checker import check_sentence
from landfuse.backend.explain.facts import extract_facts
from landfuse.backend.explain.reasons import fits, fitting_reasons, reason_table
from landfuse.backend.explain.regions import RegionStats, part_name, regions_from_rasters, with_regions
from landfuse.common.classes import load_scheme
from tests.backend.explain.reports import METRICS, make_report

SCHEMES = ("dynamic_world", "worldcover", "m3m_cr")


def test_table_covers_the_three_schemes_with_classes_and_pairs():
    table = reason_table()
    for scheme in SCHEMES:
        names = {c.name for c in load_scheme(scheme)}
        lines = [r for r in table if r.scheme == scheme]
        assert sum(len(r.classes) == 2 for r in lines) >= 8, scheme
        assert {r.classes[0] for r in lines if len(r.classes) == 1} >= names - {"snow_and_ice", "moss_and_lichen"}
        for reason in lines:
            assert set(reason.classes) <= names, reason
    assert {r.scheme for r in table} == set(SCHEMES)
    assert len({(r.scheme, r.classes) for r in table}) == len(table)  # one fact per key


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_line_fits_a_map_holding_its_classes_and_passes_the_checker(scheme):
    names = [c.name for c in load_scheme(scheme)]
    for reason in (r for r in reason_table() if r.scheme == scheme):
        focus = reason.classes[0]
        scene = {focus: (0.3, 0.4)}
        scene.update({name: (0.7 / len(reason.classes[1:]), 0.9) for name in reason.classes[1:]})
        if len(scene) == 1:
            other = next(n for n in names if n != focus)
            scene = {focus: (0.3, 0.4), other: (0.7, 0.9)}
        facts = extract_facts(make_report(scene, names=names))
        assert fits(reason, facts), reason
        verdict = check_sentence(reason.text, facts)
        assert verdict.ok and verdict.kind == "reason", (reason.text, verdict.problems)


def test_a_reason_is_cited_only_when_the_map_fits_it():
    city = extract_facts(make_report({"built": (0.5, 0.9), "bare": (0.3, 0.5), "water": (0.2, 0.95)}))
    cited = {r.classes for r in fitting_reasons(city)}
    assert ("built", "bare") in cited and ("bare",) in cited
    assert ("built",) not in cited  # built is neither the least confident class nor confused
    assert not any("grass" in r.classes or "crops" in r.classes for r in fitting_reasons(city))
    confused = extract_facts(
        make_report({"trees": (0.5, 0.6), "grass": (0.3, 0.9), "crops": (0.2, 0.95)}),
        {**METRICS, "top_confusions": [{"reference": "grass", "predicted": "crops", "share_of_reference": 0.2}]},
    )
    assert ("grass", "crops") in {r.classes for r in fitting_reasons(confused)}
    other_scheme = extract_facts(make_report({"water": (0.6, 0.9), "crops": (0.4, 0.7)}, names=["water", "crops"]))
    assert other_scheme.scheme == "" and fitting_reasons(other_scheme) == ()


def test_part_names():
    assert [part_name(0, c, 3, 3) for c in range(3)] == ["north-west", "north", "north-east"]
    assert part_name(1, 1, 3, 3) == "centre" and part_name(1, 0, 2, 2) == "south-west"
    assert part_name(0, 0, 1, 1) == "centre"


@pytest.mark.parametrize("invalid_share", [0.1, 0.0])
def test_region_stats_match_a_direct_count_over_pieces(invalid_share):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, size=(50, 70)).astype(np.uint8)
    top = rng.uniform(0, 1, size=(50, 70)).astype(np.float32)
    valid = rng.uniform(size=(50, 70)) >= invalid_share
    stats = RegionStats(50, 70, 4, 0.5)
    for y0 in range(0, 50, 16):  # pieces of rows, then of columns
        for x0 in (0, 33):
            x1 = 33 if x0 == 0 else 70
            stats.add(y0, x0, labels[y0 : y0 + 16, x0:x1], top[y0 : y0 + 16, x0:x1], valid[y0 : y0 + 16, x0:x1])
    report = stats.to_report()
    rows, cols = [0, 17, 33, 50], [0, 23, 47, 70]
    for part in report["parts"]:
        window = (slice(rows[part["row"]], rows[part["row"] + 1]), slice(cols[part["col"]], cols[part["col"] + 1]))
        keep = valid[window]
        assert part["valid_pixels"] == keep.sum()
        assert part["low_confidence_pixels"] == (keep & (top[window] < 0.5)).sum()
        assert part["class_pixels"] == [int((keep & (labels[window] == k)).sum()) for k in range(4)]


def test_regions_from_written_rasters_reach_the_facts(tmp_path):
    labels = np.full((60, 60), 1, np.uint8)  # trees
    labels[:, 40:] = 4  # crops in the east
    labels[:5, :5] = 255  # nodata
    confidence = np.full((60, 60), 90, np.uint8)
    confidence[40:, 40:] = 30  # unsure crops in the south-east
    profile = {"driver": "GTiff", "width": 60, "height": 60, "count": 1, "dtype": "uint8", "crs": "EPSG:32633"}
    profile["transform"] = Affine(10, 0, 500000, 0, -10, 5000000)
    paths = {}
    for name, array in (("class_map", labels), ("confidence", confidence)):
        paths[name] = str(tmp_path / f"{name}.tif")
        with rasterio.open(paths[name], "w", nodata=255, **profile) as dst:
            dst.write(array, 1)
    regions = regions_from_rasters(paths["class_map"], paths["confidence"], 0.5, 9)
    south_east = next(p for p in regions["parts"] if p["name"] == "south-east")
    assert south_east["low_confidence_pixels"] == 400 and south_east["class_low_confidence_pixels"][4] == 400
    assert sum(p["valid_pixels"] for p in regions["parts"]) == 60 * 60 - 25
    report = make_report({"trees": (0.67, 0.9), "crops": (0.33, 0.6)})
    report["outputs"] = {**report["outputs"], **paths}
    facts = extract_facts(with_regions(report))
    assert facts["lowconf:south-east"].text == "100.0%"
    assert [r.name for r in facts.regions][:3] == ["north-west", "north", "north-east"]
    assert with_regions(make_report({"trees": (1.0, 0.9)})).get("regions") is None  # hostile paths: no files


def test_malformed_regions_give_no_parts():
    report = make_report({"trees": (0.6, 0.9), "crops": (0.4, 0.6)})
    report["regions"] = {"rows": 7, "cols": 3, "parts": [{"row": 0, "col": 0, "valid_pixels": "x"}]}
    assert extract_facts(report).regions == ()
