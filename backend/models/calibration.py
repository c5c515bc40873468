"""Model-input windows for quantization: calibration and held-out check windows.

Two sources, both giving normalised float32 windows ``{"optical": [1, Co, S, S], "sar": [1, Cs, S, S]}``
(only the card's modalities) exactly as the engine feeds the model:

- ``synthetic``: scenes of the synthetic cloudy benchmark (``backend.data.synthetic``), calibration
  windows from its ``train`` split (0-60 % cloud cover, as the demo models were trained) and check
  windows from its ``test`` split (30-60 %). The card's bands are looked up among the benchmark's
  demo bands by name (``B02`` = ``B2``; PlanetScope-style ``B``, ``G``, ``R``, ``NIR`` = ``B2``, ``B3``,
  ``B4``, ``B8``) and normalised as the card says.
- a raster pair the user gives, read with the engine's own reading pieces
  (``backend.engine.classify.build_grid`` / ``open_source``): the same band selection, SAR unit
  handling, resampling onto the optical grid and normalisation as a classification. Windows lie on a
  grid of non-overlapping cells in random order; calibration takes the first cells that are at least
  half valid, the check the next ones, so the two never share a pixel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...common.card import ModelCard
from ..data import open_dataset
from ..data.rasters import DEMO_S2_BANDS, S1_BANDS
from ..engine.normalise import Normaliser, convert_sar
from ..engine.source import pad_to
from ..errors import BandError, UnreadableInputError

SYNTHETIC = "synthetic"
SYNTHETIC_CALIBRATION_COVER = (0.0, 0.6)
SYNTHETIC_CHECK_COVER = (0.3, 0.6)
OPTICAL_ALIASES = {"B": "B2", "BLUE": "B2", "G": "B3", "GREEN": "B3", "R": "B4", "RED": "B4", "NIR": "B8"}
MIN_VALID_SHARE = 0.5

Window = dict[str, np.ndarray]


@dataclass(frozen=True)
class WindowSet:
    """Calibration windows and held-out check windows with their origin.

    ``check_labels``: class ids ``[S, S]`` per check window where the source has labels;
    ``check_valid``: bool ``[S, S]`` per check window, False on padding and invalid pixels.
    """

    calibration: list[Window]
    check: list[Window]
    check_labels: list[np.ndarray] | None
    check_valid: list[np.ndarray]
    source: str
    check_source: str
    size: int


def window_size(card: ModelCard, size: int | None) -> int:
    """``size`` (default: the card's tile size), checked against the card's size multiple."""
    size = size or card.tile_size
    if size <= 0 or size % card.size_multiple:
        raise BandError(f"window size must be a positive multiple of {card.size_multiple} for {card.name}, got {size}")
    return size


# --- synthetic cloudy benchmark -----------------------------------------------------------------


def _synthetic_band(name: str, available: tuple[str, ...]) -> int | None:
    key = name.upper()
    key = OPTICAL_ALIASES.get(key, key)
    if len(key) == 3 and key[0] == "B" and key[1] == "0":  # B02 -> B2
        key = key[0] + key[2]
    return available.index(key) if key in available else None


def _synthetic_selection(card: ModelCard) -> dict[str, list[int]]:
    """Indexes into the synthetic optical/SAR bands for the card's bands; ``BandError`` when one is missing."""
    selection = {}
    for modality, specs, available, unit in (
        ("optical", card.optical_bands, DEMO_S2_BANDS, "reflectance x 10000"),
        ("sar", card.sar_bands, S1_BANDS, None),
    ):
        if not specs:
            continue
        indexes = [_synthetic_band(b.name, available) for b in specs]
        missing = [b.name for b, i in zip(specs, indexes, strict=True) if i is None]
        wrong_unit = [b.name for b in specs if unit is not None and b.unit != unit]
        if missing or wrong_unit:
            problem = f"bands {missing} are not among" if missing else f"bands {wrong_unit} are not in {unit} as"
            raise BandError(
                f"{card.name}: the {modality} {problem} the synthetic benchmark's {', '.join(available)}; "
                "calibrate on a raster pair with the model's bands instead (--calibration OPTICAL SAR)"
            )
        selection[modality] = indexes
    return selection


def _synthetic_window(sample, card: ModelCard, selection: dict[str, list[int]]) -> Window:
    window = {}
    for modality, specs in (("optical", card.optical_bands), ("sar", card.sar_bands)):
        if specs:
            values = getattr(sample, modality)[selection[modality]].astype(np.float32)
            if modality == "sar":
                values = convert_sar(values, "dB", specs[0].unit)
            window[modality] = Normaliser(specs)(values)[None]
    return window


def synthetic_windows(card: ModelCard, count: int, size: int, check_count: int, seed: int = 0) -> WindowSet:
    """``count`` calibration scenes of ``size`` px from the ``train`` split and ``check_count`` from ``test``."""
    selection = _synthetic_selection(card)
    train = {"split": "train", "count": count, "cloud_cover": SYNTHETIC_CALIBRATION_COVER}
    test = {"split": "test", "count": check_count, "cloud_cover": SYNTHETIC_CHECK_COVER}
    calibration = open_dataset(SYNTHETIC, size=size, seed=seed, **train)
    check = open_dataset(SYNTHETIC, size=size, seed=seed, **test)
    return WindowSet(
        calibration=[_synthetic_window(s, card, selection) for s in calibration],
        check=[_synthetic_window(s, card, selection) for s in check],
        check_labels=[s.label for s in check],
        check_valid=[np.ones((size, size), bool) for _ in range(check_count)],
        source=f"synthetic cloudy benchmark: {count} train-split scenes of {size} px, 0-60 % cloud cover",
        check_source=f"synthetic cloudy benchmark: {check_count} test-split scenes of {size} px, 30-60 % cloud cover",
        size=size,
    )


# --- a raster pair ------------------------------------------------------------------------------


def _cells(height: int, width: int, size: int, rng: np.random.Generator) -> Iterator[tuple[int, int]]:
    """Top-left corners of non-overlapping ``size`` cells covering the grid (edge cells shifted inside), shuffled."""
    rows = sorted({min(y, max(height - size, 0)) for y in range(0, height, size)})
    cols = sorted({min(x, max(width - size, 0)) for x in range(0, width, size)})
    corners = [(y, x) for y in rows for x in cols]
    for index in rng.permutation(len(corners)):
        yield corners[index]


def raster_windows(
    card: ModelCard,
    optical: str | Path | None,
    sar: str | Path | None,
    count: int,
    size: int,
    check_count: int,
    *,
    optical_bands: list[int | str] | None = None,
    sar_bands: list[int | str] | None = None,
    sar_unit: str = "auto",
    seed: int = 0,
) -> WindowSet:
    """Calibration and held-out check windows from a raster pair, read as ``classify`` reads it.

    Windows are ``size`` px (smaller rasters give one window padded to the card's size multiple);
    only windows with at least half of their pixels valid in every input are used.
    """
    from ..engine.classify import build_grid, open_source
    from ..engine.options import ClassifyOptions

    paths = {"optical": optical, "sar": sar}
    grid = build_grid(card, paths, ClassifyOptions())
    height, width = min(size, grid.height), min(size, grid.width)
    padded = -(-max(height, width) // card.size_multiple) * card.size_multiple
    source = open_source(card, grid, paths, {"optical": optical_bands, "sar": sar_bands}, sar_unit)
    windows, masks = [], []
    try:
        for y0, x0 in _cells(grid.height, grid.width, size, np.random.default_rng(seed)):
            if len(windows) == count + check_count:
                break
            arrays, valid = source.read(y0, x0, height, width)
            if valid.mean() >= MIN_VALID_SHARE:
                windows.append({k: pad_to(v, padded, padded)[None] for k, v in arrays.items()})
                masks.append(pad_to(valid[None], padded, padded)[0])
    finally:
        source.close()
    if not windows:
        raise UnreadableInputError(
            f"no {height} x {width} window of {Path(str(optical or sar)).name} has at least "
            f"{MIN_VALID_SHARE:.0%} of its pixels valid in every input; check the nodata values and the overlap"
        )
    names = " + ".join(Path(str(p)).name for p in (optical, sar) if p)
    return WindowSet(
        calibration=windows[:count],
        check=windows[count:],
        check_labels=None,
        check_valid=masks[count:],
        source=f"raster pair {names}: {len(windows[:count])} windows of {height} x {width} px",
        check_source=f"raster pair {names}: {len(windows[count:])} other windows of {height} x {width} px",
        size=padded,
    )
