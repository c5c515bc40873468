"""The claim checker: every sentence of an explanation must be a true claim of a known kind.

``check_claims(text, facts)`` splits a filled explanation into sentences and parses each one against
the frames of the claim kinds (``claims.KINDS``). A sentence passes when it parses and:

- each number sits next to the measure it is: the number after ``least sure about grass (mean
  confidence`` must be grass's mean confidence, not its share; a bare ``(12.0%)`` in a list inherits
  the list's measure;
- relational words hold: ``least sure`` names the least confident class, ``most sure`` the most
  confident, ``followed by`` continues the order, ``dominated by`` needs a clear lead, ``most common
  in`` names the part of the map with the highest low-confidence share, ``largest confusion`` the
  first confusion;
- every class it discusses as present has pixels in the map (a class below ``facts.TRACE_SHARE`` does
  not); a class of the evaluation may be named only in accuracy and confusion claims;
- a physical reason is a line of the curated table that fits this map (``reasons.fits``);
- it passes the number and class-word check of ``grounding.check_text``.

A sentence that matches no frame fails as outside the known claim kinds; the checker still says what
it can see wrong in it (a number that is another measure, an unknown subject, a present class said
to be absent) so that the record explains the refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .claims import (
    DOMINANCE_RATIO,
    DOMINANCE_SHARE,
    border_partners,
    check_classes,
    check_region_for,
    shown,
    worst_region,
)
from .facts import Facts, display_name
from .grounding import check_text, number_matches
from .reasons import fits, reason_table

NUM = r"\d[\d,]*(?:\.\d+)?(?:%| ha)?"
CLASS = r"(?:the )?(?P<{}>[a-z][a-z _-]*?)"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_LIST_ITEM = re.compile(r"(?P<sep>^|, and |, | and )(?:the )?(?P<c>[a-z][a-z _-]*?) \((?P<n>[^()]*)\)")
_METRIC_ITEM = re.compile(
    r"(?P<sep>^|, and |, | and )(?P<m>overall accuracy|mean iou|mean f1|kappa) is (?P<n>" + NUM + ")"
)
_METRIC_KEYS = {"overall accuracy": "oa", "mean iou": "miou", "mean f1": "mean_f1", "kappa": "kappa"}


def _frame(pattern: str) -> re.Pattern:
    """A frame's regex: ``{a}``-style class slots and ``[n]``-style number slots."""
    pattern = re.sub(r"\{(\w+)\}", lambda m: CLASS.format(m.group(1)), pattern)
    pattern = re.sub(r"\[(\w+)\]", lambda m: f"(?P<{m.group(1)}>{NUM})", pattern)
    return re.compile(pattern)


FRAMES = {
    "composition": [
        _frame(
            r"(?P<lead>the scene is dominated by|the map is dominated by|the largest class is) {a} "
            r"\([na](?: of the valid area)?\)(?:, followed by (?P<list>.+))?"
        ),
        _frame(r"(?P<pair>[a-z][a-z _-]*?) are the largest classes, with [na] and [nb] of the valid area"),
        _frame(r"(?P<lead>almost the whole|the whole) valid area is mapped as {a} \([na]\)"),
    ],
    "least_confident": [
        _frame(
            r"(?:the model is least sure about|the model is least confident about|confidence is lowest for) {a} "
            r"\((?:mean confidence )?[na]\)(?:,? (?:followed by|and) (?P<list>.+))?"
        )
    ],
    "most_confident": [
        _frame(
            r"(?:the model is most sure about|the model is most confident about|confidence is highest for) {a} "
            r"\((?:mean confidence )?[na]\)(?:,? (?:followed by|and) (?P<list>.+))?"
        )
    ],
    "low_confidence": [
        _frame(r"of the valid pixels, [n] fall below the confidence threshold(?: of [t])?"),
        _frame(r"[n] of the valid pixels fall below the confidence threshold(?: of [t])?"),
        _frame(r"mean confidence over the valid area is [mean]"),
    ],
    "region": [
        _frame(
            r"low confidence is (?P<rel>most|least) common in the (?P<r>[a-z-]+) of the map, where [n] of the "
            r"pixels fall below the threshold"
        )
    ],
    "cloud": [
        _frame(r"cloud cover of [n] hides part of the optical image, and there the map rests on the sar image alone"),
        _frame(
            r"under the clouds, where the map rests on the sar image alone, overall accuracy is [cloudy], "
            r"against [clear] in clear areas"
        ),
        _frame(r"the optical image is free of clouds, so both images inform the whole map"),
    ],
    "accuracy": [_frame(r"against the reference labels, (?P<list>.+)")],
    "confusion": [
        _frame(r"the largest confusion is reference {a} mapped as {b} \([n] of the reference {a2}\)"),
    ],
    "area_interval": [_frame(r"{a} covers [n], with an area interval of [low] to [high]")],
    "field_check": [
        _frame(
            r"(?:in the field|on the ground), check areas mapped as {a}(?: in the (?P<r>[a-z-]+) of the map)?"
            r"(?:, and whether they are {b} instead)?"
        )
    ],
}


