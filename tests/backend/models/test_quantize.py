"""int8 and float16 copies of a bundled lite model: through the real engine, parity, card kept, commands."""

import json
from collections import Counter

import numpy as np
import onnx
import onnxruntime
import pytest
import rasterio
from onnx import helper, numpy_helper

from landfuse.backend.cli import main
from landfuse.backend.data import generate_scene
from landfuse.backend.data.synthetic import write_scene
from landfuse.backend.engine import ClassifyOptions, classify
from landfuse.backend.engine.normalise import Normaliser
from landfuse.backend.errors import BadParamsError, BandError
from landfuse.backend.models.calibration import raster_windows, synthetic_windows
from landfuse.backend.models.quantize import precision_of, prepare_float_graph, quantize_int8, quantize_model
from landfuse.backend.models.registry import default_card
from landfuse.backend.runners import BUNDLED_MODELS, OnnxRunner, read_model_card
from landfuse.common.card import BandSpec

MODEL = BUNDLED_MODELS / "claire-lite.onnx"  # the smallest bundled graph: the quickest to quantize
# Thresholds from measurement (docs/speed.md): the int8 copy agrees with float on 99.6 % of the test
# raster, the float16 copies' logits stay within 0.02 of float32 and agree on >= 99.97 % of pixels.
INT8_AGREEMENT = 0.97
FP16_LOGIT_TOLERANCE = 0.05
FP16_AGREEMENT = 0.999


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("quantize")


@pytest.fixture(scope="module")
def int8_model(folder):
    output = folder / "claire-lite.int8.onnx"
    args = ["quantize", str(MODEL), str(output), "--windows", "4", "--window-size", "128", "--check-windows", "2"]
    assert main(args) == 0
    return output


@pytest.fixture(scope="module")
def fp16_model(folder):
    return quantize_model(MODEL, folder / "claire-lite.fp16.onnx", "fp16", check_windows=0).path


@pytest.fixture(scope="module")
def scene(folder):
    """A held-out synthetic scene (test-split seed) as optical, SAR and label GeoTIFFs."""
    return write_scene(generate_scene(256, seed=2_000_777), folder / "scene")


def class_map(path):
    with rasterio.open(path) as src:
        return src.read(1), src.nodata


def test_int8_copy_runs_through_the_engine_and_agrees_with_the_float_model(int8_model, scene, folder):
    options = ClassifyOptions(device="cpu", batch_size=2)
    maps = {}
    for name, model in (("float", MODEL), ("int8", int8_model)):
        report = classify(scene["optical"], scene["sar"], model, folder / f"{name}.tif", options=options)
        assert report["provider"] == "onnxruntime:CPUExecutionProvider"
        maps[name], nodata = class_map(folder / f"{name}.tif")
    assert report["model"]["metrics"]["precision"]["precision"] == "int8"
    valid = maps["float"] != nodata
    assert valid.all() and (maps["int8"] != nodata).all()
    assert (maps["float"] == maps["int8"]).mean() >= INT8_AGREEMENT


def test_int8_card_keeps_every_field_and_records_the_precision(int8_model):
    original, stored = read_model_card(MODEL).to_dict(), read_model_card(int8_model).to_dict()
    precision = stored["metrics"].pop("precision")
    description = stored.pop("description")
    assert stored == {k: v for k, v in original.items() if k != "description"}
    assert description.startswith(original["description"]) and "int8" in description
    assert precision["precision"] == "int8" == precision_of(read_model_card(int8_model))
    assert "synthetic cloudy benchmark: 4 train-split scenes of 128 px" in precision["calibration"]["source"]
    assert precision["check"]["agreement"] >= INT8_AGREEMENT and precision["check"]["pixels"] == 2 * 128 * 128
    kept = precision["kept_float"]
    assert len(kept["first_convolutions"]) == 2 and len(kept["last_convolutions"]) == 1  # optical + SAR stems


def test_int8_graph_keeps_the_edges_and_attention_float_and_quantizes_the_rest(int8_model):
    graph = onnx.load(str(int8_model)).graph
    producers = {output: node for node in graph.node for output in node.output}
    kept = read_model_card(int8_model).metrics["precision"]["kept_float"]
    edges = set(kept["first_convolutions"] + kept["last_convolutions"])

    def float_inputs(node):
        return [name for name in node.input[:2] if getattr(producers.get(name), "op_type", "") != "DequantizeLinear"]

    convolutions = [n for n in graph.node if n.op_type == "Conv"]
    assert {n.name for n in convolutions if float_inputs(n)} == edges
    products = [n for n in graph.node if n.op_type == "MatMul"]
    float_products = [n for n in products if float_inputs(n)]
    assert all(len(float_inputs(n)) == 2 for n in float_products)  # activation x activation, no weights
    assert 0 < len(float_products) == kept["attention_products"] < len(products)
    inputs = {i.name: i.type.tensor_type.elem_type for i in (*graph.input, *graph.output)}
    assert set(inputs.values()) == {onnx.TensorProto.FLOAT}


