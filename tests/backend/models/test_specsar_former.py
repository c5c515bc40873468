"""SpecSAR-Former: the paper's size and compute, and what DMEM / MMAM do to each modality."""

import pytest
import torch

from landfuse.backend.models.losses.segmentation import FocalLoss
from landfuse.backend.models.profiling import count_macs, count_parameters
from landfuse.backend.models.registry import build_model, default_card
from landfuse.backend.models.specsar_former import (
    DualModalEnhancement,
    MutualCrossAttention,
    MutualModalAggregation,
)
from tests.backend.models.fusion_checks import assert_lite_uses_both_inputs, assert_training_lowers_loss

PAPER_PARAMETERS = 26.70e6
PAPER_MACS_512 = 109.59e9


@pytest.fixture(scope="module")
def paper_on_meta():
    card = default_card("specsar_former", "paper")
    with torch.device("meta"):
        return card, build_model(card).eval()


def test_paper_card_is_the_dynamic_world_setup(paper_on_meta):
    card, _ = paper_on_meta
    assert [b.name for b in card.optical_bands] == ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12"]
    assert [b.name for b in card.sar_bands] == ["VV", "VH"]
    assert card.num_classes == 9
    assert "Reconstruction" in card.reconstruction_notes and "2-2-1-1" in card.reconstruction_notes


def test_paper_parameters_within_2_percent_and_multispectral_branch_larger(paper_on_meta):
    _, model = paper_on_meta
    assert count_parameters(model) == pytest.approx(PAPER_PARAMETERS, rel=0.02)
    assert count_parameters(model.sar_encoder) * 4 < count_parameters(model.optical_encoder)


def test_paper_macs_at_512_within_10_percent(paper_on_meta):
    _, model = paper_on_meta
    with torch.device("meta"):
        inputs = (torch.zeros(1, 9, 512, 512), torch.zeros(1, 2, 512, 512))
        assert count_macs(model, inputs).total == pytest.approx(PAPER_MACS_512, rel=0.10)


def test_dmem_rectifies_each_modality_with_the_other_only():
    torch.manual_seed(0)
    dmem = DualModalEnhancement(ms_dim=32, sar_dim=16).eval()
    ms, sar = torch.randn(2, 32, 8, 12), torch.randn(2, 16, 8, 12)
    ms_out, sar_out = dmem(ms, sar)
    assert ms_out.shape == ms.shape and sar_out.shape == sar.shape
    assert not torch.allclose(ms_out, ms) and not torch.allclose(sar_out, sar)
    ms_alone, sar_from_ms = dmem(ms, torch.zeros_like(sar))
    assert torch.equal(ms_alone, ms)  # a silent SAR map sends no message to the multispectral branch
    ms_from_sar, sar_alone = dmem(torch.zeros_like(ms), sar)
    assert torch.equal(sar_alone, sar)
    assert not torch.allclose(sar_from_ms, torch.zeros_like(sar))


def test_mmam_fuses_both_modalities_at_the_multispectral_width():
    torch.manual_seed(0)
    mmam = MutualModalAggregation(ms_dim=32, sar_dim=16, num_heads=2).eval()
    ms, sar = torch.randn(2, 32, 8, 12), torch.randn(2, 16, 8, 12)
    fused = mmam(ms, sar)
    assert fused.shape == (2, 32, 8, 12)
    assert not torch.allclose(mmam(ms, sar + 1.0), fused, atol=1e-4)
    assert not torch.allclose(mmam(ms + 1.0, sar), fused, atol=1e-4)


def test_mutual_attention_context_does_not_depend_on_tile_size():
    torch.manual_seed(0)
    attention = MutualCrossAttention(dim=8, num_heads=2).eval()
    a, b = torch.randn(1, 20, 8), torch.randn(1, 20, 8)
    read_a, read_b = attention(a, b)
    read_a2, read_b2 = attention(a.repeat(1, 2, 1), b.repeat(1, 2, 1))  # the same scene seen twice
    assert torch.allclose(read_a2, read_a.repeat(1, 2, 1), atol=1e-6)
    assert torch.allclose(read_b2, read_b.repeat(1, 2, 1), atol=1e-6)


def test_lite_logits_depend_on_both_inputs_at_h_not_w():
    assert_lite_uses_both_inputs("specsar_former", 64, 160)


def test_lite_training_steps_lower_its_loss():
    assert_training_lowers_loss("specsar_former", FocalLoss(gamma=2.0))
