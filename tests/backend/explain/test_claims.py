"""The claim checker: every true sentence of every kind kept, every false one refused.

The false sentences include those read in explanations of real scenes before the checker existed
(a share given as a confidence, clouds as the subject of uncertainty, a class with a trace of pixels
discussed as present, a present class said to be absent, a field check naming nothing, a false
"least sure").
"""

import numpy as np
import pytest

from landfuse.backend.explain.checker import check_claims, check_sentence, split_sentences
from landfuse.backend.explain.claims import KINDS, claim_options, template_claims
from landfuse.backend.explain.facts import extract_facts
from landfuse.backend.explain.grounding import fill_placeholders
from landfuse.backend.explain.regions import RegionStats
from landfuse.backend.explain.template import template_explanation
from tests.backend.explain.reports import DYNAMIC_WORLD, FOREST_SCENE, METRICS, make_report

TYPICAL = {"trees": (0.46, 0.86), "water": (0.23, 0.93), "crops": (0.19, 0.58), "grass": (0.12, 0.61)}
# A real-scene shape: snow and ice holds two pixels (0.0 ha), crops 0.6 %.
ALPINE = {"trees": (0.62, 0.91), "grass": (0.2, 0.64), "water": (0.174, 0.8), "crops": (0.006, 0.5)}
TREES_SURE = {"trees": (0.5, 0.91), "grass": (0.3, 0.7), "crops": (0.2, 0.6)}
TIE = {"water": (0.4, 0.9), "trees": (0.4, 0.8), "grass": (0.2, 0.7)}
SPREAD = {"grass": (0.35, 0.7), "crops": (0.3, 0.6), "trees": (0.2, 0.8), "built": (0.15, 0.9)}
METRICS_CLOUDY = {**METRICS, "clear": {"oa": 0.88}, "cloudy": {"oa": 0.71}}


def regions_report(scene: dict, low_corner: str = "north-west") -> dict:
    """A report whose class map is 90 x 90 pixels, with regions from ``RegionStats``: pixels are low
    confidence in one corner block only, and each class holds a horizontal band."""
    report = make_report(scene)
    names = list(scene)
    labels = np.zeros((90, 90), np.uint8)
    edges = np.cumsum([0] + [round(90 * share) for share, _ in scene.values()])
    for name, y0, y1 in zip(names, edges[:-1], edges[1:], strict=True):
        labels[y0:y1] = DYNAMIC_WORLD.index(name)
    top = np.full((90, 90), 0.9, np.float32)
    rows = {"north": slice(0, 30), "south": slice(60, 90)}
    cols = {"west": slice(0, 30), "east": slice(60, 90)}
    row, col = low_corner.split("-")
    top[rows[row], cols[col]] = 0.3
    stats = RegionStats(90, 90, len(DYNAMIC_WORLD), 0.5)
    stats.add(0, 0, labels, top, np.ones((90, 90), bool))
    report["regions"] = stats.to_report()
    return report


def alpine_report() -> dict:
    report = make_report({**ALPINE, "snow_and_ice": (0.0002, 0.237)})
    return report


FACTS = {
    "typical": lambda: extract_facts(make_report(TYPICAL, cloud=0.31)),
    "alpine": lambda: extract_facts(alpine_report()),
    "trees_sure": lambda: extract_facts(make_report(TREES_SURE, cloud=None)),
    "tie": lambda: extract_facts(make_report(TIE, cloud=0.0)),
    "spread": lambda: extract_facts(make_report(SPREAD)),
    "metrics": lambda: extract_facts(make_report(FOREST_SCENE), METRICS_CLOUDY),
    "single": lambda: extract_facts(make_report({"water": (1.0, 0.97)}, cloud=None)),
    "regions": lambda: extract_facts(regions_report(TYPICAL, "south-east")),
}


@pytest.fixture(scope="module")
def facts():
    return {name: build() for name, build in FACTS.items()}


