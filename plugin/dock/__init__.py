"""The LandFuse dock and its panels (see ``dock.py`` for how they fit together)."""

from __future__ import annotations

from .dock import LandFuseDock
from .inputs import band_parameters
from .project import PROJECT_SCOPE
from .results import report_summary

__all__ = ["PROJECT_SCOPE", "LandFuseDock", "band_parameters", "report_summary"]
