"""The batch driver: plans the jobs from the manifest, runs them on a pool of Ray actors and merges the results.

``run_batch`` connects to Ray (a local instance started in-process by default, or an existing
cluster by address), starts one ``InferenceActor`` per GPU or per CPU slot, and hands each idle
actor the next job: a whole scene, or one block of a scene split with ``blocks``. It records every
change in the manifest. A job that fails is reported with its error code and does not stop the
others; a job whose actor dies (killed, node lost, out of memory) is retried once on a new actor;
``cancel`` stops every running job within one batch of windows, keeps what is finished and leaves
the rest pending for the next run. At the end it writes the merged report, the mosaic and,
optionally, the explanation (``merge.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ...common.protocol import ErrorCode
from ..engine import CancelToken, ClassifyOptions
from ..engine.classify import build_grid, build_plan, check_classify_paths
from ..engine.grid import Grid
from ..engine.windows import WindowPlan
from ..errors import LandFuseError
from ..runners import read_model_card, resolve_model_path
from .actors import CONTROL_GROUP, BlockJob, SceneJob, outcome_of_error
from .blocks import Block, assemble_blocks, block_files, split_blocks
from .manifest import DONE, FAILED, PENDING, RUNNING, Manifest, folder_lock
from .merge import write_batch_outputs
from .pool import ActorPool, ray_session
from .scenes import Scene

MAX_ATTEMPTS = 2  # a job whose actor died is retried once on another actor
POLL_S = 0.2
PROGRESS_POLL_S = 0.5
BLOCKS_FOLDER = ".blocks"
# Options that shape a result: a scene done with other values is classified again.
RESULT_OPTIONS = ("tile_size", "overlap", "target_crs", "resolution", "extent", "sar_unit", "low_confidence_threshold")


@dataclass
class BatchRequest:
    """What to run: the model (name or file), the output folder, the engine options and the batch's own.

    confidence: also write each scene's confidence map; blocks: split every scene into blocks of this
    many pixels (a multiple of 256); workers: number of actors (default: one per GPU, else one per
    ``cpus_per_worker`` CPUs of the cluster); explain: write an explanation of the merged report.
    """

    model: str
    output_folder: Path
    options: ClassifyOptions = field(default_factory=ClassifyOptions)
    models_dir: str | None = None
    confidence: bool = False
    blocks: int | None = None
    workers: int | None = None
    cpus_per_worker: int = 1
    explain: bool = False


@dataclass
class BatchProgress:
    """Where the batch stands: scenes in total, done (``skipped`` of them already done before this run),
    failed, and the running ones with their fraction done."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    running: dict[str, float] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Overall fraction done, 0..1 (failed scenes count as finished)."""
        finished = self.done + self.failed + sum(self.running.values())
        return min(1.0, finished / self.total) if self.total else 1.0

    def message(self) -> str:
        return f"{self.done} done, {self.failed} failed, {len(self.running)} running of {self.total} scenes"

    def snapshot(self) -> BatchProgress:
        """A copy that later changes do not touch."""
        return replace(self, running=dict(self.running), workers=dict(self.workers))


@dataclass
class BatchResult:
    """The outcome of a run: counts, whether it was cancelled, and the files it wrote."""

    total: int
    done: int
    failed: int
    pending: int
    cancelled: bool
    outputs: dict[str, str | None]


@dataclass
class _Task:
    scene: str
    job: SceneJob | BlockJob
    attempts: int = 0

    @property
    def method(self) -> str:
        return "classify_block" if isinstance(self.job, BlockJob) else "classify_scene"

    @property
    def block_key(self) -> str | None:
        return self.job.block.key if isinstance(self.job, BlockJob) else None


@dataclass
class _Layout:
    """A scene split into blocks: its grid, window plan, blocks and the folder of the block files."""

    grid: Grid
    plan: WindowPlan
    blocks: list[Block]
    folder: Path


def scene_outputs(folder: Path, name: str, confidence: bool) -> dict[str, str | None]:
    """The files of one scene: ``<folder>/<name>/landcover.tif``, ``confidence.tif`` (when wanted), ``report.json``."""
    scene_folder = folder / name
    return {
        "class_map": str(scene_folder / "landcover.tif"),
        "confidence": str(scene_folder / "confidence.tif") if confidence else None,
        "report": str(scene_folder / "report.json"),
    }


