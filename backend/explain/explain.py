"""``explain_report``: a grounded explanation of a classification report, as Markdown and a JSON record.

Flow: facts from the report -> prompt -> language model attempts -> each sentence checked as a claim
(``checker.py``), failing sentences dropped -> the first attempt that keeps a composition claim and a
field check with every kept sentence passing, or after ``max_attempts`` failures the deterministic
template written from the same claims. Small models choose among true claims (``decoding.py``,
``decoding="claim_frames"``); models that write freely (Phi-3) continue fixed openers under the
digit-free token mask (``decoding="free"``). Attempt ``i`` samples at a lower temperature than attempt
``i - 1``; the last is greedy.
When no language model is given and the default cannot be loaded, the template is used and the
record says why (``fallback_reason``); an explicitly requested model that cannot be loaded raises
``LanguageModelError`` in ``LanguageModel.load`` instead. ``max_attempts=0`` asks for the template
alone (no model is loaded).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import LanguageModelError, NotWritableError
from .checker import check_claims
from .facts import Facts, extract_facts
from .grounding import check_placeholders, check_text, fill_placeholders
from .model import LanguageModel
from .prompt import SYSTEM_PROMPT, claims_message, opening, segments, user_message
from .template import template_explanation

FIRST_TEMPERATURE = 0.6
REQUIRED_KINDS = ("composition", "field_check")
DECODINGS = ("claim_frames", "free")


@dataclass
class Explanation:
    """The explanation as Markdown and as a JSON-ready record (see ``explain_report``)."""

    markdown: str
    record: dict

    @property
    def text(self) -> str:
        return self.record["text"]

    def save(self, md_path: str | Path | None = None, json_path: str | Path | None = None) -> None:
        """Write the Markdown and/or the JSON record (indent 2)."""
        for path, content in ((md_path, self.markdown), (json_path, json.dumps(self.record, indent=2) + "\n")):
            if path is None:
                continue
            try:
                Path(path).write_text(content, encoding="utf-8")
            except OSError as exc:
                raise NotWritableError(f"cannot write the explanation to {path}: {exc}") from exc


@lru_cache(maxsize=1)
def default_language_model() -> LanguageModel:
    """The default model (Gemma 3 270M), loaded once per process."""
    return LanguageModel.load()


def temperature_for(attempt: int, max_attempts: int) -> float:
    """Sampling temperature of attempt ``attempt`` (0-based): from 0.6 down to greedy (0) on the last."""
    if max_attempts <= 1:
        return FIRST_TEMPERATURE
    return round(FIRST_TEMPERATURE * (max_attempts - 1 - attempt) / (max_attempts - 1), 3)


def _generate(llm: LanguageModel, facts: Facts, temperature: float, seed: int) -> dict:
    """One attempt: the opening, then each segment continued by the model under the facts' constraint."""
    chat = llm.chat_prompt(SYSTEM_PROMPT, user_message(facts))
    text = opening(facts)
    prompt_tokens = generated_tokens = 0
    seconds = 0.0
    problems = []
    for segment in segments(facts):
        text += segment.opener
        completion = llm.complete(
            chat.text + text,
            max_tokens=segment.max_tokens,
            temperature=temperature,
            seed=seed,
            stops=chat.stops,
            facts=facts,
            answer=text,
            sentences=segment.sentences,
        )
        prompt_tokens += completion.prompt_tokens
        generated_tokens += completion.generated_tokens
        seconds += completion.seconds
        continuation = completion.text.rstrip()
        if not continuation.endswith("."):
            cut = continuation.rfind(".")
            if cut < 0:
                problems.append(f"the model did not finish a sentence within {segment.max_tokens} tokens")
            continuation = continuation[: cut + 1]
        text += continuation
    return {
        "placeholder_text": text,
        "problems": problems,
        "prompt_tokens": prompt_tokens,
        "generated_tokens": generated_tokens,
        "seconds": seconds,
    }


