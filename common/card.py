"""The model card: one contract for every LandFuse model file (ONNX metadata and checkpoints).

A card is plain JSON-compatible data. ``ModelCard.from_dict`` validates it and raises
``CardError`` with a message naming the bad field.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

CARD_SCHEMA_VERSION = 1
ONNX_METADATA_KEY = "landfuse_card"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
SAR_UNITS = ("dB", "linear")


class CardError(ValueError):
    """A model card is missing a field or holds an invalid value."""


@dataclass(frozen=True)
class BandSpec:
    """One input band: its name, physical unit and normalisation ``(clip(x, lo, hi) - mean) / std``."""

    name: str
    unit: str
    mean: float
    std: float
    clip: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.std <= 0:
            raise CardError(f"band {self.name}: std must be > 0, got {self.std}")
        if self.clip is not None and not self.clip[0] < self.clip[1]:
            raise CardError(f"band {self.name}: clip must be (low, high) with low < high, got {self.clip}")


@dataclass(frozen=True)
class ClassSpec:
    """One output class: id (0..K-1), display name and colour as ``#rrggbb``."""

    id: int
    name: str
    color: str

    def __post_init__(self) -> None:
        if not _COLOR.match(self.color):
            raise CardError(f"class {self.name}: colour must be '#rrggbb', got {self.color!r}")

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(self.color[i : i + 2], 16) for i in (1, 3, 5))


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to run a model on a raster pair and to read its output.

    ``optical_bands`` / ``sar_bands`` list the inputs in tensor order; either may be empty for a
    single-modality model. ``outputs`` names the model's outputs in order: ``logits`` first and
    optionally ``reconstruction`` (cloud-free optical, normalised like the optical input).
    """

    architecture: str
    variant: str
    optical_bands: tuple[BandSpec, ...]
    sar_bands: tuple[BandSpec, ...]
    classes: tuple[ClassSpec, ...]
    tile_size: int = 256
    size_multiple: int = 32
    gsd_m: float = 10.0
    nodata: int = 255
    outputs: tuple[str, ...] = ("logits",)
    training_data: str = ""
    licence: str = ""
    description: str = ""
    reconstruction_notes: str = ""
    metrics: dict = field(default_factory=dict)
    parameters: int | None = None
    schema_version: int = CARD_SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.optical_bands and not self.sar_bands:
            raise CardError("a model card needs optical_bands, sar_bands or both")
        ids = [c.id for c in self.classes]
        if ids != list(range(len(ids))) or not ids:
            raise CardError(f"class ids must be 0..K-1 in order, got {ids}")
        if not 0 <= self.nodata <= 255 or self.nodata < len(self.classes):
            raise CardError(f"nodata must be a uint8 value that is not a class id, got {self.nodata}")
        if self.tile_size <= 0 or self.size_multiple <= 0 or self.tile_size % self.size_multiple:
            raise CardError(
                f"tile_size ({self.tile_size}) must be a positive multiple of size_multiple ({self.size_multiple})"
            )
        if not self.outputs or self.outputs[0] != "logits":
            raise CardError(f"outputs must start with 'logits', got {self.outputs}")
        for band in self.sar_bands:
            if band.unit not in SAR_UNITS:
                raise CardError(f"SAR band {band.name}: unit must be one of {SAR_UNITS}, got {band.unit!r}")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def modalities(self) -> tuple[str, ...]:
        """``("optical", "sar")``, ``("optical",)`` or ``("sar",)``."""
        return tuple(m for m, bands in (("optical", self.optical_bands), ("sar", self.sar_bands)) if bands)

    @property
    def has_reconstruction(self) -> bool:
        return "reconstruction" in self.outputs

    @property
    def name(self) -> str:
        return f"{self.architecture}-{self.variant}"

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> ModelCard:
        """Validate and build a card from ``to_dict()`` output (lists accepted where tuples are stored)."""
        try:
            data = dict(data)
            version = data.get("schema_version", CARD_SCHEMA_VERSION)
            if version > CARD_SCHEMA_VERSION:
                raise CardError(
                    f"model card schema {version} is newer than this LandFuse ({CARD_SCHEMA_VERSION}): update LandFuse"
                )
            data["optical_bands"] = tuple(_band(b) for b in data.get("optical_bands", ()))
            data["sar_bands"] = tuple(_band(b) for b in data.get("sar_bands", ()))
            data["classes"] = tuple(ClassSpec(**c) for c in data["classes"])
            data["outputs"] = tuple(data.get("outputs", ("logits",)))
            return cls(**data)
        except CardError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise CardError(f"invalid model card: {exc}") from exc

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise CardError(f"model card is not valid JSON: {exc}") from exc


def _band(data: dict) -> BandSpec:
    data = dict(data)
    if data.get("clip") is not None:
        data["clip"] = tuple(data["clip"])
    return BandSpec(**data)