TRUE = [
    ("typical", "composition", "The scene is dominated by trees (46.0% of the valid area), followed by water (23.0%)."),
    (
        "typical",
        "composition",
        "The largest class is trees (46% of the valid area), followed by water (23.0%) and crops (19.0%).",
    ),
    ("spread", "composition", "The largest class is grass (35.0% of the valid area), followed by crops (30.0%)."),
    ("tie", "composition", "Water and trees are the largest classes, with 40.0% and 40.0% of the valid area."),
    ("single", "composition", "The whole valid area is mapped as water (100.0%)."),
    ("alpine", "composition", "The scene is dominated by trees (62.0% of the valid area), followed by grass (20.0%)."),
    (
        "typical",
        "least_confident",
        "The model is least sure about crops (mean confidence 58.0%), followed by grass (61.0%).",
    ),
    ("typical", "least_confident", "Confidence is lowest for crops (mean confidence 58.0%)."),
    ("alpine", "least_confident", "The model is least sure about crops (mean confidence 50.0%)."),
    ("trees_sure", "least_confident", "The model is least sure about crops (60.0%)."),
    ("trees_sure", "most_confident", "The model is most sure about trees (mean confidence 91.0%)."),
    ("typical", "most_confident", "Confidence is highest for water (mean confidence 93.0%)."),
    ("typical", "low_confidence", "Of the valid pixels, 12.0% fall below the confidence threshold of 50.0%."),
    ("typical", "low_confidence", "12.0% of the valid pixels fall below the confidence threshold."),
    ("typical", "low_confidence", "Mean confidence over the valid area is 79.3%."),
    (
        "regions",
        "region",
        "Low confidence is most common in the south-east of the map, where 100.0% of the pixels "
        "fall below the threshold.",
    ),
    (
        "typical",
        "cloud",
        "Cloud cover of 31.0% hides part of the optical image, and there the map rests on the SAR image alone.",
    ),
    ("tie", "cloud", "The optical image is free of clouds, so both images inform the whole map."),
    (
        "metrics",
        "cloud",
        "Under the clouds, where the map rests on the SAR image alone, overall accuracy is 71.0%, "
        "against 88.0% in clear areas.",
    ),
    ("metrics", "accuracy", "Against the reference labels, overall accuracy is 83.5% and mean IoU is 61.2%."),
    (
        "metrics",
        "accuracy",
        "Against the reference labels, overall accuracy is 83.5%, mean IoU is 61.2% and kappa is 0.77.",
    ),
    (
        "metrics",
        "confusion",
        "The largest confusion is reference grass mapped as crops (21.4% of the reference grass).",
    ),
    (
        "typical",
        "reason",
        "Grass and crops differ mainly by season and texture: both are green low cover at some dates, and crops stand "
        "out by regular field patterns and growth stages that one date may not show.",
    ),
    (
        "single",
        "reason",
        "Open water is dark in C-band SAR because its smooth surface reflects the radar pulse away from the sensor, "
        "though wind can roughen it and brighten it.",
    ),
    ("typical", "field_check", "In the field, check areas mapped as crops, and whether they are grass instead."),
    ("regions", "field_check", "On the ground, check areas mapped as crops in the south-east of the map."),
    ("single", "field_check", "In the field, check areas mapped as water."),
]

