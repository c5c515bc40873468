"""Grounded explanations of classification reports by a quantized language model (llama-cpp-python).

``explain_report(report)`` returns an ``Explanation`` (``.markdown``, ``.record``, ``.save()``) whose every
sentence is a claim of a known kind that ``check_claims`` verified against the report's facts;
``LanguageModel.load()`` loads the default Gemma 3 270M GGUF or a configured one (e.g. Phi-3) once for reuse.
"""

from ..errors import LanguageModelError
from .checker import ClaimCheck, check_claims
from .explain import Explanation, explain_report
from .facts import Facts, extract_facts
from .grounding import GroundingResult, check_text, fill_placeholders
from .model import LanguageModel, default_model_path

__all__ = [
    "ClaimCheck",
    "Explanation",
    "Facts",
    "GroundingResult",
    "LanguageModel",
    "LanguageModelError",
    "check_claims",
    "check_text",
    "default_model_path",
    "explain_report",
    "extract_facts",
    "fill_placeholders",
]
