"""The pool of inference actors on the Ray cluster, and the connection to Ray itself.

``ray_session`` connects (a local instance by default); ``ActorPool`` starts one ``InferenceActor`` per
GPU when the cluster has GPUs and the device allows them, else one per ``cpus_per_worker`` CPUs, never
more than there are jobs, and replaces an actor that died during a job. Ray is imported by the
caller through ``ray_session``, never at module import, so single-scene use does not need it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import deque
from pathlib import Path

from ...common.protocol import ErrorCode
from ..errors import BadParamsError
from .actors import CONTROL_GROUP, InferenceActor


@contextlib.contextmanager
def ray_session(address: str | None):
    """Ray, connected: to ``address``, else to the instance this process already runs, else to a new local
    instance (stopped again on exit). Raises ``BadParamsError`` when the cluster cannot be reached.

    ``ray.init`` makes SIGTERM exit the process; a SIGTERM handler the caller installed (the command line's,
    which cancels the batch) is put back so that the batch stops cleanly instead."""
    try:
        import ray
    except ImportError as exc:
        raise BadParamsError(
            "the batch command needs Ray, which is not installed in this backend environment; install the cluster "
            "profile: python -m pip install -r requirements/cluster.txt"
        ) from exc
    if ray.is_initialized():
        yield ray
        return
    own_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(address=address, include_dashboard=False, logging_level="warning", log_to_driver=False)
        if callable(own_sigterm) and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, own_sigterm)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray instance"
        raise BadParamsError(
            f"could not start or reach {where} ({exc}); check the address ('ray status' on the head node shows it)"
        ) from exc
    try:
        yield ray
    finally:
        ray.shutdown()


class Worker:
    """One actor of the pool: its handle, name and what it reported when it loaded the model."""

    def __init__(self, handle, name: str):
        self.handle, self.name = handle, name
        self.info: dict = {}

    def describe(self) -> str:
        device = self.info.get("device", "?")
        return f"{self.name} ({device} on {self.info.get('host', '?')}, pid {self.info.get('pid', '?')})"


class ActorPool:
    """The inference actors: one per GPU when the cluster has GPUs and the device allows them, else one per
    ``cpus_per_worker`` CPUs; never more than there are jobs. Dead actors are replaced once loaded.

    request: the batch's ``BatchRequest`` (device, workers, CPUs per worker); jobs: how many are queued.
    """

    def __init__(self, ray, request, model_path: Path, jobs: int):
        self.ray = ray
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = max(1, request.cpus_per_worker)
        if request.options.device != "cpu" and gpus:
            default, self.resources, device = gpus, {"num_cpus": cpus, "num_gpus": 1}, request.options.device
        else:
            default, self.resources, device = int(resources.get("CPU", 1)) // cpus, {"num_cpus": cpus}, "cpu"
        needed = {"CPU": cpus, "GPU": self.resources.get("num_gpus", 0)}
        short = [f"{need} {kind}" for kind, need in needed.items() if need > resources.get(kind, 0)]
        if short:
            raise BadParamsError(
                f"each worker needs {' and '.join(short)}, more than the cluster has "
                f"({resources.get('CPU', 0):g} CPU); lower --cpus-per-worker"
            )
        if request.workers is not None and request.workers < 1:
            raise BadParamsError(f"the number of workers must be at least 1, got {request.workers}")
        count = max(1, min(request.workers or default, jobs))
        self.actor_class = ray.remote(concurrency_groups={CONTROL_GROUP: 1})(InferenceActor)
        self.arguments = (str(model_path), device, cpus)
        self.prefix = f"landfuse-{os.getpid()}-{time.time_ns() % 10**9}"
        self.created = 0
        self.idle: deque[Worker] = deque()
        self.starting: dict = {}  # load ref -> worker
        self.workers: list[Worker] = []
        self.load_error: dict | None = None
        for _ in range(count):
            self._start()

    def _start(self) -> None:
        name = f"{self.prefix}-{self.created}"
        self.created += 1
        handle = self.actor_class.options(name=name, **self.resources).remote(*self.arguments)
        worker = Worker(handle, name)
        self.workers.append(worker)
        self.starting[handle.load.remote()] = worker

    def loaded(self, ref) -> None:
        """Take in a worker whose model load finished (or record why it failed)."""
        worker = self.starting.pop(ref)
        try:
            info = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            message = (
                f"an inference worker could not start ({reason}); every node of the cluster needs the LandFuse backend "
                "environment, with LandFuse importable as the package 'landfuse' (as 'make setup' installs it)"
            )
            info = {"error": {"code": ErrorCode.WORKER_START, "message": message}}
        if "error" in info:
            self.load_error = info["error"]
            self.drop(worker)
            return
        worker.info = info
        self.idle.append(worker)

    def replace(self, worker: Worker) -> None:
        """A worker died during a job: start another in its place."""
        self.drop(worker)
        self._start()

    def drop(self, worker: Worker) -> None:
        """Stop a worker and forget it."""
        with contextlib.suppress(Exception):
            self.ray.kill(worker.handle)
        self.workers.remove(worker)

    def close(self) -> None:
        """Stop every actor (their GPUs and memory go back to the cluster)."""
        for worker in list(self.workers):
            self.drop(worker)
