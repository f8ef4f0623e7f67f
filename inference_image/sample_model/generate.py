"""Generate the bundled sample model: a tiny linear classifier in ONNX.

The image ships this model so a fresh deployment answers an inference request
before any real model is uploaded to the region's model store.  The graph is
    logits = input @ WEIGHTS + BIAS;  probabilities = softmax(logits)
with a dynamic batch dimension, which is what Triton's dynamic batcher and the
TensorRT optimisation profile need.

Run from the repository root (rewrites the committed file):
    uv run python inference_image/sample_model/generate.py
Everything that reaches the bytes is fixed here (opset, IR version, producer,
weights, deterministic serialisation), so the output is byte-for-byte
reproducible; a test enforces that.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODEL_NAME = "tiny_linear"
FEATURES = 4
CLASSES = 3
# Values exactly representable in FP16, so the FP16 engine matches FP32 closely.
WEIGHTS = np.array(
    [
        [0.5, -0.25, 1.0],
        [-1.0, 0.75, 0.5],
        [0.25, 0.5, -0.5],
        [1.5, -1.0, 0.25],
    ],
    dtype=np.float32,
)
BIAS = np.array([0.125, -0.5, 0.0], dtype=np.float32)
# Opset 17 / IR 8 are read by every TensorRT 10.x ONNX parser and onnxruntime.
OPSET = 17
IR_VERSION = 8

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "store" / MODEL_NAME / "1" / "model.onnx"


def build_model() -> onnx.ModelProto:
    batch = "batch"
    graph = helper.make_graph(
        nodes=[
            helper.make_node("MatMul", ["input", "weights"], ["matmul_out"], name="matmul"),
            helper.make_node("Add", ["matmul_out", "bias"], ["logits"], name="add_bias"),
            helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
        ],
        name=MODEL_NAME,
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, FEATURES])],
        outputs=[
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, CLASSES]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, CLASSES]),
        ],
        initializer=[
            numpy_helper.from_array(WEIGHTS, name="weights"),
            numpy_helper.from_array(BIAS, name="bias"),
        ],
    )
    model = helper.make_model(
        graph,
        producer_name="multicloud-inference-sample",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write model.onnx")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(build_model().SerializeToString(deterministic=True))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
