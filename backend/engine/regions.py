"""Per-part counts of the class map: which part of the map holds the low-confidence pixels.

The map is cut into ``rows x cols`` parts of (nearly) equal size, named by compass direction on the
north-up output grid (``north-west`` ... ``centre`` ... ``south-east``, or the four quadrants). The
engine adds them to its report as ``regions``; explanations turn them into where to check in the field.
"""

from __future__ import annotations

import numpy as np

from ..errors import BadParamsError

ROW_NAMES = {1: ("",), 2: ("north", "south"), 3: ("north", "", "south")}
COL_NAMES = {1: ("",), 2: ("west", "east"), 3: ("west", "", "east")}


def part_name(row: int, col: int, rows: int, cols: int) -> str:
    """Compass name of part ``(row, col)`` of a ``rows x cols`` layout (1 to 3 each): ``north-west``, ``centre``."""
    if rows not in ROW_NAMES or cols not in COL_NAMES:
        raise BadParamsError(f"a region layout has 1 to 3 rows and columns, got {rows} x {cols}")
    words = [w for w in (ROW_NAMES[rows][row], COL_NAMES[cols][col]) if w]
    return "-".join(words) if words else "centre"


class RegionStats:
    """Per-part pixel counts of a ``height x width`` map with ``num_classes`` classes.

    ``add`` takes one piece at grid offset ``(y0, x0)``: labels uint8 [h, w], top probability float
    [h, w] (0..1), valid bool [h, w]. A pixel is low confidence when its top probability is below
    ``threshold``.
    """

    def __init__(self, height: int, width: int, num_classes: int, threshold: float, rows: int = 3, cols: int = 3):
        part_name(0, 0, rows, cols)  # validates the layout
        self.rows, self.cols, self.k, self.threshold = rows, cols, num_classes, threshold
        self.row_edges = np.linspace(0, height, rows + 1).round().astype(np.int64)
        self.col_edges = np.linspace(0, width, cols + 1).round().astype(np.int64)
        self.class_pixels = np.zeros((rows * cols, num_classes), np.int64)
        self.class_low = np.zeros((rows * cols, num_classes), np.int64)

    def add(self, y0: int, x0: int, labels: np.ndarray, top: np.ndarray, valid: np.ndarray) -> None:
        h, w = labels.shape
        for row in range(self.rows):
            rows = _overlap(self.row_edges[row], self.row_edges[row + 1], y0, h)
            for col in range(self.cols) if rows else ():
                cols = _overlap(self.col_edges[col], self.col_edges[col + 1], x0, w)
                if cols:
                    self._count(row * self.cols + col, labels[rows, cols], top[rows, cols], valid[rows, cols])

    def _count(self, part: int, labels: np.ndarray, top: np.ndarray, valid: np.ndarray) -> None:
        """Add one part's share of a piece: class and low-confidence counts of its valid pixels."""
        keep = valid & (labels < self.k)
        if keep.all():  # the usual case: count without copying the kept pixels out
            codes = labels.astype(np.uint16) * 2 + (top < self.threshold)
        else:
            codes = labels[keep].astype(np.uint16) * 2 + (top[keep] < self.threshold)
        counts = np.bincount(codes.ravel(), minlength=2 * self.k).reshape(self.k, 2)
        self.class_pixels[part] += counts.sum(axis=1)
        self.class_low[part] += counts[:, 1]

    def to_report(self) -> dict:
        """The report's ``regions`` entry (see this module's docstring)."""
        parts = []
        for index in range(self.rows * self.cols):
            row, col = divmod(index, self.cols)
            parts.append(
                {
                    "name": part_name(row, col, self.rows, self.cols),
                    "row": row,
                    "col": col,
                    "valid_pixels": int(self.class_pixels[index].sum()),
                    "low_confidence_pixels": int(self.class_low[index].sum()),
                    "class_pixels": [int(v) for v in self.class_pixels[index]],
                    "class_low_confidence_pixels": [int(v) for v in self.class_low[index]],
                }
            )
        return {"rows": self.rows, "cols": self.cols, "threshold": self.threshold, "parts": parts}


def _overlap(start: int, stop: int, offset: int, length: int) -> slice | None:
    """The part of ``[offset, offset + length)`` inside ``[start, stop)``, relative to ``offset``; None if empty."""
    first, last = max(start, offset), min(stop, offset + length)
    return slice(first - offset, last - offset) if first < last else None
