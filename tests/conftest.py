"""Test-wide settings. The repository is importable as the package ``landfuse`` (``make setup`` links it)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
