"""The plan of claim-frame decoding and its jump-forward rule (no language model needed)."""

from landfuse.backend.explain.claims import claim_options
from landfuse.backend.explain.decoding import MAX_MIDDLE, _forced, plan_options
from landfuse.backend.explain.facts import extract_facts
from tests.backend.explain.reports import METRICS, make_report
from tests.backend.explain.test_claims import TYPICAL, regions_report


def kinds(options):
    return {claim.kind for claim in options}


def test_plan_goes_composition_unsure_why_then_free_then_field_check():
    facts = extract_facts(regions_report(TYPICAL, "south-east"))
    options = claim_options(facts)
    assert kinds(plan_options(facts, [])) == {"composition"}
    chosen = [options["composition"][0]]
    assert kinds(plan_options(facts, chosen)) == {"least_confident", "region", "low_confidence"}
    chosen.append(options["region"][0])
    assert kinds(plan_options(facts, chosen)) == {"reason", "cloud"}
    chosen.append(options["reason"][0])
    free = kinds(plan_options(facts, chosen))
    assert "field_check" in free and {"least_confident", "cloud", "most_confident"} <= free
    assert not free & {"composition", "region", "reason"}  # each kind at most once
    chosen.append(options["field_check"][0])
    assert plan_options(facts, chosen) == []


def test_plan_skips_stages_the_facts_cannot_fill_and_caps_the_middle():
    single = extract_facts(make_report({"water": (1.0, 0.9)}, cloud=None, low_confidence=0.0))
    options = claim_options(single)
    chosen = [options["composition"][0]]
    assert kinds(plan_options(single, chosen)) == {"low_confidence"}
    chosen.append(options["low_confidence"][0])
    assert kinds(plan_options(single, chosen)) == {"reason"}  # no cloud facts: the reason stage has one kind
    chosen.append(options["reason"][0])
    assert kinds(plan_options(single, chosen)) == {"field_check"}  # nothing else is true and unused
    typical = extract_facts(make_report(TYPICAL))
    options = claim_options(typical)
    full = [options[kind][0] for kind in ("composition", "least_confident", "reason")]
    assert "most_confident" in kinds(plan_options(typical, full))
    full += [options["most_confident"][0]] * MAX_MIDDLE
    assert kinds(plan_options(typical, full)) == {"field_check"}


def test_forced_text_stops_where_options_diverge_at_a_word_boundary():
    assert _forced([" The model is least sure about crops."]) == " The model is least sure about crops."
    assert _forced([" The model is least sure", " The model is most sure"]) == " The model is"
    assert _forced([" Cloud cover", " Confidence is"]) == ""
    assert _forced([" crops (x).", " crops (x), followed by"]) == " crops (x)"


def test_the_reason_is_about_a_class_an_earlier_claim_named():
    scene = {"built": (0.5, 0.9), "bare": (0.2, 0.5), "grass": (0.2, 0.8), "crops": (0.1, 0.85)}
    confusion = {"reference": "grass", "predicted": "crops", "share_of_reference": 0.2}
    facts = extract_facts(make_report(scene), {**METRICS, "top_confusions": [confusion]})
    options = claim_options(facts)
    least = options["least_confident"][-1]  # "... least sure about bare (...)." without a follower
    offered = [c for c in plan_options(facts, [options["composition"][0], least]) if c.kind == "reason"]
    assert offered and all("bare" in claim.classes for claim in offered)
    assert ("grass", "crops") in [c.classes for c in options["reason"]]  # fits, but is not about bare
