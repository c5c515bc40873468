"""Claims: the sentences an explanation is made of, each of a known kind and bound to facts.

``claim_options(facts)`` lists, per claim kind, every sentence of that kind that the facts make true,
written with fact placeholders (``{share:trees}``) and a small choice of connecting words. The template
explanation takes the first option of each kind (``template_claims``); constrained decoding lets a
language model choose among the options (``decoding.py``); ``checker.py`` parses any sentence back
into a claim and verifies it, so the three share one vocabulary (the ``*_LEADS`` and frame words here).

Kinds, in the order an explanation states them:

- ``composition``: the largest classes and their shares (dominance, a tie, a single class);
- ``least_confident`` / ``most_confident``: the classes with the lowest / highest mean confidence;
- ``low_confidence``: the share of valid pixels below the confidence threshold, mean confidence;
- ``region``: the part of the map where low confidence is most common;
- ``cloud``: cloud cover of the optical image and what the SAR image carries under it;
- ``accuracy``: overall accuracy, mean IoU, kappa against reference labels;
- ``confusion``: the largest confusion between a reference class and a mapped class;
- ``area_interval``: a class's mapped area with its area interval;
- ``reason``: a physical reason from the curated table (``reasons.py``) that fits this map;
- ``field_check``: what to check in the field, and where (a class and a part of the map).
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import Facts, display_name, round_half_up
from .reasons import fitting_reasons, focus_classes, lookalikes

KINDS = (
    "composition",
    "least_confident",
    "most_confident",
    "low_confidence",
    "region",
    "cloud",
    "accuracy",
    "confusion",
    "area_interval",
    "reason",
    "field_check",
)
DOMINATED_LEADS = ("The scene is dominated by", "The map is dominated by")
LARGEST_LEADS = ("The largest class is",)
LEAST_LEADS = ("The model is least sure about", "Confidence is lowest for")
MOST_LEADS = ("The model is most sure about", "Confidence is highest for")
CHECK_LEADS = ("In the field, check areas mapped as", "On the ground, check areas mapped as")
CONFUSION_LEADS = ("The largest confusion is reference",)
DOMINANCE_SHARE = 40.0  # percent: "dominated by" needs at least this share ...
DOMINANCE_RATIO = 1.5  # ... and this many times the share of the next class
MAX_FOLLOWERS = 2
MAX_REASONS = 2


@dataclass(frozen=True)
class Claim:
    """One sentence of a known ``kind``, with fact placeholders, about ``classes`` (card names)."""

    kind: str
    text: str
    classes: tuple[str, ...] = ()


def shown(value: float | None) -> float | None:
    """A percentage as the explanation shows it (one decimal), for comparisons that match the text."""
    return None if value is None else round_half_up(value, 1)


def is_dominant(facts: Facts) -> bool:
    """Whether "dominated by" holds for the largest class: a clear lead and a large share."""
    present = facts.present
    if len(present) == 1:
        return True
    first, second = shown(present[0].share), shown(present[1].share)
    return first >= DOMINANCE_SHARE and first >= DOMINANCE_RATIO * second


def _name(name: str) -> str:
    return display_name(name)


def _composition(facts: Facts) -> list[Claim]:
    present = facts.present
    first = present[0]
    if len(present) == 1:
        lead = "Almost the whole valid area is" if facts.traces else "The whole valid area is"
        return [Claim("composition", f"{lead} mapped as {_name(first.name)} ({{share:{first.name}}}).", (first.name,))]
    if shown(present[0].share) == shown(present[1].share):
        a, b = present[0].name, present[1].name
        text = f"{_name(a)} and {_name(b)} are the largest classes, with {{share:{a}}} and {{share:{b}}}"
        text += " of the valid area."
        return [Claim("composition", text[0].upper() + text[1:], (a, b))]
    leads = (DOMINATED_LEADS if is_dominant(facts) else ()) + LARGEST_LEADS
    options = []
    for count in range(min(MAX_FOLLOWERS, len(present) - 1), -1, -1):
        followers = present[1 : 1 + count]
        tail = ""
        if followers:
            items = [f"{_name(c.name)} ({{share:{c.name}}})" for c in followers]
            tail = ", followed by " + " and ".join(items)
        for lead in leads:
            text = f"{lead} {_name(first.name)} ({{share:{first.name}}} of the valid area){tail}."
            options.append(Claim("composition", text, (first.name, *(c.name for c in followers))))
    return options


def _confidence_extremes(facts: Facts) -> dict[str, list[Claim]]:
    rated = facts.rated
    if len(rated) < 2 or shown(rated[0].confidence) == shown(rated[-1].confidence):
        return {}
    least, most = rated[0], rated[-1]
    least_options = []
    for lead in LEAST_LEADS:
        base = f"{lead} {_name(least.name)} (mean confidence {{conf:{least.name}}})"
        if len(rated) >= 3 and shown(rated[1].confidence) < shown(most.confidence):
            second = rated[1]
            text = f"{base}, followed by {_name(second.name)} ({{conf:{second.name}}})."
            least_options.append(Claim("least_confident", text, (least.name, second.name)))
        least_options.append(Claim("least_confident", base + ".", (least.name,)))
    most_options = [
        Claim("most_confident", f"{lead} {_name(most.name)} (mean confidence {{conf:{most.name}}}).", (most.name,))
        for lead in MOST_LEADS
    ]
    return {"least_confident": least_options, "most_confident": most_options}


def _low_confidence(facts: Facts) -> list[Claim]:
    options = []
    if "lowconf" in facts:
        threshold = " of {threshold}" if "threshold" in facts else ""
        options.append(
            Claim("low_confidence", f"Of the valid pixels, {{lowconf}} fall below the confidence threshold{threshold}.")
        )
    if "meanconf" in facts:
        options.append(Claim("low_confidence", "Mean confidence over the valid area is {meanconf}."))
    return options


def worst_region(facts: Facts):
    """The part of the map with the highest low-confidence share (None with fewer than two parts)."""
    if len(facts.regions) < 2:
        return None
    return max(facts.regions, key=lambda r: shown(r.low_confidence))


def _region(facts: Facts) -> list[Claim]:
    region = worst_region(facts)
    if region is None or shown(region.low_confidence) == min(shown(r.low_confidence) for r in facts.regions):
        return []
    text = (
        f"Low confidence is most common in the {region.name} of the map, where {{lowconf:{region.name}}} "
        "of the pixels fall below the threshold."
    )
    return [Claim("region", text)]


def _cloud(facts: Facts) -> list[Claim]:
    if "cloud" not in facts:
        return []
    if shown(facts["cloud"].value) == 0:
        return [Claim("cloud", "The optical image is free of clouds, so both images inform the whole map.")]
    options = [
        Claim(
            "cloud",
            "Cloud cover of {cloud} hides part of the optical image, and there the map rests on the SAR image alone.",
        )
    ]
    if "oa:cloudy" in facts and "oa:clear" in facts:
        options.insert(
            0,
            Claim(
                "cloud",
                "Under the clouds, where the map rests on the SAR image alone, overall accuracy is {oa:cloudy}, "
                "against {oa:clear} in clear areas.",
            ),
        )
    return options


def _accuracy(facts: Facts) -> list[Claim]:
    if "oa" not in facts:
        return []
    options = []
    if "miou" in facts:
        options.append(
            Claim("accuracy", "Against the reference labels, overall accuracy is {oa} and mean IoU is {miou}.")
        )
    if "kappa" in facts:
        options.append(
            Claim("accuracy", "Against the reference labels, overall accuracy is {oa} and kappa is {kappa}.")
        )
    options.append(Claim("accuracy", "Against the reference labels, overall accuracy is {oa}."))
    return options


def _confusion(facts: Facts) -> list[Claim]:
    if not facts.confusions:
        return []
    ref, pred = facts.confusions[0]
    text = (
        f"{CONFUSION_LEADS[0]} {_name(ref)} mapped as {_name(pred)} "
        f"({{mix:{ref}:{pred}}} of the reference {_name(ref)})."
    )
    return [Claim("confusion", text, (ref, pred))]


def _area_interval(facts: Facts) -> list[Claim]:
    options = []
    for summary in facts.present:
        name = summary.name
        if f"ha_low:{name}" in facts and f"ha_high:{name}" in facts and f"ha:{name}" in facts:
            text = (
                f"{_name(name)} covers {{ha:{name}}}, with an area interval of {{ha_low:{name}}} to {{ha_high:{name}}}."
            )
            options.append(Claim("area_interval", text[0].upper() + text[1:], (name,)))
    return options


def _reasons(facts: Facts) -> list[Claim]:
    return [Claim("reason", reason.text, reason.classes) for reason in fitting_reasons(facts)]


def check_region_for(name: str, facts: Facts):
    """The part of the map with the most low-confidence pixels of class ``name`` (falling back to the part
    with the highest low-confidence share when the class has none); None without parts."""
    if not facts.regions:
        return None
    counts = [r.class_low_pixels.get(name, 0) for r in facts.regions]
    if max(counts) > 0:
        return facts.regions[counts.index(max(counts))]
    return worst_region(facts)


def border_partners(name: str, facts: Facts) -> tuple[str, ...]:
    """Present classes a field check of ``name`` may name as its neighbour: the other class of the largest
    confusion, then the table's look-alikes of ``name``."""
    partners = []
    if facts.confusions and name in facts.confusions[0]:
        partners += [c for c in facts.confusions[0] if c != name and facts.summary(c)]
    partners += [c for c in lookalikes(name, facts) if c not in partners]
    return tuple(partners)


