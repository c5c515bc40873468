"""Model files on demand: a model file copied into the models folder or downloaded there from a URL, and the
Phi-3 language model for explanations, each in a background task with progress and Cancel.

Nothing is fetched unless the user asks. Downloads go through ``common.download``: they resume after a cut,
GGUF files are checked for their architecture, and the file appears under its name only once it is whole.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from qgis.core import QgsApplication, QgsTask
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from ..common.download import DownloadCancelledError, DownloadError, download, gguf_architecture, part_path
from .i18n import tr

MODEL_SUFFIXES = (".onnx", ".pt")
PHI3_URL = "https://huggingface.co/microsoft/Phi-3-mini-4k-instruct-gguf/resolve/main/Phi-3-mini-4k-instruct-q4.gguf"
PHI3_FILE = "Phi-3-mini-4k-instruct-q4.gguf"
PHI3_ARCHITECTURES = ("phi3",)
COPY_CHUNK_BYTES = 1 << 20
ERROR_STYLE = "color: #b00;"


def profile_models_folder() -> Path:
    """``landfuse/models`` in the QGIS profile folder: the models folder offered first, and where Phi-3 goes."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "landfuse" / "models"


def is_url(source: str) -> bool:
    """Whether ``source`` is an http(s) URL (anything else is a file path)."""
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def model_file_name(source: str) -> str:
    """The name the model file at ``source`` (a URL or a path) gets in the models folder.

    Raises ``ValueError``, saying what to give instead, unless it names a ``.onnx`` or ``.pt`` file.
    """
    path = urllib.parse.unquote(urllib.parse.urlparse(source).path) if is_url(source) else source
    name = Path(path).name
    if Path(name).suffix.lower() not in MODEL_SUFFIXES:
        raise ValueError(
            tr("'{source}' is not a LandFuse model file: give a .onnx or .pt file, or a URL ending in one.").format(
                source=source
            )
        )
    return name


def is_phi3(path: Path) -> bool:
    """Whether ``path`` is a GGUF model of the Phi-3 architecture (read from its header only)."""
    try:
        return path.is_file() and gguf_architecture(path) in PHI3_ARCHITECTURES
    except (OSError, ValueError):
        return False


def copy_file(
    source: Path,
    dest: Path,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Copy ``source`` to ``dest`` through ``<dest>.part``, so that ``dest`` appears only when whole.

    progress(bytes done, bytes in all) after every chunk; ``cancelled()`` is polled as often. A cancel raises
    ``DownloadCancelledError`` and removes the part; ``dest`` is never touched before the final rename.
    """
    total = source.stat().st_size
    part = part_path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    try:
        with source.open("rb") as reader, part.open("wb") as writer:
            while chunk := reader.read(COPY_CHUNK_BYTES):
                if cancelled is not None and cancelled():
                    raise DownloadCancelledError(f"copy of {source.name} cancelled")
                writer.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return dest


class FetchTask(QgsTask):
    """Copies a file or downloads a URL to ``dest``, off the main thread.

    ``received(done, total)`` reports bytes (total ``None`` when the server does not say); after a failure
    ``error`` says why. A cancelled download keeps its ``.part`` file: fetching it again resumes it.
    """

    received = pyqtSignal(object, object)

    def __init__(self, source: str, dest: Path, gguf_architectures: tuple[str, ...] = ()) -> None:
        super().__init__(tr("LandFuse: fetch {name}").format(name=Path(dest).name), QgsTask.CanCancel)
        self.source = source
        self.dest = Path(dest)
        self.gguf_architectures = tuple(gguf_architectures)
        self.error = ""

    def run(self) -> bool:
        try:
            if is_url(self.source):
                download(
                    self.source,
                    self.dest,
                    gguf_architectures=self.gguf_architectures,
                    progress=self._progress,
                    cancelled=self.isCanceled,
                )
            else:
                copy_file(Path(self.source), self.dest, self._progress, self.isCanceled)
        except DownloadCancelledError:
            return False
        except (DownloadError, OSError) as err:
            self.error = str(err)
            return False
        return True

    def _progress(self, done: int, total: int | None) -> None:
        if total:
            self.setProgress(100.0 * done / total)
        self.received.emit(done, total)


class FetchProgress(QWidget):
    """One fetch at a time: what is fetched, how far, and Cancel; afterwards what happened.

    ``finished(state, text)``: ``done`` (text: the file's path), ``failed`` (text: why) or ``cancelled``.
    """

    finished = pyqtSignal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task: FetchTask | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setToolTip(tr("Stop the download; fetching the same file again resumes it."))
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self.hide()

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self, task: FetchTask) -> None:
        """Run ``task`` on QGIS's task manager and show its progress here."""
        self.task = task
        task.received.connect(self._on_received)
        task.taskCompleted.connect(self._on_completed)
        task.taskTerminated.connect(self._on_terminated)
        self._set_label(tr("Fetching {name}…").format(name=task.dest.name))
        self.bar.setRange(0, 0)  # busy until the size is known
        self._show_progress(True)
        QgsApplication.taskManager().addTask(task)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def show_message(self, text: str, error: bool = False) -> None:
        """A line in place of the progress (e.g. why a fetch could not start)."""
        self._set_label(text, error)
        self._show_progress(False)

    def _on_received(self, done: int, total: int | None) -> None:
        name = self.task.dest.name if self.task is not None else ""
        if total:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(100 * done / total))
            text = tr("Fetching {name}: {done:.1f} of {total:.1f} MB").format(
                name=name, done=done / 1e6, total=total / 1e6
            )
        else:
            text = tr("Fetching {name}: {done:.1f} MB").format(name=name, done=done / 1e6)
        self._set_label(text)

    def _on_completed(self) -> None:
        task, self.task = self.task, None
        self.show_message(tr("Saved {path}").format(path=task.dest))
        self.finished.emit("done", str(task.dest))

    def _on_terminated(self) -> None:
        task, self.task = self.task, None
        if task.isCanceled():
            self.show_message(tr("Cancelled: nothing was saved. A download started again resumes where it stopped."))
            self.finished.emit("cancelled", "")
            return
        message = tr("Could not fetch {name}: {error}").format(name=task.dest.name, error=task.error)
        self.show_message(message, error=True)
        self.finished.emit("failed", message)

    def _set_label(self, text: str, error: bool = False) -> None:
        self.label.setStyleSheet(ERROR_STYLE if error else "")
        self.label.setText(text)
        self.show()

    def _show_progress(self, visible: bool) -> None:
        self.bar.setVisible(visible)
        self.cancel_button.setVisible(visible)
