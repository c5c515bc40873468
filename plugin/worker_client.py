"""The plugin's side of the worker protocol (``docs/protocol.md``): start, talk to and supervise the worker.

Standard library only, so it runs in QGIS's Python without torch, onnxruntime or rasterio. The worker
runs in its own environment (``python -m landfuse.backend worker`` with an explicit interpreter) and
is started on first use, restarted after a crash, killed when it stops sending heartbeats, and killed
when a cancelled job does not stop within a grace period.

``WorkerClient.call`` blocks, so call it from a background thread (a ``QgsTask`` or a Processing
algorithm), never from the GUI thread; several threads may call at once (heavy jobs then run one after
the other in the worker).

The worker is isolated from QGIS's Python and the user's folders: it runs in isolated mode (``-I``: no
``PYTHON*`` variables, no user site folder, nothing prepended to ``sys.path``) in its own working folder
with a cleaned environment, and imports the plugin folder as the package ``landfuse`` by its location,
so neither another QGIS plugin nor a ``numpy.py`` in the user's folder can shadow its imports. Relative
paths in requests are resolved against the caller's working folder before they are sent.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from ..common.gdal_names import LOCAL_ARCHIVE_HANDLERS, SUBDATASET_NAME
from ..common.protocol import (
    OUTPUT_PARAMS,
    PROTOCOL_VERSION,
    ErrorCode,
    declared_outputs,
    encode,
    folder_listing,
    partial_files,
    replaced_original,
    user_cache_dir,
)
from .paths import DEFAULT_VENV_PYTHON, PLUGIN_ROOT

log = logging.getLogger(__name__)

# Run by the worker's interpreter with ``-I``: import the plugin folder (argv[1]) as the package
# ``landfuse`` whatever the folder is called, then run the backend's command line on the other arguments.
WORKER_BOOTSTRAP = """\
import importlib.util, os, sys
folder = sys.argv.pop(1)
spec = importlib.util.spec_from_file_location(
    "landfuse", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
)
package = importlib.util.module_from_spec(spec)
sys.modules["landfuse"] = package
spec.loader.exec_module(package)
from landfuse.backend.cli import main
raise SystemExit(main())
"""
# Request parameters naming files or folders, per operation: relative ones are made absolute against
# the caller's working folder (the worker runs in its own). ``model`` (classify, model_card) is a name
# or a path: see ``_is_model_path``.
PATH_PARAMS = {
    "list_models": ("folder",),
    "model_card": ("folder",),
    "classify": ("optical", "sar", "folder", "llm_path") + OUTPUT_PARAMS["classify"],
    "explain": ("report", "metrics", "llm_path") + OUTPUT_PARAMS["explain"],
    "evaluate": ("class_map", "reference", "cloud_mask") + OUTPUT_PARAMS["evaluate"],
    "train_reference": ("optical", "sar", "references", "mask", "init_encoder") + OUTPUT_PARAMS["train_reference"],
    "area_input": ("raster", "mask") + OUTPUT_PARAMS["area_input"],
    "vectorise": ("class_map",) + OUTPUT_PARAMS["vectorise"],
    "assess": ("class_map", "references") + OUTPUT_PARAMS["assess"],
    "stratified_sample": ("class_map",) + OUTPUT_PARAMS["stratified_sample"],
    "debug": OUTPUT_PARAMS["debug"],
}
MODEL_SUFFIXES = (".onnx", ".pt")
POLL_S = 0.05
STDERR_LINES = 40
# Variables of QGIS's own Python, PROJ and GDAL: the worker's environment brings its own.
DROPPED_VARIABLES = ("PROJ_LIB", "PROJ_DATA", "GDAL_DATA", "GDAL_DRIVER_PATH", "VIRTUAL_ENV", "OSGEO4W_ROOT")
DROPPED_PREFIXES = ("PYTHON", "QGIS_", "QT_", "GDAL_", "PROJ_", "CONDA_", "DYLD_")

ProgressCallback = Callable[[float, str], None]
LogCallback = Callable[[str, str], None]


class WorkerError(Exception):
    """A failed request: ``code`` is a stable ``ErrorCode``, ``str(err)`` a message for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _WorkerProcess:
    """One running worker: the subprocess, a thread reading its events and one keeping its stderr tail."""

    DIED = object()

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        options: dict = {"start_new_session": True} if os.name == "posix" else {}
        if os.name == "nt":
            options["creationflags"] = subprocess.CREATE_NO_WINDOW
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, **options
        )
        self.pid = self.popen.pid
        self.last_seen = time.monotonic()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        self.kill_reason: str | None = None
        self.exited = threading.Event()
        self._hello: queue.Queue = queue.Queue()
        self._boxes: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        threading.Thread(target=self._read_events, name=f"landfuse-worker-{self.pid}-events", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"landfuse-worker-{self.pid}-stderr", daemon=True).start()

    # -- threads ---------------------------------------------------------------------------------

    def _read_events(self) -> None:
        for raw in self.popen.stdout:
            self.last_seen = time.monotonic()
            try:
                message = json.loads(raw)
                request_id = message.get("id")
                kind = message["event"]
            except (ValueError, KeyError, AttributeError, TypeError):
                log.warning("worker %s wrote a line that is not a protocol event: %.200r", self.pid, raw)
                continue
            if kind == "hello":
                self._hello.put(message)
                continue
            with self._lock:
                box = self._boxes.get(request_id) if isinstance(request_id, str) else None
            if box is not None:
                box.put(message)
            elif kind == "error":
                log.warning("worker %s: [%s] %s", self.pid, message.get("code"), message.get("message"))
        self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout):
            with contextlib.suppress(OSError):  # unflushed bytes to a dead process
                stream.close()
        self.exited.set()
        self._hello.put(self.DIED)
        with self._lock:
            boxes = list(self._boxes.values())
        for box in boxes:
            box.put(self.DIED)

    def _read_stderr(self) -> None:
        for raw in self.popen.stderr:
            self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())
        self.popen.stderr.close()

    # -- use ---------------------------------------------------------------------------------------

    def wait_hello(self, timeout: float) -> dict | None:
        """The hello event, or ``None`` if the worker exited or stayed silent for ``timeout`` s."""
        try:
            message = self._hello.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if message is self.DIED else message

    def register(self, request_id: str) -> queue.Queue:
        box: queue.Queue = queue.Queue()
        with self._lock:
            self._boxes[request_id] = box
        if self.exited.is_set():
            box.put(self.DIED)
        return box

    def unregister(self, request_id: str) -> None:
        with self._lock:
            self._boxes.pop(request_id, None)

    def send(self, message: dict) -> bool:
        """Write one request; ``False`` when the worker's stdin is closed (it died)."""
        return self.send_line(encode(message))

    def send_line(self, line: bytes) -> bool:
        try:
            with self._write_lock:
                self.popen.stdin.write(line)
                self.popen.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    @property
    def alive(self) -> bool:
        return not self.exited.is_set() and self.popen.poll() is None

    def kill(self, reason: str) -> None:
        """SIGKILL the worker (its pending calls then fail with ``reason``) and wait for it to go."""
        if self.kill_reason is None:
            self.kill_reason = reason
        if self.popen.poll() is None:
            log.warning("killing worker %s: %s", self.pid, reason)
            self.popen.kill()
        self.exited.wait(10)

    def exit_description(self) -> str:
        code = self.popen.poll()
        if code is None:
            return "it stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = " (the system's out-of-memory killer sends this)" if -code == signal.SIGKILL else ""
            return f"it was killed by signal {name}{hint}"
        return f"it exited with status {code}"

    def stderr_excerpt(self, lines: int = 8) -> str:
        tail = list(self.stderr_tail)[-lines:]
        return ("; last log lines:\n" + "\n".join(tail)) if tail else ""


class WorkerClient:
    """Runs backend operations in a worker process; one client per plugin instance.

    python: the backend environment's interpreter (default: the ``.venv`` of a developer checkout).
    heartbeat_s: how often the worker sends heartbeats; heartbeat_timeout: silence after which a busy
    worker is killed (``TIMEOUT``). start_timeout: seconds allowed until the handshake. cancel_grace:
    seconds a cancelled job may take to stop before the worker is killed. cache_mb: the worker's
    warm-model memory limit. extra_env: variables added to the worker's clean environment.
    plugin_folder: the folder the worker imports as ``landfuse`` (default: this plugin's).
    """

    def __init__(
        self,
        python: str | os.PathLike | None = None,
        *,
        heartbeat_s: float = 2.0,
        heartbeat_timeout: float = 60.0,
        start_timeout: float = 120.0,
        cancel_grace: float = 10.0,
        cache_mb: int = 2048,
        log_file: str | os.PathLike | None = None,
        extra_env: Mapping[str, str] | None = None,
        plugin_folder: str | os.PathLike | None = None,
    ) -> None:
        self.python = Path(python) if python else DEFAULT_VENV_PYTHON
        self.plugin_folder = Path(plugin_folder) if plugin_folder else PLUGIN_ROOT
        self.heartbeat_s = heartbeat_s
        self.heartbeat_timeout = heartbeat_timeout
        self.start_timeout = start_timeout
        self.cancel_grace = cancel_grace
        self.cache_mb = cache_mb
        self.log_file = log_file
        self.extra_env = dict(extra_env or {})
        self.hello: dict | None = None
        self.last_errors: deque[str] = deque(maxlen=10)
        self._process: _WorkerProcess | None = None
        self._start_lock = threading.Lock()
        self._ids = itertools.count(1)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None and process.alive else None

    def start(self) -> dict:
        """Start the worker if it is not running; returns its handshake (versions, devices)."""
        self._running()
        return self.hello

    def _running(self) -> _WorkerProcess:
        with self._start_lock:
            if self._process is not None and self._process.alive:
                return self._process
            if self._process is not None:
                log.info("the worker (pid %s) is gone: starting a new one", self._process.pid)
            self._process = None
            self.hello = None
            process = self._spawn()
            hello = process.wait_hello(self.start_timeout)
            if hello is None:
                why = (
                    process.exit_description()
                    if process.exited.is_set()
                    else f"no handshake in {self.start_timeout:.0f} s"
                )
                process.kill("no handshake")
                raise self._failure(
                    ErrorCode.WORKER_START,
                    f"the LandFuse backend did not start with {self.python}: {why}{process.stderr_excerpt()}\n"
                    "Repair it with Set up the backend… (LandFuse dock, or Settings > Options > LandFuse), "
                    "or choose another backend interpreter there.",
                )
            if hello.get("protocol") != PROTOCOL_VERSION:
                process.kill("protocol mismatch")
                raise self._failure(
                    ErrorCode.PROTOCOL,
                    f"the backend at {self.python} speaks protocol {hello.get('protocol')}, this plugin "
                    f"protocol {PROTOCOL_VERSION}: use a backend environment from the same LandFuse version",
                )
            self._process, self.hello = process, hello
            log.info("LandFuse worker %s started on %s", process.pid, hello.get("devices", {}).get("preferred"))
            return process

    def _spawn(self) -> _WorkerProcess:
        if not self.python.exists():
            raise self._failure(
                ErrorCode.WORKER_START,
                f"the backend interpreter {self.python} does not exist: create the backend with Set up the "
                "backend… (LandFuse dock, or Settings > Options > LandFuse), or choose an interpreter there",
            )
        argv = worker_command(self.python, self.plugin_folder)
        argv += ["worker", "--heartbeat", str(self.heartbeat_s), "--cache-mb", str(self.cache_mb)]
        argv += ["--log-file", str(self.log_file)] if self.log_file else []
        env = worker_environment(os.environ)
        env.update(self.extra_env)
        try:
            return _WorkerProcess(argv, env, cwd=str(worker_folder()))
        except OSError as exc:
            raise self._failure(ErrorCode.WORKER_START, f"could not run {self.python}: {exc}") from exc

    def shutdown(self, timeout: float = 5.0) -> None:
        """Ask the worker to exit (its jobs are cancelled); kill it if it has not gone within ``timeout`` s."""
        process, self._process = self._process, None
        if process is None or not process.alive:
            return
        process.send({"id": f"shutdown-{next(self._ids)}", "op": "shutdown", "params": {}})
        if not process.exited.wait(timeout):
            process.kill("it did not shut down in time")

    def kill(self, reason: str = "stopped by the plugin") -> None:
        if self._process is not None:
            self._process.kill(reason)

    # -- requests --------------------------------------------------------------------------------

    def call(
        self,
        op: str,
        params: dict | None = None,
        progress: ProgressCallback | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        timeout: float | None = None,
        log_message: LogCallback | None = None,
    ) -> dict:
        """Run ``op`` in the worker and return its result data; raises ``WorkerError``.

        progress(fraction 0..1, message) and log_message(level, message) are called in this thread.
        is_cancelled() is polled (e.g. ``feedback.isCanceled``): the job is then cancelled and
        ``WorkerError(CANCELLED)`` raised. timeout: seconds for the whole call (``TIMEOUT``).
        """
        params = absolute_paths(op, params or {})
        outputs = declared_outputs(op, params)
        listings = {output: folder_listing(output) for output in outputs}
        request_id = str(next(self._ids))
        line = _request_line(request_id, op, params)
        process = self._running()
        box = process.register(request_id)
        try:
            if not process.send_line(line):
                process.exited.wait(5)
            return self._await(process, box, request_id, progress, is_cancelled, timeout, log_message)
        except WorkerError as err:
            if err.code in (ErrorCode.WORKER_DIED, ErrorCode.TIMEOUT, ErrorCode.CANCELLED):
                _remove_partial_outputs(listings)
            raise
        except BaseException:  # a callback failed or the thread was interrupted: stop the job
            process.send({"id": f"{request_id}-cancel", "op": "cancel", "params": {"target": request_id}})
            raise
        finally:
            process.unregister(request_id)

    def _await(self, process, box, request_id, progress, is_cancelled, timeout, log_message) -> dict:
        started = time.monotonic()
        cancel_sent_at: float | None = None
        cancel_reason = ErrorCode.CANCELLED
        while True:
            try:
                message = box.get(timeout=POLL_S)
            except queue.Empty:
                message = None
            if message is _WorkerProcess.DIED:
                raise self._died(process)
            if message is not None:
                kind = message.get("event")
                if kind == "result":
                    return message.get("data")
                if kind == "error":
                    code = message.get("code", ErrorCode.INTERNAL)
                    if code == ErrorCode.CANCELLED and cancel_reason == ErrorCode.TIMEOUT:
                        raise self._failure(
                            ErrorCode.TIMEOUT, f"the job took longer than its {timeout:g} s limit and was stopped"
                        )
                    raise self._failure(code, message.get("message", ""))
                if kind == "progress" and progress is not None:
                    progress(float(message.get("fraction", 0.0)), str(message.get("message", "")))
                elif kind == "log":
                    (log_message or _log_worker_message)(str(message.get("level", "info")), str(message.get("message")))
            now = time.monotonic()
            if cancel_sent_at is None:
                if is_cancelled is not None and is_cancelled():
                    cancel_sent_at = now
                elif timeout is not None and now - started > timeout:
                    cancel_sent_at, cancel_reason = now, ErrorCode.TIMEOUT
                if cancel_sent_at is not None:
                    process.send({"id": f"{request_id}-cancel", "op": "cancel", "params": {"target": request_id}})
            elif now - cancel_sent_at > self.cancel_grace:
                process.kill(f"job {request_id} did not stop within {self.cancel_grace:.0f} s of being cancelled")
                raise self._failure(
                    cancel_reason, f"the job did not stop within {self.cancel_grace:.0f} s, so the worker was stopped"
                )
            silent = now - process.last_seen
            if silent > self.heartbeat_timeout:
                process.kill(f"no heartbeat for {silent:.0f} s")
                raise self._failure(
                    ErrorCode.TIMEOUT,
                    f"the LandFuse worker sent nothing for {silent:.0f} s (no heartbeat) and was stopped; it is "
                    f"restarted for the next job{process.stderr_excerpt()}",
                )

    def _died(self, process: _WorkerProcess) -> WorkerError:
        why = process.kill_reason or process.exit_description()
        return self._failure(
            ErrorCode.WORKER_DIED,
            f"the LandFuse worker stopped during the job: {why}. Its partial outputs were removed and a new "
            f"worker is started for the next job{process.stderr_excerpt()}",
        )

    def _failure(self, code: str, message: str) -> WorkerError:
        self.last_errors.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} [{code}] {message}")
        return WorkerError(code, message)

    def diagnostics(self) -> dict:
        """The worker's diagnostics report plus the client's view; a report even when the worker cannot start."""
        client = {
            "python": str(self.python),
            "plugin_folder": str(self.plugin_folder),
            "client_python": sys.executable,
            "worker_pid": self.pid,
            "last_errors": list(self.last_errors),
        }
        try:
            report = self.call("diagnostics", timeout=120)
        except WorkerError as err:
            report = {"error": {"code": err.code, "message": str(err)}}
        return {"client": client, "worker": report}


