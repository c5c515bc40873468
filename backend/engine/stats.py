"""Per-class pixel counts, true areas and confidence, accumulated piece by piece for the report."""

from __future__ import annotations

import numpy as np

from ...common.card import ModelCard


class ClassStats:
    """Running totals over valid pixels; areas use each row's true pixel area (m2)."""

    def __init__(self, card: ModelCard, low_confidence_threshold: float):
        k = card.num_classes
        self.card = card
        self.threshold = low_confidence_threshold
        self.pixels = np.zeros(k, np.int64)
        self.area_m2 = np.zeros(k, np.float64)
        self.confidence = np.zeros(k, np.float64)
        self.low_confidence = 0
        self.total_pixels = 0

    def add(self, labels: np.ndarray, top: np.ndarray, valid: np.ndarray, row_areas: np.ndarray) -> None:
        """labels uint8 [h, w]; top probability float32 [h, w]; valid bool [h, w]; row_areas float64 [h] (m2)."""
        k = self.card.num_classes
        self.total_pixels += labels.size
        everywhere = bool(valid.all())  # the usual case: no copies of the valid pixels needed
        ids = labels.ravel() if everywhere else labels[valid]
        counts = np.bincount(ids, minlength=k)[:k]
        self.pixels += counts
        if np.all(row_areas == row_areas[0]):
            self.area_m2 += counts * row_areas[0]
        else:
            areas = np.broadcast_to(row_areas[:, None], labels.shape)
            areas = areas.ravel() if everywhere else areas[valid]
            self.area_m2 += np.bincount(ids, weights=areas, minlength=k)[:k]
        confidence = top.ravel() if everywhere else top[valid]
        self.confidence += np.bincount(ids, weights=confidence, minlength=k)[:k]
        self.low_confidence += int(np.count_nonzero(confidence < self.threshold))

    @property
    def valid_pixels(self) -> int:
        return int(self.pixels.sum())

    def report_entries(self) -> dict:
        """The report's class table and summary shares (fractions 0..1, areas in hectares)."""
        valid = max(self.valid_pixels, 1)
        classes = [
            {
                "id": c.id,
                "name": c.name,
                "color": c.color,
                "pixels": int(self.pixels[c.id]),
                "hectares": float(self.area_m2[c.id] / 1e4),
                "share": float(self.pixels[c.id] / valid),
                "mean_confidence": float(self.confidence[c.id] / self.pixels[c.id]) if self.pixels[c.id] else None,
            }
            for c in self.card.classes
        ]
        return {
            "classes": classes,
            "valid_share": self.valid_pixels / max(self.total_pixels, 1),
            "low_confidence_share": self.low_confidence / valid,
            "low_confidence_threshold": self.threshold,
            "mean_confidence": float(self.confidence.sum() / valid) if self.valid_pixels else None,
        }
