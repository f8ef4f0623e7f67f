"""The pack's own environment: pinned to the project's lock (it uses pulumi_policy internals), its
virtualenv ignored by git, its config validated by jsonschema as the CLI validates it."""

import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path

from platform_policies.definitions import validate_schema

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "policies" / "requirements.txt"


def _generator():
    spec = importlib.util.spec_from_file_location("pack_requirements", ROOT / "tools" / "pack_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_requirements_are_the_locked_closure_with_hashes():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert REQUIREMENTS.read_text() == _generator().requirements(lock), (
        "policies/requirements.txt is stale: run `make pack-requirements`")
    pins = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", REQUIREMENTS.read_text(), re.M))
    locked = {p["name"]: p["version"] for p in lock["package"]}
    for package in ("pulumi", "pulumi-policy", "jsonschema", "protobuf", "grpcio"):
        assert pins[package] == locked[package], package
    entries = re.split(r"\n(?=[a-z0-9-]+==)", REQUIREMENTS.read_text().split("\n\n", 1)[1].strip())
    assert len(entries) == len(pins) and all("--hash=sha256:" in e for e in entries)


def test_the_pack_venv_is_ignored():
    for path in ("policies/venv/bin/python", "policies/venv/pyvenv.cfg"):
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"{path} is not ignored"


def test_config_values_are_validated_by_jsonschema():
    # Keywords the hand-written subset never knew are enforced now (maximum, pattern, uniqueItems).
    schema = {"type": "object", "properties": {
        "days": {"type": "integer", "maximum": 365},
        "cidr": {"type": "string", "pattern": r"^\d+\.\d+\.\d+\.\d+/\d+$"},
        "ports": {"type": "array", "uniqueItems": True}}}
    problems = validate_schema(schema, {"days": 400, "cidr": "nope", "ports": [443, 443]}, "p")
    assert problems == ["p.cidr: 'nope' does not match '^\\\\d+\\\\.\\\\d+\\\\.\\\\d+\\\\.\\\\d+/\\\\d+$'",
                        "p.days: 400 is greater than the maximum of 365",
                        "p.ports: [443, 443] has non-unique elements"]
    assert validate_schema(schema, {"days": 90.0}, "p") == []  # the CLI sends numbers as floats
