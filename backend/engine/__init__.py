"""The LandFuse engine: aligned, tiled, streamed inference of SAR + optical rasters.

Public API: ``classify``, ``ClassifyOptions``, ``CancelToken`` (runners: ``backend.runners``).
"""

from .classify import classify
from .options import CancelToken, ClassifyOptions

__all__ = ["CancelToken", "ClassifyOptions", "classify"]