@dataclass
class SentenceCheck:
    """One sentence, the claim kind it was parsed as (None: no known kind) and what is wrong with it."""

    text: str
    kind: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind is not None and not self.problems


@dataclass
class ClaimCheck:
    """The verdict on a whole text: every sentence checked, in order."""

    sentences: list[SentenceCheck]

    @property
    def passed(self) -> bool:
        return bool(self.sentences) and all(s.ok for s in self.sentences)

    @property
    def kinds(self) -> list[str]:
        """Distinct claim kinds of the passing sentences, in order of first use."""
        return list(dict.fromkeys(s.kind for s in self.sentences if s.ok))

    @property
    def problems(self) -> list[str]:
        return [f"{s.text!r}: {p}" for s in self.sentences for p in s.problems]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after ``.``, ``!`` or ``?`` followed by white space)."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def check_claims(text: str, facts: Facts) -> ClaimCheck:
    """Check every sentence of a filled explanation (see the module docstring)."""
    return ClaimCheck([check_sentence(sentence, facts) for sentence in split_sentences(text)])


def check_sentence(sentence: str, facts: Facts) -> SentenceCheck:
    """Parse one sentence as a claim and verify it against ``facts``."""
    text = re.sub(r"\s+", " ", sentence.strip())
    if not text.endswith("."):
        return SentenceCheck(sentence, None, ["the sentence is unfinished (no full stop)"])
    body = text[:-1].lower()
    grounding = check_text(text, facts).problems
    reason = _reason(body, facts)
    if reason is not None:
        return SentenceCheck(sentence, "reason", reason + grounding)
    for kind, frames in FRAMES.items():
        for frame in frames:
            match = frame.fullmatch(body)
            if match:
                problems = _VERIFY[kind](match, facts)
                return SentenceCheck(sentence, kind, problems + [p for p in grounding if p not in problems])
    known = ", ".join(sorted({*FRAMES, "reason"}))
    problems = [f"the sentence is not one of the known claim kinds ({known})"]
    return SentenceCheck(sentence, None, problems + _diagnose(body, facts) + grounding)


# -- classes and numbers -------------------------------------------------------------------------


def _forms(name: str) -> set[str]:
    forms = {name, display_name(name)}
    return forms | {f + "s" for f in forms} | {f[:-1] for f in forms if f.endswith("s")}


def _class_of(words: str, facts: Facts) -> str | None:
    words = re.sub(r"^the ", "", words.strip().lower())
    return next((name for name in facts.card_classes if words in _forms(name)), None)


def _present(words: str, facts: Facts) -> tuple[str | None, list[str]]:
    """The present class ``words`` names, or None and why it may not be discussed as present."""
    name = _class_of(words, facts)
    if name is None:
        return None, [f"{words!r} is not a class of this model"]
    if facts.summary(name) is not None:
        return name, []
    if name in facts.traces:
        return None, [
            f"{display_name(name)!r} has only a trace of pixels in this map and may not be discussed as present"
        ]
    return None, [f"{display_name(name)!r} has no pixels in this map"]


def _named(words: str, facts: Facts) -> tuple[str | None, list[str]]:
    """The class ``words`` names if some fact is about it (in the map or in the evaluation)."""
    name = _class_of(words, facts)
    if name is None:
        return None, [f"{words!r} is not a class of this model"]
    if name not in facts.mapped_classes:
        return None, [f"{display_name(name)!r} is neither in this map nor in its evaluation"]
    return name, []


def _split_number(raw: str) -> tuple[str, str]:
    raw = raw.strip()
    if raw.endswith("%"):
        return raw[:-1], "%"
    if raw.endswith(" ha"):
        return raw[:-3], "ha"
    return raw, ""