FALSE = [
    # quoted from explanations of real scenes
    ("typical", "The model is least sure about crops (mean confidence 58.0%) and grass (12.0%).", "it is the share"),
    (
        "typical",
        "The model is unsure about clouds (high confidence over cloud cover), so it checks only partial cloud cover "
        "of the optical image.",
        "'clouds', the subject",
    ),
    (
        "alpine",
        "The model is least sure about snow and ice (mean confidence 23.7%), while crops are not visible.",
        "crops is said to be absent",
    ),
    ("alpine", "The model is least sure about snow and ice (mean confidence 23.7%).", "only a trace of pixels"),
    ("alpine", "Crops are not visible.", "said to be absent but covers 0.6%"),
    (
        "typical",
        "In the field, check whether the model is unsure about a class that looks like one of its predecessors.",
        "not one of the known claim kinds",
    ),
    ("trees_sure", "The model is least sure about the trees (91.0%).", "trees is not the least confident class"),
    # measures
    ("typical", "The scene is dominated by trees (86.0% of the valid area).", "it is the mean confidence of pixels"),
    ("typical", "The model is least sure about crops (mean confidence 19.0%).", "it is the share"),
    ("typical", "Of the valid pixels, 31.0% fall below the confidence threshold.", "it is the cloud cover"),
    (
        "typical",
        "Cloud cover of 12.0% hides part of the optical image, and there the map rests on the SAR image alone.",
        "given as the cloud cover",
    ),
    ("metrics", "Against the reference labels, overall accuracy is 61.2%.", "it is the mean IoU"),
    (
        "regions",
        "Low confidence is most common in the south-east of the map, where 12.0% of the pixels "
        "fall below the threshold.",
        "low-confidence share",
    ),
    # relations
    ("typical", "The model is most sure about crops (mean confidence 58.0%).", "not the most confident class"),
    ("typical", "The scene is dominated by water (23.0% of the valid area).", "not the largest class"),
    ("typical", "The largest class is trees (46.0% of the valid area), followed by crops (19.0%).", "water does"),
    ("spread", "The scene is dominated by grass (35.0% of the valid area).", "'dominated' needs"),
    ("tie", "The largest class is water (40.0% of the valid area).", "two classes tie"),
    (
        "typical",
        "Water and crops are the largest classes, with 23.0% and 19.0% of the valid area.",
        "not the two largest",
    ),
    ("typical", "The whole valid area is mapped as trees (46.0%).", "more than one class"),
    (
        "alpine",
        "The scene is dominated by trees (62.0% of the valid area), followed by grass (20.0%) and snow and ice (0.0%).",
        "trace",
    ),
    (
        "regions",
        "Low confidence is most common in the north-west of the map, where 0.0% of the pixels "
        "fall below the threshold.",
        "not in the north-west",
    ),
    (
        "typical",
        "Low confidence is most common in the north-west of the map, where 12.0% of the pixels "
        "fall below the threshold.",
        "not a part of the map",
    ),
    (
        "tie",
        "Cloud cover of 0.0% hides part of the optical image, and there the map rests on the SAR image alone.",
        "no cloud cover",
    ),
    ("typical", "The optical image is free of clouds, so both images inform the whole map.", "31.0% cloud cover"),
    (
        "metrics",
        "The largest confusion is reference trees mapped as grass (21.4% of the reference trees).",
        "largest confusion is reference grass",
    ),
    (
        "typical",
        "The largest confusion is reference grass mapped as crops (21.4% of the reference grass).",
        "no evaluation",
    ),
    # classes and presence
    ("typical", "The model is least sure about snow and ice (mean confidence 58.0%).", "no pixels in this map"),
    ("typical", "The largest class is forest (46.0% of the valid area).", "not a class of this model"),
    (
        "typical",
        "In the field, check areas mapped as water, and whether they are trees instead.",
        "not a class the facts single out",
    ),
    (
        "typical",
        "In the field, check areas mapped as crops, and whether they are water instead.",
        "neither confused with nor a look-alike",
    ),
    (
        "regions",
        "In the field, check areas mapped as crops in the north-west of the map.",
        "is the south-east, not the north-west",
    ),
    ("typical", "In the field, check areas mapped as crops in the south of the map.", "no parts of the map"),
    # reasons
    (
        "typical",
        "Built areas are bright in SAR because walls and the ground form corner reflectors that send the radar pulse "
        "straight back to the sensor.",
        "does not fit the facts of this map",
    ),
    ("typical", "Crops look different in radar because of the moon.", "not one of the known claim kinds"),
    # fluent nonsense and unknown kinds
    ("typical", "The cloud cover is not a real thing.", "not one of the known claim kinds"),
    ("typical", "Trees are important for the environment.", "not one of the known claim kinds"),
    ("typical", "The model is least sure about crops (mean confidence 58.0%)", "unfinished"),
]


