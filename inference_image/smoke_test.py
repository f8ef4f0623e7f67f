#!/usr/bin/env python3
"""Send one inference request to a Triton server and check the answer: the rollout's gate.

    python3 smoke_test.py http://triton.inference.svc.cluster.local:8000 tiny_linear

Waits (bounded) for /v2/health/ready, reads the model's metadata, sends one request of ones in the
model's input shapes (KServe v2 JSON), and checks that every declared output comes back with as many
finite numbers as its shape says. Exit 0 on success; 1 with a message saying what failed.
Standard library only: it runs on the Triton image's system Python.
"""

from __future__ import annotations

import json
import math
import sys
import time
import urllib.error
import urllib.request

READY_WAIT_SECONDS = 300
NUMERIC = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"}


class SmokeTestError(Exception):
    pass


def request(url: str, body: dict | None = None, timeout: float = 30) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (http(s) URL from argv)
            payload = response.read()
    except urllib.error.HTTPError as error:
        raise SmokeTestError(f"{url} answered {error.code}: {error.read().decode(errors='replace')[:500]}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SmokeTestError(f"{url} is unreachable: {error}") from None
    return json.loads(payload) if payload else {}


def wait_ready(base: str, wait_seconds: float, poll: float = 5) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            request(f"{base}/v2/health/ready", timeout=5)
            return
        except SmokeTestError as error:
            if time.monotonic() >= deadline:
                raise SmokeTestError(f"Triton at {base} did not become ready in {wait_seconds:.0f} s: {error}") from None
            time.sleep(poll)


def _count(shape: list[int]) -> int:
    return math.prod(1 if d < 0 else d for d in shape)


def build_request(metadata: dict) -> dict:
    inputs = []
    for tensor in metadata.get("inputs", []):
        if tensor["datatype"] not in NUMERIC:
            raise SmokeTestError(f"input {tensor['name']!r} has datatype {tensor['datatype']}; only numeric inputs are supported")
        # A batch of one: a variable (-1) dimension, the batch one included, takes 1.
        shape = [1 if d < 0 else d for d in tensor["shape"]]
        inputs.append({"name": tensor["name"], "shape": shape, "datatype": tensor["datatype"], "data": [1] * _count(shape)})
    if not inputs:
        raise SmokeTestError("the model declares no inputs")
    return {"inputs": inputs, "outputs": [{"name": t["name"]} for t in metadata.get("outputs", [])]}


def check_response(metadata: dict, response: dict) -> None:
    returned = {o["name"]: o for o in response.get("outputs", [])}
    for tensor in metadata.get("outputs", []):
        name = tensor["name"]
        if name not in returned:
            raise SmokeTestError(f"output {name!r} is missing from the response")
        output = returned[name]
        data, expected = output.get("data", []), _count(output.get("shape", []))
        if len(data) != expected:
            raise SmokeTestError(f"output {name!r} has {len(data)} values for shape {output.get('shape')}")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in data):
            raise SmokeTestError(f"output {name!r} holds values that are not finite numbers: {data[:8]}")


def smoke_test(base: str, model: str, wait_seconds: float = READY_WAIT_SECONDS) -> float:
    """Run the test; return the inference round trip in milliseconds."""
    base = base.rstrip("/")
    wait_ready(base, wait_seconds)
    metadata = request(f"{base}/v2/models/{model}")
    body = build_request(metadata)
    started = time.monotonic()
    response = request(f"{base}/v2/models/{model}/infer", body)
    elapsed = (time.monotonic() - started) * 1000
    check_response(metadata, response)
    return elapsed


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: smoke_test.py TRITON_HTTP_URL MODEL", file=sys.stderr)
        return 2
    try:
        elapsed = smoke_test(argv[1], argv[2])
    except SmokeTestError as error:
        print(f"smoke test: FAILED: {error}", file=sys.stderr)
        return 1
    print(f"smoke test: {argv[2]} at {argv[1]} answered one request in {elapsed:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
