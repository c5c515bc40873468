"""User-facing errors of the backend, each with a stable code from ``common.protocol.ErrorCode``."""

from __future__ import annotations

from ..common.protocol import ErrorCode


class LandFuseError(Exception):
    """Base of every error a user can act on. ``str(err)`` says what was expected, found and to do."""

    code = ErrorCode.INTERNAL


class BadParamsError(LandFuseError):
    code = ErrorCode.BAD_PARAMS


class UnreadableInputError(LandFuseError):
    code = ErrorCode.UNREADABLE


class MissingCrsError(LandFuseError):
    code = ErrorCode.NO_CRS


class NoOverlapError(LandFuseError):
    code = ErrorCode.NO_OVERLAP


class BandError(LandFuseError):
    code = ErrorCode.BAD_BANDS


class GridError(LandFuseError):
    code = ErrorCode.BAD_GRID


class AllNodataError(LandFuseError):
    code = ErrorCode.ALL_NODATA


class NotWritableError(LandFuseError):
    code = ErrorCode.NOT_WRITABLE


class ModelNotFoundError(LandFuseError):
    code = ErrorCode.MODEL_NOT_FOUND


class MissingWeightsError(LandFuseError):
    code = ErrorCode.MISSING_WEIGHTS


class CardMismatchError(LandFuseError):
    code = ErrorCode.CARD_MISMATCH


class LanguageModelError(LandFuseError):
    code = ErrorCode.LLM_UNAVAILABLE


class CancelledError(LandFuseError):
    code = ErrorCode.CANCELLED
