"""``python -m landfuse.bench [NAME ...]``: run every benchmark module's ``main()``, or only those named.

A benchmark is a module ``bench/<name>.py`` that defines ``main()``; modules without one (sections
merged by another benchmark, such as ``models_reconstructions``) are not run on their own.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules that define ``main()``, sorted."""
    names = []
    for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        if callable(getattr(module, "main", None)):
            names.append(info.name)
    return sorted(names)


def run(names: list[str]) -> int:
    """Run the named benchmarks (all when empty); the exit status counts the ones that failed."""
    known = available()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}: expected one of {', '.join(known)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names or known:
        start = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        try:
            importlib.import_module(f"{__package__}.{name}").main()
        except Exception:
            failed += 1
            traceback.print_exc()
            print(f"[bench] {name} FAILED after {time.perf_counter() - start:.0f} s", flush=True)
            continue
        print(f"[bench] {name} done in {time.perf_counter() - start:.0f} s -> bench/results/{name}.json", flush=True)
    return min(failed, 1)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
