"""Grounding: placeholders filled from the facts, and the check every final text must pass.

Rules of the final check (``check_text``):

- Every number (any run of digits, with optional thousands commas and decimals) must equal a fact.
  A number followed by ``%`` or ``percent`` is compared with percentage facts, one followed by
  ``ha`` or ``hectare(s)`` with area facts, any other number with unitless facts (kappa, SSIM).
  A number written with ``d`` decimals equals a fact when the fact rounded half-up to ``d`` decimals
  gives that number, for ``d`` up to the fact's own display precision (``42.3%`` may be written
  ``42%``, never ``42.31%``).
- Quantities spelled out in words (``half``, ``twice``, ``thirty`` ...) are not allowed: they cannot
  be checked.
- Every class the text names must be a class of the model card that the facts are about (present
  in the map, or in the evaluation): a card class absent from the map is refused, and so is any
  land-cover word (from a lexicon of the class schemes LandFuse knows, e.g. ``forest``, ``urban``,
  ``wetland``) that is not a word of such a class.
- No unfilled placeholder or brace may remain.

``check_placeholders`` adds one rule for generated text, before filling: a placeholder may only be
used for a fact the facts hold, right after words that name its classes and what it measures
(``crops (mean confidence {conf:crops})``, ``cloud cover of {cloud}``), see ``MEASURES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .facts import HECTARES, PERCENT, RATIO, Facts, display_name, round_half_up

PLACEHOLDER = re.compile(r"\{([a-z_:-]+)\}")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_PERCENT_AFTER = re.compile(r"^\s*(?:%|percent\b|per cent\b)", re.IGNORECASE)
_HECTARES_AFTER = re.compile(r"^\s*(?:ha\b|hectares?\b)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SPELLED_QUANTITIES = frozenset(
    [
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "hundreds",
        "thousand",
        "thousands",
        "million",
        "millions",
        "half",
        "halves",
        "third",
        "thirds",
        "quarter",
        "quarters",
        "dozen",
        "dozens",
        "twice",
        "thrice",
    ]
)
LAND_COVER_WORDS = frozenset(
    [
        "water",
        "waters",
        "tree",
        "trees",
        "forest",
        "forests",
        "woodland",
        "woodlands",
        "grass",
        "grasses",
        "grassland",
        "grasslands",
        "crop",
        "crops",
        "cropland",
        "croplands",
        "farmland",
        "farmlands",
        "agriculture",
        "agricultural",
        "shrub",
        "shrubs",
        "shrubland",
        "shrublands",
        "scrub",
        "built",
        "urban",
        "city",
        "cities",
        "village",
        "villages",
        "town",
        "towns",
        "road",
        "roads",
        "building",
        "buildings",
        "bare",
        "bareland",
        "barren",
        "soil",
        "soils",
        "sand",
        "sands",
        "desert",
        "deserts",
        "snow",
        "ice",
        "glacier",
        "glaciers",
        "wetland",
        "wetlands",
        "marsh",
        "marshes",
        "swamp",
        "swamps",
        "mangrove",
        "mangroves",
        "moss",
        "mosses",
        "lichen",
        "lichens",
        "rangeland",
        "rangelands",
        "savanna",
        "savannas",
        "savannah",
        "pasture",
        "pastures",
        "meadow",
        "meadows",
        "orchard",
        "orchards",
        "vineyard",
        "vineyards",
        "paddy",
        "paddies",
        "rice",
        "river",
        "rivers",
        "lake",
        "lakes",
        "sea",
        "seas",
        "ocean",
        "oceans",
        "settlement",
        "settlements",
        "impervious",
        "vegetation",
        "flooded",
        "herbaceous",
    ]
)

# Words that say what a number measures, by family.
FAMILIES = {
    "confidence": r"confiden|\bsure\b|certain",
    "threshold": r"threshold",
    "cloud": r"cloud",
    "accuracy": r"accura",
    "iou": r"\biou\b|intersection",
    "f1": r"\bf1\b|f-score|f score",
    "kappa": r"kappa",
}
# Fact measure -> (pattern the leading words must match, families allowed as the last one named).
MEASURES = {
    "": (None, frozenset()),
    "valid": (r"valid", frozenset()),
    "area": (r"area|total", frozenset()),
    "lowconf": (r"pixel|threshold|below", frozenset({"threshold"})),
    "meanconf": (
        r"(overall|average|all|whole|scene|map).*confiden|confiden.*(overall|all|whole|scene|map|valid)",
        frozenset({"confidence"}),
    ),
    "region": (r"north|south|east|west|centre", frozenset({"confidence", "threshold"})),
    "interval": (r"interval|from|to\b", frozenset()),
    **{family: (pattern, frozenset({family})) for family, pattern in FAMILIES.items()},
}


@dataclass
class GroundingResult:
    """Verdict of the check: ``grounded`` is True when ``problems`` is empty."""

    problems: list[str] = field(default_factory=list)
    numbers_checked: int = 0

    @property
    def grounded(self) -> bool:
        return not self.problems


def fill_placeholders(text: str, facts: Facts) -> str:
    """Replace ``{key}`` by the fact's display form; unknown keys stay (and fail ``check_text``)."""
    filled = PLACEHOLDER.sub(lambda m: facts[m.group(1)].text if m.group(1) in facts else m.group(0), text)
    return re.sub(r"\b(\d+(?:\.\d+)?) ha (?:ha|hectares?)\b", r"\1 ha", filled.replace("%%", "%"))


def class_words(names: tuple[str, ...]) -> set[str]:
    """Words of class names (``shrub_and_scrub`` -> shrub, and, scrub), singular and plural."""
    words = set()
    for name in names:
        for word in re.split(r"[_\s-]+", name.lower()):
            words.update({word, word.rstrip("s"), word + "s", word + "es"})
    return words


