"""The sample model: reproducible, valid ONNX, and in agreement with its Triton config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from google.protobuf import text_format
from google.protobuf.message_factory import GetMessageClass
from inference_image_support import GENERATOR, SAMPLE_CONFIG, SAMPLE_ONNX
from tritonclient.grpc import model_config_pb2 as mc

ONNX_TO_TRITON = {
    onnx.TensorProto.FLOAT: mc.TYPE_FP32,
    onnx.TensorProto.FLOAT16: mc.TYPE_FP16,
    onnx.TensorProto.BFLOAT16: mc.TYPE_BF16,
    onnx.TensorProto.DOUBLE: mc.TYPE_FP64,
    onnx.TensorProto.INT8: mc.TYPE_INT8,
    onnx.TensorProto.INT16: mc.TYPE_INT16,
    onnx.TensorProto.INT32: mc.TYPE_INT32,
    onnx.TensorProto.INT64: mc.TYPE_INT64,
    onnx.TensorProto.UINT8: mc.TYPE_UINT8,
    onnx.TensorProto.BOOL: mc.TYPE_BOOL,
    onnx.TensorProto.STRING: mc.TYPE_STRING,
}


def parse_config(text: str) -> mc.ModelConfig:
    return text_format.Parse(text, mc.ModelConfig())


def onnx_dims(value_info: onnx.ValueInfoProto) -> list[int]:
    """-1 for a symbolic or unknown dimension, as Triton writes it."""
    return [d.dim_value if d.HasField("dim_value") else -1 for d in value_info.type.tensor_type.shape.dim]


def contract_violations(config: mc.ModelConfig, model: onnx.ModelProto) -> list[str]:
    """Differences between the Triton config and the ONNX graph it serves."""
    problems = []
    initializers = {i.name for i in model.graph.initializer}
    graph_tensors = {
        "input": {v.name: v for v in model.graph.input if v.name not in initializers},
        "output": {v.name: v for v in model.graph.output},
    }
    for kind, declared in (("input", config.input), ("output", config.output)):
        tensors = graph_tensors[kind]
        if sorted(t.name for t in declared) != sorted(tensors):
            problems.append(f"{kind} names {sorted(t.name for t in declared)} != model {sorted(tensors)}")
        for tensor in declared:
            value_info = tensors.get(tensor.name)
            if value_info is None:
                continue
            elem_type = value_info.type.tensor_type.elem_type
            if ONNX_TO_TRITON.get(elem_type) != tensor.data_type:
                problems.append(
                    f"{kind} {tensor.name}: data_type {mc.DataType.Name(tensor.data_type)} "
                    f"!= model {onnx.TensorProto.DataType.Name(elem_type)}"
                )
            dims = onnx_dims(value_info)
            if config.max_batch_size > 0:
                if not dims or dims[0] != -1:
                    problems.append(
                        f"{kind} {tensor.name}: max_batch_size > 0 needs a dynamic first (batch) dim, model has {dims}"
                    )
                dims = dims[1:]
            if list(tensor.dims) != dims:
                problems.append(f"{kind} {tensor.name}: dims {list(tensor.dims)} != model {dims} (batch dim excluded)")
    return problems


@pytest.fixture(scope="module")
def config() -> mc.ModelConfig:
    return parse_config(SAMPLE_CONFIG.read_text())


@pytest.fixture(scope="module")
def model() -> onnx.ModelProto:
    return onnx.load(SAMPLE_ONNX)


def test_generator_reproduces_the_committed_model_byte_for_byte(tmp_path: Path):
    regenerated = tmp_path / "model.onnx"
    subprocess.run([sys.executable, str(GENERATOR), "--output", str(regenerated)], check=True, capture_output=True)

    assert regenerated.read_bytes() == SAMPLE_ONNX.read_bytes(), (
        "model.onnx is stale: run `uv run python inference_image/sample_model/generate.py` and commit it"
    )


def test_model_passes_the_onnx_checker(model):
    onnx.checker.check_model(model, full_check=True)


def test_config_is_a_servable_tensorrt_config(config):
    assert config.name == SAMPLE_CONFIG.parent.name, "Triton requires the name to match the model directory"
    assert config.platform == "tensorrt_plan", "the entrypoint serves TensorRT plans built from model.onnx"
    assert config.max_batch_size > 0
    assert config.HasField("dynamic_batching")
    assert config.instance_group and all(g.kind == mc.ModelInstanceGroup.KIND_GPU for g in config.instance_group)
    assert not SAMPLE_CONFIG.with_name("1").joinpath("model.plan").exists(), "plans are built at start, never committed"


def test_config_agrees_with_the_model(config, model):
    assert contract_violations(config, model) == []


@pytest.mark.parametrize(
    ("original", "mutant", "problem"),
    [
        ("dims: [ 4 ]", "dims: [ 5 ]", "input input: dims [5] != model [4]"),
        ('name: "logits"', 'name: "scores"', "output names"),
        ("data_type: TYPE_FP32\n    dims: [ 3 ]", "data_type: TYPE_FP16\n    dims: [ 3 ]", "data_type TYPE_FP16 != model FLOAT"),
        ("max_batch_size: 8", "max_batch_size: 0", "input input: dims [4] != model [-1, 4]"),
    ],
    ids=["wrong-input-dim", "wrong-output-name", "wrong-output-dtype", "batch-dim-not-declared"],
)
def test_agreement_check_rejects_a_mismatched_config(model, original, mutant, problem):
    text = SAMPLE_CONFIG.read_text()
    assert original in text, "the mutation no longer applies to config.pbtxt: update this test"
    violations = contract_violations(parse_config(text.replace(original, mutant, 1)), model)

    assert any(problem in v for v in violations), violations


def test_agreement_check_rejects_a_model_with_a_fixed_batch_dim(config, model):
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    fixed.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1

    assert any("needs a dynamic first (batch) dim" in v for v in contract_violations(config, fixed))


@pytest.mark.parametrize("batch", ["one", "max_batch_size"])
def test_onnxruntime_answers_with_the_expected_output(config, generator_module, batch):
    size = 1 if batch == "one" else config.max_batch_size
    [model_input] = config.input
    features = np.arange(size * model_input.dims[0], dtype=np.float32).reshape(size, *model_input.dims) / 10
    session = ort.InferenceSession(str(SAMPLE_ONNX), providers=["CPUExecutionProvider"])

    logits, probabilities = session.run(["logits", "probabilities"], {model_input.name: features})

    expected = features @ generator_module.WEIGHTS + generator_module.BIAS
    softmax = np.exp(expected - expected.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    assert logits.shape == probabilities.shape == (size, config.output[0].dims[0])
    np.testing.assert_allclose(logits, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(probabilities, softmax, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def pb_fields(message) -> dict:
    """A protobuf message as the entrypoint's parser returns it: names to lists of text values."""
    fields: dict[str, list] = {}
    for descriptor, value in message.ListFields():
        values = value if descriptor.label == descriptor.LABEL_REPEATED else [value]
        if descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry:
            # Text format writes a map as repeated {key value} entries.
            values = [GetMessageClass(descriptor.message_type)(key=k, value=v) for k, v in value.items()]
        for item in values:
            if descriptor.type == descriptor.TYPE_MESSAGE:
                item = pb_fields(item)
            elif descriptor.type == descriptor.TYPE_ENUM:
                item = descriptor.enum_type.values_by_number[item].name
            elif descriptor.type == descriptor.TYPE_BOOL:
                item = str(item).lower()
            else:
                item = str(item)
            fields.setdefault(descriptor.name, []).append(item)
    return fields


