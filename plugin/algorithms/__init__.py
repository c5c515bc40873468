"""Processing algorithms of the ``landfuse`` provider: classify, classify many scenes, explain, evaluate."""

from __future__ import annotations

from .batch import BatchAlgorithm
from .classify import ClassifyAlgorithm
from .evaluate import EvaluateAlgorithm
from .explain import ExplainAlgorithm


def all_algorithms() -> list:
    """New instances of every LandFuse algorithm (QGIS takes ownership)."""
    return [ClassifyAlgorithm(), BatchAlgorithm(), ExplainAlgorithm(), EvaluateAlgorithm()]
