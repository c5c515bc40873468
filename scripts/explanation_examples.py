"""Write the example explanations of docs/explanations.md from real scenes, never by hand.

Classifies five scenes with the default demo model (``edc-lite``) through the backend command line:
three real Sentinel-1/2 BigEarthNet patches (the ``bigearthnet-common`` package), the real
Sen1Floods11 chip ``Spain_7370579`` (shared reference data, September 2019 flood near Orihuela) and
the synthetic demo scene (4096 x 4096, seed 7, 40 % cloud, as ``make demo`` makes it; scored against
its own labels, and its report given the cloud share of its cloud mask). Each report gets the low
confidence by part of the map from its class and confidence maps (``explain.regions.with_regions``)
and is explained by the default language model with seed 0. The section between the ``examples``
markers of docs/explanations.md is replaced by the results, and the section between the ``bench``
markers by a table of ``bench/results/explain.json`` (written by ``make bench``).

Usage: ``python scripts/explanation_examples.py [--work DIR] [--synthetic-size N]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "explanations.md"
START, END = "<!-- examples:start -->", "<!-- examples:end -->"
BENCH_START, BENCH_END = "<!-- bench:start -->", "<!-- bench:end -->"
BENCH_RESULTS = ROOT / "bench" / "results" / "explain.json"
MODEL = "edc-lite"
SEN1FLOODS11 = ROOT.parent / "shared" / "data" / "real" / "sen1floods11"
BIGEARTHNET = (
    ("S2A_MSIL2A_20170613T101031_87_48", "BigEarthNet patch 87_48, Austria, 13 June 2017"),
    ("S2A_MSIL2A_20170617T113321_36_85", "BigEarthNet patch 36_85, Ireland, 17 June 2017"),
    ("S2A_MSIL2A_20171221T112501_56_35", "BigEarthNet patch 56_35, Portugal, 21 December 2017"),
)
# Sentinel-2 L1C chip bands B1..B12 (13): the model's B2-B8, B11, B12 are bands 2-8, 12 and 13.
SEN1FLOODS11_OPTICAL_BANDS = "2,3,4,5,6,7,8,12,13"


def backend(*args: str) -> str:
    """Run ``python -m landfuse.backend ARGS`` and return its standard output; stop on failure."""
    done = subprocess.run([sys.executable, "-m", "landfuse.backend", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"backend {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def classify(name: str, optical: Path, sar: Path, work: Path, bands: list[str]) -> dict:
    """Classify one pair with the demo model; return its report."""
    job = work / name
    job.mkdir(parents=True, exist_ok=True)
    outputs = {
        "--output": job / "landcover.tif",
        "--confidence": job / "confidence.tif",
        "--report": job / "report.json",
    }
    args = ["classify", "--optical", str(optical), "--sar", str(sar), "--model", MODEL, "--quiet", *bands]
    backend(*args, *[item for flag, path in outputs.items() for item in (flag, str(path))])
    return json.loads((job / "report.json").read_text())


def synthetic_scene(work: Path, size: int) -> tuple[dict, dict]:
    """The demo's synthetic scene: its report (with its cloud mask's cloud share) and its evaluation."""
    scene = work / f"synthetic-{size}"
    if not (scene / "cloud_mask" / "synthetic-7.tif").exists():
        backend("synth", "--size", str(size), "--cloud-cover", "0.4", "--seed", "7", "--out", str(scene))
    tif = "synthetic-7.tif"
    report = classify("synthetic", scene / "optical" / tif, scene / "sar" / tif, work, [])
    metrics_path = work / "synthetic" / "metrics.json"
    backend(
        "evaluate", "--class-map", report["outputs"]["class_map"], "--reference", str(scene / "label" / tif),
        "--cloud-mask", str(scene / "cloud_mask" / tif), "--output", str(metrics_path), "--quiet",
    )  # fmt: skip
    with rasterio.open(scene / "cloud_mask" / tif) as mask:
        report["cloud_share"] = float(np.count_nonzero(mask.read(1)) / (mask.width * mask.height))
    return report, json.loads(metrics_path.read_text())


def scenes(work: Path, synthetic_size: int) -> list[tuple[str, dict, dict | None]]:
    """(title, report, metrics) of the five scenes."""
    samples = work / "bigearthnet"
    backend("samples", "--out", str(samples), "--cache", str(work / "cache"))
    found = []
    for patch, title in BIGEARTHNET:
        pair = samples / f"{patch}_optical.tif", samples / f"{patch}_sar.tif"
        found.append((title, classify(patch, *pair, work, []), None))
    if not SEN1FLOODS11.is_dir():
        raise SystemExit(f"the Sen1Floods11 sample is not at {SEN1FLOODS11}: expected the shared reference data")
    bands = ["--optical-bands", SEN1FLOODS11_OPTICAL_BANDS, "--sar-bands", "1,2"]
    chip = SEN1FLOODS11 / "Spain_7370579_S2Hand.tif", SEN1FLOODS11 / "Spain_7370579_S1Hand.tif"
    title = "Sen1Floods11 chip Spain_7370579, flood near Orihuela, September 2019 (Sentinel-2 L1C)"
    found.append((title, classify("sen1floods11", *chip, work, bands), None))
    report, metrics = synthetic_scene(work, synthetic_size)
    title = f"Synthetic demo scene, {synthetic_size} x {synthetic_size} pixels, seed 7, scored against its labels"
    found.append((title, report, metrics))
    return found


def section(examples: list[tuple[str, dict]]) -> str:
    """The Markdown of the examples section."""
    parts = [START, ""]
    for title, record in examples:
        model = record["model"]
        who = f"`{model['file']}`" if record["source"] == "language_model" else "the template"
        kinds = ", ".join(record["claim_kinds"])
        verdict = "passed" if record["grounded"] else "FAILED"
        parts += [
            f"**{title}.** Written by {who}, attempt {record['attempts']}, {record['latency_s']:.1f} s; "
            f"claim kinds: {kinds}; claim check {verdict}; {len(record['dropped_sentences'])} sentences dropped.",
            "",
            f"> {record['text']}",
            "",
        ]
    return "\n".join([*parts, END])


def bench_section(results: dict) -> str:
    """The Markdown table of the explanation benchmark's results."""
    rows = [
        "| Candidate | First-attempt sentences passing | Final texts with no failing sentence | Claim kinds "
        "(mean, min) | Field check with class and part | Latency median / p95 (s) | Template fallback |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, c in results["candidates"].items():
        rows.append(
            f"| {name} | {c['first_attempt_sentence_pass_share']:.3f} | {c['final_zero_failing_share']:.2f} | "
            f"{c['mean_claim_kinds']:.2f}, {c['min_claim_kinds']} | {c['field_check_with_part_share']:.2f} | "
            f"{c['latency_s_median']:.2f} / {c['latency_s_p95']:.2f} | {c['template_fallback_share']:.2f} |"
        )
    machine = results["machine"]
    cases = ", ".join(f"{count} {case.replace('_', ' ')}" for case, count in results["cases"].items())
    return "\n".join(
        [
            BENCH_START,
            f"`make bench` wrote `bench/results/explain.json` over {results['reports']} varied reports ({cases}; "
            f"{results['with_assessment_facts']} with assessment facts), on {machine['cpu_count']} CPU cores shared "
            f"with other jobs (load average {machine['load_average_at_start'][0]} at the start, "
            f"{machine['load_average_at_end'][0]} at the end), one thread per model:",
            "",
            *rows,
            "",
            f'Chosen by the rule "{results["choice"]["rule"]}": **{results["choice"]["candidate"]}**; the default '
            f"model file is `{results['choice']['default_model_file']}`.",
            BENCH_END,
        ]
    )


def replace_section(text: str, start: str, end: str, content: str) -> str:
    """``text`` with the part from ``start`` to ``end`` (markers included) replaced by ``content``."""
    if start not in text or end not in text:
        raise SystemExit(f"{DOC} has no {start} ... {end} section to replace")
    head, rest = text.split(start, 1)
    return head + content + rest.split(end, 1)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "demo-output" / "explanation-examples")
    parser.add_argument("--synthetic-size", type=int, default=4096)
    args = parser.parse_args()
    from landfuse.backend.explain import LanguageModel, explain_report
    from landfuse.backend.explain.regions import with_regions

    llm = LanguageModel.load()
    examples = []
    for title, report, metrics in scenes(args.work, args.synthetic_size):
        record = explain_report(with_regions(report), metrics=metrics, llm=llm, seed=0).record
        examples.append((title, record))
        print(f"{title}\n  {record['text']}\n", flush=True)
    text = replace_section(DOC.read_text(encoding="utf-8"), START, END, section(examples))
    if BENCH_RESULTS.is_file():
        text = replace_section(text, BENCH_START, BENCH_END, bench_section(json.loads(BENCH_RESULTS.read_text())))
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {len(examples)} examples into {DOC}")


if __name__ == "__main__":
    main()
