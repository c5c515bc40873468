"""Shared building blocks: parameter counts of the published configurations, shapes, carrier pooling."""

import pytest
import torch

from landfuse.backend.models.blocks.carrier import (
    CarrierTokenInitializer,
    CarrierTokenStage,
    window_partition,
    window_reverse,
)
from landfuse.backend.models.blocks.mit import MIT_CONFIGS, MiTEncoder, MiTStage
from landfuse.backend.models.blocks.mlp_decoder import MLPDecoder
from landfuse.backend.models.blocks.unet import UNetDecoder
from landfuse.backend.models.profiling import count_parameters


@pytest.mark.parametrize(("name", "millions"), [("b0", 3.32), ("b1", 13.15), ("b2", 24.20), ("b4", 60.84)])
def test_mit_encoders_have_the_published_parameter_counts(name, millions):
    with torch.device("meta"):
        encoder = MiTEncoder(3, MIT_CONFIGS[name])
    assert round(count_parameters(encoder) / 1e6, 2) == millions


def test_unet_decoder_on_mit_b4_has_3_281_m_parameters():
    assert count_parameters(UNetDecoder((64, 128, 320, 512))) == 3_280_576


def test_encoder_and_decoders_give_the_expected_shapes():
    encoder = MiTEncoder(5, MIT_CONFIGS["b0"])
    features = encoder(torch.randn(2, 5, 96, 160))
    assert [tuple(f.shape) for f in features] == [(2, 32, 24, 40), (2, 64, 12, 20), (2, 160, 6, 10), (2, 256, 3, 5)]
    assert UNetDecoder(encoder.out_channels, (32, 16, 16, 8, 8))(features).shape == (2, 8, 96, 160)
    logits = MLPDecoder(encoder.out_channels, 32, 7)(features, output_size=(96, 160))
    assert logits.shape == (2, 7, 96, 160)


def test_mit_stage_split_forward_matches_the_plain_forward():
    stage = MiTStage(8, 16, depth=2, num_heads=2, sr_ratio=2).eval()
    x = torch.randn(1, 8, 32, 48)
    torch.testing.assert_close(stage.forward_embedded(stage.embed(x)), stage(x))


def test_window_partition_round_trip():
    x = torch.arange(2 * 3 * 8 * 12, dtype=torch.float32).reshape(2, 3, 8, 12)
    windows = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 3, 16, 3)
    assert torch.equal(windows[0, :4, 0], x[0, 0, 0, :4])
    assert torch.equal(window_reverse(windows, 4, 8, 12), x)


def test_carrier_pooling_ignores_unreliable_pixels():
    init = CarrierTokenInitializer(dim=1, window_size=4, ct_size=1)
    with torch.no_grad():  # identity positional convolution
        init.pos.weight.zero_()
        init.pos.weight[0, 0, 1, 1] = 1.0
        init.pos.bias.zero_()
    x = torch.zeros(1, 1, 4, 4)
    x[..., :2, :] = 10.0  # top half "cloud"
    reliability = torch.ones_like(x)
    reliability[..., :2, :] = 0.0
    assert init(x).item() == pytest.approx(5.0)
    assert init(x, reliability).item() == pytest.approx(0.0, abs=1e-6)


def test_carrier_stage_pads_sizes_that_are_not_window_multiples():
    stage = CarrierTokenStage(8, 16, depth=2, num_heads=2, window_size=4, ct_size=2)
    x = torch.randn(2, 8, 12, 20)  # embedded 6 x 10: padded to 8 x 12 internally
    out = stage(x, reliability=torch.rand(2, 1, 6, 10))
    assert out.shape == (2, 16, 6, 10)
    out.sum().backward()
    assert stage.blocks[0].hat_attn.q.weight.grad.abs().sum() > 0