def _name_pattern(name: str) -> str:
    return "|".join(rf"\b{re.escape(form)}\b" for form in sorted({name, display_name(name)}, key=len, reverse=True))


def _check_class_names(text: str, facts: Facts, result: GroundingResult) -> str:
    """Flag classes the map does not hold; return ``text`` with the card's class names blanked out."""
    mapped = facts.mapped_classes
    absent = tuple(name for name in facts.card_classes if name not in mapped)
    for name in absent:
        if re.search(_name_pattern(name), text, flags=re.IGNORECASE):
            result.problems.append(f"{display_name(name)!r} is a class of the model but not in this map")
    for name in sorted(facts.card_classes, key=len, reverse=True):
        text = re.sub(_name_pattern(name), " ", text, flags=re.IGNORECASE)
    mapped_words, absent_words = class_words(mapped), class_words(absent)
    for word in _WORD.findall(text):
        lower = word.lower()
        if lower in LAND_COVER_WORDS and lower not in mapped_words:
            where = "not in this map" if lower in absent_words else "not a class of this model"
            result.problems.append(f"{word!r} is {where} (classes in the map: {', '.join(mapped)})")
    return text


def number_matches(number: str, fact_value: float, fact_decimals: int) -> bool:
    """Whether ``number`` as written (``45.8``, ``46``, ``1,200.6``) equals a fact of ``fact_decimals``
    decimals: the fact rounded half-up to the number's decimals, which may not exceed the fact's."""
    digits = number.replace(",", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    if decimals > fact_decimals:
        return False
    target = float(digits)
    shown = round_half_up(fact_value, fact_decimals)
    return any(abs(round_half_up(v, decimals) - target) < 1e-9 for v in (fact_value, shown))


def check_text(text: str, facts: Facts) -> GroundingResult:
    """Check a final (filled) explanation against the facts under the rules in this module's docstring."""
    result = GroundingResult()
    if "{" in text or "}" in text:
        result.problems.append("an unfilled placeholder or brace remains")
    masked = _check_class_names(text, facts, result)
    for match in _NUMBER.finditer(masked):
        result.numbers_checked += 1
        after = masked[match.end() :]
        unit = PERCENT if _PERCENT_AFTER.match(after) else HECTARES if _HECTARES_AFTER.match(after) else RATIO
        candidates = [f for f in facts if f.unit == unit]
        if not any(number_matches(match.group(0), f.value, f.decimals) for f in candidates):
            kind = {PERCENT: "percentage", HECTARES: "area", RATIO: "unitless number"}[unit]
            result.problems.append(f"{kind} {match.group(0)}{unit and ' ' + unit} is not a fact of the report")
    for word in _WORD.findall(masked):
        if word.lower() in SPELLED_QUANTITIES:
            result.problems.append(f"quantity spelled out in words ({word!r}) cannot be checked")
    return result


def _last_family(lead: str) -> str | None:
    """The measure family named last in ``lead`` (None when it names none)."""
    found = [(m.end(), family) for family, pattern in FAMILIES.items() for m in re.finditer(pattern, lead)]
    return max(found)[1] if found else None


def _last_class(lead: str, facts: Facts) -> str | None:
    """The card class named last in ``lead`` (None when it names none)."""
    found = [(m.end(), len(name), name) for name in facts.card_classes for m in re.finditer(_name_pattern(name), lead)]
    return max(found)[2] if found else None


def placeholder_problems(key: str, lead: str, facts: Facts) -> list[str]:
    """Why ``{key}`` may not follow ``lead`` (the words since the previous placeholder or sentence start)."""
    if key not in facts:
        return [f"placeholder {{{key}}} is not a fact of the report"]
    fact, lead = facts[key], lead.lower()
    problems = [
        f"{{{key}}} follows words that do not name {display_name(name)}: {lead.strip()!r}"
        for name in fact.classes
        if not re.search(_name_pattern(name), lead)
    ]
    last = _last_class(lead, facts)
    if last is not None and last not in fact.classes:
        problems.append(f"{{{key}}} follows words about {display_name(last)}: {lead.strip()!r}")
    required, families = MEASURES[fact.measure]
    family = _last_family(lead)
    if (required and not re.search(required, lead)) or (family is not None and family not in families):
        problems.append(f"{{{key}}} follows words that do not say what it measures: {lead.strip()!r}")
    return problems


def lead_of(text: str) -> str:
    """The words a placeholder appended to ``text`` would follow: its last sentence after the last ``}``."""
    sentence = _SENTENCE_END.split(text)[-1]
    return sentence[sentence.rfind("}") + 1 :]


def check_placeholders(text: str, facts: Facts) -> list[str]:
    """Problems of generated text before filling: unknown placeholders and facts used for another subject.

    The words leading up to a placeholder (from the previous placeholder or the sentence start) must
    name the fact's classes (the class named last must be one of them; a scene-wide fact may follow
    no class name) and what it measures, and must not name another measure after that:
    ``crops (mean confidence {conf:crops})`` passes, ``clouds (mean confidence {cloud})`` and
    ``crops (mean confidence {meanconf})`` fail.
    """
    problems = []
    for sentence in _SENTENCE_END.split(text):
        start = 0
        for match in PLACEHOLDER.finditer(sentence):
            problems += placeholder_problems(match.group(1), sentence[start : match.start()], facts)
            start = match.end()
    return problems


def banned_words(facts: Facts) -> frozenset[str]:
    """Words an explanation of these facts may not use: other land-cover classes, spelled-out quantities."""
    return (LAND_COVER_WORDS - class_words(facts.mapped_classes)) | SPELLED_QUANTITIES
