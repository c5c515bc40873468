"""The CloudSeg official-checkpoint fixture (``../shared/data/cloudseg-official``, see its SOURCE.md).

It holds every key and shape of the official ``StudentNet.pth`` / ``TeacherNet.pth`` state dicts and
the outputs of the official networks at 128 x 128 for weights filled by documented formulas. The
``hash`` fill is rebuilt here from its description: for key ``k`` (without ``module.``) with ``n``
elements, ``seed = FNV-1a-32(k)``, ``x_i = (seed + i * 0x9E3779B9) mod 2^32`` mixed by
``x ^= x >> 16; x *= 0x7FEB352D; x ^= x >> 15; x *= 0x846CA68B; x ^= x >> 16`` (mod 2^32),
``u = x / 2^32 * 2 - 1``; running variances ``1 + 0.1 |u|``, running means ``0.02 u``, tensors of
2+ dims ``u / sqrt(n / shape[0])``, other ``.weight`` entries ``1 + 0.1 u``, the rest ``0.02 u``,
``num_batches_tracked`` 0; float64 math cast to float32.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[3]  # also when imported by the benchmark
FIXTURE = REPO_ROOT.parent / "shared" / "data" / "cloudseg-official" / "fixture"
PREFIX = "module."


@cache
def entries(which: str) -> tuple[tuple[str, tuple[int, ...], str], ...]:
    """``(key with module., shape, dtype name)`` of every entry of ``student`` or ``teacher``, in file order."""
    lines = (FIXTURE / f"{which}_state_dict.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = (line.split("\t") for line in lines)
    return tuple((key, tuple(json.loads(shape)), dtype) for key, shape, dtype in rows)


def facts(which: str) -> dict:
    return json.loads((FIXTURE / f"{which}_facts.json").read_text(encoding="utf-8"))


def fnv1a32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def hash_uniform(key: str, count: int) -> np.ndarray:
    """``u`` in [-1, 1), float64, for the ``count`` elements of entry ``key`` (uint32 arithmetic wraps mod 2^32)."""
    x = np.arange(count, dtype=np.uint32) * np.uint32(0x9E3779B9) + np.uint32(fnv1a32(key.encode("utf-8")))
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x.astype(np.float64) / 2.0**32 * 2.0 - 1.0


def hash_filled(key: str, shape: tuple[int, ...], dtype: str) -> torch.Tensor:
    """The ``hash`` fill of one entry (``key`` without ``module.``)."""
    if dtype == "int64":
        return torch.zeros(shape, dtype=torch.int64)
    count = int(np.prod(shape, dtype=np.int64))
    u = hash_uniform(key, count)
    if key.endswith("running_var"):
        values = 1.0 + 0.1 * np.abs(u)
    elif key.endswith("running_mean"):
        values = 0.02 * u
    elif len(shape) >= 2:
        values = u / np.sqrt(count // shape[0])
    elif key.endswith(".weight"):
        values = 1.0 + 0.1 * u
    else:
        values = 0.02 * u
    return torch.from_numpy(values.astype(np.float32).reshape(shape))


def hash_state_dict(which: str) -> dict[str, torch.Tensor]:
    """The official state dict of ``which`` (``module.`` keys) with the ``hash`` fill: 0.81 GB of float32."""
    return {key: hash_filled(key.removeprefix(PREFIX), shape, dtype) for key, shape, dtype in entries(which)}


def meta_state_dict(which: str) -> dict[str, torch.Tensor]:
    """The official keys and shapes of ``which`` as ``meta`` tensors (no memory): for key checks only."""
    dtypes = {"float32": torch.float32, "int64": torch.int64}
    return {key: torch.empty(shape, dtype=dtypes[dtype], device="meta") for key, shape, dtype in entries(which)}


def reference_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """The fixture's optical ``[1, 4, 128, 128]`` and SAR ``[1, 2, 128, 128]`` inputs."""
    return tuple(torch.from_numpy(np.load(FIXTURE / f"input_{name}.npy")) for name in ("opt", "sar"))


def reference_output(name: str) -> np.ndarray:
    """An official output with the hash fill: ``student_seg_logits``, ``student_cr_output``, ``teacher_seg_logits``."""
    return np.load(FIXTURE / f"{name}_hash.npy")
