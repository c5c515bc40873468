"""The facts an explanation may state: numbers from a classification report (and metrics) only.

Every fact has a placeholder key (``share:trees``, ``conf:water``, ``lowconf`` ...) that the language
model writes instead of a number, and a display form (``42.3%``, ``12.5 ha``, ``0.71``) that replaces
the placeholder afterwards. Class names come from the model card's class table and are reduced to
plain words (letters, spaces, ``_`` and ``-``); nothing else from the report (file names, paths,
descriptions, device strings) is read.

A class whose share is below ``TRACE_SHARE`` (0.05 %, shown as ``0.0%``) is a trace: it has no facts and
an explanation may not discuss it as present. Optional report parts: ``regions`` (low confidence by part
of the map, see ``regions.py``) and a class entry's ``hectares_interval`` (``[low, high]`` hectares,
e.g. from a stratified area estimate; also read from the metrics' ``per_class`` entries).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..errors import BadParamsError

PERCENT = "%"
HECTARES = "ha"
RATIO = ""
_SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z _-]{0,39}$")
MAX_CONFUSIONS = 3
TRACE_SHARE = 0.0005
_METRIC_MEASURES = {"oa": "accuracy", "miou": "iou", "mean_f1": "f1", "iou": "iou", "f1": "f1"}


@dataclass(frozen=True)
class Fact:
    """One number an explanation may state.

    ``value`` is in display units (percent for shares and confidences, hectares for areas, plain
    ratio for kappa/SSIM); ``decimals`` is how many decimals the display form keeps.
    ``classes`` names the card classes the fact is about (empty for scene-wide facts); ``measure``
    says what it measures (``confidence``, ``cloud`` ...; see ``grounding.MEASURES``), empty for
    shares and class areas.
    """

    key: str
    value: float
    unit: str
    decimals: int
    meaning: str
    level: str = ""
    classes: tuple[str, ...] = ()
    measure: str = ""

    @property
    def text(self) -> str:
        """Display form, e.g. ``42.3%``, ``12.5 ha`` or ``0.71``."""
        number = f"{round_half_up(self.value, self.decimals):.{self.decimals}f}"
        if self.unit == PERCENT:
            return number + "%"
        if self.unit == HECTARES:
            return number + " ha"
        return number

    def to_dict(self) -> dict:
        return {"key": self.key, "value": self.value, "unit": self.unit, "text": self.text, "meaning": self.meaning}


@dataclass(frozen=True)
class ClassSummary:
    """A class present in the map: card name, share and mean confidence in percent, area in ha."""

    name: str
    share: float
    confidence: float | None
    hectares: float | None


@dataclass(frozen=True)
class RegionSummary:
    """One part of the map (``north-west`` ... ``centre``): its low-confidence share in percent and, per
    present class, how many of its pixels are below the confidence threshold."""

    name: str
    low_confidence: float
    class_low_pixels: dict[str, int]


@dataclass
class Facts:
    """All facts of one report, plus the card's class names, the classes present (largest first), the
    class scheme the card's classes belong to (``dynamic_world`` ..., empty when none) and the parts of
    the map with their low confidence (empty when the report has none)."""

    facts: dict[str, Fact] = field(default_factory=dict)
    card_classes: tuple[str, ...] = ()
    present: tuple[ClassSummary, ...] = ()
    confusions: tuple[tuple[str, str], ...] = ()
    traces: tuple[str, ...] = ()
    scheme: str = ""
    regions: tuple[RegionSummary, ...] = ()

    def add(self, fact: Fact) -> None:
        self.facts[fact.key] = fact

    def __getitem__(self, key: str) -> Fact:
        return self.facts[key]

    def __contains__(self, key: str) -> bool:
        return key in self.facts

    def __iter__(self):
        return iter(self.facts.values())

    @property
    def dominant(self) -> ClassSummary:
        return self.present[0]

    @property
    def rated(self) -> tuple[ClassSummary, ...]:
        """Present classes with a mean confidence, least confident first (ties: larger share first)."""
        rated = [c for c in self.present if c.confidence is not None]
        return tuple(sorted(rated, key=lambda c: (round_half_up(c.confidence, 1), -c.share)))

    @property
    def least_confident(self) -> ClassSummary | None:
        """The present class with the lowest mean confidence (None when confidences are unknown)."""
        return self.rated[0] if self.rated else None

    @property
    def most_confident(self) -> ClassSummary | None:
        """The present class with the highest mean confidence (None when confidences are unknown)."""
        return self.rated[-1] if self.rated else None

    def summary(self, name: str) -> ClassSummary | None:
        """The present class called ``name`` (None when it is not present)."""
        return next((c for c in self.present if c.name == name), None)

    @property
    def mapped_classes(self) -> tuple[str, ...]:
        """Card classes some fact is about (present in the map or in the evaluation), in card order."""
        named = {name for fact in self.facts.values() for name in fact.classes}
        return tuple(name for name in self.card_classes if name in named)

    @property
    def has_metrics(self) -> bool:
        return "oa" in self.facts


def round_half_up(value: float, decimals: int) -> float:
    """Round like people do (``0.25 -> 0.3``), not like floats do."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def display_name(name: str) -> str:
    """How a class name is written in prose: ``flooded_vegetation`` -> ``flooded vegetation``."""
    return name.replace("_", " ")


