"""The published CloudSeg checkpoints (``StudentNet.pth``, ``TeacherNet.pth`` of xufangchn/CloudSeg) in LandFuse.

The official code saves ``{"network": nn.DataParallel(SSUCCNet).state_dict(), "optimizer", "epoch",
"lr_scheduler"}``: 2758 entries for the student, 2730 for the teacher, every key starting with
``module.``. LandFuse's ``CloudSeg`` has the same entries one to one (``official_key`` gives the
official name of each), so the import is strict: an entry missing from the file, an entry the
network does not have, or a shape that differs is an error naming the entry. Only ``network`` is
read; other top-level entries (optimizer state ...) are listed and left alone.

The file is memory-mapped and the model is built on the ``meta`` device and takes the mapped
tensors as its parameters (``load_state_dict(assign=True)``), so a 0.8 GB checkpoint (2.4 GB with
the Adam state) never sits in memory twice. Entries that the official forward pass never uses (the
cross stream's stage 1, ...: ``CloudSeg.unused_prefixes``) are loaded too and listed in the report;
the ONNX export leaves them out.

The card carries the official preprocessing (``StudentNet/dataloader.py``): optical bands clipped
to [0, 10000] and divided by 10000, SAR VV clipped to [-25, 0] dB and VH to [-32.5, 0] dB, each
scaled to [0, 1]; the 6 classes of label level 1 (or the 11 WorldCover classes of level 2, told
apart by the segmentation head), 3 m pixels, 160 px windows (the official test slides them by 80 px:
``--overlap 80``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from ...common.card import BandSpec, ModelCard
from ..errors import MissingWeightsError
from .cloudseg import NOTES, CloudSeg
from .presets import classes
from .pretrained import read_weights_file, segformer_key
from .registry import build_model

SOURCE = "xufangchn/CloudSeg"
TRAINING_DATA = "M3M-CR (official CloudSeg release)"
LICENCE = (
    "not stated: the CloudSeg repository and its checkpoint links give no licence; "
    "ask the authors (xufang@whu.edu.cn) before redistributing the weights"
)
OFFICIAL_WINDOW, OFFICIAL_STEP = 160, 80
OPTICAL_BANDS = tuple(
    BandSpec(name, "reflectance x 10000", 0.0, 10000.0, (0.0, 10000.0)) for name in ("Blue", "Green", "Red", "NIR")
)
SAR_BANDS = (
    BandSpec("VV", "dB", -25.0, 25.0, (-25.0, 0.0)),
    BandSpec("VH", "dB", -32.5, 32.5, (-32.5, 0.0)),
)
SCHEMES = {6: "m3m_cr", 11: "worldcover"}  # label level '1' and '2' of the official code

_STREAMS = {
    "optical_stream": "modality1_stream",
    "sar_stream": "modality2_stream",
    "cross_stream": "cross_modality_stream",
}
_HEAD_KEY = "cross_modality_stream.segmentation_head.0.weight"
_OPTICAL_KEY = "modality1_stream.encoder.patch_embed1.proj.weight"
_SAR_KEY = "modality2_stream.encoder.patch_embed1.proj.weight"
_FUSE_BLOCK = re.compile(r"^fuse_blocks\.(\d)\.(.+)$")


def official_key(key: str) -> str:
    """The official name (without ``module.``) of a LandFuse ``CloudSeg`` state-dict key.

    ``optical_stream.encoder.stages.0.blocks.2.mlp.dwconv.weight`` ->
    ``modality1_stream.encoder.block1.2.mlp.dwconv.dwconv.weight``.
    """
    stream, _, rest = key.partition(".")
    if stream in _STREAMS:
        part, _, inner = rest.partition(".")
        if part == "encoder":
            inner = segformer_key(inner)
        elif part == "segmentation_head":
            inner = f"0.{inner}"  # smp's SegmentationHead is a Sequential(conv, ...)
        return f"{_STREAMS[stream]}.{part}.{inner}"
    match = _FUSE_BLOCK.match(key)
    if match:
        inner = match[2].replace("spatial_attn_block.", "spatial_attn_block.spatial.", 1)  # CBAM's BasicConv
        return f"fuse_block_stage{int(match[1]) + 1}.{inner}"
    return key  # cr_head.*


def official_card(teacher: bool, num_classes: int = 6) -> ModelCard:
    """The card of an imported official network: official preprocessing, classes, window and provenance."""
    if num_classes not in SCHEMES:
        raise MissingWeightsError(
            f"the checkpoint's segmentation head has {num_classes} classes; the official code trains 6 (label level "
            "'1') or 11 (level '2'): this is not an official CloudSeg checkpoint"
        )
    role = (
        "TeacherNet (trained on cloud-free optical)" if teacher else "StudentNet (cloudy optical, with cloud removal)"
    )
    return ModelCard(
        architecture="cloudseg",
        variant="paper_teacher" if teacher else "paper",
        optical_bands=OPTICAL_BANDS,
        sar_bands=SAR_BANDS,
        classes=classes(SCHEMES[num_classes]),
        tile_size=OFFICIAL_WINDOW,
        gsd_m=3.0,
        outputs=("logits",) if teacher else ("logits", "reconstruction"),
        training_data=TRAINING_DATA,
        licence=LICENCE,
        description=(
            f"Official CloudSeg {role}, published by the authors ({SOURCE}), imported by LandFuse. PlanetScope "
            f"Blue, Green, Red, NIR + Sentinel-1 VV, VH upsampled to the 3 m grid; the official test slides "
            f"{OFFICIAL_WINDOW} px windows by {OFFICIAL_STEP} px (overlap {OFFICIAL_WINDOW - OFFICIAL_STEP})."
        ),
        reconstruction_notes=NOTES,
    )


@dataclass
class OfficialImport:
    """An imported official network, its card, and what the file held."""

    model: CloudSeg
    card: ModelCard
    source: str
    entries: int
    parameters: int
    unused_at_inference: list[str]  # official keys (without ``module.``) loaded but never used by the forward pass
    other_contents: list[str]  # top-level entries of the file besides ``network``

    def lines(self) -> list[str]:
        """A human-readable summary of the import."""
        role = "teacher" if self.card.variant.endswith("teacher") else "student"
        groups: dict[str, int] = {}
        for key in self.unused_at_inference:
            prefix = ".".join(key.split(".")[:3])
            groups[prefix] = groups.get(prefix, 0) + 1
        out = [
            f"{self.source}: {self.entries} entries ({self.parameters / 1e6:.1f} M parameters) mapped one to one onto "
            f"LandFuse's CloudSeg {role}, {self.card.num_classes} classes",
            f"  {len(self.unused_at_inference)} entries are never used at inference (as in the official code): "
            + ", ".join(f"{prefix} ({count})" for prefix, count in groups.items()),
        ]
        if self.other_contents:
            out.append(f"  also in the file, not needed: {', '.join(self.other_contents)}")
        return out


def _shape(tensors: Mapping[str, Tensor], key: str, source: str) -> tuple[int, ...]:
    if key not in tensors:
        raise MissingWeightsError(f"{source} has no entry module.{key}: it is not an official CloudSeg checkpoint")
    return tuple(tensors[key].shape)


def _float32(tensor: Tensor) -> Tensor:
    """Floating entries as float32 (the official files already are: then no copy)."""
    return tensor.float() if tensor.is_floating_point() and tensor.dtype != torch.float32 else tensor


def _strip_prefix(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {key.removeprefix("module."): value for key, value in state.items()}


def _check_entries(expected: dict[str, tuple[int, ...]], found: Mapping[str, Tensor], source: str, role: str) -> None:
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    reshaped = [k for k in expected if k in found and tuple(found[k].shape) != expected[k]]
    if not (missing or unexpected or reshaped):
        return
    problems = []
    if missing:
        problems.append("missing " + ", ".join(f"module.{k} {list(expected[k])}" for k in missing[:5]))
    if unexpected:
        problems.append("unexpected " + ", ".join(f"module.{k} {list(found[k].shape)}" for k in unexpected[:5]))
    if reshaped:
        problems.append(
            "wrong shape "
            + ", ".join(f"module.{k} is {list(found[k].shape)}, expected {list(expected[k])}" for k in reshaped[:5])
        )
    counts = f"{len(missing)} missing, {len(unexpected)} unexpected, {len(reshaped)} with another shape"
    raise MissingWeightsError(
        f"{source} does not match the official CloudSeg {role} ({counts}): {'; '.join(problems)}. "
        "Use the unmodified StudentNet.pth / TeacherNet.pth of the CloudSeg release"
    )


def import_state_dict(state: Mapping[str, Tensor], teacher: bool, source: str = "the state dict") -> OfficialImport:
    """Strictly map an official ``network`` state dict (``module.`` prefix optional) onto ``CloudSeg``.

    The model takes the given tensors as its parameters (no copy); see the module docstring.
    """
    found = _strip_prefix(state)
    is_teacher_file = not any(key.startswith("cr_head.") for key in found)
    if is_teacher_file != teacher:
        held, hint = ("a TeacherNet", "add --teacher") if is_teacher_file else ("a StudentNet", "drop --teacher")
        raise MissingWeightsError(
            f"{source} holds {held} (cr_head entries {'absent' if is_teacher_file else 'present'}): {hint}"
        )
    num_classes = _shape(found, _HEAD_KEY, source)[0]
    optical, sar = _shape(found, _OPTICAL_KEY, source)[1], _shape(found, _SAR_KEY, source)[1]
    if (optical, sar) != (len(OPTICAL_BANDS), len(SAR_BANDS)):
        raise MissingWeightsError(
            f"{source} takes {optical} optical and {sar} SAR bands; the official networks take 4 (PlanetScope) "
            "and 2 (Sentinel-1)"
        )
    card = official_card(teacher, num_classes)
    with torch.device("meta"):
        model = build_model(card)
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    names = {official_key(key): key for key in shapes}
    _check_entries(
        {name: shapes[key] for name, key in names.items()}, found, source, "teacher" if teacher else "student"
    )
    mapped = {key: _float32(found[name]) for name, key in names.items()}
    model.load_state_dict(mapped, strict=True, assign=True)
    model.eval()
    unused = [name for name, key in names.items() if key.startswith(model.unused_prefixes)]
    parameters = sum(p.numel() for p in model.parameters())
    return OfficialImport(model, card, source, len(names), parameters, unused, [])


def import_checkpoint(path: str | Path, teacher: bool) -> OfficialImport:
    """Import ``StudentNet.pth`` (``teacher=False``) or ``TeacherNet.pth`` from disk, memory-mapped."""
    path = Path(path)
    content = read_weights_file(path)
    if isinstance(content, Mapping) and isinstance(content.get("network"), Mapping):
        state, others = content["network"], sorted(str(k) for k in content if k != "network")
    elif isinstance(content, Mapping) and any(str(k).startswith("module.") for k in content):
        state, others = content, []
    else:
        found = (
            ", ".join(sorted(str(k) for k in content)[:5]) if isinstance(content, Mapping) else type(content).__name__
        )
        raise MissingWeightsError(
            f"{path.name} has no 'network' state dict (found {found}): expected an official CloudSeg checkpoint "
            "saved by its training code"
        )
    result = import_state_dict(state, teacher, path.name)
    result.other_contents = others
    return result
