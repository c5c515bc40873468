"""``landfuse synth``: write synthetic cloudy SAR + optical scenes with labels as GeoTIFFs.

The output folder follows the generic layout (``optical/``, ``optical_clear/``, ``sar/``, ``label/``,
``cloud_mask/``), so it can be classified, evaluated and trained on like a real dataset.
"""

from __future__ import annotations

import argparse
import json

from .train import cloud_cover_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--count", type=int, default=1, help="number of scenes")
    parser.add_argument("--size", type=int, default=256, help="scene height in pixels (10 m)")
    parser.add_argument("--width", type=int, help="scene width in pixels (default: --size)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first scene; scene i uses seed + i")
    parser.add_argument(
        "--cloud-cover", type=cloud_cover_arg, default=(0.3, 0.6), help="cloud fraction, or low,high range"
    )


def run(args: argparse.Namespace) -> int:
    from ..data.synthetic import generate_scene, write_scene

    for i in range(args.count):
        scene = generate_scene(args.size, args.width, args.seed + i, args.cloud_cover)
        paths = write_scene(scene, args.out)
        print(
            json.dumps(
                {
                    "scene": scene.name,
                    "cloud_share": float(scene.cloud_mask.mean()),
                    **{layer: str(path) for layer, path in paths.items()},
                }
            )
        )
    return 0
