"""Synthetic cloudy benchmark: does fusion help under clouds, and does distillation help the students?

Writes ``bench/results/synthetic.json``. On a held-out synthetic split (the ``test`` seeds, 30-60 %
cloud cover, never seen in training or validation):

- ``fusion_vs_optical``: mIoU on cloudy pixels (and clear, all) of each bundled demo model
  (``resources/models/<arch>-lite.onnx``) against an optical-only model trained with the same demo
  recipe: the ``mit_unet`` lite baseline (one stream of the CloudSeg lite widths, 0.7 M parameters).
  Goal: fusion >= optical-only + 10 points on cloudy pixels.
- ``same_size_ablation``: CloudSeg lite trained (without a teacher) once with SAR and once with the
  SAR input blanked to a constant, so the model size is identical and only the SAR information
  differs.
- ``distillation``: the CloudSeg and EDC demo students (teacher then student) against the same
  models trained with the same recipe without a teacher.

The comparison models are trained here with ``backend.training.demo``, so the run takes minutes
(about 15 on 2 busy CPU cores). Run: ``python -m landfuse.bench synthetic``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "synthetic.json"
TEST_SCENES = 8
TEST_SIZE = 128
TEST_CLOUD_COVER = (0.3, 0.6)
GOAL_POINTS = 10.0
DISTILLED = ("cloudseg", "edc")


def _machine() -> dict:
    import onnxruntime
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _scores(runner, test_set) -> dict:
    from landfuse.backend.evaluation import evaluate_model

    metrics = evaluate_model(runner, test_set)
    return {
        "cloudy_miou": metrics["cloudy"]["miou"],
        "clear_miou": metrics["clear"]["miou"],
        "miou": metrics["miou"],
        "oa": metrics["oa"],
        "parameters": runner.card.parameters,
    }


class SarBlanked:
    """A view of a dataset whose SAR bands hold each band's normalisation mean: no SAR information."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        import dataclasses

        import numpy as np

        from landfuse.backend.models.presets import DEMO_SAR_BANDS

        sample = self.dataset[index]
        means = np.array([band.mean for band in DEMO_SAR_BANDS], np.float32)[:, None, None]
        return dataclasses.replace(sample, sar=np.broadcast_to(means, sample.sar.shape).copy())


def _points(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(100.0 * (a - b), 2)


def _trained(architecture: str, folder: Path, recipe, **options):
    """Train with the demo recipe and return a runner over the final checkpoint (parameters filled in)."""
    import dataclasses

    from landfuse.backend.models.profiling import count_parameters
    from landfuse.backend.runners import TorchRunner
    from landfuse.backend.training.demo import train_demo_model

    result = train_demo_model(architecture, folder, recipe, progress=False, log=lambda line: None, **options)
    runner = TorchRunner.from_checkpoint(result.checkpoint)
    runner.card = dataclasses.replace(runner.card, parameters=count_parameters(runner.module))
    return runner


def main() -> dict:
    """Evaluate the demo models and their comparison models; write ``bench/results/synthetic.json``."""
    import torch

    from landfuse.backend.data import open_dataset
    from landfuse.backend.runners import BUNDLED_MODELS, OnnxRunner
    from landfuse.backend.training.demo import DEMO_ARCHITECTURES, DemoRecipe

    torch.set_num_threads(1)  # two spinning OpenMP threads on a busy 2-core machine ran ten times slower
    started = time.perf_counter()
    recipe = DemoRecipe()
    test_set = open_dataset("synthetic", split="test", count=TEST_SCENES, size=TEST_SIZE, cloud_cover=TEST_CLOUD_COVER)
    cloud_share = sum(float(test_set[i].cloud_mask.mean()) for i in range(len(test_set))) / len(test_set)
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        optical_only = _scores(_trained("mit_unet", work / "optical_only", recipe), test_set)
        fusion, distillation = {}, {}
        for architecture in DEMO_ARCHITECTURES:
            path = BUNDLED_MODELS / f"{architecture}-lite.onnx"
            if not path.is_file():
                fusion[architecture] = {"missing": str(path.name)}
                continue
            scores = _scores(OnnxRunner(path), test_set)
            gain = _points(scores["cloudy_miou"], optical_only["cloudy_miou"])
            fusion[architecture] = {
                **scores,
                "cloudy_gain_points": gain,
                "meets_goal": gain is not None and gain >= GOAL_POINTS,
            }
            if architecture in DISTILLED:
                plain = _scores(_trained(architecture, work / f"{architecture}_plain", recipe, distill=False), test_set)
                distillation[architecture] = {
                    "student": scores,
                    "without_distillation": plain,
                    "cloudy_gain_points": _points(scores["cloudy_miou"], plain["cloudy_miou"]),
                    "all_gain_points": _points(scores["miou"], plain["miou"]),
                }
        blanked = _trained("cloudseg", work / "cloudseg_blank_sar", recipe, distill=False, view=SarBlanked)
        without_sar = _scores(blanked, SarBlanked(test_set))
        with_sar = distillation.get("cloudseg", {}).get("without_distillation")
        ablation = {
            "model": "cloudseg-lite trained without a teacher",
            "with_sar": with_sar,
            "sar_blanked": without_sar,
            "cloudy_gain_points": _points(with_sar and with_sar["cloudy_miou"], without_sar["cloudy_miou"]),
        }
    result = {
        "machine": _machine(),
        "test_split": {
            "scenes": TEST_SCENES,
            "size": TEST_SIZE,
            "cloud_cover_drawn": list(TEST_CLOUD_COVER),
            "mean_cloud_and_shadow_share": round(cloud_share, 4),
        },
        "recipe": {k: list(v) if isinstance(v, tuple) else v for k, v in recipe.__dict__.items()},
        "goal": f"fusion cloudy mIoU >= optical-only cloudy mIoU + {GOAL_POINTS:g} points",
        "optical_only": {"model": "mit_unet-lite (optical only)", **optical_only},
        "fusion_vs_optical": fusion,
        "distillation": distillation,
        "same_size_ablation": ablation,
        "seconds": round(time.perf_counter() - started, 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
