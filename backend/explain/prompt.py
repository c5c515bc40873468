"""The prompt: a system role, the facts as placeholders (never their values), and the answer's plan.

Small models answer by choosing claims (``decoding.py``): the prompt tells them the facts and the
task, and the constraint does the rest. Models that write freely (Phi-3) get the same prompt; their
answer opens with claims written from the facts (``opening``: the composition, the accuracy and the
largest confusion) and the model continues fixed openers ("The model is least sure about X ...",
"In the field, check areas mapped as") under the digit-free token mask of ``constraint.py``; every
sentence then goes through the claim checker. The prompt holds no digits and no text from file names,
paths or card descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .claims import claim_options, worst_region
from .facts import Facts, display_name

SYSTEM_PROMPT = (
    "You are a remote-sensing analyst. You explain a land-cover map made from a radar (SAR) image and an "
    "optical image to a GIS user, in plain words. You never write digits: to give a number you copy its "
    "placeholder in curly braces, for example {share:water}. You name only the classes of the map."
)
PROMPT_CLASSES = 6
_REASONS = "SAR speckle, cloud cover on the optical image, classes that look alike"


@dataclass(frozen=True)
class Segment:
    """A fixed opener the model continues for at most ``sentences`` sentences and ``max_tokens`` tokens."""

    opener: str
    sentences: int
    max_tokens: int


def _item(facts: Facts, words: str, key: str) -> str:
    """``level words {key}``, or nothing when the report lacks the fact."""
    if key not in facts:
        return ""
    level = facts[key].level
    return (f"{level} " if level else "") + f"{words} {{{key}}}"


def user_message(facts: Facts) -> str:
    """The facts as lines of size, words and placeholder (``crops: large share {share:crops}, ...``),
    then the task. Each placeholder follows the words it must follow in the answer. Contains no digits."""
    lines = []
    for summary in facts.present[:PROMPT_CLASSES]:
        items = [
            _item(facts, "share", f"share:{summary.name}"),
            _item(facts, "mean confidence", f"conf:{summary.name}"),
        ]
        lines.append(f"- {display_name(summary.name)}: " + ", ".join(i for i in items if i))
    scene = [
        ("pixels below the confidence threshold:", "lowconf"),
        ("cloud cover of the optical image:", "cloud"),
        ("overall accuracy:", "oa"),
        ("mean IoU:", "miou"),
    ]
    scene += [
        (f"reference {display_name(r)} mapped as {display_name(p)}:", f"mix:{r}:{p}") for r, p in facts.confusions
    ]
    region = worst_region(facts)
    if region is not None:
        scene.append((f"low confidence, most common in the {region.name} of the map:", f"lowconf:{region.name}"))
    lines += [f"- {_item(facts, words, key)}" for words, key in scene if key in facts]
    order = ", ".join(display_name(s.name) for s in facts.present)
    return (
        "Facts about the land-cover map (placeholders stand for the numbers):\n"
        + "\n".join(lines)
        + f"\nClasses in this map, largest first: {order}. Name no other class.\n\n"
        + "Explain what dominates the scene, where the model is unsure and why that is plausible "
        + f"({_REASONS}), and what to check in the field and where. Write no digits; copy placeholders instead."
    )


def claims_message(facts: Facts) -> str:
    """The short prompt of claim-frame decoding: the classes of the map and the task (no digits). The
    facts themselves are in the claims the model chooses from, so the prompt can stay short."""
    order = ", ".join(display_name(s.name) for s in facts.present)
    return (
        f"Classes in this land-cover map, largest first: {order}.\n"
        "Explain what dominates the map, where the model is unsure and why, and what to check in the field and where."
    )


def opening(facts: Facts) -> str:
    """The answer's first sentences for a model that writes freely: the template's composition,
    accuracy and largest-confusion claims, with placeholders."""
    options = claim_options(facts)
    return " ".join(options[kind][0].text for kind in ("composition", "accuracy", "confusion") if kind in options)


def segments(facts: Facts) -> list[Segment]:
    """The openers a freely writing model continues: why the model is unsure, then what to check."""
    unsure = facts.least_confident
    if unsure is not None and len(facts.rated) >= 2:
        first = f" The model is least sure about {display_name(unsure.name)} (mean confidence {{conf:{unsure.name}}})"
    elif "lowconf" in facts:
        first = " Of the valid pixels, {lowconf} fall below the confidence threshold"
    else:
        first = " Mean confidence over the valid area is {meanconf}" if "meanconf" in facts else ""
    return [
        *([Segment(first, sentences=2, max_tokens=70)] if first else []),
        Segment(" In the field, check areas mapped as", sentences=1, max_tokens=40),
    ]
