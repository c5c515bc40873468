"""``explain_report``: a grounded explanation of a classification report, as Markdown and a JSON record.

Flow: facts from the report -> prompt -> language model attempts (placeholders filled, then checked)
-> the first grounded text, or after ``max_attempts`` failures the deterministic template from the
same facts. Attempt ``i`` samples at a lower temperature than attempt ``i - 1``; the last is greedy.
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
from .facts import Facts, extract_facts
from .grounding import check_placeholders, check_text, fill_placeholders
from .model import LanguageModel
from .prompt import SYSTEM_PROMPT, opening, segments, user_message
from .template import template_explanation

FIRST_TEMPERATURE = 0.6


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
    """The default model (SmolLM2), loaded once per process."""
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


def _attempt(llm: LanguageModel, facts: Facts, temperature: float, seed: int) -> dict:
    generated = _generate(llm, facts, temperature, seed)
    text = tidy(fill_placeholders(generated["placeholder_text"], facts))
    problems = generated["problems"] + check_placeholders(generated["placeholder_text"], facts)
    problems += check_text(text, facts).problems
    return {
        "temperature": temperature,
        "seed": seed,
        "grounded": not problems,
        "problems": problems,
        "text": text,
        **{k: generated[k] for k in ("prompt_tokens", "generated_tokens", "seconds")},
    }


def explain_report(
    report: dict,
    *,
    metrics: dict | None = None,
    llm: LanguageModel | None = None,
    max_attempts: int = 3,
    seed: int = 0,
) -> Explanation:
    """Explain a LandFuse report (``metrics`` defaults to ``report['evaluation']``).

    ``record`` keys: text, grounded (the final text passed the check), fallback_used, source
    (``language_model`` or ``template``), fallback_reason, attempts (model attempts made),
    first_attempt_grounded, attempt_log, model (file, name, quantisation, chat format, GPU offload,
    threads; null without a model), prompt_tokens and generated_tokens (summed over attempts),
    latency_s (wall seconds of this call), tokens_per_s (generated tokens per generation second),
    facts (key, value, unit, text, meaning) and problems (of the final text; empty when grounded).
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
    if llm is not None:
        for i in range(max_attempts):
            log.append(_attempt(llm, facts, temperature_for(i, max_attempts), seed + i))
            if log[-1]["grounded"]:
                break
        else:
            fallback_reason = (
                f"the language model's text failed the fact check {len(log)} times (last: {log[-1]['problems'][0]})"
            )
    if log and log[-1]["grounded"]:
        text, source = log[-1]["text"], "language_model"
    else:
        text, source = fill_placeholders(template_explanation(facts), facts), "template"
    verdict = check_text(text, facts)
    generated = sum(a["generated_tokens"] for a in log)
    generation_seconds = sum(a["seconds"] for a in log)
    record = {
        "text": text,
        "grounded": verdict.grounded,
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
        "problems": verdict.problems,
    }
    return Explanation(render_markdown(record, facts), record)


def _provenance(record: dict) -> str:
    model = record["model"]
    if record["source"] == "language_model":
        return (
            f"Written by the language model {model['name']} ({model['quantisation']}) on attempt "
            f"{record['attempts']}; every number was checked against the report."
        )
    return f"Template explanation from the report's numbers: {record['fallback_reason']}."


def render_markdown(record: dict, facts: Facts) -> str:
    """The explanation, a line saying how it was written and checked, and the facts table."""
    rows = "\n".join(f"| {fact.meaning} | {fact.text} |" for fact in facts)
    verdict = "passed" if record["grounded"] else "FAILED: " + "; ".join(record["problems"])
    return (
        "## Explanation of the land-cover map\n\n"
        f"{record['text']}\n\n"
        f"*{_provenance(record)} Fact check: {verdict}.*\n\n"
        "| Fact | Value |\n|---|---|\n"
        f"{rows}\n"
    )