def test_fp16_copy_matches_the_float_model_on_the_cpu(fp16_model):
    graph = onnx.load(str(fp16_model)).graph
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in graph.initializer)
    reference, half = OnnxRunner(MODEL, "cpu"), OnnxRunner(fp16_model, "cpu")
    assert half.card.metrics["precision"]["precision"] == "fp16"
    windows = synthetic_windows(reference.card, 0, 128, 2).check
    for window in windows:
        expected, got = reference.run(window)["logits"], half.run(window)["logits"]
        assert got.dtype == np.float32
        assert np.abs(got - expected).max() <= FP16_LOGIT_TOLERANCE
        assert (got.argmax(1) == expected.argmax(1)).mean() >= FP16_AGREEMENT


def test_quantize_refuses_a_model_that_is_not_float32(int8_model, folder):
    with pytest.raises(BadParamsError, match="already int8"):
        quantize_model(int8_model, folder / "twice.onnx", "int8")


def test_synthetic_calibration_maps_planetscope_band_names_and_refuses_missing_bands():
    card = default_card("edc", "paper")  # B, G, R, NIR + VV, VH
    windows = synthetic_windows(card, 1, 64, 0)
    scene = generate_scene(64, seed=0, cloud_cover=(0.0, 0.6))
    expected = Normaliser(card.optical_bands)(scene.optical[[0, 1, 2, 6]])
    np.testing.assert_allclose(windows.calibration[0]["optical"][0], expected, rtol=1e-6)
    assert windows.calibration[0]["sar"].shape == (1, 2, 64, 64)
    coastal = default_card("edc", "paper", optical_bands=(BandSpec("B1", "reflectance x 10000", 1000.0, 500.0),))
    with pytest.raises(BandError, match="--calibration OPTICAL SAR"):
        synthetic_windows(coastal, 1, 64, 0)


def test_raster_pair_windows_are_read_as_the_engine_reads_them_and_never_overlap(scene):
    card = read_model_card(MODEL)
    windows = raster_windows(card, scene["optical"], scene["sar"], count=2, size=128, check_count=2)
    assert len(windows.calibration) == 2 and len(windows.check) == 2 and windows.size == 128
    with rasterio.open(scene["optical"]) as src:
        optical = Normaliser(card.optical_bands)(src.read().astype(np.float32))
    tiles = [optical[:, y : y + 128, x : x + 128] for y in (0, 128) for x in (0, 128)]
    drawn = [w["optical"][0] for w in windows.calibration + windows.check]
    found = [next(i for i, tile in enumerate(tiles) if np.allclose(window, tile)) for window in drawn]
    assert sorted(found) == [0, 1, 2, 3]  # four distinct cells of the 2 x 2 grid
    assert all(mask.all() for mask in windows.check_valid)


def test_compare_models_on_a_raster_pair_and_on_the_synthetic_test_split(int8_model, scene, folder, capsys):
    pair = ["--pair", str(scene["optical"]), str(scene["sar"]), "--labels", str(scene["label"])]
    assert main(["compare-models", str(MODEL), str(int8_model), *pair, "--output", str(folder / "pair.json")]) == 0
    on_pair = json.loads((folder / "pair.json").read_text())
    assert on_pair["pixels"] == 256 * 256 and on_pair["valid_in_one_only"] == 0
    assert on_pair["agreement"] >= INT8_AGREEMENT
    assert on_pair["miou_difference_points"] == pytest.approx(100 * (on_pair["miou"] - on_pair["reference_miou"]))
    assert main(["compare-models", str(MODEL), str(int8_model), "--synthetic-count", "1"]) == 0
    on_split = json.loads(capsys.readouterr().out)
    assert on_split["pixels"] == 128 * 128 and on_split["agreement"] >= INT8_AGREEMENT
    assert {"reference_miou", "miou", "miou_difference_points", "cloudy"} <= set(on_split)


