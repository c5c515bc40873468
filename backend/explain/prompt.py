"""The prompt: a system role, the facts as placeholders (never their values), and the answer's plan.

The answer is written in segments. Sentences that state the main facts open the answer and are
written from the facts directly (the assistant turn is pre-filled with them); the language model
continues after fixed openers ("The model is least sure about X ...", "In the field, check whether ...")
under constrained decoding (``constraint.py``) that allows no digit, no ``%`` and no brace except
the placeholders of the facts. So the model cannot state a number, only point at one. The prompt holds no
digits and no text from file names, paths or card descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    lines += [f"- {_item(facts, words, key)}" for words, key in scene if key in facts]
    order = ", ".join(display_name(s.name) for s in facts.present)
    return (
        "Facts about the land-cover map (placeholders stand for the numbers):\n"
        + "\n".join(lines)
        + f"\nClasses in this map, largest first: {order}. Name no other class.\n\n"
        + "Explain what dominates the scene, where the model is unsure and why that is plausible "
        + f"({_REASONS}), and what to check in the field. Write no digits; copy placeholders instead."
    )


def opening(facts: Facts) -> str:
    """The answer's first sentences, stating the main facts through placeholders."""
    present = facts.present
    text = f"The scene is dominated by {display_name(present[0].name)} ({{share:{present[0].name}}} of the valid area)"
    others = [f"{display_name(c.name)} ({{share:{c.name}}})" for c in present[1:3]]
    text += (", followed by " + " and ".join(others) + ".") if others else "."
    if "oa" in facts:
        text += " Against the reference labels, overall accuracy is {oa}"
        text += " and mean IoU {miou}." if "miou" in facts else "."
    if facts.confusions:
        reference, predicted = facts.confusions[0]
        text += (
            f" The largest confusion is reference {display_name(reference)} mapped as {display_name(predicted)}"
            f" ({{mix:{reference}:{predicted}}} of the reference {display_name(reference)})."
        )
    return text


def segments(facts: Facts) -> list[Segment]:
    """The openers the model continues: why the model is unsure, then what to check on the ground."""
    unsure = facts.least_confident
    if unsure is not None:
        first = f" The model is least sure about {display_name(unsure.name)} (mean confidence {{conf:{unsure.name}}})"
    elif "lowconf" in facts:
        first = " Of the valid pixels, {lowconf} fall below the confidence threshold"
    else:
        first = " The model is least sure where classes meet"
    return [
        Segment(first, sentences=2, max_tokens=70),
        Segment(" In the field, check whether", sentences=1, max_tokens=40),
    ]
