"""CLAIRE: the stated paper size, the CMAF's bidirectional attention and its learned gate."""

import pytest
import torch

from landfuse.backend.models.claire import CrossModalAttentionFusion
from landfuse.backend.models.losses.segmentation import RIFTLoss
from landfuse.backend.models.profiling import count_parameters
from landfuse.backend.models.registry import build_model, default_card
from tests.backend.models.fusion_checks import assert_lite_uses_both_inputs, assert_training_lowers_loss


def test_paper_size_is_the_one_its_card_states():
    card = default_card("claire", "paper")
    with torch.device("meta"):
        model = build_model(card)
    assert count_parameters(model) == pytest.approx(55.7e6, rel=0.005)
    assert "55.7 M parameters" in card.reconstruction_notes and "Reconstruction" in card.reconstruction_notes
    assert count_parameters(model.optical_encoder) == pytest.approx(count_parameters(model.sar_encoder), rel=0.01)


def test_cmaf_attends_in_both_directions():
    torch.manual_seed(0)
    cmaf = CrossModalAttentionFusion(dim=16, num_heads=2, sr_ratio=2).eval()
    optical, sar = torch.randn(2, 16, 8, 12), torch.randn(2, 16, 8, 12)
    y_opt, y_sar = cmaf.attended(optical, sar)
    y_opt_other_sar, _ = cmaf.attended(optical, torch.randn(2, 16, 8, 12))
    assert not torch.allclose(y_opt, y_opt_other_sar, atol=1e-4)  # optical queries read SAR
    _, y_sar_other_optical = cmaf.attended(torch.randn(2, 16, 8, 12), sar)
    assert not torch.allclose(y_sar, y_sar_other_optical, atol=1e-4)  # SAR queries read optical


@pytest.mark.parametrize(("bias", "pick"), [(30.0, 0), (-30.0, 1)])
def test_cmaf_gate_chooses_between_the_attended_streams(bias, pick):
    torch.manual_seed(0)
    cmaf = CrossModalAttentionFusion(dim=16, num_heads=2, sr_ratio=2).eval()
    optical, sar = torch.randn(1, 16, 8, 12), torch.randn(1, 16, 8, 12)
    with torch.no_grad():
        torch.nn.init.zeros_(cmaf.gate.weight)
        torch.nn.init.constant_(cmaf.gate.bias, bias)
        expected = cmaf.attended(optical, sar)[pick]
        assert torch.allclose(cmaf(optical, sar), expected, atol=1e-6)
        torch.nn.init.constant_(cmaf.gate.bias, 0.0)
        half = 0.5 * (cmaf.attended(optical, sar)[0] + cmaf.attended(optical, sar)[1])
        assert torch.allclose(cmaf(optical, sar), half, atol=1e-6)


def test_lite_logits_depend_on_both_inputs_at_h_not_w():
    assert_lite_uses_both_inputs("claire", 160, 64)


def test_lite_training_steps_lower_its_loss():
    assert_training_lowers_loss("claire", RIFTLoss())