def test_quantize_command_explains_a_wrong_calibration_source(folder, capsys):
    args = ["quantize", str(MODEL), str(folder / "x.onnx"), "--calibration", "optical.tif", "sar.tif", "extra.tif"]
    assert main(args) == 2
    assert "'synthetic' or two rasters OPTICAL SAR" in capsys.readouterr().err
    assert not (folder / "x.onnx").exists()


def unnamed_fusion_graph(path):
    """A 16 x 16 px fusion graph whose nodes have no names: concatenated inputs, a first convolution, two inner
    ones around an attention block (two activation x activation products), and a last one writing ``logits``."""
    rng = np.random.default_rng(0)

    def weight(name, *shape):
        values = rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))
        return numpy_helper.from_array(values.astype(np.float32), name)

    node = helper.make_node  # no name= : each node's name is empty
    nodes = [
        node("Concat", ["optical", "sar"], ["stacked"], axis=1),
        node("Conv", ["stacked", "w_first"], ["c0"], pads=[1, 1, 1, 1]),
        node("Relu", ["c0"], ["r0"]),
        node("Conv", ["r0", "w_inner1"], ["c1"], pads=[1, 1, 1, 1]),
        node("Relu", ["c1"], ["r1"]),
        node("Reshape", ["r1", "tokens"], ["t"]),
        node("Transpose", ["t"], ["t_t"], perm=[0, 2, 1]),
        node("MatMul", ["t", "t_t"], ["scores"]),
        node("Softmax", ["scores"], ["attention"], axis=-1),
        node("MatMul", ["attention", "t"], ["mixed"]),
        node("Reshape", ["mixed", "grid"], ["m"]),
        node("Conv", ["m", "w_inner2"], ["c2"], pads=[1, 1, 1, 1]),
        node("Relu", ["c2"], ["r2"]),
        node("Conv", ["r2", "w_last"], ["logits"]),
    ]
    initializers = [
        weight("w_first", 8, 5, 3, 3),
        weight("w_inner1", 8, 8, 3, 3),
        weight("w_inner2", 8, 8, 3, 3),
        weight("w_last", 3, 8, 1, 1),
        numpy_helper.from_array(np.array([1, 8, 256], dtype=np.int64), "tokens"),
        numpy_helper.from_array(np.array([1, 8, 16, 16], dtype=np.int64), "grid"),
    ]
    graph = helper.make_graph(
        nodes,
        "unnamed",
        [
            helper.make_tensor_value_info("optical", onnx.TensorProto.FLOAT, [1, 3, 16, 16]),
            helper.make_tensor_value_info("sar", onnx.TensorProto.FLOAT, [1, 2, 16, 16]),
        ],
        [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, 3, 16, 16])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_a_graph_of_unnamed_nodes_is_quantized_but_for_its_edges_and_attention(tmp_path):
    """Nodes are kept in float by name: unnamed nodes are named first, so only the edges and the attention
    products stay float and the inner convolutions get int8 weights and activations."""
    source = unnamed_fusion_graph(tmp_path / "unnamed.onnx")
    assert {n.name for n in onnx.load(str(source)).graph.node} == {""}
    rng = np.random.default_rng(1)
    windows = [
        {"optical": rng.random((1, 3, 16, 16), np.float32), "sar": rng.random((1, 2, 16, 16), np.float32)}
        for _ in range(2)
    ]
    prepared = prepare_float_graph(source, tmp_path / "float.onnx")
    entry = quantize_int8(prepared, tmp_path / "unnamed.int8.onnx", windows)

    kept = entry["kept_float"]
    edges = kept["first_convolutions"] + kept["last_convolutions"]
    assert len(edges) == len(set(edges)) == 2 and all(edges) and kept["attention_products"] == 2
    assert entry["quantized_ops"] == {"Conv": 4, "MatMul": 2} and entry["quantized_share"] == pytest.approx(1 / 3)
    graph = onnx.load(str(tmp_path / "unnamed.int8.onnx")).graph
    ops = Counter(n.op_type for n in graph.node)
    assert ops["QuantizeLinear"] > 0 and ops["DequantizeLinear"] > 0
    producers = {output: n for n in graph.node for output in n.output}
    quantized = [
        n.name
        for n in graph.node
        if n.op_type in ("Conv", "MatMul")
        and all(getattr(producers.get(name), "op_type", "") == "DequantizeLinear" for name in n.input[:2])
    ]
    assert len(quantized) == 2 and not set(quantized) & set(edges)  # the two inner convolutions
    session = onnxruntime.InferenceSession(str(tmp_path / "unnamed.int8.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(None, windows[0])[0]
    assert logits.shape == (1, 3, 16, 16) and np.isfinite(logits).all()
