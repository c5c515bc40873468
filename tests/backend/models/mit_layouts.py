"""Key lists of the ImageNet MiT files users have, written from the published naming schemes.

- ``segformer_layout``: NVIDIA's ``mit_b*.pth`` (``mix_transformer.py`` of SegFormer, also vendored
  by segmentation_models_pytorch): checked against the official CloudSeg state dict, whose
  ``cross_modality_stream.encoder`` is smp's MiT-B4 with 3 input channels.
- ``huggingface_layout``: the ``nvidia/mit-b*`` files of the Hugging Face hub
  (``SegformerForImageClassification``, transformers 4 names). Checked once against
  transformers 5.24.0: its model built from ``SegformerConfig`` on the meta device has exactly these
  keys and shapes for B0, B2 and B4 after ``HF5_RENAMES`` (transformers' own conversion mapping of
  ``SegformerModel``, copied below) is applied to them.

Both build meta tensors, so paper-size files cost no memory.
"""

from __future__ import annotations

import re

import torch

HF5_RENAMES = (  # transformers 5 conversion_mapping.py, "SegformerModel": hub name -> in-memory name
    (r"encoder.patch_embeddings.(\d+).", r"stages.\1.patch_embeddings."),
    (r"encoder.block.(\d+).", r"stages.\1.blocks."),
    (r"encoder.layer_norm.(\d+)", r"stages.\1.layer_norm"),
    ("attention.self.query", "attention.q_proj"),
    ("attention.self.key", "attention.k_proj"),
    ("attention.self.value", "attention.v_proj"),
    ("attention.self.sr", "attention.sequence_reduction.sequence_reduction"),
    ("attention.self.layer_norm", "attention.sequence_reduction.layer_norm"),
    ("attention.output.dense", "attention.o_proj"),
    ("mlp.dense1", "mlp.fc1"),
    ("mlp.dense2", "mlp.fc2"),
    ("layer_norm_1", "layernorm_before"),
    ("layer_norm_2", "layernorm_after"),
)


def segformer_layout(dims, depths, sr_ratios=(8, 4, 2, 1), in_channels=3, classes=1000) -> dict[str, tuple]:
    """``{key: shape}`` of an original SegFormer MiT file, classifier ``head`` included."""
    keys, previous = {}, in_channels
    for s, (d, depth, sr) in enumerate(zip(dims, depths, sr_ratios, strict=True), start=1):
        kernel = 7 if s == 1 else 3
        keys[f"patch_embed{s}.proj.weight"] = (d, previous, kernel, kernel)
        keys |= {f"patch_embed{s}.{n}": (d,) for n in ("proj.bias", "norm.weight", "norm.bias")}
        for j in range(depth):
            parts = {"norm1.weight": (d,), "norm1.bias": (d,), "attn.q.weight": (d, d), "attn.q.bias": (d,)}
            parts |= {"attn.kv.weight": (2 * d, d), "attn.kv.bias": (2 * d,)}
            parts |= {"attn.proj.weight": (d, d), "attn.proj.bias": (d,)}
            if sr > 1:
                parts |= {"attn.sr.weight": (d, d, sr, sr), "attn.sr.bias": (d,)}
                parts |= {"attn.norm.weight": (d,), "attn.norm.bias": (d,)}
            parts |= {"norm2.weight": (d,), "norm2.bias": (d,), "mlp.fc1.weight": (4 * d, d), "mlp.fc1.bias": (4 * d,)}
            parts |= {"mlp.dwconv.dwconv.weight": (4 * d, 1, 3, 3), "mlp.dwconv.dwconv.bias": (4 * d,)}
            parts |= {"mlp.fc2.weight": (d, 4 * d), "mlp.fc2.bias": (d,)}
            keys |= {f"block{s}.{j}.{n}": shape for n, shape in parts.items()}
        keys[f"norm{s}.weight"] = keys[f"norm{s}.bias"] = (d,)
        previous = d
    keys["head.weight"], keys["head.bias"] = (classes, dims[-1]), (classes,)
    return keys


def huggingface_layout(dims, depths, sr_ratios=(8, 4, 2, 1), in_channels=3, classes=1000) -> dict[str, tuple]:
    """``{key: shape}`` of a hub ``nvidia/mit-b*`` file (transformers 4 names), ``classifier`` included."""
    keys, previous, p = {}, in_channels, "segformer.encoder."
    for i, (d, depth, sr) in enumerate(zip(dims, depths, sr_ratios, strict=True)):
        kernel = 7 if i == 0 else 3
        keys[f"{p}patch_embeddings.{i}.proj.weight"] = (d, previous, kernel, kernel)
        keys |= {f"{p}patch_embeddings.{i}.{n}": (d,) for n in ("proj.bias", "layer_norm.weight", "layer_norm.bias")}
        for j in range(depth):
            parts = {"layer_norm_1.weight": (d,), "layer_norm_1.bias": (d,)}
            for n in ("query", "key", "value"):
                parts |= {f"attention.self.{n}.weight": (d, d), f"attention.self.{n}.bias": (d,)}
            if sr > 1:
                parts |= {"attention.self.sr.weight": (d, d, sr, sr), "attention.self.sr.bias": (d,)}
                parts |= {"attention.self.layer_norm.weight": (d,), "attention.self.layer_norm.bias": (d,)}
            parts |= {"attention.output.dense.weight": (d, d), "attention.output.dense.bias": (d,)}
            parts |= {"layer_norm_2.weight": (d,), "layer_norm_2.bias": (d,)}
            parts |= {"mlp.dense1.weight": (4 * d, d), "mlp.dense1.bias": (4 * d,)}
            parts |= {"mlp.dwconv.dwconv.weight": (4 * d, 1, 3, 3), "mlp.dwconv.dwconv.bias": (4 * d,)}
            parts |= {"mlp.dense2.weight": (d, 4 * d), "mlp.dense2.bias": (d,)}
            keys |= {f"{p}block.{i}.{j}.{n}": shape for n, shape in parts.items()}
        keys[f"{p}layer_norm.{i}.weight"] = keys[f"{p}layer_norm.{i}.bias"] = (d,)
        previous = d
    keys["classifier.weight"], keys["classifier.bias"] = (classes, dims[-1]), (classes,)
    return keys


def transformers5_names(layout: dict[str, tuple]) -> dict[str, tuple]:
    """The same entries under the names transformers 5 uses in memory (``HF5_RENAMES``)."""
    renamed = {}
    for key, shape in layout.items():
        for source, target in HF5_RENAMES:
            key = re.sub(source, target, key)
        renamed[key] = shape
    return renamed


def meta_tensors(layout: dict[str, tuple]) -> dict[str, torch.Tensor]:
    return {key: torch.empty(shape, device="meta") for key, shape in layout.items()}


def random_tensors(layout: dict[str, tuple], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(shape, generator=generator) for key, shape in layout.items()}
