"""Explanation benchmark: claim quality and CPU latency of each candidate default model and the template.

Writes ``bench/results/explain.json``. Over ``REPORTS`` varied reports (three class schemes with
physical reasons and two without; dominance, ties, a single class, classes with no pixels or only a
trace, heavy cloud, even mixtures; with and without assessment facts; every report with low confidence
by part of the map, as the engine's region counts give it), for SmolLM2-135M-Instruct (Q4_1), Gemma 3
270M base (Q4_K_M) and the template:

- ``first_attempt_sentence_pass_share``: sentences of the first attempt that pass the claim checker;
- ``final_zero_failing_share``: final texts with no failing sentence (goal 1.0);
- ``mean_claim_kinds``: distinct claim kinds per explanation (goal >= 4);
- ``field_check_with_part_share``: explanations whose field check names a class and a part of the
  map (goal 1.0);
- ``latency_s_median`` / ``latency_s_p95``: wall seconds per explanation on CPU (goal <= 5 s median),
  each model warmed up on another report first (its vocabulary tables built, the system prompt cached);
- ``cold_start_s``: loading the model plus that first explanation, what a one-off command waits.

``choice``: among the models meeting the latency goal, the best on the goal measures of claim quality
(zero failing, field check with a part, first-attempt pass), then on claim kinds when they differ by
more than ``KINDS_TOLERANCE``, then the shorter cold start.
Run: ``python -m landfuse.bench explain``.
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
SCHEMES = ("dynamic_world", "worldcover", "m3m_cr", "whu_opt_sar", "dfc2020")
CASES = ("dominance", "tie", "single_class", "empty_classes", "heavy_cloud", "even_mixture")
REPORTS = 60
PIXELS = 512 * 512
LATENCY_GOAL_S = 5.0
KINDS_TOLERANCE = 0.25  # claim kinds per explanation: smaller differences count as a tie


def _machine() -> dict:
    import llama_cpp

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "note": "other jobs may share the CPU cores: compare the load averages with cpu_count",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _shares(case: str, count: int, rng: np.random.Generator) -> np.ndarray:
    """Shares of ``count`` classes for one case (sums to 1)."""
    if case == "single_class" or count == 1:
        return np.ones(1)
    if case == "dominance":
        first = rng.uniform(0.55, 0.85)
        return np.concatenate([[first], rng.dirichlet(np.ones(count - 1)) * (1 - first)])
    if case == "tie":
        pair = rng.uniform(0.25, 0.45)
        rest = rng.dirichlet(np.ones(count - 2)) * (1 - 2 * pair) if count > 2 else np.zeros(0)
        return np.concatenate([[pair, pair], rest]) / (2 * pair + rest.sum())
    if case == "even_mixture":
        return rng.dirichlet(np.full(count, 20.0))
    return rng.dirichlet(np.full(count, 0.8))


def varied_report(seed: int) -> dict:
    """One benchmark report (see the module docstring); consistent class, region and scene numbers."""
    from landfuse.common.classes import load_scheme

    rng = np.random.default_rng(seed)
    names = [c.name for c in load_scheme(SCHEMES[seed % len(SCHEMES)])]
    case = CASES[seed % len(CASES)]
    count = 1 if case == "single_class" else int(rng.integers(2, min(6, len(names)) + 1))
    ids = [int(i) for i in rng.choice(len(names), size=count, replace=False)]
    shares = _shares(case, count, rng)
    traces = []
    if case == "empty_classes":  # classes with a handful of pixels; the others of the card have none
        spare = [i for i in range(len(names)) if i not in ids]
        traces = [int(i) for i in rng.choice(spare, size=min(2, len(spare)), replace=False)]
    pixels = {i: int(round(s * PIXELS)) for i, s in zip(ids, shares, strict=True)}
    pixels.update({i: int(rng.integers(1, 20)) for i in traces})
    confidence = {i: float(rng.uniform(0.35, 0.98)) for i in pixels}
    if case == "tie" and count > 2:
        confidence[ids[1]] = confidence[ids[0]]
    total = sum(pixels.values())
    classes = [
        {
            "id": i,
            "name": names[i],
            "color": "#808080",
            "pixels": pixels.get(i, 0),
            "hectares": pixels.get(i, 0) * 0.01,
            "share": pixels.get(i, 0) / total,
            "mean_confidence": confidence.get(i),
        }
        for i in range(len(names))
    ]
    regions = _regions(pixels, confidence, len(names), rng)
    low = sum(p["low_confidence_pixels"] for p in regions["parts"])
    cloud = {0: None, 1: 0.0}.get(seed % 5, float(rng.uniform(0.05, 0.45)))
    if case == "heavy_cloud":
        cloud = float(rng.uniform(0.6, 0.9))
    return {
        "landfuse_report": 1,
        "model": {
            "architecture": "edc",
            "variant": "lite",
            "classes": [{"id": i, "name": n, "color": "#808080"} for i, n in enumerate(names)],
        },
        "grid": {"width": 512, "height": 512, "pixel_size": [10.0, 10.0], "pixel_area_m2": 100.0},
        "classes": classes,
        "valid_share": float(rng.uniform(0.85, 1.0)),
        "low_confidence_share": low / total,
        "low_confidence_threshold": 0.5,
        "mean_confidence": sum(confidence[i] * p for i, p in pixels.items()) / total,
        "cloud_share": cloud,
        "regions": regions,
        "evaluation": _evaluation(ids, names, cloud, rng) if seed % 2 == 0 and count > 1 else None,
        "case": case,
    }


def _regions(pixels: dict, confidence: dict, num_classes: int, rng: np.random.Generator) -> dict:
    """3 x 3 parts: class pixels spread unevenly over the parts, low confidence likelier in some parts."""
    weights = rng.dirichlet(np.full(9, 2.0), size=num_classes)
    unsure = rng.uniform(0.3, 1.7, size=9)
    parts = []
    for index in range(9):
        row, col = divmod(index, 3)
        counts = [int(round(pixels.get(k, 0) * weights[k, index])) for k in range(num_classes)]
        low = [
            int(rng.binomial(n, min(1.0, (1 - confidence.get(k, 1.0)) * unsure[index]))) for k, n in enumerate(counts)
        ]
        parts.append(
            {
                "name": "",
                "row": row,
                "col": col,
                "valid_pixels": sum(counts),
                "low_confidence_pixels": sum(low),
                "class_pixels": counts,
                "class_low_confidence_pixels": low,
            }
        )
    return {"rows": 3, "cols": 3, "threshold": 0.5, "parts": parts}


def _evaluation(ids: list[int], names: list[str], cloud: float | None, rng: np.random.Generator) -> dict:
    reference, predicted = (int(i) for i in rng.choice(ids, size=2, replace=False))
    evaluation = {
        "oa": float(rng.uniform(0.6, 0.95)),
        "miou": float(rng.uniform(0.3, 0.8)),
        "mean_f1": float(rng.uniform(0.4, 0.85)),
        "kappa": float(rng.uniform(0.4, 0.9)),
        "per_class": [{"id": i, "name": names[i], "iou": float(rng.uniform(0.2, 0.9))} for i in ids],
        "top_confusions": [
            {
                "reference": names[reference],
                "predicted": names[predicted],
                "share_of_reference": float(rng.uniform(0.05, 0.4)),
            }
        ],
    }
    if cloud:
        evaluation["clear"] = {"oa": float(rng.uniform(0.75, 0.95))}
        evaluation["cloudy"] = {"oa": float(rng.uniform(0.5, 0.8))}
    return evaluation


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def _summary(records: list[dict], label: str) -> dict:
    first = [r["attempt_log"][0] for r in records if r["attempt_log"]]
    if first:
        checked = sum(a["sentences_checked"] for a in first)
        passed = sum(a["sentences_passed"] for a in first)
    else:  # the template: its own sentences are its first and only attempt
        checked = sum(len(r["sentences"]) for r in records)
        passed = sum(s["verdict"] == "kept" for r in records for s in r["sentences"])
    latencies = [r["latency_s"] for r in records]
    with_part = [
        any(s["kind"] == "field_check" and " of the map" in s["text"] for s in r["sentences"]) for r in records
    ]
    return {
        "candidate": label,
        "reports": len(records),
        "first_attempt_sentence_pass_share": round(passed / max(checked, 1), 4),
        "final_zero_failing_share": sum(all(s["verdict"] == "kept" for s in r["sentences"]) for r in records)
        / len(records),
        "final_grounded_share": sum(r["grounded"] for r in records) / len(records),
        "mean_claim_kinds": round(statistics.mean(len(r["claim_kinds"]) for r in records), 2),
        "min_claim_kinds": min(len(r["claim_kinds"]) for r in records),
        "field_check_with_part_share": sum(with_part) / len(records),
        "template_fallback_share": sum(r["fallback_used"] for r in records) / len(records),
        "mean_attempts": statistics.mean(r["attempts"] for r in records),
        "dropped_sentences": sum(len(r["dropped_sentences"]) for r in records),
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_p95": round(_p95(latencies), 3),
        "claim_kind_counts": dict(Counter(k for r in records for k in r["claim_kinds"]).most_common()),
        "example_texts": [records[i]["text"] for i in (0, 3)],
    }


def _run(label: str, llm, reports: list[dict]) -> dict:
    from landfuse.backend.explain import explain_report

    attempts = 0 if llm is None else 3
    start = time.perf_counter()
    explain_report(varied_report(10_000), llm=llm, max_attempts=attempts)  # warm-up
    warm_up_s = time.perf_counter() - start
    records = [explain_report(r, llm=llm, max_attempts=attempts, seed=i).record for i, r in enumerate(reports)]
    summary = {**_summary(records, label), "warm_up_s": round(warm_up_s, 3)}
    if llm is not None:
        summary["model"] = llm.describe()
        summary["decoding"] = records[0]["decoding"]
        summary["generated_tokens_median"] = statistics.median(r["generated_tokens"] for r in records)
        summary["sampled_tokens_median"] = statistics.median(
            sum(a["sampled_tokens"] for a in r["attempt_log"]) for r in records
        )
    return summary


def choose(models: list[dict]) -> dict:
    """The candidate to keep as the default (rule in the module docstring)."""
    in_time = [c for c in models if c["latency_s_median"] <= LATENCY_GOAL_S] or models

    def goal(c: dict) -> tuple:
        return c["final_zero_failing_share"], c["field_check_with_part_share"], c["first_attempt_sentence_pass_share"]

    best = max(goal(c) for c in in_time)
    tied = [c for c in in_time if goal(c) == best]
    most_kinds = max(c["mean_claim_kinds"] for c in tied)
    tied = [c for c in tied if c["mean_claim_kinds"] >= most_kinds - KINDS_TOLERANCE]
    return min(tied, key=lambda c: c["cold_start_s"])


def main() -> dict:
    """Benchmark the candidate models and the template on CPU; write ``bench/results/explain.json``."""
    from landfuse.backend.explain import LanguageModel
    from landfuse.backend.explain.model import CANDIDATE_MODELS, candidate_model_path, default_model_path

    machine = _machine()
    reports = [varied_report(seed) for seed in range(REPORTS)]
    candidates = {"template": _run("template", None, reports)}
    for name in CANDIDATE_MODELS:
        start = time.perf_counter()
        llm = LanguageModel.load(candidate_model_path(name), n_gpu_layers=0)
        load_s = time.perf_counter() - start
        summary = _run(name, llm, reports)
        candidates[name] = {
            **summary,
            "load_s": round(load_s, 3),
            "cold_start_s": round(load_s + summary["warm_up_s"], 3),
        }
        del llm
    best = choose([c for name, c in candidates.items() if name != "template"])
    result = {
        "reports": REPORTS,
        "cases": dict(Counter(r["case"] for r in reports)),
        "with_assessment_facts": sum(r["evaluation"] is not None for r in reports),
        "goals": {
            "final_zero_failing_share": 1.0,
            "mean_claim_kinds": 4,
            "field_check_with_part_share": 1.0,
            "latency_s_median": LATENCY_GOAL_S,
        },
        "candidates": candidates,
        "choice": {
            "candidate": best["candidate"],
            "rule": "among the models meeting the latency goal: best claim quality (zero failing, field check "
            f"with a part, first-attempt pass), then claim kinds if they differ by more than {KINDS_TOLERANCE}, "
            "then the shorter cold start",
            "default_model_file": default_model_path().name,
        },
        "machine": machine,
    }
    result["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
