"""The deterministic explanation: the same facts, written by rules instead of a language model."""

from __future__ import annotations

from .facts import ClassSummary, Facts, display_name
from .prompt import opening

# Classes that look alike to SAR and optical sensors, by words of their names.
_LOOKALIKE_GROUPS = (
    frozenset(
        [
            "trees",
            "tree",
            "forest",
            "grass",
            "grassland",
            "crops",
            "cropland",
            "farmland",
            "agriculture",
            "shrub",
            "shrubland",
            "scrub",
            "rangeland",
            "savanna",
            "mangroves",
            "wetland",
            "vegetation",
            "herbaceous",
        ]
    ),
    frozenset(["built", "urban", "city", "village", "building", "road", "developed", "bare", "bareland", "barren"]),
    frozenset(["water", "flooded", "wetland", "mangroves"]),
)


def _words(name: str) -> set[str]:
    return set(name.lower().replace("-", "_").split("_"))


def lookalike(unsure: ClassSummary, facts: Facts) -> ClassSummary | None:
    """The largest other present class in a look-alike group with ``unsure`` (None when there is none)."""
    for group in _LOOKALIKE_GROUPS:
        if _words(unsure.name) & group:
            for other in facts.present:
                if other.name != unsure.name and _words(other.name) & group:
                    return other
    return None


def template_explanation(facts: Facts) -> str:
    """A complete explanation with placeholders (fill with ``fill_placeholders``); uses facts only."""
    parts = [opening(facts)]
    unsure = facts.least_confident
    if unsure is not None:
        name = display_name(unsure.name)
        parts.append(f"The model is least sure about {name} (mean confidence {{conf:{unsure.name}}}).")
    if "lowconf" in facts:
        threshold = " of {threshold}" if "threshold" in facts else ""
        parts.append(f"Of the valid pixels, {{lowconf}} fall below the confidence threshold{threshold}.")
    other = lookalike(unsure, facts) if unsure is not None else None
    if "cloud" in facts and facts["cloud"].level in ("heavy", "partial"):
        parts.append(
            "Cloud cover of {cloud} on the optical image leaves those pixels to the SAR image alone, "
            "whose speckle blurs class boundaries."
        )
    elif other is not None:
        parts.append(
            f"{display_name(unsure.name).capitalize()} and {display_name(other.name)} look alike "
            "in both images, which makes them easy to confuse."
        )
    else:
        parts.append("SAR speckle and mixed pixels at class boundaries make such pixels ambiguous.")
    if unsure is not None:
        check = f"On the ground, check areas mapped as {display_name(unsure.name)}"
        check += f" and the boundary with {display_name(other.name)}" if other is not None else ""
        if facts.confusions:
            reference, predicted = facts.confusions[0]
            check += f", and places where {display_name(reference)} may have been mapped as {display_name(predicted)}"
        parts.append(check + ".")
    else:
        parts.append("On the ground, check a sample of places along class boundaries.")
    return " ".join(parts)
