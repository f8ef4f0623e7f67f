"""The program's own dev and prod plans pass the pack; a deliberately broken copy of prod is
caught by `check`, naming each broken resource and the policy."""

import copy
import json
from pathlib import Path

import pytest

from offline.plan import build_plan
from offline.policy_check import apply_policies, check_plan_file, format_violations

S3 = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
DIGEST = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def prod():
    return build_plan("prod")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_has_no_mandatory_violation(stack, prod):
    plan = prod if stack == "prod" else build_plan(stack)
    policies = apply_policies(plan)
    mandatory = [v for v in policies["violations"] if v["enforcement"] == "mandatory"]
    assert not mandatory, format_violations({**policies, "violations": mandatory})


def _zone_bucket(plan):
    return next(r for r in plan["resources"] if r["type"] == S3 and (r["inputs"].get("tags") or {}).get("residency-zone"))


def _privileged_deployment(plan):
    """A workload fixture shaped as pulumi-kubernetes registers it, with a privileged container."""
    stack, project = plan["stack"], plan["project"]
    type_ = "kubernetes:apps/v1:Deployment"
    container = {"name": "debug", "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/lepton/triton@{DIGEST}",
                 "securityContext": {"privileged": True, "runAsNonRoot": True},
                 "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    return {
        "urn": f"urn:pulumi:{stack}::{project}::{type_}::debug-shell", "type": type_, "name": "debug-shell",
        "custom": True, "parent": None, "provider": None, "cloud": "kubernetes", "region": None,
        "inputs": {"metadata": {"name": "debug-shell"}, "spec": {"template": {"spec": {"containers": [container]}}}},
        "dependencies": [], "property_dependencies": {}, "protect": False,
    }


def test_broken_prod_plan_is_caught_by_check(prod, tmp_path, capsys):
    plan = copy.deepcopy(prod)
    moved = _zone_bucket(plan)
    moved["inputs"]["region"] = "us-east-1"  # out of its zone
    keyless = next(r for r in plan["resources"] if r["type"] == S3 and r is not moved)
    plan["resources"] = [r for r in plan["resources"]
                         if not (r["type"] == SSE and keyless["urn"] in r["property_dependencies"].get("bucket", []))]
    deployment = _privileged_deployment(plan)
    plan["resources"].append(deployment)
    path = tmp_path / "broken-prod.json"
    path.write_text(json.dumps(plan))

    assert check_plan_file(path) == 1
    out = capsys.readouterr().out
    for policy, resource in [
        ("aws-any-resource-in-residency-zone", moved),
        ("aws-s3-bucket-cmek-required", keyless),
        ("kubernetes-pod-container-privileged-disallowed", deployment),
    ]:
        section = out.split(f"[mandatory] {policy}\n", 1)
        assert len(section) == 2, f"{policy} missing from:\n{out}"
        assert resource["urn"] in section[1].split("\n[", 1)[0]


def test_prod_passes_with_the_example_config(prod):
    example = Path(__file__).resolve().parents[2] / "policies" / "config.example.json"
    policies = apply_policies(prod, policy_pack_config=example)
    mandatory = [v for v in policies["violations"] if v["enforcement"] == "mandatory"]
    assert not mandatory, format_violations({**policies, "violations": mandatory})
