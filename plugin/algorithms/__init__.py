"""Processing algorithms of the ``landfuse`` provider: classify, explain, evaluate."""

from __future__ import annotations

from .classify import ClassifyAlgorithm
from .evaluate import EvaluateAlgorithm
from .explain import ExplainAlgorithm


def all_algorithms() -> list:
    """New instances of every LandFuse algorithm (QGIS takes ownership)."""
    return [ClassifyAlgorithm(), ExplainAlgorithm(), EvaluateAlgorithm()]