def _number(raw: str, key: str, facts: Facts, what: str) -> list[str]:
    """Problems when ``raw`` (e.g. ``12.0%``) is not the fact ``key``, described as ``what``."""
    number, unit = _split_number(raw)
    if not re.fullmatch(r"\d[\d,]*(?:\.\d+)?", number):
        return [f"{raw!r} stands where {what} should be"]
    fact = facts.facts.get(key)
    if fact is None:
        return [f"the report does not give {what}"]
    if unit == fact.unit and number_matches(number, fact.value, fact.decimals):
        return []
    others = [f for f in facts if f.unit == unit and number_matches(number, f.value, f.decimals)]
    if others:
        return [f"{raw} is given as {what}, but it is the {others[0].meaning}; {what} is {fact.text}"]
    return [f"{raw} is given as {what}, which is {fact.text}"]


def _items(text: str, pattern: re.Pattern) -> list[re.Match] | None:
    """The items of a list written ``x (a), y (b) and z (c)``; None when the text is not such a list."""
    items, position = [], 0
    for match in pattern.finditer(text):
        if match.start() != position or (not items and match.group("sep")) or (items and not match.group("sep")):
            return None
        items.append(match)
        position = match.end()
    return items if items and position == len(text) else None


# -- verification per kind -----------------------------------------------------------------------


def _ranked(values: list[tuple[str, float]], names: list[str], what: str, order: str) -> list[str]:
    """``names`` must be the first classes of ``values`` (sorted already; ties in any order). ``order`` says
    what the first one is (``largest``, ``least confident`` ...)."""
    problems = []
    for position, name in enumerate(names):
        if position >= len(values):
            problems.append(f"{display_name(name)} is listed beyond the classes the map holds")
            break
        expected_name, expected = values[position]
        if dict(values).get(name) == expected:
            continue
        if position == 0:
            problems.append(f"{display_name(name)} is not the {order} class: that is {display_name(expected_name)}")
        else:
            problems.append(
                f"{display_name(name)} does not come next by {what} after {display_name(names[position - 1])}: "
                f"{display_name(expected_name)} does"
            )
    return problems


def _verify_composition(match: re.Match, facts: Facts) -> list[str]:
    groups = match.groupdict()
    by_share = [(c.name, shown(c.share)) for c in facts.present]
    if groups.get("pair") is not None:
        pair = _split_pair(groups["pair"], facts)
        if pair is None:
            return [f"{groups['pair']!r} does not name two classes of this map"]
        problems = []
        for name, raw in zip(pair, (groups["na"], groups["nb"]), strict=True):
            problems += _number(raw, f"share:{name}", facts, f"the share of {display_name(name)}")
        top_two = sorted(share for _, share in by_share[:2])
        if len(by_share) < 2 or sorted(dict(by_share)[name] for name in pair) != top_two:
            problems.append("these are not the two largest classes of the map")
        return problems
    first, problems = _present(groups["a"], facts)
    if first is None:
        return problems
    problems += _number(groups["na"], f"share:{first}", facts, f"the share of {display_name(first)}")
    lead = groups["lead"]
    if lead in ("the whole", "almost the whole"):
        if len(facts.present) != 1:
            problems.append("the map holds more than one class")
        elif lead == "the whole" and facts.traces:
            problems.append("other classes hold a few pixels, so not the whole valid area is one class")
        return problems
    names = [first]
    if groups.get("list"):
        items = _items(groups["list"], _LIST_ITEM)
        if items is None:
            return problems + [f"'followed by {groups['list']}' is not a list of classes with their shares"]
        for item in items:
            name, item_problems = _present(item.group("c"), facts)
            problems += item_problems
            if name is not None:
                problems += _number(item.group("n"), f"share:{name}", facts, f"the share of {display_name(name)}")
                names.append(name)
    problems += _ranked(by_share, names, "share", "largest")
    if "dominated" in lead and len(by_share) > 1:
        top, second = by_share[0][1], by_share[1][1]
        if top < DOMINANCE_SHARE or top < DOMINANCE_RATIO * second:
            problems.append(
                f"'dominated' needs at least {DOMINANCE_SHARE:.0f}% and {DOMINANCE_RATIO} times the next class; "
                f"the largest class has {top}% against {second}%"
            )
    if "largest class" in lead and len(by_share) > 1 and by_share[0][1] == by_share[1][1]:
        problems.append("two classes tie for the largest share")
    return problems


def _split_pair(text: str, facts: Facts) -> tuple[str, str] | None:
    """Two present classes written ``a and b`` (class names may themselves contain ``and``)."""
    for match in re.finditer(r" and ", text):
        a, b = _class_of(text[: match.start()], facts), _class_of(text[match.end() :], facts)
        if a and b and facts.summary(a) and facts.summary(b):
            return a, b
    return None


