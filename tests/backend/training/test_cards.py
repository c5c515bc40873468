"""Cards fitted to a dataset's classes and bands."""

import numpy as np
import pytest

from landfuse.backend.data import PieRgbSar, SyntheticDataset
from landfuse.backend.models.registry import default_card
from landfuse.backend.training.cards import card_overrides_for
from tests.backend.data.tiffs import write_tif


def test_demo_data_needs_no_changes():
    assert card_overrides_for("cloudseg", "lite", SyntheticDataset(1, size=32)) == {}


def test_other_bands_and_classes_are_measured_and_taken_from_the_scheme(tmp_path):
    rgb = np.stack([np.full((8, 8), v, np.uint8) for v in (10, 20, 30)])
    rgb[0, :4] = 30  # band R: half 10, half 30 -> mean 20, std 10
    write_tif(tmp_path / "rgb" / "t.tif", rgb)
    write_tif(tmp_path / "sar" / "t.tif", np.full((3, 8, 8), 100, np.uint8))
    write_tif(tmp_path / "label" / "t.tif", np.zeros((8, 8), np.uint8))
    overrides = card_overrides_for("cloudseg", "lite", PieRgbSar(tmp_path))
    assert [c.name for c in overrides["classes"]][:2] == ["background", "city"]
    optical = overrides["optical_bands"]
    assert [b.name for b in optical] == ["R", "G", "B"] and optical[0].unit == "DN"
    assert optical[0].mean == pytest.approx(20.0) and optical[0].std == pytest.approx(10.0)
    assert overrides["sar_bands"][0].unit == "linear" and overrides["sar_bands"][0].std > 0  # constant band: floor
    card = default_card("cloudseg", "lite", **overrides)
    assert card.num_classes == 6 and len(card.optical_bands) == 3 and len(card.sar_bands) == 1
