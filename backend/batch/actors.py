"""The inference actor: one per GPU (or CPU slot), holding one model session from job to job.

A plain class here; the driver makes it a Ray actor (``ray.remote``) with two concurrency groups: the
default one runs one job at a time (a whole scene through ``engine.classify``, or one block), and a
``control`` group answers ``progress`` and ``cancel`` while a job runs. Jobs never raise: they return
an outcome, ``{"state": "done" | "failed" | "cancelled", ...}``, with the stable error code of a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ...common.protocol import ErrorCode
from ..engine import CancelToken, ClassifyOptions, classify
from ..errors import CancelledError, LandFuseError
from .blocks import Block, classify_block

CONTROL_GROUP = "control"


@dataclass(frozen=True)
class SceneJob:
    """A whole scene: inputs, 1-based bands (or None) and output paths (``class_map``, ``confidence``, ``report``)."""

    name: str
    optical: str | None
    sar: str | None
    optical_bands: list[int] | None
    sar_bands: list[int] | None
    outputs: dict[str, str | None]
    options: ClassifyOptions


@dataclass(frozen=True)
class BlockJob:
    """One block of a scene: inputs, bands, the block's core and its files (``blocks.block_files``)."""

    name: str
    optical: str | None
    sar: str | None
    optical_bands: list[int] | None
    sar_bands: list[int] | None
    block: Block
    files: dict[str, str]
    options: ClassifyOptions


class InferenceActor:
    """Loads the model once (``load``) and classifies scenes or blocks with it, one at a time.

    model_path: a ``.onnx`` or ``.pt`` file reachable from the actor's node; device: "cpu" or "cuda"
    (Ray restricts the actor to the GPU it was given, which it sees as ``cuda:0``); threads: CPU threads
    for the model.
    """

    def __init__(self, model_path: str, device: str, threads: int):
        self.model_path, self.device, self.threads = model_path, device, threads
        self.runner = None
        self._lock = threading.Lock()
        self._job: str | None = None
        self._fraction = 0.0
        self._token: CancelToken | None = None
        self._stopping = False

    def load(self) -> dict:
        """Load the model; returns ``{"device", "provider", "host", "pid"}`` or ``{"error": {"code", "message"}}``."""
        try:
            self.runner = _load_runner(Path(self.model_path), self.device, self.threads)
        except Exception as exc:  # noqa: BLE001 - reported to the driver with its code
            return {"error": outcome_of_error(exc)["error"]}
        return {
            "device": self.runner.device,
            "provider": getattr(self.runner, "provider", ""),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def classify_scene(self, job: SceneJob) -> dict:
        """Classify a whole scene with ``engine.classify`` (outputs staged and put in place together)."""

        def work(token: CancelToken, progress) -> dict:
            report = classify(
                job.optical,
                job.sar,
                self.runner,
                job.outputs["class_map"],
                optical_bands=job.optical_bands,
                sar_bands=job.sar_bands,
                options=job.options,
                confidence=job.outputs.get("confidence"),
                report=job.outputs["report"],
                progress=progress,
                cancel=token,
            )
            return {"valid_share": report["valid_share"]}

        return self._run(job.name, work)

    def classify_block(self, job: BlockJob) -> dict:
        """Classify one block's core (``blocks.classify_block``); the outcome carries the block's statistics."""

        def work(token: CancelToken, progress) -> dict:
            bands = {"optical": job.optical_bands, "sar": job.sar_bands}
            files = {role: Path(path) for role, path in job.files.items()}
            return classify_block(
                job.optical,
                job.sar,
                self.runner,
                job.block,
                files,
                bands=bands,
                options=job.options,
                cancel=token,
                progress=progress,
            )

        return self._run(f"{job.name} {job.block.key}", work)

    def progress(self) -> dict | None:
        """The running job and its fraction done, ``{"job", "fraction"}``, or None when idle (control group)."""
        with self._lock:
            return {"job": self._job, "fraction": self._fraction} if self._job else None

    def cancel(self) -> None:
        """Stop the running job within one batch and refuse later ones (control group)."""
        with self._lock:
            self._stopping = True
            if self._token is not None:
                self._token.cancel()

    def _run(self, name: str, work) -> dict:
        started = time.perf_counter()
        with self._lock:
            if self._stopping:
                return {"state": "cancelled"}
            self._job, self._fraction, self._token = name, 0.0, CancelToken()
            token = self._token

        def progress(fraction: float, message: str) -> None:
            self._fraction = fraction

        try:
            details = work(token, progress)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome with its code
            outcome = outcome_of_error(exc)
        else:
            outcome = {"state": "done", **details}
        finally:
            with self._lock:
                self._job, self._token = None, None
        return {**outcome, "seconds": time.perf_counter() - started, "device": self.runner.device}


def outcome_of_error(exc: BaseException) -> dict:
    """The outcome of a job that raised ``exc``: cancelled, or failed with a stable error code and a message."""
    if isinstance(exc, CancelledError):
        return {"state": "cancelled"}
    if isinstance(exc, LandFuseError):
        code, message = exc.code, str(exc)
    elif isinstance(exc, MemoryError):
        code = ErrorCode.OUT_OF_MEMORY
        message = "the job ran out of memory; give each worker more memory, or lower the batch size or tile size"
    else:
        code, message = ErrorCode.INTERNAL, f"unexpected {type(exc).__name__}: {exc}"
    return {"state": "failed", "error": {"code": code, "message": message}}


def _load_runner(path: Path, device: str, threads: int):
    """A runner for ``path`` using ``threads`` CPU threads (ONNX Runtime intra-op threads, or torch's)."""
    from ..runners import OnnxRunner, TorchRunner

    if path.suffix == ".onnx":
        return OnnxRunner(path, device, threads=threads)
    import torch

    torch.set_num_threads(threads)
    return TorchRunner.from_checkpoint(path, device)
