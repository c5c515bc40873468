"""Where the plugin's files are: the repository root is the plugin folder."""

from __future__ import annotations

from pathlib import Path

PLUGIN_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = PLUGIN_ROOT / "resources"
ICON_PATH = RESOURCES / "icon.png"
DEFAULT_VENV_PYTHON = PLUGIN_ROOT / ".venv" / "bin" / "python"