def _request_line(request_id: str, op: str, params: dict) -> bytes:
    """The request as a protocol line; paths (``os.PathLike``) are sent as strings."""
    try:
        return encode({"id": request_id, "op": op, "params": json.loads(json.dumps(params, default=os.fspath))})
    except (TypeError, ValueError) as exc:
        message = f"{op}: parameters must be JSON values (text, numbers, lists, objects): {exc}"
        raise WorkerError(ErrorCode.BAD_PARAMS, message) from exc


def _log_worker_message(level: str, message: str) -> None:
    number = logging.getLevelName(level.upper())
    log.log(number if isinstance(number, int) else logging.INFO, "worker: %s", message)


def _remove_partial_outputs(listings: dict[Path, set[str]]) -> None:
    """After a job that did not finish: delete what it wrote beside its outputs (temporary files, sidecars,
    outputs renamed into place before it stopped) and put back the previous outputs a commit had moved
    aside. ``listings``: each output's folder before the job."""
    for output, before in listings.items():
        for path in partial_files(output, before):
            original = replaced_original(path)
            if original is not None:
                log.info("restoring %s, which a job that did not finish was replacing", original)
                os.replace(path, original)
                continue
            log.info("removing %s, written by a job that did not finish", path)
            path.unlink(missing_ok=True)


