"""Shared building blocks: parameter counts of the published configurations, shapes, carrier pooling."""

import pytest
import torch
import torch.nn.functional as F

from landfuse.backend.models.blocks.carrier import (
    CarrierTokenBlock,
    CarrierTokenInitializer,
    CarrierTokenStage,
    window_partition,
    window_reverse,
)
from landfuse.backend.models.blocks.mit import MIT_CONFIGS, MiTEncoder, MiTStage
from landfuse.backend.models.blocks.mlp_decoder import MLPDecoder
from landfuse.backend.models.blocks.unet import UNetDecoder
from landfuse.backend.models.cloudseg import pooled_context
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


def test_mit_layer_norms_use_the_official_eps():
    """SegFormer: 1e-5 (plain nn.LayerNorm) in patch embeddings and spatial reductions, 1e-6 in blocks and stages."""
    with torch.device("meta"):
        encoder = MiTEncoder(4, MIT_CONFIGS["b4"])
    eps = {name: module.eps for name, module in encoder.named_modules() if isinstance(module, torch.nn.LayerNorm)}
    assert eps["stages.0.patch_embed.norm"] == eps["stages.2.blocks.5.attn.norm"] == 1e-5
    assert eps["stages.1.blocks.0.norm1"] == eps["stages.3.blocks.2.norm2"] == eps["stages.3.norm"] == 1e-6
    embedding = [n for n in eps if n.endswith(("patch_embed.norm", "attn.norm"))]
    assert len(embedding) == 4 + 3 + 8 + 27  # every patch embedding, every block with spatial reduction (sr > 1)
    assert all((eps[n] == 1e-5) == (n in embedding) for n in eps)


@pytest.mark.parametrize("size", [128, 160, 256, 288])
def test_cloudseg_multi_scale_pooling_is_the_official_floor_mode(size):
    """At the official sizes every stage map pools as ``nn.MaxPool2d`` (floor mode) before nearest upsampling."""
    for stride in (4, 8, 16, 32):
        x = torch.randn(1, 3, size // stride, size // stride + 1)
        for kernel in (2, 4):
            official = F.interpolate(torch.nn.MaxPool2d(kernel, kernel)(x), x.shape[2:])
            assert torch.equal(pooled_context(x, kernel), official), (size, stride, kernel)


def test_cloudseg_pooling_of_maps_smaller_than_the_kernel_takes_their_maximum():
    x = torch.randn(2, 3, 2, 3)  # stage 4 of a 64 x 96 input, where the official code fails
    expected = x.amax(dim=(2, 3), keepdim=True).expand_as(x)
    assert torch.equal(pooled_context(x, 4), expected)


def test_carrier_attention_knows_where_each_token_is():
    """Without positions, swapping two pixels of a window would only swap them in the output."""
    torch.manual_seed(0)
    block = CarrierTokenBlock(8, num_heads=2, window_size=4, ct_size=1, propagate=True).eval()
    x, carriers = torch.randn(1, 8, 4, 4), torch.randn(1, 8, 1, 1)  # one window, one carrier
    swapped = x.clone()
    swapped[..., 0, 0], swapped[..., 3, 3] = x[..., 3, 3], x[..., 0, 0]
    with torch.no_grad():
        out, _ = block(x, carriers)
        out_swapped, _ = block(swapped, carriers)
        out_swapped[..., 0, 0], out_swapped[..., 3, 3] = out_swapped[..., 3, 3].clone(), out_swapped[..., 0, 0].clone()
        assert not torch.allclose(out, out_swapped, atol=1e-4)
        block.window_position.zero_()
        out, _ = block(x, carriers)
        out_swapped, _ = block(swapped, carriers)
        out_swapped[..., 0, 0], out_swapped[..., 3, 3] = out_swapped[..., 3, 3].clone(), out_swapped[..., 0, 0].clone()
        torch.testing.assert_close(out, out_swapped)
