"""The deterministic explanation: the same claims a language model chooses from, written by rules."""

from __future__ import annotations

from .claims import template_claims
from .facts import Facts


def template_explanation(facts: Facts) -> str:
    """A complete explanation with placeholders (fill with ``fill_placeholders``): the first option of
    every claim kind the facts support, in the order of ``claims.KINDS``."""
    return " ".join(claim.text for claim in template_claims(facts))
