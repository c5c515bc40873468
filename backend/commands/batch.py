"""``landfuse batch``: classify many scenes, or very large ones split in blocks, on a Ray cluster (local by default).

Exit status: 0 when every scene is done, 1 when some failed (the others are done; see the merged
report), 2 for an error concerning the whole batch, 128 + signal number when SIGINT or SIGTERM
stopped it (finished scenes stay, the rest is pending for the next run).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _bands(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"band list must be 1-based integers like 4,3,2 (got {text!r})") from exc


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    inputs = parser.add_argument_group("scenes (one of)")
    inputs.add_argument("--scenes", help="CSV table with columns name,optical,sar[,optical_bands,sar_bands]")
    inputs.add_argument("--folder", help="folder of scene folders, each holding optical.tif and/or sar.tif")
    inputs.add_argument("--optical", help="one scene: its optical raster (with --sar; e.g. a mosaic with --blocks)")
    inputs.add_argument("--sar", help="one scene: its SAR raster")
    inputs.add_argument("--name", help="one scene: its name (default: the optical file's stem)")
    inputs.add_argument("--optical-bands", type=_bands, help="one scene: 1-based optical band indexes, e.g. 2,3,4,8")
    inputs.add_argument("--sar-bands", type=_bands, help="one scene: 1-based SAR band indexes, e.g. 1,2")
    parser.add_argument("--model", required=True, help=".onnx file, .pt checkpoint or model name (e.g. edc-lite)")
    parser.add_argument("--models-dir", help="folder searched for model names before the bundled models")
    parser.add_argument("--out", required=True, help="output folder: one sub-folder per scene, merged report, mosaic")
    parser.add_argument("--confidence", action="store_true", help="also write each scene's confidence map")
    parser.add_argument("--blocks", type=int, help="split each scene into blocks of this many pixels (multiple of 256)")
    parser.add_argument("--explain", action="store_true", help="write explanation.md from the merged report")
    cluster = parser.add_argument_group("cluster")
    cluster.add_argument("--address", help="existing Ray cluster, e.g. ray://head:10001 (default: start a local one)")
    cluster.add_argument("--workers", type=int, help="inference workers (default: one per GPU, else one per CPU slot)")
    cluster.add_argument("--cpus-per-worker", type=int, default=1, help="CPUs (model threads) per worker")
    engine = parser.add_argument_group("engine options (as for classify)")
    engine.add_argument("--tile-size", type=int, help="window size in pixels (default: the model card's)")
    engine.add_argument("--overlap", type=int, help="pixels shared by neighbouring windows (default: tile/4)")
    engine.add_argument("--batch-size", type=int, default=4)
    engine.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    engine.add_argument("--target-crs", help="output CRS, e.g. EPSG:32633, or 'utm' for each scene's UTM zone")
    engine.add_argument("--resolution", type=_numbers, help="output pixel size in target CRS units: x or x,y")
    engine.add_argument("--extent", type=_numbers, help="xmin,ymin,xmax,ymax in the target CRS")
    engine.add_argument("--sar-unit", default="auto", choices=["auto", "dB", "linear"])
    parser.add_argument(
        "--progress",
        default="bar",
        choices=["bar", "json", "none"],
        help="bar: a progress bar on stderr; json: JSON lines on stdout (for programs); none: only the summary",
    )


def read_scenes(args: argparse.Namespace) -> list:
    """The scenes named by exactly one of --scenes, --folder or --optical/--sar."""
    from ..batch.scenes import Scene, checked_scenes, read_scene_table, scenes_in_folder
    from ..errors import BadParamsError

    single = args.optical or args.sar
    given = [
        flag
        for flag, value in (("--scenes", args.scenes), ("--folder", args.folder), ("--optical/--sar", single))
        if value
    ]
    if len(given) != 1:
        raise BadParamsError(
            f"give the scenes with exactly one of --scenes, --folder or --optical/--sar (got {given or 'none'})"
        )
    if (args.optical_bands or args.sar_bands or args.name) and not single:
        raise BadParamsError("--name, --optical-bands and --sar-bands describe one scene given with --optical/--sar")
    if args.scenes:
        return read_scene_table(args.scenes)
    if args.folder:
        return scenes_in_folder(args.folder)
    optical, sar = (str(Path(p).resolve()) if p and Path(p).exists() else p for p in (args.optical, args.sar))
    name = args.name or Path(args.optical or args.sar).stem
    bands = [tuple(b) if b else None for b in (args.optical_bands, args.sar_bands)]
    return checked_scenes([Scene(name, optical, sar, *bands)], "--name")


@contextmanager
def _stop_on_signals(token) -> Iterator[list[int]]:
    """While the block runs, the first SIGINT or SIGTERM cancels ``token`` (running jobs stop within one batch of
    windows, finished scenes stay); a second one interrupts at once. Yields the signals received."""
    received: list[int] = []

    def cancel(signum, frame) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)
        token.cancel()

    previous = {signum: signal.signal(signum, cancel) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(args: argparse.Namespace) -> int:
    from ..batch import BatchRequest, run_batch
    from ..engine import CancelToken, ClassifyOptions
    from ..errors import BadParamsError

    if args.extent is not None and len(args.extent) != 4:
        raise BadParamsError(f"--extent needs four numbers xmin,ymin,xmax,ymax, got {args.extent}")
    scenes = read_scenes(args)
    options = ClassifyOptions(
        tile_size=args.tile_size,
        overlap=args.overlap,
        batch_size=args.batch_size,
        device=args.device,
        target_crs=args.target_crs,
        resolution=None if args.resolution is None else tuple((args.resolution * 2)[:2]),
        extent=tuple(args.extent) if args.extent else None,
        sar_unit=args.sar_unit,
    )
    request = BatchRequest(
        model=args.model,
        output_folder=Path(args.out),
        options=options,
        models_dir=args.models_dir,
        confidence=args.confidence,
        blocks=args.blocks,
        workers=args.workers,
        cpus_per_worker=args.cpus_per_worker,
        explain=args.explain,
    )
    token = CancelToken()
    with _stop_on_signals(token) as received, _progress_reporter(args.progress, len(scenes)) as progress:
        result = run_batch(scenes, request, address=args.address, progress=progress, cancel=token)
    summary = _summary(result)
    if args.progress == "json":
        print(json.dumps({"event": "result", **summary}), flush=True)
    else:
        print(json.dumps(summary, indent=2))
    if received:
        print(
            f"landfuse batch: stopped by {signal.Signals(received[0]).name}; {result.done} scenes done, "
            f"{result.pending} left for the next run",
            file=sys.stderr,
        )
        return 128 + received[0]
    if result.failed:
        print(
            f"landfuse batch: {result.failed} of {result.total} scenes failed; see {result.outputs['report']}",
            file=sys.stderr,
        )
        return 1
    return 0


@contextmanager
def _progress_reporter(mode: str, total: int):
    """A progress callback: a tqdm bar on stderr, JSON lines on stdout, or nothing."""
    if mode == "json":
        last = [""]

        def emit(status) -> None:
            line = {
                "event": "progress",
                "fraction": round(status.fraction, 4),
                "total": status.total,
                "done": status.done,
                "failed": status.failed,
                "running": sorted(status.running),
                "message": status.message(),
            }
            text = json.dumps(line)
            if text != last[0]:
                last[0] = text
                print(text, flush=True)

        yield emit
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="scene", disable=mode == "none", file=sys.stderr) as bar:

        def draw(status) -> None:
            bar.n = round(status.fraction * total, 2)
            bar.set_postfix_str(
                f"{status.done} done, {status.failed} failed, {len(status.running)} running", refresh=True
            )

        yield draw


def _summary(result) -> dict:
    """The run's counts, output files and failed scenes (name, code, message) from the merged report."""
    report = json.loads(Path(result.outputs["report"]).read_text(encoding="utf-8"))
    failures = [{"name": row["name"], **row["error"]} for row in report["batch"]["scenes"] if row["state"] == "failed"]
    return {
        "total": result.total,
        "done": result.done,
        "failed": result.failed,
        "pending": result.pending,
        "cancelled": result.cancelled,
        "outputs": result.outputs,
        "failures": failures,
    }
