"""Processing algorithms of the ``landfuse`` provider: classify, classify many scenes, explain, evaluate."""

from __future__ import annotations

from .assess import AssessAlgorithm
from .batch import BatchAlgorithm
from .classify import ClassifyAlgorithm
from .evaluate import EvaluateAlgorithm
from .explain import ExplainAlgorithm
from .sample import StratifiedSampleAlgorithm
from .train import TrainAlgorithm


def all_algorithms() -> list:
    """New instances of every LandFuse algorithm (QGIS takes ownership)."""
    algorithms = [ClassifyAlgorithm(), BatchAlgorithm(), ExplainAlgorithm(), EvaluateAlgorithm()]
    return algorithms + [TrainAlgorithm(), AssessAlgorithm(), StratifiedSampleAlgorithm()]