@pytest.mark.parametrize(("scene", "kind", "sentence"), TRUE)
def test_true_sentences_are_kept(facts, scene, kind, sentence):
    verdict = check_sentence(sentence, facts[scene])
    assert verdict.ok, verdict.problems
    assert verdict.kind == kind


@pytest.mark.parametrize(("scene", "sentence", "problem"), FALSE)
def test_false_sentences_are_refused(facts, scene, sentence, problem):
    verdict = check_sentence(sentence, facts[scene])
    assert not verdict.ok
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_every_kind_has_true_and_false_sentences():
    assert {kind for _, kind, _ in TRUE} == set(KINDS) - {"area_interval"}
    assert len(FALSE) >= 2 * len(KINDS)


def test_area_interval_claim_when_the_report_gives_one():
    report = make_report(TYPICAL)
    report["classes"][2]["hectares_interval"] = [420.5, 580.25]
    f = extract_facts(report)
    options = claim_options(f)["area_interval"]
    assert [fill_placeholders(c.text, f) for c in options] == [
        "Crops covers 498.1 ha, with an area interval of 420.5 ha to 580.3 ha."
    ]
    assert check_sentence("Crops covers 498.1 ha, with an area interval of 420.5 ha to 580.3 ha.", f).ok
    wrong = check_sentence("Crops covers 498.1 ha, with an area interval of 580.3 ha to 420.5 ha.", f)
    assert not wrong.ok and any("lower area bound" in p for p in wrong.problems)


def test_sentences_split_after_full_stops_not_decimals():
    text = "The largest class is trees (46.0% of the valid area). Cloud cover of 31.0% hides part."
    assert split_sentences(text) == [
        "The largest class is trees (46.0% of the valid area).",
        "Cloud cover of 31.0% hides part.",
    ]


def varied_facts():
    """Facts of reports with 1 to 6 classes, random shares and confidences, cloud, metrics and regions."""
    rng = np.random.default_rng(3)
    out = []
    for seed in range(24):
        count = 1 + seed % 6
        names = list(rng.choice(DYNAMIC_WORLD, size=count, replace=False))
        shares = rng.dirichlet(np.ones(count))
        scene = {n: (float(s), float(rng.uniform(0.4, 0.98))) for n, s in zip(names, shares, strict=True)}
        metrics = None
        if seed % 3 == 0 and count > 1:
            ordered = sorted(names, key=lambda n: -scene[n][0])
            confusion = {"reference": ordered[1], "predicted": ordered[0], "share_of_reference": 0.2}
            metrics = {**METRICS, "per_class": [], "top_confusions": [confusion]}
        builder = regions_report if seed % 2 else make_report
        corner = ("north-west", "south-east", "north-east", "south-west")[seed % 4]
        report = builder(scene, corner) if seed % 2 else builder(scene, cloud=None if seed % 4 == 0 else 0.5)
        out.append(extract_facts(report, metrics))
    return out


@pytest.mark.parametrize("index", range(24))
def test_every_claim_option_passes_the_checker(index):
    f = varied_facts()[index]
    for kind, options in claim_options(f).items():
        for claim in options:
            verdict = check_sentence(fill_placeholders(claim.text, f), f)
            assert verdict.ok and verdict.kind == kind, (claim.text, verdict.problems)


def test_template_is_written_from_claims_and_informative():
    for f in varied_facts():
        text = fill_placeholders(template_explanation(f), f)
        check = check_claims(text, f)
        assert check.passed, check.problems
        assert check.kinds[0] == "composition" and check.kinds[-1] == "field_check"
        assert len(check.kinds) >= 4, check.kinds
        assert [c.kind for c in template_claims(f)] == [s.kind for s in check.sentences]
        if f.regions:
            assert " of the map" in check.sentences[-1].text  # the field check names a part of the map