def run_batch(
    scenes: list[Scene],
    request: BatchRequest,
    *,
    address: str | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> BatchResult:
    """Classify ``scenes`` into ``request.output_folder`` on Ray; returns the counts and the merged outputs.

    address: an existing cluster (``ray://host:10001`` or ``host:6379``); None starts a local Ray
    instance (or uses the one this process already started). progress(BatchProgress) is called at
    every change and about twice a second while jobs run. Raises ``LandFuseError`` for problems that
    concern the whole batch (model, output folder, cluster); a scene's own failure is recorded instead.
    """
    folder = Path(request.output_folder).resolve()
    model_path = resolve_model_path(request.model, request.models_dir).resolve()
    card = read_model_card(model_path)
    with folder_lock(folder):
        manifest = Manifest(folder)
        run = _Run(scenes, request, folder, model_path, card, manifest, progress, cancel or CancelToken())
        try:
            run.plan()
            if run.queue or run.ready_to_assemble:
                with ray_session(address) as ray:
                    run.execute(ray)
        finally:
            manifest.save()
        outputs = write_batch_outputs(folder, manifest, [s.name for s in scenes], card, explain=request.explain)
    counts = manifest.counts([s.name for s in scenes])
    return BatchResult(
        total=len(scenes),
        done=counts[DONE],
        failed=counts[FAILED],
        pending=counts[PENDING] + counts[RUNNING],
        cancelled=run.cancel.cancelled,
        outputs={**outputs, "manifest": str(manifest.path)},
    )


class _Run:
    """One run of a batch: the job queue, the actor pool and the manifest updates."""

    def __init__(self, scenes, request: BatchRequest, folder, model_path, card, manifest: Manifest, progress, cancel):
        self.scenes = {scene.name: scene for scene in scenes}
        self.request, self.folder, self.model_path, self.card = request, folder, model_path, card
        self.manifest = manifest
        self.say = progress or (lambda status: None)
        self.cancel: CancelToken = cancel
        self.queue: deque[_Task] = deque()
        self.layouts: dict[str, _Layout] = {}
        self.ready_to_assemble: list[str] = []
        self.status = BatchProgress(total=len(scenes))
        self.block_fractions: dict[str, dict[str, float]] = {}

    def _report_progress(self) -> None:
        self.say(self.status.snapshot())

    # -- planning ------------------------------------------------------------------------------

    def plan(self) -> None:
        """Queue the jobs of every scene that is not done; record planning failures (bad inputs) at once."""
        settings = self._settings()
        for scene in self.scenes.values():
            outputs = scene_outputs(self.folder, scene.name, self.request.confidence)
            layout = None
            try:
                _check_paths(scene, self.model_path, outputs)
                if self.request.blocks:
                    layout = self._layout(scene)
            except LandFuseError as exc:
                self.manifest.prepare(scene, settings, outputs, None)
                self._finish_scene(scene.name, outcome_of_error(exc))
                continue
            keys = [block.key for block in layout.blocks] if layout else None
            entry = self.manifest.prepare(scene, settings, outputs, keys)
            if entry["state"] == DONE:
                self.status.done += 1
                self.status.skipped += 1
                continue
            self._clean_partial_files(outputs)
            if layout is None:
                self.queue.append(_Task(scene.name, self._scene_job(scene, outputs)))
                continue
            self.layouts[scene.name] = layout
            self.block_fractions[scene.name] = {}
            todo = [block for block in layout.blocks if entry["blocks"][block.key]["state"] != DONE]
            for block in todo:
                task = _Task(scene.name, self._block_job(scene, block, layout))
                self._clean_partial_files(task.job.files)
                self.queue.append(task)
            if not todo:
                self.ready_to_assemble.append(scene.name)
        self.manifest.save()
        self._report_progress()

    def _settings(self) -> dict:
        stat = self.model_path.stat()
        options = asdict(self.request.options)
        return {
            "model": {"path": str(self.model_path), "bytes": stat.st_size, "modified_ns": stat.st_mtime_ns},
            "options": {key: _jsonable(options[key]) for key in RESULT_OPTIONS},
            "confidence": self.request.confidence,
            "blocks": self.request.blocks,
        }

    def _layout(self, scene: Scene) -> _Layout:
        paths = {"optical": scene.optical, "sar": scene.sar}
        grid = build_grid(self.card, paths, self.request.options)
        plan = build_plan(grid, self.card, self.request.options)
        blocks = split_blocks(grid.height, grid.width, self.request.blocks)
        return _Layout(grid, plan, blocks, self.folder / scene.name / BLOCKS_FOLDER)

    def _scene_job(self, scene: Scene, outputs: dict) -> SceneJob:
        return SceneJob(
            scene.name,
            scene.optical,
            scene.sar,
            _bands(scene.optical_bands),
            _bands(scene.sar_bands),
            outputs,
            self.request.options,
        )

    def _block_job(self, scene: Scene, block: Block, layout: _Layout) -> BlockJob:
        files = {role: str(path) for role, path in block_files(layout.folder, block, self.request.confidence).items()}
        return BlockJob(
            scene.name,
            scene.optical,
            scene.sar,
            _bands(scene.optical_bands),
            _bands(scene.sar_bands),
            block,
            files,
            self.request.options,
        )

    def _clean_partial_files(self, files: dict) -> None:
        """Delete the temporary files a killed worker left for a job's ``files`` (role -> path): the engine
        stages a file ``name`` as ``.name.<pid>-<n>.partial``, its class map's style and categories too."""
        for path in (Path(p) for p in files.values() if p):
            names = [path.name, path.with_suffix(".qml").name, f"{path.name}.aux.xml"]
            for name in names:
                for partial in path.parent.glob(f".{name}.*.partial"):
                    partial.unlink(missing_ok=True)

    # -- running -------------------------------------------------------------------------------

    def execute(self, ray) -> None:
        """Run the queued jobs on a pool of actors until every job finished, failed or was cancelled."""
        for name in self.ready_to_assemble:
            self._assemble(name)
        if not self.queue:
            return
        pool = ActorPool(ray, self.request, self.model_path, len(self.queue))
        try:
            self._loop(ray, pool)
        finally:
            pool.close()

    def _loop(self, ray, pool: ActorPool) -> None:
        busy: dict = {}  # job ref -> (worker, task)
        stopping = False
        last_poll = 0.0
        while self.queue or busy:
            if self.cancel.cancelled and not stopping:
                stopping = True
                self.queue.clear()
                for worker, _ in busy.values():
                    worker.handle.cancel.options(concurrency_group=CONTROL_GROUP).remote()
            while not stopping and self.queue and pool.idle:
                worker, task = pool.idle.popleft(), self.queue.popleft()
                task.attempts += 1
                busy[getattr(worker.handle, task.method).remote(task.job)] = (worker, task)
                self._started(task, worker)
            if not busy and not pool.starting:
                self._fail_all_queued(pool.load_error)
                break
            ready, _ = ray.wait(list(busy) + list(pool.starting), num_returns=1, timeout=POLL_S)
            for ref in ready:
                if ref in pool.starting:
                    pool.loaded(ref)
                    continue
                worker, task = busy.pop(ref)
                self._job_ended(ray, pool, ref, worker, task)
            if time.monotonic() - last_poll > PROGRESS_POLL_S:
                last_poll = time.monotonic()
                self._poll_progress(ray, busy)

    def _job_ended(self, ray, pool: ActorPool, ref, worker, task: _Task) -> None:
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            pool.idle.append(worker)
            outcome = {"state": FAILED, "error": {"code": ErrorCode.INTERNAL, "message": str(exc).splitlines()[0]}}
        except ray.exceptions.RayError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self._clean_partial_files(task.job.files if isinstance(task.job, BlockJob) else task.job.outputs)
            if self.cancel.cancelled:
                pool.drop(worker)
                outcome = {"state": "cancelled"}
            elif task.attempts < MAX_ATTEMPTS:
                pool.replace(worker)
                self.queue.appendleft(task)
                self._stopped(task)
                return
            else:
                pool.replace(worker)
                outcome = {"state": FAILED, "error": _worker_died(task.attempts, reason)}
        else:
            pool.idle.append(worker)
        self._stopped(task)
        if task.block_key is None:
            self._finish_scene(task.scene, outcome, worker, task.attempts)
        else:
            self._finish_block(task, outcome, worker)

    def _started(self, task: _Task, worker) -> None:
        entry = self.manifest.scenes[task.scene]
        self.status.running.setdefault(task.scene, 0.0)
        self.status.workers[task.scene] = worker.name
        if task.block_key is not None:
            self.block_fractions[task.scene][task.block_key] = 0.0
        if entry["state"] != RUNNING:
            self.manifest.update(task.scene, state=RUNNING, attempts=task.attempts)
        self._report_progress()

    def _stopped(self, task: _Task) -> None:
        if task.block_key is not None:
            self.block_fractions[task.scene].pop(task.block_key, None)
            if any(t.scene == task.scene for t in self.queue) or self.block_fractions[task.scene]:
                return
        self.status.running.pop(task.scene, None)
        self.status.workers.pop(task.scene, None)

    def _finish_scene(self, name: str, outcome: dict, worker=None, attempts: int = 0) -> None:
        state = outcome["state"]
        fields = {"error": outcome.get("error"), "attempts": attempts, "worker": worker.describe() if worker else None}
        if state == "cancelled":
            fields["state"] = PENDING
        else:
            fields["state"] = DONE if state == "done" else FAILED
            fields["seconds"] = outcome.get("seconds")
            self.status.done += state == "done"
            self.status.failed += state != "done"
        self.status.running.pop(name, None)
        self.manifest.update(name, **fields)
        self._report_progress()

    def _finish_block(self, task: _Task, outcome: dict, worker) -> None:
        name, key = task.scene, task.block_key
        if self.manifest.scenes[name]["state"] == FAILED:
            return  # another block of the scene failed: its results no longer matter
        if outcome["state"] == "done":
            files = list(task.job.files.values())
            seconds, worker_name = outcome["seconds"], worker.describe()
            self.manifest.update_block(name, key, state=DONE, files=files, seconds=seconds, worker=worker_name)
            blocks = self.manifest.scenes[name]["blocks"].values()
            if all(block["state"] == DONE for block in blocks):
                self._assemble(name, worker)
            else:
                self._scene_fraction(name)
            return
        if outcome["state"] == "cancelled":
            self._finish_scene(name, outcome)
            return
        error = dict(outcome["error"], message=f"block {key}: {outcome['error']['message']}")
        self.queue = deque(t for t in self.queue if t.scene != name)
        self._finish_scene(name, {"state": FAILED, "error": error, "seconds": outcome.get("seconds")}, worker)

    def _assemble(self, name: str, worker=None) -> None:
        layout = self.layouts[name]
        entry = self.manifest.scenes[name]
        try:
            report = assemble_blocks(
                self.card,
                layout.grid,
                layout.plan,
                layout.blocks,
                layout.folder,
                entry["outputs"],
                self.request.options,
            )
        except Exception as exc:  # noqa: BLE001 - a scene that cannot be assembled fails, the batch goes on
            self._finish_scene(name, outcome_of_error(exc), worker)
            return
        for path in layout.folder.glob("*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            layout.folder.rmdir()
        for block in entry["blocks"].values():
            block["files"] = []
        outcome = {"state": "done", "seconds": report["timing_s"]["total"]}
        self._finish_scene(name, outcome, worker, entry.get("attempts", 0))

    def _fail_all_queued(self, error: dict | None) -> None:
        """No actor could load the model: every job still queued fails with that error."""
        error = error or {"code": ErrorCode.WORKER_START, "message": "no inference worker could be started"}
        failed = {task.scene for task in self.queue}
        self.queue.clear()
        for name in sorted(failed):
            self._finish_scene(name, {"state": FAILED, "error": error})

    def _poll_progress(self, ray, busy: dict) -> None:
        refs = {
            worker.handle.progress.options(concurrency_group=CONTROL_GROUP).remote(): task
            for worker, task in busy.values()
        }
        ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=POLL_S) if refs else ([], [])
        for ref in ready:
            task = refs[ref]
            try:
                answer = ray.get(ref)
            except ray.exceptions.RayError:
                continue
            fraction = answer["fraction"] if answer else 0.0
            if task.block_key is None:
                self.status.running[task.scene] = fraction
            else:
                self.block_fractions[task.scene][task.block_key] = fraction
                self._scene_fraction(task.scene)
        self._report_progress()

    def _scene_fraction(self, name: str) -> None:
        blocks = self.manifest.scenes[name]["blocks"]
        done = sum(block["state"] == DONE for block in blocks.values())
        running = sum(self.block_fractions[name].values())
        self.status.running[name] = (done + running) / len(blocks)


def _worker_died(attempts: int, reason: str) -> dict:
    return {
        "code": ErrorCode.WORKER_DIED,
        "message": f"the worker running it stopped {attempts} times (last: {reason}); the job may need more memory "
        "than a worker has: lower the batch or tile size, or split the scene with --blocks",
    }


def _check_paths(scene: Scene, model_path: Path, outputs: dict) -> None:
    targets = {"class map": outputs["class_map"], "confidence map": outputs["confidence"], "report": outputs["report"]}
    check_classify_paths(scene.optical, scene.sar, model_path, targets)


def _bands(bands: tuple[int, ...] | None) -> list[int] | None:
    return list(bands) if bands else None


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value
