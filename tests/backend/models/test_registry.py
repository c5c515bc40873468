"""Model registry: names, variants, default cards, single-modality builds and clear errors."""

import pytest
import torch

from landfuse.backend.errors import CardMismatchError, ModelNotFoundError
from landfuse.backend.models.registry import build_model, default_card, list_models


def test_registered_models_include_cloudseg_and_edc_with_teachers():
    registered = set(list_models())
    for name in ("cloudseg", "edc"):
        for variant in ("paper", "lite", "paper_teacher", "lite_teacher"):
            assert (name, variant) in registered
    assert ("mit_unet", "lite") in registered


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ModelNotFoundError) as err:
        default_card("cloudsag", "lite")
    assert "cloudseg" in str(err.value) and "edc" in str(err.value)


def test_unknown_variant_lists_the_valid_ones():
    with pytest.raises(ModelNotFoundError, match="paper_teacher"):
        default_card("edc", "huge")


def test_default_cards_follow_the_demo_and_m3m_cr_settings():
    lite = default_card("cloudseg", "lite")
    assert [b.name for b in lite.optical_bands] == ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"]
    assert [b.name for b in lite.sar_bands] == ["VV", "VH"] and lite.sar_bands[0].unit == "dB"
    assert lite.num_classes == 9 and lite.classes[0].name == "water"
    assert lite.outputs == ("logits", "reconstruction")
    paper = default_card("cloudseg", "paper")
    assert len(paper.optical_bands) == 4 and len(paper.sar_bands) == 2 and paper.num_classes == 6
    assert default_card("cloudseg", "paper_teacher").outputs == ("logits",)
    assert "abstract" in default_card("edc", "lite").reconstruction_notes


def test_overrides_replace_card_fields():
    card = default_card("cloudseg", "lite", tile_size=128, description="x")
    assert card.tile_size == 128 and card.description == "x"


def test_optical_only_baseline_builds_from_a_card_without_sar():
    card = default_card("mit_unet", "lite")
    assert card.modalities == ("optical",)
    model = build_model(card)
    assert model(torch.randn(1, 9, 64, 96), None)["logits"].shape == (1, 9, 64, 96)
    sar_only = default_card("mit_unet", "lite", optical_bands=(), sar_bands=default_card("edc", "lite").sar_bands)
    assert build_model(sar_only)(None, torch.randn(1, 2, 32, 64))["logits"].shape == (1, 9, 32, 64)


def test_fusion_model_refuses_a_card_without_sar():
    card = default_card("cloudseg", "lite", sar_bands=())
    with pytest.raises(CardMismatchError, match="mit_unet"):
        build_model(card)