def _verify_confidence(match: re.Match, facts: Facts, order: str) -> list[str]:
    groups = match.groupdict()
    first, problems = _present(groups["a"], facts)
    if first is None:
        return problems
    names = [first]
    items = [(first, groups["na"])]
    if groups.get("list"):
        parsed = _items(groups["list"], _LIST_ITEM)
        if parsed is None:
            return problems + [f"{groups['list']!r} is not a list of classes with their mean confidences"]
        for item in parsed:
            name, item_problems = _present(item.group("c"), facts)
            problems += item_problems
            if name is not None:
                names.append(name)
                items.append((name, item.group("n")))
    for name, raw in items:
        problems += _number(raw, f"conf:{name}", facts, f"the mean confidence of {display_name(name)}")
    rated = [(c.name, shown(c.confidence)) for c in facts.rated]
    if len(rated) < 2:
        return problems + [f"'{order} sure' compares classes, but fewer than two classes have a mean confidence"]
    ranking = rated if order == "least" else rated[::-1]
    problems += _ranked(ranking, names, "mean confidence", f"{order} confident")
    return problems


def _verify_low_confidence(match: re.Match, facts: Facts) -> list[str]:
    groups = match.groupdict()
    problems = []
    if groups.get("mean"):
        problems += _number(groups["mean"], "meanconf", facts, "the mean confidence over the valid area")
    if groups.get("n"):
        problems += _number(groups["n"], "lowconf", facts, "the share of valid pixels below the confidence threshold")
    if groups.get("t"):
        problems += _number(groups["t"], "threshold", facts, "the confidence threshold")
    return problems


def _verify_region(match: re.Match, facts: Facts) -> list[str]:
    name, relation = match.group("r"), match.group("rel")
    region = next((r for r in facts.regions if r.name == name), None)
    if region is None:
        known = ", ".join(r.name for r in facts.regions) or "none: the report has no parts of the map"
        return [f"'{name}' is not a part of the map the report describes ({known})"]
    problems = _number(match.group("n"), f"lowconf:{name}", facts, f"the low-confidence share in the {name}")
    values = [shown(r.low_confidence) for r in facts.regions]
    target = max(values) if relation == "most" else min(values)
    if shown(region.low_confidence) != target or len(set(values)) < 2:
        worst = worst_region(facts) if relation == "most" else min(facts.regions, key=lambda r: shown(r.low_confidence))
        problems.append(f"low confidence is {relation} common in the {worst.name}, not in the {name}")
    return problems


def _verify_cloud(match: re.Match, facts: Facts) -> list[str]:
    groups = match.groupdict()
    if "cloud" not in facts:
        return ["the report gives no cloud cover"]
    if groups.get("n"):
        problems = _number(groups["n"], "cloud", facts, "the cloud cover")
        return problems + (["the optical image has no cloud cover"] if shown(facts["cloud"].value) == 0 else [])
    if groups.get("cloudy"):
        return _number(groups["cloudy"], "oa:cloudy", facts, "the accuracy on cloudy pixels") + _number(
            groups["clear"], "oa:clear", facts, "the accuracy on clear pixels"
        )
    return [] if shown(facts["cloud"].value) == 0 else [f"the optical image has {facts['cloud'].text} cloud cover"]


def _verify_accuracy(match: re.Match, facts: Facts) -> list[str]:
    items = _items(match.group("list"), _METRIC_ITEM)
    if items is None:
        return [f"{match.group('list')!r} is not a list of accuracy measures with their values"]
    problems = []
    for item in items:
        metric = item.group("m")
        problems += _number(item.group("n"), _METRIC_KEYS[metric], facts, f"the {metric}")
    return problems


def _verify_confusion(match: re.Match, facts: Facts) -> list[str]:
    reference, problems = _named(match.group("a"), facts)
    predicted, more = _named(match.group("b"), facts)
    problems += more
    if reference is None or predicted is None:
        return problems
    if _class_of(match.group("a2"), facts) != reference:
        problems.append("the share is given of another reference class than the one confused")
    if not facts.confusions:
        return problems + ["the report has no evaluation with confusions"]
    if (reference, predicted) != facts.confusions[0]:
        ref, pred = facts.confusions[0]
        problems.append(f"the largest confusion is reference {display_name(ref)} mapped as {display_name(pred)}")
        return problems
    return problems + _number(
        match.group("n"), f"mix:{reference}:{predicted}", facts, "the share of the reference mapped as the other class"
    )


