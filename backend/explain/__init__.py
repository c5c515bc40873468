"""Grounded explanations of classification reports by a quantized language model (llama-cpp-python).

``explain_report(report)`` returns an ``Explanation`` (``.markdown``, ``.record``, ``.save()``);
``LanguageModel.load()`` loads the default SmolLM2 GGUF or a configured one (e.g. Phi-3) once for reuse.
"""

from ..errors import LanguageModelError
from .explain import Explanation, explain_report
from .facts import Facts, extract_facts
from .grounding import GroundingResult, check_text, fill_placeholders
from .model import LanguageModel, default_model_path

__all__ = [
    "Explanation",
    "Facts",
    "GroundingResult",
    "LanguageModel",
    "LanguageModelError",
    "check_text",
    "default_model_path",
    "explain_report",
    "extract_facts",
    "fill_placeholders",
]