TRICKY_CONFIG = """
# comment with "quotes" and { braces }
name: "quoted \\"name\\" # not a comment"
backend: "tensorrt"
max_batch_size: 16
input: [ { name: "a", data_type: TYPE_INT64, dims: [ 2, 3 ] }, { name: "b" data_type: TYPE_FP16 dims: 7 } ];
output { name: "c" data_type: TYPE_FP32 dims: [ -1 ] }
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 preserve_ordering: true }
instance_group [ { count: 2, kind: KIND_GPU, gpus: [ 0 ] } ]
parameters: { key: "k" value: { string_value: "v" } }
"""


@pytest.mark.parametrize("text", [SAMPLE_CONFIG.read_text(), TRICKY_CONFIG], ids=["sample", "tricky"])
def test_entrypoint_config_parser_agrees_with_tritons_schema(entrypoint_module, text):
    assert entrypoint_module.parse_pbtxt(text) == pb_fields(parse_config(text))


@pytest.mark.parametrize("text", ['name: "x', "input [ { name: \"a\" ", "dims: [ 1, 2"], ids=["string", "brace", "bracket"])
def test_entrypoint_config_parser_rejects_malformed_text(entrypoint_module, text):
    with pytest.raises(ValueError):
        entrypoint_module.parse_pbtxt(text)