def card_class_names(card: dict) -> dict[int, str]:
    """Class id -> safe name from a card dict. A name that is not plain words becomes ``unnamed_a`` etc."""
    classes = card.get("classes") if isinstance(card, dict) else None
    if not isinstance(classes, list) or not classes:
        raise BadParamsError("the report's model card has no class table: expected report['model']['classes']")
    names = {}
    for entry in classes:
        class_id = int(entry["id"])
        raw = str(entry.get("name", ""))
        names[class_id] = raw.strip().lower().replace(" ", "_") if _SAFE_NAME.match(raw.strip()) else _unnamed(class_id)
    return names


def _unnamed(class_id: int) -> str:
    letters = ""
    n = class_id
    while True:
        letters = chr(ord("a") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            return f"unnamed_{letters}"


def _number(data: dict, key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _confidence_level(percent: float) -> str:
    return "high" if percent >= 80 else "moderate" if percent >= 60 else "low"


def _share_level(percent: float) -> str:
    return "large" if percent >= 30 else "moderate" if percent >= 10 else "small"


def _uncertain_level(percent: float) -> str:
    return "high" if percent >= 20 else "moderate" if percent >= 5 else "low"


def _cloud_level(percent: float) -> str:
    return "heavy" if percent >= 50 else "partial" if percent >= 10 else "little" if percent > 0 else "none"


def _percent_fact(
    key: str, fraction: float, meaning: str, level: str = "", classes: tuple[str, ...] = (), measure: str = ""
) -> Fact:
    return Fact(key, fraction * 100.0, PERCENT, 1, meaning, level, classes, measure)


def extract_facts(report: dict, metrics: dict | None = None) -> Facts:
    """Collect the facts of a classification report (and evaluation metrics, when given).

    Reads only numbers and the card's class table. ``metrics`` defaults to ``report['evaluation']``.
    Raises ``BadParamsError`` when the report is not a LandFuse report or no class is present.
    """
    if not isinstance(report, dict) or report.get("landfuse_report") != 1:
        raise BadParamsError("expected a LandFuse report (JSON object with 'landfuse_report': 1); run classify first")
    names = card_class_names(report.get("model") or {})
    facts = Facts(card_classes=tuple(names[i] for i in sorted(names)), scheme=class_scheme(tuple(names.values())))
    _add_class_facts(facts, report, names)
    _add_scene_facts(facts, report)
    metrics = metrics if metrics is not None else report.get("evaluation")
    if isinstance(metrics, dict):
        _add_metric_facts(facts, metrics, names)
    _add_intervals(facts, report, metrics, names)
    _add_regions(facts, report.get("regions"), names)
    return facts


def class_scheme(names: tuple[str, ...]) -> str:
    """The shipped class scheme (``resources/classes``) whose class names are ``names``, else ``""``."""
    from ...common.classes import load_scheme, scheme_names

    for scheme in scheme_names():
        if tuple(c.name for c in load_scheme(scheme)) == names:
            return scheme
    return ""


def _add_class_facts(facts: Facts, report: dict, names: dict[int, str]) -> None:
    present = []
    for entry in report.get("classes") or []:
        class_id = entry.get("id")
        share = _number(entry, "share")
        if class_id not in names or share is None or share <= 0:
            continue
        name = names[class_id]
        if share < TRACE_SHARE:
            facts.traces += (name,)
            continue
        label = display_name(name)
        facts.add(
            _percent_fact(
                f"share:{name}", share, f"share of the valid area mapped as {label}", _share_level(share * 100), (name,)
            )
        )
        hectares = _number(entry, "hectares")
        if hectares is not None:
            facts.add(Fact(f"ha:{name}", hectares, HECTARES, 1, f"area mapped as {label}", "", (name,)))
        confidence = _number(entry, "mean_confidence")
        if confidence is not None:
            facts.add(
                _percent_fact(
                    f"conf:{name}",
                    confidence,
                    f"mean confidence of pixels mapped as {label}",
                    _confidence_level(confidence * 100),
                    (name,),
                    "confidence",
                )
            )
        present.append(ClassSummary(name, share * 100, None if confidence is None else confidence * 100, hectares))
    if not present:
        raise BadParamsError("the report lists no class with a share above zero: nothing to explain")
    facts.present = tuple(sorted(present, key=lambda c: -c.share))
    areas = [c.hectares for c in present if c.hectares is not None]
    if areas:
        facts.add(Fact("area", sum(areas), HECTARES, 1, "total mapped area", measure="area"))


def _add_scene_facts(facts: Facts, report: dict) -> None:
    scene = (
        ("valid", "valid_share", "share of the map with valid data in both images", None, "valid"),
        ("meanconf", "mean_confidence", "mean confidence over all valid pixels", _confidence_level, "meanconf"),
        (
            "lowconf",
            "low_confidence_share",
            "share of valid pixels below the confidence threshold",
            _uncertain_level,
            "lowconf",
        ),
        (
            "threshold",
            "low_confidence_threshold",
            "confidence threshold for a pixel to count as unsure",
            None,
            "threshold",
        ),
        ("cloud", "cloud_share", "cloud cover of the optical image", _cloud_level, "cloud"),
    )
    for key, report_key, meaning, level, measure in scene:
        value = _number(report, report_key)
        if value is not None:
            facts.add(_percent_fact(key, value, meaning, level(value * 100) if level else "", measure=measure))


def _add_metric_facts(facts: Facts, metrics: dict, names: dict[int, str]) -> None:
    for key, meaning in (
        ("oa", "overall accuracy against the reference labels"),
        ("miou", "mean IoU over classes"),
        ("mean_f1", "mean F1 score over classes"),
    ):
        value = _number(metrics, key)
        if value is not None:
            facts.add(_percent_fact(key, value, meaning, measure=_METRIC_MEASURES[key]))
    kappa = _number(metrics, "kappa")
    if kappa is not None:
        facts.add(Fact("kappa", kappa, RATIO, 2, "Cohen's kappa against the reference labels", measure="kappa"))
    for subset in ("clear", "cloudy"):
        value = _number(metrics.get(subset) or {}, "oa")
        if value is not None:
            facts.add(
                _percent_fact(
                    f"oa:{subset}", value, f"overall accuracy on {subset} pixels", measure=_METRIC_MEASURES["oa"]
                )
            )
    for entry in metrics.get("per_class") or []:
        name = names.get(entry.get("id"))
        if name is None:
            continue
        for key in ("iou", "f1"):
            value = _number(entry, key)
            if value is not None:
                facts.add(
                    _percent_fact(
                        f"{key}:{name}",
                        value,
                        f"{key.upper()} of {display_name(name)}",
                        classes=(name,),
                        measure=_METRIC_MEASURES[key],
                    )
                )
    confusions = []
    for entry in (metrics.get("top_confusions") or [])[:MAX_CONFUSIONS]:
        reference = _class_ref(entry.get("reference"), names)
        predicted = _class_ref(entry.get("predicted"), names)
        share = _number(entry, "share_of_reference")
        if reference is None or predicted is None or share is None:
            continue
        facts.add(
            _percent_fact(
                f"mix:{reference}:{predicted}",
                share,
                f"share of reference {display_name(reference)} mapped as {display_name(predicted)}",
                classes=(reference, predicted),
            )
        )
        confusions.append((reference, predicted))
    facts.confusions = tuple(confusions)


def _class_ref(ref: object, names: dict[int, str]) -> str | None:
    """A class given by id or by card name -> its safe name (None when it is not a card class)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return names.get(ref)
    wanted = str(ref).strip().lower().replace(" ", "_")
    return wanted if wanted in names.values() else None


def _add_intervals(facts: Facts, report: dict, metrics: dict | None, names: dict[int, str]) -> None:
    """``ha_low:<class>`` and ``ha_high:<class>`` from ``hectares_interval`` entries of present classes."""
    entries = list(report.get("classes") or []) + list((metrics or {}).get("per_class") or [])
    for entry in entries:
        name = names.get(entry.get("id"))
        interval = entry.get("hectares_interval")
        if name is None or f"share:{name}" not in facts or not isinstance(interval, list | tuple) or len(interval) != 2:
            continue
        low, high = (_number({"v": v}, "v") for v in interval)
        if low is None or high is None or not 0 <= low <= high:
            continue
        label = display_name(name)
        for key, value, bound in (("ha_low", low, "lower"), ("ha_high", high, "upper")):
            meaning = f"{bound} end of the area interval of {label}"
            facts.add(Fact(f"{key}:{name}", value, HECTARES, 1, meaning, "", (name,), "interval"))


def _add_regions(facts: Facts, regions: object, names: dict[int, str]) -> None:
    """Low confidence per part of the map from ``report['regions']`` (see ``regions.region_summaries``)."""
    if not isinstance(regions, dict):
        return
    from .regions import region_summaries

    present = {c.name for c in facts.present}
    summaries = region_summaries(regions, names, present)
    for region in summaries:
        facts.add(
            Fact(
                f"lowconf:{region.name}",
                region.low_confidence,
                PERCENT,
                1,
                f"share of valid pixels in the {region.name} of the map below the confidence threshold",
                _uncertain_level(region.low_confidence),
                measure="region",
            )
        )
    facts.regions = tuple(summaries)
