"""Write the small ONNX graphs the engine runs beside the model, shipped in resources/engine/.

    .venv/bin/python scripts/build_engine_graphs.py

- ``exp.onnx``: one ``Exp`` node, float32 of any rank and shape (the engine's softmax, see
  ``backend/engine/exp.py``).
"""

from __future__ import annotations

from pathlib import Path

from onnx import TensorProto, helper

ENGINE_GRAPHS = Path(__file__).resolve().parent.parent / "resources" / "engine"
OPSET = 17
IR_VERSION = 8  # readable by every ONNX Runtime the backend supports


def exp_graph() -> bytes:
    """The serialised ``y = exp(x)`` model, float32 tensors of any shape."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Exp", ["x"], ["y"])], "landfuse_exp", [x], [y])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION, producer_name="landfuse"
    )
    return model.SerializeToString()


if __name__ == "__main__":
    ENGINE_GRAPHS.mkdir(parents=True, exist_ok=True)
    (ENGINE_GRAPHS / "exp.onnx").write_bytes(exp_graph())
    print(f"wrote {ENGINE_GRAPHS / 'exp.onnx'}")
