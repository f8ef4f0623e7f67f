"""Every Kubernetes object the program declares, rendered as the manifest the cluster receives, is
valid for the pinned Kubernetes version (kubernetes-validate, strict: unknown fields are errors) and
passes checkov's Kubernetes checks, except the findings explained below."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from offline.plan import REPO_ROOT
from tests.planview import PlanView

KUBERNETES_VERSION = "1.33"
"""The stacks' `kubernetes.version`; schemas of that minor version."""

EXPLAINED = {
    # The NVIDIA device plugin: a node agent, not a workload.
    ("nvidia-device-plugin", "CKV_K8S_23"): "registers its socket in the kubelet's root-owned device-plugins directory",
    ("nvidia-device-plugin", "CKV_K8S_40"): "runs as root for the same reason; no capabilities, no escalation",
    ("nvidia-device-plugin", "CKV_K8S_8"): "exposes no health endpoint; the kubelet notices a lost plugin socket",
    ("nvidia-device-plugin", "CKV_K8S_9"): "serves nothing, so there is nothing to be ready for",
    ("nvidia-device-plugin", "CKV2_K8S_6"): "listens on no network port (a Unix socket on the node only)",
}


def _support():
    spec = importlib.util.spec_from_file_location("manifest_checks_support", REPO_ROOT / "inference_image/tests/support.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while its classes are built
    spec.loader.exec_module(module)
    return module


NOT_VALIDATED_GROUPS = {"helm.sh", "cert-manager.io", "gateway.networking.k8s.io", "gateway.envoyproxy.io"}
"""Helm releases are not manifests (Helm renders the pinned chart at `pulumi up`; charts, versions
and values are pinned in tests/test_autoscaling.py and tests/test_global_entry.py), and
kubernetes-validate knows built-in kinds only: the global entry's custom resources are checked
field by field in tests/test_global_entry.py."""


def manifests(plan: PlanView) -> list[dict]:
    """The objects as the cluster receives them: apiVersion and kind from the type token, the
    inputs as they are (engine names are the Kubernetes field names), generated names filled in."""
    rendered = []
    for resource in plan.resources:
        package, group_version, kind = resource["type"].split(":")
        if package != "kubernetes" or not resource["custom"] or group_version.split("/")[0] in NOT_VALIDATED_GROUPS:
            continue
        group, version = group_version.split("/")
        manifest = {"apiVersion": version if group == "core" else f"{group}/{version}", "kind": kind, **resource["inputs"]}
        manifest.setdefault("metadata", {}).setdefault("name", resource["name"])
        rendered.append(manifest)
    return rendered


@pytest.fixture(scope="module", params=["dev", "prod"])
def rendered(request) -> list[dict]:
    found = manifests(request.getfixturevalue(f"{request.param}_plan"))
    assert {m["kind"] for m in found} >= {"Deployment", "Service", "PodDisruptionBudget", "ServiceAccount", "Job",
                                          "Namespace", "NetworkPolicy", "DaemonSet", "HorizontalPodAutoscaler",
                                          "ClusterRole"}
    return found


def test_manifests_are_valid_for_the_pinned_kubernetes_version_strictly(rendered):
    for manifest in rendered:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_strict_validation_bites_on_an_unknown_field(rendered):
    deployment = json.loads(json.dumps(next(m for m in rendered if m["kind"] == "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["gpuCount"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def checkov(directory: Path) -> dict:
    tool = _support().find_tool("checkov")
    result = subprocess.run(
        [tool, "-d", str(directory), "--framework", "kubernetes", "--skip-download", "--output", "json", "--quiet"],
        capture_output=True, text=True, check=False,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def test_checkov_finds_nothing_unexplained(prod_plan, tmp_path):
    # Prod declares every kind dev does (checkov takes half a minute a run: once is enough).
    for index, manifest in enumerate(manifests(prod_plan)):
        (tmp_path / f"{index:03}-{manifest['metadata']['name']}.yaml").write_text(yaml.safe_dump(manifest))
    report = checkov(tmp_path)
    assert report["summary"]["passed"] > 0
    unexplained = [
        (check["resource"], check["check_id"], check["check_name"])
        for check in report["results"]["failed_checks"]
        if not any(name in check["resource"] and check_id == check["check_id"] for name, check_id in EXPLAINED)
    ]
    assert unexplained == []
