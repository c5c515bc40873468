"""CloudSeg paper matches the official state dict component by component; EDC paper is <= 0.533 x CloudSeg."""

import torch

from landfuse.backend.models.profiling import count_parameters
from landfuse.backend.models.registry import build_model, default_card


def _build(name: str, variant: str):
    with torch.device("meta"):
        return build_model(default_card(name, variant))


def test_cloudseg_paper_components_match_the_official_code():
    model = _build("cloudseg", "paper")
    total = count_parameters(model)
    assert abs(total - 203.2e6) / 203.2e6 < 0.005
    mit_b4 = 60_842_688  # 60.84 M with 3 input channels (the cross stream, as smp builds it)
    for stream, channels in ((model.optical_stream, 4), (model.sar_stream, 2), (model.cross_stream, 3)):
        # optical/SAR differ only by the stage-1 7x7 patch-embedding weights of their input channels
        assert count_parameters(stream.encoder) == mit_b4 + (channels - 3) * 64 * 7 * 7
        assert round(count_parameters(stream.encoder) / 1e6, 1) == 60.8
        assert round(count_parameters(stream.decoder) / 1e6, 3) == 3.281
    assert round(count_parameters(model.fuse_blocks) / 1e6, 2) == 10.83


def test_cloudseg_paper_teacher_has_no_spatial_gate_or_cloud_removal_head():
    teacher = _build("cloudseg", "paper_teacher")
    assert teacher.cr_head is None and all(f.spatial_attn_block is None for f in teacher.fuse_blocks)
    assert abs(count_parameters(teacher) - 203.2e6) / 203.2e6 < 0.005


def test_edc_paper_has_at_most_0_533_of_cloudseg_paper_parameters():
    edc = count_parameters(_build("edc", "paper"))
    cloudseg = count_parameters(_build("cloudseg", "paper"))
    assert edc <= 0.533 * cloudseg
