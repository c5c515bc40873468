"""Demo-weight helpers: a tiny run of the recipe exported to ONNX with the demo card."""

import numpy as np
import onnx

from landfuse.backend.models.presets import DEMO_TRAINING_DATA
from landfuse.backend.runners import OnnxRunner
from landfuse.backend.training.demo import DemoRecipe, export_demo_model, held_out_scores, train_demo_model

TINY = DemoRecipe(train_scenes=2, scene_size=32, val_scenes=1, val_size=32, crop_size=32, batch_size=2, epochs=1)


def test_tiny_recipe_exports_an_onnx_model_with_the_demo_card(pixel_fusion, tmp_path):
    result = train_demo_model(pixel_fusion, tmp_path / "work", TINY, progress=False, log=lambda line: None)
    path = export_demo_model(result, TINY, tmp_path / "models")
    assert path.name == "pixel_fusion-lite.onnx"
    runner = OnnxRunner(path, device="cpu")
    card = runner.card
    assert card.training_data == DEMO_TRAINING_DATA == "synthetic training data: demonstration only, not for mapping"
    assert card.metrics["synthetic_validation"]["miou"] is not None and card.parameters > 0
    assert "30-60 % cloud" in card.metrics["evaluated_on"]
    weights = onnx.load(str(path)).graph.initializer
    assert any(w.data_type == onnx.TensorProto.FLOAT16 for w in weights)  # stored as float16 to stay small
    scores = held_out_scores(runner, TINY)
    assert scores["miou"] == card.metrics["synthetic_validation"]["miou"] or np.isclose(
        scores["miou"], card.metrics["synthetic_validation"]["miou"], atol=1e-3
    )
