"""Static checks of the Dockerfile and shell scripts, and the facts the image promises.

A missing checker fails these tests (find_tool): run install-checkers.sh.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from inference_image_support import DOCKERFILE, ENTRYPOINT, IMAGE_DIR, README, find_tool


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    return run(find_tool("hadolint"), "--no-color", str(dockerfile))


def checkov(dockerfile: Path) -> dict:
    result = run(find_tool("checkov"), "--framework", "dockerfile", "--skip-download", "--output", "json", "-f", str(dockerfile))
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    report["returncode"] = result.returncode
    return report


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line and not line.startswith("#")
    ]


def test_hadolint_passes():
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_without_unexplained_skips():
    report = checkov(DOCKERFILE)

    assert report["returncode"] == 0, json.dumps(report["results"]["failed_checks"], indent=1)
    assert report["summary"]["passed"] > 0
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped.get("suppress_comment", "")) > 15, f"justify the skip of {skipped['check_id']} inline"


def test_inline_linter_suppressions_are_justified():
    for line in DOCKERFILE.read_text().splitlines():
        if "hadolint ignore=" in line:
            assert re.search(r"hadolint ignore=\S+\s+\S.{10,}", line), f"say why: {line}"


def test_linters_bite_on_a_bad_dockerfile(tmp_path: Path):
    """The checks are live: an unpinned apt install run as root is rejected by both."""
    bad = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text()
    assert "USER 10001:10001" in text
    bad.write_text(text.replace("USER 10001:10001", "RUN apt-get update && apt-get install -y curl"))

    lint = hadolint(bad)
    assert lint.returncode != 0 and "DL3008" in lint.stdout, lint.stdout
    report = checkov(bad)
    assert report["returncode"] != 0
    assert "CKV_DOCKER_3" in {c["check_id"] for c in report["results"]["failed_checks"]}


def shell_scripts() -> list[Path]:
    scripts = [
        p
        for p in sorted(IMAGE_DIR.rglob("*"))
        if p.is_file() and ".venv" not in p.parts
        and (p.suffix == ".sh" or p.read_bytes()[:40].startswith((b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env bash")))
    ]
    assert scripts, "expected at least install-checkers.sh"
    return scripts


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(IMAGE_DIR)))
def test_shell_scripts_pass_bash_n_and_shellcheck(script: Path):
    syntax = run("bash", "-n", str(script))
    assert syntax.returncode == 0, syntax.stderr
    lint = run(find_tool("shellcheck"), "--severity=style", str(script))
    assert lint.returncode == 0, lint.stdout


def test_install_checkers_is_a_fast_noop_when_installed():
    find_tool("shellcheck")
    find_tool("checkov")
    result = subprocess.run(
        ["bash", str(IMAGE_DIR / "install-checkers.sh")],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "installing" not in result.stdout


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_triton_and_tensorrt_come_from_the_same_ngc_release(dockerfile):
    args = dict(a.split("=", 1) for kind, a in dockerfile if kind == "ARG" and "=" in a)
    images = [a.split()[0] for kind, a in dockerfile if kind == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image) for image in images]
    releases = {
        name: re.fullmatch(r"(\d\d\.\d\d)-py3(@sha256:[0-9a-f]{64})?", tag).group(1)
        for name, tag in (image.split(":", 1) for image in resolved if image.startswith("nvcr.io/nvidia/"))
    }
    assert set(releases) == {"nvcr.io/nvidia/tritonserver", "nvcr.io/nvidia/tensorrt"}
    assert len(set(releases.values())) == 1, f"a plan only loads in the TensorRT that built it: {releases}"
    assert all(":" in image and not image.endswith(":latest") for image in resolved), resolved


def test_image_runs_as_a_numeric_non_root_user(dockerfile):
    users = [a for kind, a in dockerfile if kind == "USER"]
    assert users, "no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_image_exposes_the_ports_the_entrypoint_serves(dockerfile, entrypoint_module):
    exposed = {int(p) for kind, a in dockerfile if kind == "EXPOSE" for p in a.split()}
    served = {entrypoint_module.HTTP_PORT, entrypoint_module.GRPC_PORT, entrypoint_module.METRICS_PORT}
    assert exposed == served == {8000, 8001, 8002}


def test_healthcheck_asks_triton_readiness(dockerfile):
    [healthcheck] = [a for kind, a in dockerfile if kind == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/v2/health/ready" in healthcheck


def test_entrypoint_is_the_python_entrypoint(dockerfile):
    [entry] = [a for kind, a in dockerfile if kind == "ENTRYPOINT"]
    assert json.loads(entry)[-1] == f"/opt/inference/{ENTRYPOINT.name}"
    copies = [a for kind, a in dockerfile if kind == "COPY"]
    # The rollout gate runs the smoke test from the same image (planning/serving.py names the path).
    assert f"{ENTRYPOINT.name} smoke_test.py /opt/inference/" in copies


def test_no_secrets_in_the_image_definition(dockerfile):
    for kind, arguments in dockerfile:
        if kind in ("ENV", "ARG"):
            names = re.findall(r"(\w+)=", arguments) or [arguments.split()[0]]
            assert not [n for n in names if re.search(r"SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL", n, re.I)], arguments


def entrypoint_env_vars() -> set[str]:
    return set(re.findall(r'env\.get\("([A-Z0-9_]+)"', ENTRYPOINT.read_text()))


def test_every_environment_variable_is_documented():
    names = entrypoint_env_vars()
    assert len(names) >= 8, names
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", README.read_text(), re.M))
    assert names <= documented, f"document in README.md: {sorted(names - documented)}"
