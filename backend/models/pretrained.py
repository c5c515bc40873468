"""Pretrained weights from files: reading them without a second copy, and ImageNet MiT encoders.

Reading (``read_weights_file``): ``.safetensors`` files are memory-mapped by a small reader of the
format (8-byte header length, JSON header, raw little-endian data); anything else goes through
``torch.load(weights_only=True, mmap=True)``, so a multi-GB checkpoint (optimizer state included)
costs address space, not memory. Files written before torch's zip format cannot be mapped and are
read whole.

``train --init-encoder FILE`` (``init_encoders``) loads ImageNet MiT (SegFormer) weights into
every MiT encoder of a model whose stage widths match the file's (CloudSeg's three streams, EDC's
three streams, CLAIRE's two encoders, SpecSAR-Former's multispectral branch with B1-B5 files or its
SAR branch with B0). Two layouts are read, recognised by their keys:

- ``segformer``: NVIDIA's original ``mit_b0.pth`` .. ``mit_b5.pth`` (also mmsegmentation 0.x and
  segmentation_models_pytorch, which CloudSeg downloads): ``patch_embed{s}.proj|norm``,
  ``block{s}.{j}.{norm1, attn.q, attn.kv, attn.proj, attn.sr, attn.norm, norm2, mlp.fc1,
  mlp.dwconv.dwconv, mlp.fc2}``, ``norm{s}`` for stages ``s = 1..4``, and a classifier ``head``;
- ``huggingface``: the ``nvidia/mit-b0`` .. ``mit-b5`` files of the Hugging Face hub
  (``SegformerForImageClassification``): ``segformer.encoder.patch_embeddings.{i}.proj|layer_norm``,
  ``block.{i}.{j}.{layer_norm_1, attention.self.query|key|value|sr|layer_norm,
  attention.output.dense, layer_norm_2, mlp.dense1, mlp.dwconv.dwconv, mlp.dense2}``,
  ``layer_norm.{i}`` for ``i = 0..3`` and a ``classifier``; the renamed keys that transformers 5
  uses in memory (``stages.{i}.blocks.{j}.attention.q_proj`` ...) are read too. Separate key and
  value projections are stacked into MiT's ``kv`` (keys first, as the original code splits it).

Keys may sit under any prefix (``backbone.``, ``module.`` ...) and inside a ``state_dict``,
``model`` or ``network`` entry. Each target entry is loaded when the file has it with the same
shape. The first convolution is widened to the model's band count by the official CloudSeg rule
(``update_module``): one band takes the sum over the RGB kernels, ``n`` bands take kernel
``i mod 3`` scaled by ``3 / n``. Everything else keeps its random initialisation and is reported:
deeper stages than the file has, spatial-reduction convolutions of another ratio, and EDC's
carrier-token blocks (only their patch embedding and stage norm have ImageNet counterparts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import BadParamsError, MissingWeightsError

# --- reading files ---------------------------------------------------------------------------

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "BF16": np.uint16}


def read_safetensors(path: Path) -> dict[str, Tensor]:
    """A ``.safetensors`` file as tensors that are views of a copy-on-write memory map of the file."""
    with path.open("rb") as handle:
        header_size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(header_size))
    data = np.memmap(path, dtype=np.uint8, mode="c", offset=8 + header_size)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in _SAFETENSORS_DTYPES:
            raise MissingWeightsError(
                f"{path.name}: tensor {name} has dtype {entry['dtype']}, which LandFuse cannot read"
            )
        start, end = entry["data_offsets"]
        array = data[start:end].view(_SAFETENSORS_DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensor = torch.from_numpy(array)
        tensors[name] = tensor.view(torch.bfloat16) if entry["dtype"] == "BF16" else tensor
    return tensors


def read_weights_file(path: str | Path) -> object:
    """The object in a weights file (``torch.save`` output or ``.safetensors``), memory-mapped when possible."""
    path = Path(path)
    if not path.is_file():
        raise MissingWeightsError(f"weights file {str(path)!r} does not exist")
    try:
        if path.suffix == ".safetensors":
            return read_safetensors(path)
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            return torch.load(path, map_location="cpu", weights_only=True)  # legacy format: read whole
    except MissingWeightsError:
        raise
    except Exception as exc:  # torch and json raise many types for a file that is not weights
        raise MissingWeightsError(f"cannot read {path.name} as a weights file: {exc}") from exc


def tensor_entries(content: object, source: str) -> dict[str, Tensor]:
    """The flat ``{name: tensor}`` dict in a loaded file, unwrapping ``state_dict`` / ``model`` / ``network``."""
    if isinstance(content, Mapping):
        for wrapper in ("state_dict", "model", "network"):
            inner = content.get(wrapper)
            if isinstance(inner, Mapping) and any(isinstance(v, Tensor) for v in inner.values()):
                return tensor_entries(inner, source)
        tensors = {str(k): v for k, v in content.items() if isinstance(v, Tensor)}
        if tensors:
            return tensors
    raise MissingWeightsError(f"{source} holds no tensors by name (a state dict): it is not a weights file")


# --- MiT key layouts ----------------------------------------------------------------------------

Rule = tuple[re.Pattern, Callable[[re.Match], str]]


def _rules(*pairs: tuple[str, Callable[[re.Match], str]]) -> list[Rule]:
    return [(re.compile(pattern), build) for pattern, build in pairs]


def _up(match: re.Match) -> int:
    return int(match[1]) + 1


def _down(match: re.Match) -> int:
    return int(match[1]) - 1


# LandFuse's MiTEncoder keys (``stages.{i}...``, i = 0..3) <-> the original SegFormer keys (s = 1..4).
_TO_SEGFORMER = _rules(
    (r"^stages\.(\d)\.patch_embed\.(.+)$", lambda m: f"patch_embed{_up(m)}.{m[2]}"),
    (r"^stages\.(\d)\.blocks\.(\d+)\.mlp\.dwconv\.(.+)$", lambda m: f"block{_up(m)}.{m[2]}.mlp.dwconv.dwconv.{m[3]}"),
    (r"^stages\.(\d)\.blocks\.(\d+)\.(.+)$", lambda m: f"block{_up(m)}.{m[2]}.{m[3]}"),
    (r"^stages\.(\d)\.norm\.(.+)$", lambda m: f"norm{_up(m)}.{m[2]}"),
)
_FROM_SEGFORMER = _rules(
    (r"^patch_embed([1-4])\.(.+)$", lambda m: f"stages.{_down(m)}.patch_embed.{m[2]}"),
    (
        r"^block([1-4])\.(\d+)\.mlp\.dwconv\.dwconv\.(.+)$",
        lambda m: f"stages.{_down(m)}.blocks.{m[2]}.mlp.dwconv.{m[3]}",
    ),
    (r"^block([1-4])\.(\d+)\.(.+)$", lambda m: f"stages.{_down(m)}.blocks.{m[2]}.{m[3]}"),
    (r"^norm([1-4])\.(.+)$", lambda m: f"stages.{_down(m)}.norm.{m[2]}"),
)
# Hugging Face hub keys (below ``segformer.encoder.``) -> LandFuse; ``key``/``value`` are stacked separately.
_HF_BLOCK_PARTS = {
    "layer_norm_1": "norm1",
    "attention.self.query": "attn.q",
    "attention.self.sr": "attn.sr",
    "attention.self.layer_norm": "attn.norm",
    "attention.output.dense": "attn.proj",
    "layer_norm_2": "norm2",
    "mlp.dense1": "mlp.fc1",
    "mlp.dwconv.dwconv": "mlp.dwconv",
    "mlp.dense2": "mlp.fc2",
}
_FROM_HUGGINGFACE = _rules(
    (r"^patch_embeddings\.(\d)\.proj\.(.+)$", lambda m: f"stages.{m[1]}.patch_embed.proj.{m[2]}"),
    (r"^patch_embeddings\.(\d)\.layer_norm\.(.+)$", lambda m: f"stages.{m[1]}.patch_embed.norm.{m[2]}"),
    (r"^layer_norm\.(\d)\.(.+)$", lambda m: f"stages.{m[1]}.norm.{m[2]}"),
    *(
        (
            rf"^block\.(\d)\.(\d+)\.{re.escape(hf)}\.(weight|bias)$",
            lambda m, lf=lf: f"stages.{m[1]}.blocks.{m[2]}.{lf}.{m[3]}",
        )
        for hf, lf in _HF_BLOCK_PARTS.items()
    ),
)
_HF_KEY_VALUE = re.compile(r"^block\.(\d)\.(\d+)\.attention\.self\.(key|value)\.(weight|bias)$")
# transformers 5 renames the hub keys in memory (its conversion mapping); read those names too.
_HF5_TO_HUB = _rules(
    (r"^stages\.(\d)\.patch_embeddings\.(.+)$", lambda m: f"patch_embeddings.{m[1]}.{m[2]}"),
    (r"^stages\.(\d)\.layer_norm\.(.+)$", lambda m: f"layer_norm.{m[1]}.{m[2]}"),
    (r"^stages\.(\d)\.blocks\.(\d+)\.(.+)$", lambda m: f"block.{m[1]}.{m[2]}.{_hf5_block_part(m[3])}"),
)
_HF5_PARTS = (
    ("layernorm_before", "layer_norm_1"),
    ("layernorm_after", "layer_norm_2"),
    ("attention.q_proj", "attention.self.query"),
    ("attention.k_proj", "attention.self.key"),
    ("attention.v_proj", "attention.self.value"),
    ("attention.o_proj", "attention.output.dense"),
    ("attention.sequence_reduction.sequence_reduction", "attention.self.sr"),
    ("attention.sequence_reduction.layer_norm", "attention.self.layer_norm"),
    ("mlp.fc1", "mlp.dense1"),
    ("mlp.fc2", "mlp.dense2"),
)


def _hf5_block_part(rest: str) -> str:
    for new, old in _HF5_PARTS:
        if rest.startswith(new + "."):
            return old + rest[len(new) :]
    return rest


def _apply(rules: list[Rule], key: str) -> str | None:
    for pattern, build in rules:
        match = pattern.match(key)
        if match:
            return build(match)
    return None


def segformer_key(landfuse_key: str) -> str:
    """A LandFuse ``MiTEncoder`` key (``stages.0.blocks.1.mlp.dwconv.weight``) in SegFormer naming
    (``block1.1.mlp.dwconv.dwconv.weight``)."""
    name = _apply(_TO_SEGFORMER, landfuse_key)
    if name is None:
        raise KeyError(f"{landfuse_key!r} is not a MiT encoder key")
    return name


@dataclass
class MiTWeights:
    """Encoder weights in LandFuse naming (``stages.{i}...``), with where they came from."""

    layout: str
    tensors: dict[str, Tensor]
    ignored: list[str]  # file entries that are not encoder weights (classifier head ...)
    origin: dict[str, str] = field(default_factory=dict)  # LandFuse name -> the file's name(s)

    @property
    def widths(self) -> tuple[int, ...]:
        """Output channels of the stages the file has, e.g. ``(64, 128, 320, 512)``."""
        stages = sorted({int(k.split(".")[1]) for k in self.tensors})
        return tuple(int(self.tensors[f"stages.{i}.patch_embed.proj.weight"].shape[0]) for i in stages)


def _prefix(keys: list[str], suffix: str) -> str | None:
    for key in keys:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return None


def _convert(tensors: dict[str, Tensor], prefix: str, convert: Callable[[str], str | None], layout: str) -> MiTWeights:
    """Rename the entries under ``prefix``: ``convert`` gives the new name, ``""`` (set aside) or ``None`` (ignored)."""
    weights = MiTWeights(layout, {}, [])
    for key, value in tensors.items():
        name = convert(key[len(prefix) :]) if key.startswith(prefix) else None
        if name is None:
            weights.ignored.append(key)
        elif name:
            weights.tensors[name] = value
            weights.origin[name] = key
    return weights


def _huggingface_to_landfuse(tensors: dict[str, Tensor], prefix: str, source: str) -> MiTWeights:
    key_value: dict[tuple[str, str, str], dict[str, Tensor]] = {}

    def convert(key: str) -> str | None:
        match = _HF_KEY_VALUE.match(key)
        if match:
            stage, block, which, kind = match.groups()
            key_value.setdefault((stage, block, kind), {})[which] = tensors[prefix + key]
            return ""
        return _apply(_FROM_HUGGINGFACE, key)

    weights = _convert(tensors, prefix, convert, "huggingface")
    for (stage, block, kind), parts in key_value.items():
        if set(parts) != {"key", "value"}:
            raise MissingWeightsError(
                f"{source}: block {stage}.{block} has an attention {kind} for {sorted(parts)} only"
            )
        name = f"stages.{stage}.blocks.{block}.attn.kv.{kind}"
        weights.tensors[name] = torch.cat([parts["key"], parts["value"]], dim=0)
        weights.origin[name] = f"{prefix}block.{stage}.{block}.attention.self.key|value.{kind}"
    return weights


def mit_weights(tensors: dict[str, Tensor], source: str) -> MiTWeights:
    """The MiT encoder weights of a state dict in SegFormer or Hugging Face layout (see the module docstring)."""
    keys = list(tensors)
    prefix = _prefix(keys, "patch_embed1.proj.weight")
    if prefix is not None:
        return _convert(tensors, prefix, lambda k: _apply(_FROM_SEGFORMER, k), "segformer")
    prefix = _prefix(keys, "patch_embeddings.0.proj.weight")
    if prefix is not None:
        return _huggingface_to_landfuse(tensors, prefix, source)
    prefix = _prefix(keys, "stages.0.patch_embeddings.proj.weight")
    if prefix is not None:  # transformers 5 names: back to the hub's, then as above
        hub = {
            (_apply(_HF5_TO_HUB, k[len(prefix) :]) if k.startswith(prefix) else None) or k: v
            for k, v in tensors.items()
        }
        return _huggingface_to_landfuse(hub, "", source)
    raise MissingWeightsError(
        f"{source} is not a MiT (SegFormer) encoder: expected keys like 'patch_embed1.proj.weight' (SegFormer, "
        f"mit_b*.pth) or 'segformer.encoder.patch_embeddings.0.proj.weight' (Hugging Face nvidia/mit-b*), found "
        f"{', '.join(keys[:3])} ...; give an ImageNet MiT file"
    )


def read_mit_weights(path: str | Path) -> MiTWeights:
    """ImageNet MiT encoder weights from a file in either layout."""
    path = Path(path)
    return mit_weights(tensor_entries(read_weights_file(path), path.name), path.name)


# --- loading into models ----------------------------------------------------------------------


def widen_first_convolution(weight: Tensor, in_channels: int) -> Tensor:
    """The official CloudSeg rule for a first convolution ``[C, c0, k, k]`` of ``c0`` (3) pretrained bands
    -> ``[C, in_channels, k, k]``: one band sums the kernels, ``n`` bands take kernel ``i mod c0`` x ``c0 / n``."""
    if in_channels == weight.shape[1]:
        return weight
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    index = torch.arange(in_channels) % weight.shape[1]
    return weight[:, index] * (weight.shape[1] / in_channels)


@dataclass
class EncoderInit:
    """What ``init_encoders`` did to one encoder of the model."""

    name: str
    loaded: int = 0  # entries
    loaded_parameters: int = 0
    kept: list[str] = field(default_factory=list)  # entries left at their initialisation, with the reason
    widened: str = ""
    skipped: str = ""  # why the whole encoder was left alone


@dataclass
class InitReport:
    """Per encoder what was loaded, and the file's entries that no encoder used."""

    source: str
    layout: str
    encoders: list[EncoderInit]
    unused: list[str]

    @property
    def loaded_parameters(self) -> int:
        return sum(e.loaded_parameters for e in self.encoders)

    def lines(self) -> list[str]:
        """A human-readable summary, one line per encoder plus the unused file entries."""
        out = [f"{self.source} ({self.layout} layout): {self.loaded_parameters / 1e6:.2f} M parameters loaded"]
        for e in self.encoders:
            if e.skipped:
                out.append(f"  {e.name}: not loaded ({e.skipped})")
                continue
            text = f"  {e.name}: {e.loaded} entries loaded"
            if e.widened:
                text += f"; {e.widened}"
            if e.kept:
                shown = "; ".join(e.kept[:4]) + (f"; ... ({len(e.kept)} in all)" if len(e.kept) > 4 else "")
                text += f"; kept at initialisation: {shown}"
            out.append(text)
        if self.unused:
            out.append(f"  file entries used by no encoder: {len(self.unused)} (e.g. {', '.join(self.unused[:3])})")
        return out


