"""Explanation benchmark: speed of the default language model on CPU and how often it is grounded.

Writes ``bench/results/explain.json``:

- ``typical``: latency and generated tokens per second of SmolLM2-135M (Q4_1, CPU, default threads)
  explaining a typical report (four classes, cloud cover, no metrics), median of 3 runs, each after
  another report so that its prompt is evaluated anew. Latency includes prompt evaluation; tokens
  per second count generated tokens over generation calls (prompt evaluation included), and
  ``seconds_per_120_tokens`` extrapolates that rate. Goal: <= 5 s for about 120 generated tokens,
  measured directly in ``direct_120_tokens`` (fresh typical prompt + up to 120 constrained tokens).
- ``grounding``: over 20 varied reports (class schemes, class counts, shares, confidences, cloud
  cover, with and without evaluation metrics), the share whose FIRST language-model attempt passed
  the fact check, the share that needed the template, and the problems found.
- ``constraint``: tokens per second with no constraint, with the token mask the explanations use,
  and with the equivalent llama.cpp GBNF grammar, on the same prompt.

Run: ``python -m landfuse.bench explain`` (or ``python -m landfuse.bench.explain``).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "explain.json"
CLASSES_DIR = Path(__file__).resolve().parent.parent / "resources" / "classes"
SCHEMES = ("dynamic_world", "worldcover", "whu_opt_sar", "openearthmap_sar", "dfc2020")
VARIED_REPORTS = 20
TYPICAL_RUNS = 3


def _machine() -> dict:
    import llama_cpp

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "gpu_offload_supported": bool(llama_cpp.llama_supports_gpu_offload()),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "note": "other jobs may share the CPU cores: compare the load averages with cpu_count",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _scheme(name: str) -> list[str]:
    return [c["name"] for c in json.loads((CLASSES_DIR / f"{name}.json").read_text())["classes"]]


def varied_report(seed: int) -> dict:
    """A plausible engine report: random scheme, 1-7 present classes, Dirichlet shares; metrics every third."""
    rng = np.random.default_rng(seed)
    names = _scheme(SCHEMES[seed % len(SCHEMES)])
    count = int(rng.integers(1, min(7, len(names)) + 1))
    present = rng.choice(len(names), size=count, replace=False)
    shares = rng.dirichlet(np.full(count, 0.8))
    confidences = rng.uniform(0.45, 0.98, size=count)
    pixels = np.round(shares * 512 * 512).astype(int)
    classes = [
        {
            "id": int(i),
            "name": names[i],
            "color": "#808080",
            "pixels": int(p),
            "hectares": float(p) * 0.01,
            "share": float(p) / float(pixels.sum()),
            "mean_confidence": float(c),
        }
        for i, p, c in zip(present, pixels, confidences, strict=True)
        if p > 0
    ]
    evaluation = None
    if seed % 3 == 0 and count > 1:
        ordered = sorted(classes, key=lambda c: -c["share"])
        evaluation = {
            "oa": float(rng.uniform(0.6, 0.95)),
            "miou": float(rng.uniform(0.3, 0.8)),
            "mean_f1": float(rng.uniform(0.4, 0.85)),
            "kappa": float(rng.uniform(0.4, 0.9)),
            "per_class": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "iou": float(rng.uniform(0.2, 0.9)),
                    "f1": float(rng.uniform(0.3, 0.95)),
                    "precision": 0.8,
                    "recall": 0.8,
                    "support": 100,
                }
                for c in classes
            ],
            "confusion_matrix": [],
            "top_confusions": [
                {
                    "reference": ordered[1]["name"],
                    "predicted": ordered[0]["name"],
                    "pixels": 100,
                    "share_of_reference": float(rng.uniform(0.05, 0.4)),
                }
            ],
        }
    card = {
        "architecture": "cloudseg",
        "variant": "lite",
        "classes": [{"id": i, "name": n, "color": "#808080"} for i, n in enumerate(names)],
    }
    return {
        "landfuse_report": 1,
        "model": card,
        "device": "cpu",
        "grid": {"crs": "EPSG:32633", "width": 512, "height": 512, "pixel_size": [10.0, 10.0], "pixel_area_m2": 100.0},
        "classes": classes,
        "valid_share": float(rng.uniform(0.8, 1.0)),
        "low_confidence_share": float(rng.uniform(0.0, 0.4)),
        "low_confidence_threshold": 0.5,
        "mean_confidence": float(np.dot(shares, confidences)),
        "cloud_share": None if seed % 4 == 1 else float(rng.uniform(0.0, 0.8)),
        "timing_s": {"read": 0.1, "infer": 1.0, "write": 0.1, "total": 1.2},
        "outputs": {"class_map": "map.tif", "confidence": None, "reconstruction": None, "report": "report.json"},
        "evaluation": evaluation,
    }


def typical_report() -> dict:
    report = varied_report(0)
    names = _scheme("dynamic_world")
    shares = {"trees": (0.46, 0.86), "water": (0.23, 0.93), "crops": (0.19, 0.58), "grass": (0.12, 0.61)}
    report["model"]["classes"] = [{"id": i, "name": n, "color": "#808080"} for i, n in enumerate(names)]
    report["classes"] = [
        {
            "id": names.index(n),
            "name": n,
            "color": "#808080",
            "pixels": round(s * 262144),
            "hectares": s * 2621.44,
            "share": s,
            "mean_confidence": c,
        }
        for n, (s, c) in shares.items()
    ]
    report.update(evaluation=None, cloud_share=0.31, low_confidence_share=0.14, mean_confidence=0.79)
    return report


def _typical(llm) -> dict:
    """Median of runs on the typical report, each after another report (no prompt reuse between runs)."""
    from landfuse.backend.explain import explain_report

    runs = []
    for seed in range(TYPICAL_RUNS):
        explain_report(varied_report(100 + seed), llm=llm, max_attempts=1)
        runs.append(explain_report(typical_report(), llm=llm, max_attempts=1, seed=seed).record)
    tokens_per_s = statistics.median(r["tokens_per_s"] for r in runs)
    return {
        "direct_120_tokens": _direct_120(llm),
        "latency_s_median": statistics.median(r["latency_s"] for r in runs),
        "latency_s_all": [r["latency_s"] for r in runs],
        "generated_tokens_median": statistics.median(r["generated_tokens"] for r in runs),
        "prompt_tokens_median": statistics.median(r["prompt_tokens"] for r in runs),
        "tokens_per_s_median": tokens_per_s,
        "seconds_per_120_tokens": round(120 / tokens_per_s, 2),
        "goal_seconds_per_120_tokens": 5.0,
        "example_text": runs[0]["text"],
    }


def _direct_120(llm) -> dict:
    """Seconds for the typical prompt (evaluated anew) plus 120 constrained tokens in one call."""
    from landfuse.backend.explain import explain_report, extract_facts
    from landfuse.backend.explain.prompt import SYSTEM_PROMPT, opening, user_message

    explain_report(varied_report(200), llm=llm, max_attempts=1)
    facts = extract_facts(typical_report())
    prompt = llm.chat_prompt(SYSTEM_PROMPT, user_message(facts)).text + opening(facts)
    start = time.perf_counter()
    completion = llm.complete(
        prompt, max_tokens=120, temperature=0.6, seed=0, facts=facts, answer=opening(facts), sentences=50
    )
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "prompt_tokens": completion.prompt_tokens,
        "generated_tokens": completion.generated_tokens,
    }


def _grounding(llm) -> dict:
    from landfuse.backend.explain import explain_report

    records = [
        explain_report(varied_report(seed), llm=llm, max_attempts=3, seed=seed).record for seed in range(VARIED_REPORTS)
    ]
    problems = Counter(
        problem.split(":")[0].split("{")[0].strip() or problem
        for record in records
        for attempt in record["attempt_log"]
        for problem in attempt["problems"]
    )
    return {
        "reports": len(records),
        "first_attempt_grounded_share": sum(r["first_attempt_grounded"] for r in records) / len(records),
        "grounded_by_language_model_share": sum(r["source"] == "language_model" for r in records) / len(records),
        "template_fallback_share": sum(r["fallback_used"] for r in records) / len(records),
        "final_text_grounded_share": sum(r["grounded"] for r in records) / len(records),
        "mean_attempts": statistics.mean(r["attempts"] for r in records),
        "mean_latency_s": round(statistics.mean(r["latency_s"] for r in records), 3),
        "problems_in_failed_attempts": dict(problems.most_common(10)),
        "failed_attempt_examples": [a["text"] for r in records for a in r["attempt_log"] if not a["grounded"]][:3],
    }


def _constraint(llm) -> dict:
    """Same prompt, 40 tokens greedy: free, token mask (used), GBNF grammar (the alternative)."""
    from llama_cpp import LlamaGrammar

    from landfuse.backend.explain import extract_facts
    from landfuse.backend.explain.prompt import SYSTEM_PROMPT, opening, user_message

    facts = extract_facts(typical_report())
    prompt = llm.chat_prompt(SYSTEM_PROMPT, user_message(facts)).text + opening(facts)
    keys = [fact.key for fact in facts]
    gbnf = (
        'root ::= piece "." (" " piece ".")?\npiece ::= (char | placeholder)+\nchar ::= [a-zA-Z ,;:\'()/-]\n'
        'placeholder ::= "{" (' + " | ".join(f'"{k}"' for k in keys) + ') "}"\n'
    )
    llama = llm._llama
    llm.complete(prompt, max_tokens=1, temperature=0.0, seed=0)  # evaluate the shared prompt once
    result = {}
    for label in ("free", "token_mask", "gbnf_grammar"):
        start = time.perf_counter()
        if label == "gbnf_grammar":
            out = llama.create_completion(
                prompt,
                max_tokens=40,
                temperature=0.0,
                seed=0,
                repeat_penalty=1.15,
                grammar=LlamaGrammar.from_string(gbnf, verbose=False),
            )
            tokens = out["usage"]["completion_tokens"]
        else:
            tokens = llm.complete(
                prompt,
                max_tokens=40,
                temperature=0.0,
                seed=0,
                facts=facts if label == "token_mask" else None,
                answer=opening(facts),
                sentences=2,
            ).generated_tokens
        seconds = time.perf_counter() - start
        result[label] = {
            "generated_tokens": tokens,
            "seconds": round(seconds, 3),
            "tokens_per_s": round(tokens / seconds, 1),
        }
    return result


def main() -> dict:
    """Benchmark the default language model on CPU; write ``bench/results/explain.json``."""
    from landfuse.backend.explain import LanguageModel

    machine = _machine()
    start = time.perf_counter()
    llm = LanguageModel.load(n_gpu_layers=0)
    load_s = time.perf_counter() - start
    result = {
        "model": llm.describe(),
        "load_s": round(load_s, 3),
        "typical": _typical(llm),
        "grounding": _grounding(llm),
        "constraint": _constraint(llm),
        "machine": machine,
    }
    result["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
