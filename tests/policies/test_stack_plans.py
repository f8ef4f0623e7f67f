"""The program's own dev and prod plans pass the pack; a deliberately broken copy of prod is
caught by `check`, naming each broken resource and the policy."""

import copy
import json

import pytest

from offline.policy_check import apply_policies, check_plan_file, format_violations
from offline.policy_config import stack_policy_config

S3 = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
DIGEST = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def prod(prod_plan):
    return prod_plan.plan


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("config", ["pack defaults", "generated from the stack"])
def test_stack_has_no_mandatory_violation(stack, config, dev_plan, prod_plan):
    plan = (prod_plan if stack == "prod" else dev_plan).plan
    policies = apply_policies(plan, policy_pack_config=None if config == "pack defaults" else stack_policy_config(stack))
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
        section = out.split(f"[mandatory] {policy} (", 1)
        assert len(section) == 2, f"{policy} missing from:\n{out}"
        assert resource["urn"] in section[1].split("\n[", 1)[0]