def worker_command(python: Path, plugin_folder: Path) -> list[str]:
    """The interpreter's arguments that run the backend command line from ``plugin_folder``, isolated:
    ``-I`` ignores ``PYTHON*`` variables and the user site folder and puts neither the working folder
    nor any other folder in front of ``sys.path``; ``-X utf8`` makes text files and logs UTF-8."""
    return [str(python), "-I", "-X", "utf8", "-c", WORKER_BOOTSTRAP, os.path.abspath(plugin_folder)]


def worker_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment: ``base`` without QGIS's Python, PROJ, GDAL and Qt settings.

    QGIS on Windows (OSGeo4W) and macOS sets ``PYTHONHOME`` and ``PYTHONPATH`` for its own Python (the
    latter often with its plugin folders), ``GDAL_DATA``, ``GDAL_DRIVER_PATH``, ``PROJ_LIB`` and
    ``QT_PLUGIN_PATH``; the worker's environment brings its own of each.
    """
    return {
        key: value
        for key, value in base.items()
        if key not in DROPPED_VARIABLES and not key.startswith(DROPPED_PREFIXES)
    }


def worker_folder() -> Path:
    """The worker's working folder: the LandFuse user cache folder (the temporary folder if it cannot be made)."""
    folder = user_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot create %s (%s): the worker runs in the temporary folder", folder, exc)
        return Path(tempfile.gettempdir())
    return folder


