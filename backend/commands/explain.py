"""``landfuse explain``: a grounded explanation of a classification report (Markdown + JSON record).

When the report has no low confidence by part of the map but its class map and confidence map are on
disk, the parts are computed from them first (``explain.regions.with_regions``), so that the field
check can say where to look.
"""

from __future__ import annotations

import argparse
import sys

from ..jsonfile import read_json_object


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", help="JSON report written by 'classify --report'")
    parser.add_argument("--metrics", help="metrics JSON written by 'evaluate' (default: the report's evaluation)")
    parser.add_argument("--model", help="GGUF model, e.g. Phi-3-mini-4k-instruct-q4.gguf (default: Gemma 3 270M)")
    parser.add_argument("--out", help="Markdown file to write (default: print the Markdown)")
    parser.add_argument("--json", help="JSON record to write: text, grounded, fallback used, tokens, latency")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="language model attempts before the template (0: template only, no model)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="CPU threads for the language model")
    parser.add_argument("--cpu", action="store_true", help="keep the language model on the CPU")


def run(args: argparse.Namespace) -> int:
    from ..explain import LanguageModel, explain_report
    from ..explain.regions import with_regions

    report = with_regions(read_json_object(args.report, "report"))
    metrics = read_json_object(args.metrics, "metrics") if args.metrics else None
    llm = None
    if args.model or args.threads or args.cpu:
        llm = LanguageModel.load(args.model, n_threads=args.threads, n_gpu_layers=0 if args.cpu else -1)
    explanation = explain_report(report, metrics=metrics, llm=llm, max_attempts=args.attempts, seed=args.seed)
    explanation.save(args.out, args.json)
    if args.out is None:
        print(explanation.markdown)
    record = explanation.record
    print(
        f"explanation: {record['source']}, grounded={record['grounded']}, attempts={record['attempts']}, "
        f"{record['generated_tokens']} tokens in {record['latency_s']} s",
        file=sys.stderr,
    )
    return 0