def tidy(text: str) -> str:
    """Drop empty brackets and doubled spaces that constrained decoding can leave behind."""
    text = re.sub(r"\s*\(\s*\)", "", text)
    text = re.sub(r"\s+([,.;)])", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _choose(llm: LanguageModel, facts: Facts, temperature: float, seed: int) -> dict:
    """One attempt of claim-frame decoding: the model chooses true claims (``decoding.py``)."""
    chat = llm.chat_prompt(SYSTEM_PROMPT, claims_message(facts))
    decoded = llm.choose_claims(chat.text, facts, temperature=temperature, seed=seed)
    return {
        "placeholder_text": decoded.text,
        "problems": [],
        "prompt_tokens": decoded.prompt_tokens,
        "generated_tokens": decoded.generated_tokens,
        "sampled_tokens": decoded.sampled_tokens,
        "seconds": decoded.seconds,
    }


def _sentence_log(text: str, facts: Facts) -> list[dict]:
    """Each sentence of ``text`` with its claim kind, verdict (``kept`` or ``dropped``) and problems."""
    return [
        {"text": s.text, "kind": s.kind, "verdict": "kept" if s.ok else "dropped", "problems": s.problems}
        for s in check_claims(text, facts).sentences
    ]


def _attempt(llm: LanguageModel, facts: Facts, temperature: float, seed: int, decoding: str) -> dict:
    generated = (_choose if decoding == "claim_frames" else _generate)(llm, facts, temperature, seed)
    raw = generated["placeholder_text"]
    notes = generated["problems"] + (check_placeholders(raw, facts) if decoding == "free" else [])
    sentences = _sentence_log(tidy(fill_placeholders(raw, facts)), facts)
    text = " ".join(s["text"] for s in sentences if s["verdict"] == "kept")
    kinds = {s["kind"] for s in sentences if s["verdict"] == "kept"}
    problems = [f"{s['text']!r} dropped: {s['problems'][0]}" for s in sentences if s["verdict"] == "dropped"]
    missing = [kind for kind in REQUIRED_KINDS if kind not in kinds]
    failures = [f"no {kind.replace('_', ' ')} claim survived the claim check" for kind in missing]
    failures += check_text(text, facts).problems if text else ["no sentence survived the claim check"]
    return {
        "temperature": temperature,
        "seed": seed,
        "grounded": not failures,
        "problems": failures + problems + notes,
        "text": text,
        "sentences": sentences,
        "sentences_checked": len(sentences),
        "sentences_passed": sum(s["verdict"] == "kept" for s in sentences),
        **{k: generated.get(k, 0) for k in ("prompt_tokens", "generated_tokens", "sampled_tokens", "seconds")},
    }


def explain_report(
    report: dict,
    *,
    metrics: dict | None = None,
    llm: LanguageModel | None = None,
    max_attempts: int = 3,
    seed: int = 0,
    decoding: str | None = None,
) -> Explanation:
    """Explain a LandFuse report (``metrics`` defaults to ``report['evaluation']``).

    ``decoding``: ``claim_frames`` (the model chooses among true claims) or ``free`` (it continues
    openers under the token mask); None picks ``free`` for models that write freely (Phi-3) and
    ``claim_frames`` otherwise. Sentences that fail the claim check are dropped; an attempt fails when
    no composition claim or no field check is left after that, or when the kept text fails the number
    check, and the next attempt regenerates the whole text.

    ``record`` keys: text, grounded (the final text passed the number and claim checks), fallback_used, source
    (``language_model`` or ``template``), fallback_reason, attempts (model attempts made),
    first_attempt_grounded, attempt_log, model (file, name, quantisation, chat format, GPU offload,
    threads; null without a model), prompt_tokens and generated_tokens (summed over attempts),
    latency_s (wall seconds of this call), tokens_per_s (generated tokens per generation second),
    facts (key, value, unit, text, meaning), problems (of the final text; empty when grounded),
    decoding, sentences (the final text's sentences: text, claim kind, verdict, problems), claim_kinds
    and dropped_sentences (sentences dropped over all attempts, with the attempt number and why).
    """
    start = time.perf_counter()
    facts = extract_facts(report, metrics)
    fallback_reason = None
    if max_attempts < 1:
        llm, fallback_reason = None, "no language model attempt was requested"
    elif llm is None:
        try:
            llm = default_language_model()
        except LanguageModelError as exc:
            fallback_reason = f"no language model could be loaded: {exc}"
    log = []
    if decoding is not None and decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {', '.join(DECODINGS)}, got {decoding!r}")
    if llm is not None and decoding is None:
        decoding = "free" if llm.writes_freely else "claim_frames"
    if llm is not None:
        for i in range(max_attempts):
            log.append(_attempt(llm, facts, temperature_for(i, max_attempts), seed + i, decoding))
            if log[-1]["grounded"]:
                break
        else:
            fallback_reason = (
                f"the language model's text failed the claim check {len(log)} times (last: {log[-1]['problems'][0]})"
            )
    if log and log[-1]["grounded"]:
        text, source = log[-1]["text"], "language_model"
    else:
        text, source = fill_placeholders(template_explanation(facts), facts), "template"
    verdict = check_text(text, facts)
    claims = check_claims(text, facts)
    generated = sum(a["generated_tokens"] for a in log)
    generation_seconds = sum(a["seconds"] for a in log)
    record = {
        "text": text,
        "grounded": verdict.grounded and claims.passed,
        "fallback_used": source == "template",
        "source": source,
        "fallback_reason": fallback_reason,
        "attempts": len(log),
        "first_attempt_grounded": bool(log) and log[0]["grounded"],
        "attempt_log": log,
        "model": llm.describe() if llm is not None else None,
        "prompt_tokens": sum(a["prompt_tokens"] for a in log),
        "generated_tokens": generated,
        "latency_s": round(time.perf_counter() - start, 3),
        "tokens_per_s": round(generated / generation_seconds, 1) if generation_seconds > 0 else None,
        "facts": [fact.to_dict() for fact in facts],
        "problems": verdict.problems + claims.problems,
        "decoding": decoding if log else None,
        "sentences": [
            {"text": s.text, "kind": s.kind, "verdict": "kept" if s.ok else "failed", "problems": s.problems}
            for s in claims.sentences
        ],
        "claim_kinds": claims.kinds,
        "dropped_sentences": [
            {"attempt": number, "text": s["text"], "problems": s["problems"]}
            for number, attempt in enumerate(log, start=1)
            for s in attempt["sentences"]
            if s["verdict"] == "dropped"
        ],
    }
    return Explanation(render_markdown(record, facts), record)


def _provenance(record: dict) -> str:
    model = record["model"]
    if record["source"] == "language_model":
        return (
            f"Written by the language model {model['name']} ({model['quantisation']}) on attempt "
            f"{record['attempts']}; every sentence was checked as a claim against the report."
        )
    return f"Template explanation from the report's claims: {record['fallback_reason']}."


def render_markdown(record: dict, facts: Facts) -> str:
    """The explanation, a line saying how it was written and checked, and the facts table."""
    rows = "\n".join(f"| {fact.meaning} | {fact.text} |" for fact in facts)
    verdict = "passed" if record["grounded"] else "FAILED: " + "; ".join(record["problems"])
    dropped = len(record["dropped_sentences"])
    if dropped:
        verdict += f"; {dropped} sentence{'s' if dropped > 1 else ''} dropped on the way (see the JSON record)"
    return (
        "## Explanation of the land-cover map\n\n"
        f"{record['text']}\n\n"
        f"*{_provenance(record)} Claim check: {verdict}.*\n\n"
        "| Fact | Value |\n|---|---|\n"
        f"{rows}\n"
    )