def absolute_paths(op: str, params: dict, cwd: str | os.PathLike | None = None) -> dict:
    """A copy of ``params`` with its relative file and folder paths made absolute against ``cwd`` (default:
    the current working folder), as the caller meant them; the worker runs in another folder. GDAL names are
    kept but for their relative local file (see ``absolute_path``)."""
    folder = os.fspath(cwd) if cwd else os.getcwd()
    resolved = dict(params)
    for name in PATH_PARAMS.get(op, ()):
        if isinstance(params.get(name), (str, os.PathLike)) and os.fspath(params[name]):
            resolved[name] = absolute_path(params[name], folder)
    model = params.get("model")
    model_path = absolute_path(model, folder) if isinstance(model, (str, os.PathLike)) else None
    if op in ("classify", "model_card") and model_path and _is_model_path(model_path):
        resolved["model"] = model_path
    return resolved


def absolute_path(value: str | os.PathLike, cwd: str) -> str:
    """``value`` made independent of the working folder: a relative path joined to ``cwd``.

    GDAL names are not joined whole: in ``/vsizip/a.zip/b.tif`` (and the other local archive handlers) the
    archive's relative path is, in a subdataset name (``GPKG:a.gpkg:table``, ``NETCDF:"a.nc":var``) the file's,
    when it exists in ``cwd``; remote and in-memory names (``/vsicurl/...``, ``/vsimem/...``) and names whose file
    cannot be found are kept as they are. A relative file that exists with a colon in its name stays a file.
    """
    text = os.fspath(value)
    if text.startswith("/vsi"):
        return _absolute_virtual_path(text, cwd)
    if os.path.isabs(text):
        return text
    joined = os.path.join(cwd, text)
    subdataset = SUBDATASET_NAME.match(text)
    if subdataset is None or os.path.exists(joined):
        return joined
    driver, rest = subdataset.groups()
    return driver + _with_absolute_file(rest, cwd)