def _verify_interval(match: re.Match, facts: Facts) -> list[str]:
    name, problems = _present(match.group("a"), facts)
    if name is None:
        return problems
    label = display_name(name)
    for group, key, what in (
        ("n", "ha", "area"),
        ("low", "ha_low", "lower area bound"),
        ("high", "ha_high", "upper area bound"),
    ):
        problems += _number(match.group(group), f"{key}:{name}", facts, f"the {what} of {label}")
    return problems


def _verify_field_check(match: re.Match, facts: Facts) -> list[str]:
    name, problems = _present(match.group("a"), facts)
    if name is None:
        return problems
    if name not in check_classes(facts):
        choices = ", ".join(display_name(c) for c in check_classes(facts))
        problems.append(f"{display_name(name)} is not a class the facts single out for checking ({choices})")
    region = match.group("r")
    if region is not None:
        expected = check_region_for(name, facts)
        if expected is None:
            problems.append(f"the report describes no parts of the map, so '{region}' cannot be checked")
        elif region != expected.name:
            problems.append(
                f"the part of the map to check {display_name(name)} is the {expected.name}, not the {region}"
            )
    if match.group("b") is not None:
        partner, more = _present(match.group("b"), facts)
        problems += more
        if partner is not None and partner not in border_partners(name, facts):
            problems.append(
                f"{display_name(partner)} is neither confused with nor a look-alike of {display_name(name)}"
            )
    return problems


_VERIFY = {
    "composition": _verify_composition,
    "least_confident": lambda m, f: _verify_confidence(m, f, "least"),
    "most_confident": lambda m, f: _verify_confidence(m, f, "most"),
    "low_confidence": _verify_low_confidence,
    "region": _verify_region,
    "cloud": _verify_cloud,
    "accuracy": _verify_accuracy,
    "confusion": _verify_confusion,
    "area_interval": _verify_interval,
    "field_check": _verify_field_check,
}


def _reason(body: str, facts: Facts) -> list[str] | None:
    """Problems of a sentence that is a line of the reasons table; None when it is no such line."""
    lines = [r for r in reason_table() if r.text[:-1].lower() == body]
    if not lines:
        return None
    if any(fits(r, facts) for r in lines):
        return []
    classes = " and ".join(display_name(c) for c in lines[0].classes)
    return [f"this physical reason (about {classes}) does not fit the facts of this map"]


# -- diagnostics of sentences outside the known kinds ---------------------------------------------

_CONFIDENCE_WORDS = re.compile(r"confiden|\bsure\b|\bunsure\b|certain")
_SUBJECT = re.compile(r"\b(?:unsure|sure|confident|uncertain) (?:about|of|for) (?:the )?([a-z][a-z _-]*)")
_ABSENT = re.compile(r"([a-z][a-z _-]*?) (?:are|is) (?:not visible|not present|not mapped|absent|missing)")


def _trailing_class(words: str, facts: Facts) -> str | None:
    """The card class named by the longest ending of ``words`` (``while crops`` -> crops)."""
    parts = words.split()
    return next((n for i in range(len(parts)) if (n := _class_of(" ".join(parts[i:]), facts))), None)


def _diagnose(body: str, facts: Facts) -> list[str]:
    """What can be seen wrong in a sentence outside the known kinds (for the record)."""
    problems = []
    for subject in _SUBJECT.findall(body):
        words = subject.split()
        if not any(_class_of(" ".join(words[:i]), facts) for i in range(1, len(words) + 1)):
            problems.append(
                f"{subject.strip()!r}, the subject of the model's (un)certainty, is not a class of this map"
            )
    confidence = bool(_CONFIDENCE_WORDS.search(body))
    for item in re.finditer(r"([a-z][a-z _-]*?) \((?:mean confidence )?(" + NUM + r")\)", body):
        name = _trailing_class(item.group(1), facts)
        if name is not None:
            label = display_name(name)
            key, what = (
                (f"conf:{name}", f"the mean confidence of {label}")
                if confidence
                else (f"share:{name}", f"the share of {label}")
            )
            problems += _number(item.group(2), key, facts, what)
    for words in _ABSENT.findall(body):
        name = _trailing_class(words, facts)
        if name is not None and facts.summary(name) is not None:
            problems.append(
                f"{display_name(name)} is said to be absent but covers {facts[f'share:{name}'].text} of the map"
            )
    return problems
