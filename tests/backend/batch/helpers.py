"""Inputs for the batch tests: a small convolutional ONNX model built without torch, and raster pairs.

The model follows the LandFuse ONNX contract (inputs ``optical`` [B,3,H,W] and ``sar`` [B,2,H,W], output
``logits`` [B,3,H,W], card in ``metadata_props``). Its two 3 x 3 convolutions with zero padding give
window borders other values than window centres, so the blending of overlapping windows matters.
"""

from __future__ import annotations

import numpy as np
import onnx
import rasterio
from onnx import TensorProto, helper, numpy_helper
from rasterio.transform import from_origin

from landfuse.common.card import ONNX_METADATA_KEY
from tests.backend.engine.helpers import OPTICAL_CRS, OPTICAL_ORIGIN, smooth_field, tiny_card


def write_conv_model(path, *, width: int = 8, seed: int = 3):
    """A two-layer 3 x 3 convolutional classifier for ``tiny_card()`` (tile 64), random weights."""
    card = tiny_card()
    rng = np.random.default_rng(seed)
    channels = len(card.optical_bands) + len(card.sar_bands)
    w1 = (rng.standard_normal((width, channels, 3, 3)) / 3).astype(np.float32)
    w2 = (rng.standard_normal((card.num_classes, width, 3, 3)) / 3).astype(np.float32)
    nodes = [
        helper.make_node("Concat", ["optical", "sar"], ["stacked"], axis=1),
        helper.make_node("Conv", ["stacked", "w1"], ["hidden"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["hidden"], ["active"]),
        helper.make_node("Conv", ["active", "w2"], ["logits"], pads=[1, 1, 1, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_fusion",
        [
            helper.make_tensor_value_info("optical", TensorProto.FLOAT, ["B", 3, "H", "W"]),
            helper.make_tensor_value_info("sar", TensorProto.FLOAT, ["B", 2, "H", "W"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", card.num_classes, "H", "W"])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {ONNX_METADATA_KEY: card.to_json()})
    onnx.save(model, str(path))
    return path


def write_pair(folder, height: int, width: int, seed: int = 0, origin=OPTICAL_ORIGIN):
    """``folder/optical.tif`` (3 bands, uint16 reflectance x 10000) and ``folder/sar.tif`` (VV, VH in dB) on one
    UTM 10 m grid with its top-left corner at ``origin``; tiled GeoTIFFs."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    optical = np.stack([300 + 5000 * smooth_field(rng, (height, width), 24) for _ in range(3)]).astype(np.uint16)
    sar = np.stack([-20 + 15 * smooth_field(rng, (height, width), 12), -26 + 12 * smooth_field(rng, (height, width))])
    common = dict(
        driver="GTiff",
        width=width,
        height=height,
        crs=OPTICAL_CRS,
        transform=from_origin(*origin, 10, 10),
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    with rasterio.open(folder / "optical.tif", "w", count=3, dtype="uint16", nodata=0, **common) as dst:
        dst.write(optical)
    with rasterio.open(folder / "sar.tif", "w", count=2, dtype="float32", nodata=np.nan, **common) as dst:
        dst.write(sar.astype(np.float32))
    return folder / "optical.tif", folder / "sar.tif"
