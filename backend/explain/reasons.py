"""Physical reasons from the curated table ``resources/explain/reasons.tsv``.

Each line is one plain fact about how a class looks in optical images and in C-band SAR, or why two
classes get confused, keyed by class scheme (``dynamic_world``, ``worldcover``, ``m3m_cr``) and by one
class or a pair. An explanation may cite a line only when it fits the map's facts (``fitting_reasons``):
the model's classes are that scheme's, the line's classes are all in the map or in its evaluation, and
the line is about what the explanation discusses as uncertain: the pair of the largest confusion, a
pair or a single line about the least confident class, a single line about a confused class.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .facts import Facts

TABLE = Path(__file__).resolve().parent.parent.parent / "resources" / "explain" / "reasons.tsv"


@dataclass(frozen=True)
class Reason:
    """One line of the table: its scheme, its one or two classes (card names) and the fact (a sentence)."""

    scheme: str
    classes: tuple[str, ...]
    text: str


@cache
def reason_table(path: Path = TABLE) -> tuple[Reason, ...]:
    """Every line of the table, in file order. Raises ``ValueError`` naming the line when one is malformed."""
    reasons = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[2].endswith("."):
            raise ValueError(f"{path.name} line {number}: expected 'scheme<TAB>class[+class]<TAB>fact.', got {line!r}")
        classes = tuple(fields[1].split("+"))
        if not 1 <= len(classes) <= 2:
            raise ValueError(f"{path.name} line {number}: expected one class or a pair, got {fields[1]!r}")
        reasons.append(Reason(fields[0], classes, fields[2].strip()))
    return tuple(reasons)


def focus_classes(facts: Facts) -> tuple[str, ...]:
    """Classes an explanation discusses as uncertain: the least confident class (when two or more
    classes are rated), the classes of the largest confusion, or the only class of a one-class map."""
    focus = []
    if len(facts.rated) >= 2:
        focus.append(facts.rated[0].name)
    if facts.confusions:
        focus += [name for name in facts.confusions[0] if name not in focus]
    if not focus and len(facts.present) == 1:
        focus.append(facts.present[0].name)
    return tuple(focus)


def fits(reason: Reason, facts: Facts) -> bool:
    """Whether ``reason`` fits the facts of this map (see the module docstring): a pair fits when it is
    the largest confusion, or when one of its classes is the least confident class; a single class
    fits when it is one of the focus classes."""
    if not facts.scheme or reason.scheme != facts.scheme or not set(reason.classes) <= set(facts.mapped_classes):
        return False
    if len(reason.classes) == 1:
        return reason.classes[0] in focus_classes(facts)
    if facts.confusions and set(reason.classes) == set(facts.confusions[0]):
        return True
    return len(facts.rated) >= 2 and facts.rated[0].name in reason.classes


def fitting_reasons(facts: Facts) -> tuple[Reason, ...]:
    """The table's lines that fit this map, pairs first (they explain a confusion), in table order."""
    fitting = [reason for reason in reason_table() if fits(reason, facts)]
    return tuple(sorted(fitting, key=lambda r: -len(r.classes)))


def lookalikes(name: str, facts: Facts) -> tuple[str, ...]:
    """Present classes that the table pairs with ``name`` in this map's scheme (most area first)."""
    partners = {
        other
        for reason in reason_table()
        if reason.scheme == facts.scheme and len(reason.classes) == 2 and name in reason.classes
        for other in reason.classes
        if other != name
    }
    return tuple(c.name for c in facts.present if c.name in partners)
