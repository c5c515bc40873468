"""The streaming pipeline: reader thread -> batched inference (calling thread) -> blend/write thread.

The reader and blend/write threads run at a lower scheduling priority than the model (``yield_to_model``),
so on a CPU they use what the model leaves idle instead of taking cores it needs.

Queues are bounded, so at most ``queue_size`` batches wait between stages and memory stays at
about one tile row plus the queues. The calling thread checks the cancellation token once per
batch; any stage's error stops the other two and is re-raised in the caller.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import CancelledError, CardMismatchError
from .blend import Piece, StreamingBlender, softmax
from .options import CancelToken
from .source import ModelInputSource, pad_to
from .windows import WindowPlan

_DONE = object()
_POLL_S = 0.1
# Niceness added to the reader and blend/write threads: the model's threads go first, and the engine's
# own work fills the moments the model leaves a core idle (between its parallel sections and calls).
ENGINE_THREAD_NICENESS = 10


def yield_to_model() -> None:
    """Lower the calling thread's scheduling priority by ``ENGINE_THREAD_NICENESS`` (Linux, where niceness
    is per thread; elsewhere nothing changes). Lowering is always allowed; the thread ends with its job."""
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(current + ENGINE_THREAD_NICENESS, 19))


@dataclass
class WindowItem:
    """One window: position in the plan, padded model inputs (None when all-invalid) and validity."""

    r: int
    c: int
    arrays: dict[str, np.ndarray] | None
    valid: np.ndarray


@dataclass
class Timing:
    """Seconds spent per stage (stages overlap, so they may add up to more than ``total``).

    read_cpu, write_cpu: CPU seconds of the reader and of the blend/write thread, the engine's own work
    beside the model (unlike the wall-clock stage times, they do not grow when other programs load the
    machine); ``engine_cpu`` in ``as_dict`` is their sum.
    """

    read: float = 0.0
    infer: float = 0.0
    write: float = 0.0
    total: float = 0.0
    read_cpu: float = 0.0
    write_cpu: float = 0.0
    windows: int = 0
    skipped: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "infer": self.infer,
            "write": self.write,
            "total": self.total,
            "engine_cpu": self.read_cpu + self.write_cpu,
        }


class _StopError(Exception):
    """Raised inside a stage when another stage failed or the job was cancelled."""


class _Stages:
    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def fail(self, exc: BaseException) -> None:
        if not isinstance(exc, _StopError):
            self.errors.append(exc)
        self.stop.set()

    def put(self, q: queue.Queue, item) -> None:
        while True:
            if self.stop.is_set():
                raise _StopError
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def get(self, q: queue.Queue):
        while True:
            if self.stop.is_set():
                raise _StopError
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue


def run_pipeline(
    plan: WindowPlan,
    source: ModelInputSource,
    runner,
    on_piece: Callable[[Piece, np.ndarray, np.ndarray | None], None],
    *,
    batch_size: int = 4,
    queue_size: int = 2,
    cancel: CancelToken | None = None,
    progress: Callable[[float, str], None] | None = None,
    reconstruction: bool = True,
) -> Timing:
    """Run ``runner`` over every window of ``plan`` and hand out blended, finished pieces.

    on_piece(piece, probabilities float32 [K, h, w], reconstruction float32 [Co, h, w] (normalised) or
    None) is called in raster order from the blend thread; ``reconstruction=False`` skips blending the
    reconstruction output of models that have one. Raises ``CancelledError`` when ``cancel``
    fires, ``CardMismatchError`` when the model's outputs disagree with its card.
    """
    card = runner.card
    classes = card.num_classes
    recon_bands = len(card.optical_bands) if card.has_reconstruction and reconstruction else 0
    timing = Timing()
    stages = _Stages()
    to_model: queue.Queue = queue.Queue(maxsize=max(1, queue_size) * batch_size)
    to_blend: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
    tile, th, tw = plan.tile, plan.window_height, plan.window_width
    started = time.perf_counter()

    def read_stage() -> None:
        yield_to_model()
        cpu_started = time.thread_time()
        try:
            for r, c, y0, x0 in plan:
                t0 = time.perf_counter()
                arrays, valid = source.read(y0, x0, th, tw)
                padded = {k: pad_to(v, tile, tile) for k, v in arrays.items()} if valid.any() else None
                timing.read += time.perf_counter() - t0
                stages.put(to_model, WindowItem(r, c, padded, valid))
            stages.put(to_model, _DONE)
        except BaseException as exc:  # noqa: BLE001 - forwarded to the caller
            stages.fail(exc)
        finally:
            timing.read_cpu = time.thread_time() - cpu_started

    def blend_stage() -> None:
        yield_to_model()
        blender = StreamingBlender(plan, classes + recon_bands)
        cpu_started = time.thread_time()
        try:
            while (batch := stages.get(to_blend)) is not _DONE:
                t0 = time.perf_counter()
                for item, values in batch:
                    if values is not None:
                        values[:classes] = softmax(values[:classes], axis=0)
                    piece = blender.add(item.r, item.c, values, item.valid)
                    recon = piece.values[classes:] if recon_bands else None
                    on_piece(piece, piece.values[:classes], recon)
                timing.write += time.perf_counter() - t0
        except BaseException as exc:  # noqa: BLE001 - forwarded to the caller
            stages.fail(exc)
        finally:
            timing.write_cpu = time.thread_time() - cpu_started

    threads = [threading.Thread(target=read_stage, daemon=True), threading.Thread(target=blend_stage, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        done = 0
        finished = False
        while not finished:
            batch = []
            while len(batch) < batch_size:
                item = stages.get(to_model)
                if item is _DONE:
                    finished = True
                    break
                batch.append(item)
            if cancel is not None and cancel.cancelled:
                raise CancelledError("classification cancelled; no output was written")
            t0 = time.perf_counter()
            outputs = _infer(runner, batch, classes, recon_bands, th, tw)
            timing.infer += time.perf_counter() - t0
            stages.put(to_blend, list(zip(batch, outputs, strict=True)))
            done += len(batch)
            timing.windows += sum(item.arrays is not None for item in batch)
            if progress is not None and batch:
                progress(done / plan.count, f"window {done} of {plan.count}")
        stages.put(to_blend, _DONE)
        threads[1].join()
    except BaseException as exc:
        stages.fail(exc)
    finally:
        for thread in threads:
            thread.join()
    if stages.errors:
        raise stages.errors[0]
    timing.skipped = plan.count - timing.windows
    timing.total = time.perf_counter() - started
    return timing


def _infer(runner, batch: list[WindowItem], classes: int, recon_bands: int, th: int, tw: int) -> list:
    """Model outputs per item: float32 [classes + recon_bands, th, tw] (logits, reconstruction) or None.

    Only the model runs here, in the calling thread; softmax and blending happen in the blend thread."""
    live = [item for item in batch if item.arrays is not None]
    if not live:
        return [None] * len(batch)
    inputs = {name: np.stack([item.arrays[name] for item in live]) for name in live[0].arrays}
    result = runner.run(inputs)
    logits = result["logits"]
    if logits.ndim != 4 or logits.shape[1] != classes:
        raise CardMismatchError(
            f"the model returned logits of shape {tuple(logits.shape)}, but its card lists {classes} classes; "
            "the model file and its card disagree: re-export the model"
        )
    stacked = [logits[:, :, :th, :tw].astype(np.float32, copy=False)]
    if recon_bands:
        recon = result.get("reconstruction")
        if recon is None or recon.shape[1] != recon_bands:
            found = None if recon is None else tuple(recon.shape)
            raise CardMismatchError(
                f"the card promises a reconstruction with {recon_bands} bands, the model returned {found}; "
                "re-export the model"
            )
        stacked.append(recon[:, :, :th, :tw].astype(np.float32, copy=False))
    values = np.concatenate(stacked, axis=1) if len(stacked) > 1 else np.ascontiguousarray(stacked[0])
    it = iter(values)
    return [next(it) if item.arrays is not None else None for item in batch]
