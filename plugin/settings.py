"""The plugin's settings, stored in QGIS's profile under ``landfuse/``.

Read them through :func:`load`; each read goes to ``QgsSettings`` so a change on the options page applies
to the next job without restarting QGIS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qgis.core import QgsSettings

PREFIX = "landfuse/"
KEY_INTERPRETER = PREFIX + "backend_interpreter"
KEY_MODELS_FOLDER = PREFIX + "models_folder"
KEY_LLM_PATH = PREFIX + "llm_gguf_path"
KEY_USE_GPU = PREFIX + "use_gpu"
KEY_TILE_SIZE = PREFIX + "default_tile_size"
KEY_OUTPUT_FOLDER = PREFIX + "output_folder"

DEFAULT_TILE_SIZE = 0  # 0 = the tile size of the model card


@dataclass(frozen=True)
class Settings:
    """A snapshot of the plugin settings. Empty strings mean "not set: use the default".

    ``output_folder`` empty: the dock writes beside the project file (asked once for an unsaved project).
    """

    interpreter: str
    models_folder: str
    llm_path: str
    use_gpu: bool
    tile_size: int
    output_folder: str

    @property
    def device(self) -> str:
        """The device preference sent to the worker: ``auto`` (GPU when usable) or ``cpu``."""
        return "auto" if self.use_gpu else "cpu"

    def resolved_interpreter(self) -> str:
        """The backend Python: ``LANDFUSE_PYTHON``, the configured one, the environment set up in this
        profile, or a developer checkout's ``.venv`` (see ``installer.discover_interpreter``)."""
        from .installer import discover_interpreter

        return str(discover_interpreter(self.interpreter))

    def resolved_output_folder(self) -> Path | None:
        """The folder the dock writes its runs into for every project, or None: beside each project file
        (``<project folder>/landfuse``, see ``dock.outputs``)."""
        return Path(self.output_folder) if self.output_folder else None


def load() -> Settings:
    """The current settings from the active QGIS profile."""
    settings = QgsSettings()
    return Settings(
        interpreter=str(settings.value(KEY_INTERPRETER, "") or ""),
        models_folder=str(settings.value(KEY_MODELS_FOLDER, "") or ""),
        llm_path=str(settings.value(KEY_LLM_PATH, "") or ""),
        use_gpu=_as_bool(settings.value(KEY_USE_GPU, True)),
        tile_size=int(settings.value(KEY_TILE_SIZE, DEFAULT_TILE_SIZE) or 0),
        output_folder=str(settings.value(KEY_OUTPUT_FOLDER, "") or ""),
    )


def save(values: Settings) -> None:
    """Store every field of ``values`` in the active QGIS profile."""
    settings = QgsSettings()
    settings.setValue(KEY_INTERPRETER, values.interpreter)
    settings.setValue(KEY_MODELS_FOLDER, values.models_folder)
    settings.setValue(KEY_LLM_PATH, values.llm_path)
    settings.setValue(KEY_USE_GPU, values.use_gpu)
    settings.setValue(KEY_TILE_SIZE, int(values.tile_size))
    settings.setValue(KEY_OUTPUT_FOLDER, values.output_folder)


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
