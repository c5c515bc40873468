"""Behaviour of the fusion modules: CloudSeg's MSC and FuseBlock, EDC's DCHF and discrepancy output."""

import torch
import torch.nn.functional as F

from landfuse.backend.models.cloudseg import FuseBlock, MultiScaleContext
from landfuse.backend.models.edc import DCHF
from landfuse.backend.models.registry import build_model, default_card


def test_msc_matches_the_official_floor_pooling():
    msc = MultiScaleContext(3)
    for height, width in ((8, 12), (5, 5), (10, 7)):  # 5: stage 4 of the official 160 px window
        x = torch.randn(2, 3, height, width)
        official = torch.cat(
            [x, *(F.interpolate(F.max_pool2d(x, k, k), size=x.shape[2:]) for k in (2, 4))], dim=1
        )  # the official MSC: floor-mode pooling, nearest upsampling
        torch.testing.assert_close(msc(x), msc.conv(official))


def test_msc_handles_maps_smaller_than_the_pool():
    assert MultiScaleContext(4)(torch.randn(1, 4, 1, 3)).shape == (1, 4, 1, 3)


def test_teacher_fuse_block_has_no_gate_and_first_block_fuses_two_inputs():
    student, teacher = FuseBlock(8, is_first_block=True), FuseBlock(8, is_first_block=True, spatial_gate=False)
    assert teacher.spatial_attn_block is None and student.spatial_attn_block is not None
    assert student.update_cross_modality_block.excitation[0].in_features == 16
    x1, x2, c = student(torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4))
    assert x1.shape == x2.shape == c.shape == (1, 8, 4, 4)


def test_dchf_replaces_optical_features_where_the_discrepancy_is_high():
    fusion = DCHF(8).eval()
    optical, sar, cross = torch.randn(3, 1, 8, 4, 4).unbind(0)
    new_optical, _, fused = fusion(optical, sar, cross, torch.ones(1, 1, 4, 4))
    torch.testing.assert_close(new_optical, fused)
    unchanged, _, _ = fusion(optical, sar, cross, torch.zeros(1, 1, 4, 4))
    torch.testing.assert_close(unchanged, optical)


def test_edc_returns_its_stage_1_discrepancy_map_on_request():
    model = build_model(default_card("edc", "lite")).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 9, 64, 96), torch.randn(1, 2, 64, 96), return_discrepancy=True)
    assert out["discrepancy"].shape == (1, 1, 16, 24)
    assert 0.0 <= float(out["discrepancy"].min()) <= float(out["discrepancy"].max()) <= 1.0
    assert "features" not in out