def _absolute_virtual_path(text: str, cwd: str) -> str:
    """A ``/vsi...`` name whose local archive's relative path (``/vsizip/a.zip/b.tif``, ``/vsizip/{a.zip}/b.tif``)
    is joined to ``cwd``; other handlers (``/vsicurl/``, ``/vsis3/``, ``/vsimem/`` ...) kept as they are."""
    handler, _, rest = text[1:].partition("/")
    if handler not in LOCAL_ARCHIVE_HANDLERS or not rest:
        return text
    if rest.startswith("{") and "}" in rest:
        end = rest.index("}")
        return f"/{handler}/{{{absolute_path(rest[1:end], cwd)}{rest[end:]}"
    return f"/{handler}/{absolute_path(rest, cwd)}"


def _with_absolute_file(rest: str, cwd: str) -> str:
    """The part of a subdataset name after ``DRIVER:``, its file made absolute when it is relative and exists in
    ``cwd``. The file is the first run of ``:``-separated parts that names one, quotes removed (it may follow an
    index: ``GTIFF_DIR:2:a.tif``); an absolute file, or none, leaves ``rest`` as it is."""
    parts = rest.split(":")
    for start in range(len(parts)):
        for stop in range(len(parts), start, -1):
            quoted = ":".join(parts[start:stop])
            name = quoted.strip('"')
            if not name:
                continue
            if os.path.isabs(name):
                if os.path.isfile(name):
                    return rest
                continue
            if os.path.isfile(os.path.join(cwd, name)):
                absolute = quoted.replace(name, os.path.join(cwd, name), 1)
                return ":".join([*parts[:start], absolute, *parts[stop:]])
    return rest


def _is_model_path(path: str) -> bool:
    """Whether a ``model`` parameter (here made absolute) names a file rather than a model, by the worker's
    rule: a model suffix or an existing path."""
    return Path(path).suffix in MODEL_SUFFIXES or os.path.exists(path)