def mit_encoders(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's MiT-style encoders: modules with ``stages`` of MiT or carrier-token stages."""
    from .blocks.carrier import CarrierTokenStage
    from .blocks.mit import MiTStage

    found = []
    for name, module in model.named_modules():
        stages = getattr(module, "stages", None)
        if isinstance(stages, nn.ModuleList) and any(isinstance(s, (MiTStage, CarrierTokenStage)) for s in stages):
            found.append((name, module))
    return found


def _encoder_widths(encoder: nn.Module) -> dict[int, int]:
    return {i: s.patch_embed.proj.out_channels for i, s in enumerate(encoder.stages) if hasattr(s, "patch_embed")}


def _load_encoder(name: str, encoder: nn.Module, weights: MiTWeights, used: set[str]) -> EncoderInit:
    from .blocks.carrier import CarrierTokenStage

    result = EncoderInit(name)
    widths = _encoder_widths(encoder)
    file_widths = dict(enumerate(weights.widths))
    if any(file_widths.get(i) != w for i, w in widths.items()):
        result.skipped = f"stage widths {tuple(widths.values())} differ from the file's {weights.widths}"
        return result
    with torch.no_grad():
        for key, target in encoder.state_dict(keep_vars=True).items():
            stage = encoder.stages[int(key.split(".")[1])]
            local = key.split(".", 2)[2]
            source = weights.tensors.get(key)
            if isinstance(stage, CarrierTokenStage) and not local.startswith(("patch_embed.", "norm.")):
                result.kept.append(f"{key} (carrier-token block)")
                continue
            if source is None:
                result.kept.append(f"{key} (not in the file)")
                continue
            if key == "stages.0.patch_embed.proj.weight" and source.shape[1] != target.shape[1]:
                result.widened = f"first convolution widened from {source.shape[1]} to {target.shape[1]} bands"
                source = widen_first_convolution(source.float(), target.shape[1])
            if tuple(source.shape) != tuple(target.shape):
                result.kept.append(f"{key} (file {list(source.shape)}, model {list(target.shape)})")
                continue
            target.copy_(source.to(target.dtype))
            used.add(key)
            result.loaded += 1
            result.loaded_parameters += target.numel()
    return result


def init_encoders(model: nn.Module, weights: MiTWeights, source: str = "") -> InitReport:
    """Load ``weights`` into every MiT encoder of ``model`` whose widths match (see the module docstring).

    Raises ``BadParamsError`` when no encoder of the model fits the file.
    """
    encoders = mit_encoders(model)
    used: set[str] = set()
    results = [_load_encoder(name, encoder, weights, used) for name, encoder in encoders]
    unused = [weights.origin.get(name, name) for name in weights.tensors if name not in used]
    report = InitReport(source, weights.layout, results, unused + weights.ignored)
    if not any(r.loaded for r in results):
        found = "; ".join(f"{r.name}: {r.skipped}" for r in results) or "the model has no MiT encoder"
        raise BadParamsError(
            f"no encoder of the model takes the MiT weights in {source or 'the file'} ({found}); "
            "use a paper variant, or a MiT file of the encoder's size (B0 for widths 32-64-160-256, B1-B5 otherwise)"
        )
    return report