def check_classes(facts: Facts) -> tuple[str, ...]:
    """Present classes a field check may send the analyst to: the focus classes, else the largest class."""
    present = [name for name in focus_classes(facts) if facts.summary(name)]
    return tuple(present) or (facts.present[0].name,)


def _field_check(facts: Facts) -> list[Claim]:
    options = []
    for name in check_classes(facts):
        region = check_region_for(name, facts)
        where = f" in the {region.name} of the map" if region is not None else ""
        for lead in CHECK_LEADS:
            for partner in border_partners(name, facts)[:2]:
                text = f"{lead} {_name(name)}{where}, and whether they are {_name(partner)} instead."
                options.append(Claim("field_check", text, (name, partner)))
            options.append(Claim("field_check", f"{lead} {_name(name)}{where}.", (name,)))
    return options


def claim_options(facts: Facts) -> dict[str, list[Claim]]:
    """Every true sentence per claim kind (kinds in ``KINDS`` order, kinds without a true sentence left
    out); the first option of each kind is the template's."""
    options = {
        "composition": _composition(facts),
        **_confidence_extremes(facts),
        "low_confidence": _low_confidence(facts),
        "region": _region(facts),
        "cloud": _cloud(facts),
        "accuracy": _accuracy(facts),
        "confusion": _confusion(facts),
        "area_interval": _area_interval(facts),
        "reason": _reasons(facts),
        "field_check": _field_check(facts),
    }
    return {kind: options[kind] for kind in KINDS if options.get(kind)}


def template_claims(facts: Facts) -> list[Claim]:
    """The template explanation's claims: the first option of every kind, up to ``MAX_REASONS`` reasons."""
    claims = []
    for kind, options in claim_options(facts).items():
        if kind == "reason":
            claims += options[:MAX_REASONS]
        elif kind == "low_confidence":
            claims += options  # the low-confidence share and the mean confidence
        else:
            claims.append(options[0])
    return claims
