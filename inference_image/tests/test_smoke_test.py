"""The rollout gate's smoke test against a stand-in Triton that serves the sample model for real
(ONNX Runtime on the bundled ONNX file, KServe v2 JSON), and against servers that misbehave."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import onnxruntime
import pytest
from google.protobuf import text_format
from inference_image_support import IMAGE_DIR, SAMPLE_CONFIG, SAMPLE_ONNX, load_module
from tritonclient.grpc import model_config_pb2

SMOKE_TEST = IMAGE_DIR / "smoke_test.py"
DATATYPES = {model_config_pb2.TYPE_FP32: "FP32"}


def sample_metadata() -> dict:
    config = text_format.Parse(SAMPLE_CONFIG.read_text(), model_config_pb2.ModelConfig())

    def tensors(items):
        return [{"name": t.name, "datatype": DATATYPES[t.data_type], "shape": [-1, *t.dims]} for t in items]

    return {"name": config.name, "inputs": tensors(config.input), "outputs": tensors(config.output)}


class FakeTriton(BaseHTTPRequestHandler):
    """Serves /v2/health/ready, model metadata and inference for the sample model."""

    session = onnxruntime.InferenceSession(str(SAMPLE_ONNX), providers=["CPUExecutionProvider"])
    metadata = sample_metadata()
    behaviour: dict = {}
    requests: list = []

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: dict | None = None) -> None:
        payload = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path == "/v2/health/ready":
            self._reply(503 if self.behaviour.get("not_ready") else 200)
        elif self.path == f"/v2/models/{self.metadata['name']}":
            self._reply(200, self.metadata)
        else:
            self._reply(404, {"error": "unknown model"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        feeds = {
            i["name"]: np.asarray(i["data"], dtype=np.float32).reshape(i["shape"]) for i in body["inputs"]
        }
        names = [o.name for o in self.session.get_outputs()]
        results = dict(zip(names, self.session.run(names, feeds), strict=True))
        outputs = [
            {"name": n, "datatype": "FP32", "shape": list(v.shape), "data": v.flatten().tolist()}
            for n, v in results.items()
            if n not in self.behaviour.get("drop", ())
        ]
        self._reply(200, {"model_name": self.metadata["name"], "outputs": outputs})


@pytest.fixture
def triton() -> Iterator[Callable[..., str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTriton)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def start(**behaviour) -> str:
        FakeTriton.behaviour, FakeTriton.requests = behaviour, []
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    server.shutdown()


@pytest.fixture(scope="module")
def smoke():
    return load_module("inference_smoke_test", SMOKE_TEST)


def run(url: str, model: str = "tiny_linear") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SMOKE_TEST), url, model], capture_output=True, text=True, timeout=60)


def test_the_sample_model_answers_one_request_in_its_own_shapes(triton):
    result = run(triton())

    assert result.returncode == 0, result.stderr
    assert "tiny_linear at http://127.0.0.1" in result.stdout and "answered one request" in result.stdout
    [sent] = FakeTriton.requests
    assert [(i["name"], i["shape"], i["datatype"]) for i in sent["inputs"]] == [("input", [1, 4], "FP32")]
    assert {o["name"] for o in sent["outputs"]} == {"logits", "probabilities"}


def test_a_missing_output_fails_the_gate(triton):
    result = run(triton(drop=("probabilities",)))

    assert result.returncode == 1
    assert "output 'probabilities' is missing from the response" in result.stderr


def test_an_unknown_model_fails_the_gate(triton):
    result = run(triton(), model="no_such_model")

    assert result.returncode == 1
    assert "answered 404" in result.stderr


def test_a_server_that_never_becomes_ready_fails_within_the_wait(triton, smoke):
    with pytest.raises(smoke.SmokeTestError, match="did not become ready in 0 s"):
        smoke.smoke_test(triton(not_ready=True), "tiny_linear", wait_seconds=0)


def test_an_unreachable_server_fails_the_gate(smoke):
    with pytest.raises(smoke.SmokeTestError, match="is unreachable"):
        smoke.smoke_test("http://127.0.0.1:9", "tiny_linear", wait_seconds=0)


def test_without_arguments_it_prints_its_usage():
    result = subprocess.run([sys.executable, str(SMOKE_TEST)], capture_output=True, text=True)

    assert result.returncode == 2
    assert "usage: smoke_test.py TRITON_HTTP_URL MODEL" in result.stderr


def test_non_numeric_inputs_are_refused(smoke):
    with pytest.raises(smoke.SmokeTestError, match="only numeric inputs are supported"):
        smoke.build_request({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}]})
