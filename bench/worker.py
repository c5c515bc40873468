"""Worker benchmark: start-up, request round trip, and what the process boundary costs a classify job.

Writes ``bench/results/worker.json``:

- ``start_s``: seconds from starting a worker to its handshake (median of 3; includes probing devices).
- ``ping_ms``: round trip of a ``ping`` through the plugin's client (median and 95th percentile of 200).
- ``classify``: a CloudSeg-lite model (registry weights, exported to ONNX) on a real BigEarthNet sample
  pair: seconds per job in-process (``engine.classify`` with a loaded runner) against through the
  worker (first job, which loads the model, and warm jobs, which reuse it from the worker's cache);
  ``boundary_overhead_s`` is warm worker minus in-process (medians of 5).

Run: ``python -m landfuse.bench worker``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from . import machine_info, write_result

REPEATS = 5


def _median_time(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _model(folder: Path) -> Path:
    from landfuse.backend.models.export import export_onnx
    from landfuse.backend.models.registry import build_model, default_card

    card = default_card("cloudseg", "lite")
    return export_onnx(build_model(card).eval(), card, folder / "cloudseg-lite-bench.onnx")


def main() -> dict:
    from landfuse.backend.engine import ClassifyOptions, classify
    from landfuse.backend.runners import load_runner
    from landfuse.backend.samples import bigearthnet_samples
    from landfuse.plugin.worker_client import WorkerClient

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pair = bigearthnet_samples(folder / "cache", folder / "samples")[0]
        model = _model(folder)

        starts = []
        for _ in range(3):
            client = WorkerClient(sys.executable)
            begin = time.perf_counter()
            client.start()
            starts.append(time.perf_counter() - begin)
            client.shutdown()

        client = WorkerClient(sys.executable)
        hello = client.start()
        pings = []
        for _ in range(200):
            begin = time.perf_counter()
            client.call("ping")
            pings.append(1000 * (time.perf_counter() - begin))
        pings.sort()

        params = {"optical": str(pair.optical), "sar": str(pair.sar), "model": str(model), "options": {"device": "cpu"}}
        outputs = iter(range(1000))

        def through_worker() -> None:
            client.call("classify", {**params, "output": str(folder / f"worker-{next(outputs)}.tif")})

        first = _median_time(through_worker, repeats=1)
        warm = _median_time(through_worker)
        client.shutdown()

        runner = load_runner(model, "cpu")
        in_process = _median_time(
            lambda: classify(
                pair.optical, pair.sar, runner, folder / f"local-{next(outputs)}.tif", options=ClassifyOptions()
            )
        )

    result = {
        "machine": machine_info(),
        "devices": hello["devices"]["preferred"],
        "start_s": round(statistics.median(starts), 3),
        "ping_ms": {"median": round(statistics.median(pings), 3), "p95": round(pings[int(0.95 * len(pings))], 3)},
        "classify": {
            "model": "cloudseg-lite (untrained weights), ONNX Runtime CPU",
            "input": f"BigEarthNet sample {pair.name} (120 x 120 px)",
            "in_process_s": round(in_process, 3),
            "worker_first_s": round(first, 3),
            "worker_warm_s": round(warm, 3),
            "boundary_overhead_s": round(warm - in_process, 3),
        },
    }
    write_result("worker", result)
    return result


if __name__ == "__main__":
    print(main())
