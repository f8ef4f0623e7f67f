"""The pulumi_policy wrappers, called as the analyzer calls them (without constructing the
PolicyPack, which would start a server): proxied props, provider resources, stack resources
linked by dependencies, per-policy config as the CLI passes it."""

import pytest
from engine_shapes import engine_inputs, find, set_path
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from platform_policies import POLICIES
from platform_policies.definitions import ConfigError
from platform_policies.pulumi_pack import build_policies

OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _provider(plan, entry):
    p = next((r for r in plan["resources"] if r["urn"] == entry["provider"]), None)
    return p and PolicyProviderResource(p["type"], unknown_checking_proxy(engine_inputs(p["inputs"])), p["urn"], p["name"])


def run_resource_policies(plan, config=None):
    reported = []
    for policy in build_policies():
        if not isinstance(policy, ResourceValidationPolicy):
            continue
        for e in plan["resources"]:
            args = ResourceValidationArgs(e["type"], unknown_checking_proxy(engine_inputs(e["inputs"])), e["urn"], e["name"],
                                          OPTS, _provider(plan, e), (config or {}).get(policy.name))
            policy.validate(args, lambda message, urn=None, e=e, p=policy: reported.append((p.name, e["urn"], message)))
    return reported


def run_stack_policies(plan, config=None):
    resources = {
        e["urn"]: PolicyResource(e["type"], unknown_checking_proxy(engine_inputs(e["inputs"])), e["urn"], e["name"], OPTS,
                                 _provider(plan, e), None, [], {})
        for e in plan["resources"]
    }
    for e in plan["resources"]:  # link as the analyzer does: objects, not URNs
        r = resources[e["urn"]]
        r.dependencies.extend(resources[u] for u in e["dependencies"])
        r.property_dependencies.update({k: [resources[u] for u in v] for k, v in e["property_dependencies"].items()})
    reported = []
    for policy in build_policies():
        if isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs(list(resources.values()), (config or {}).get(policy.name))
            policy.validate(args, lambda message, urn=None, p=policy: reported.append((p.name, urn, message)))
    return reported


def test_metadata_reaches_pulumi_policy():
    built = {p.name: p for p in build_policies()}
    assert list(built) == [d.name for d in POLICIES]
    for d in POLICIES:
        p = built[d.name]
        assert p.description == d.description and p.severity.value == d.severity
        assert p.enforcement_level == EnforcementLevel(d.enforcement)
        assert p.framework.name == d.frameworks[0] and set(d.frameworks) <= set(p.tags)
        assert set(p.config_schema.properties) == {k.name for k in d.config_keys}
        assert all("default" in s for s in p.config_schema.properties.values())
        assert isinstance(p, StackValidationPolicy) == (d.scope == "stack")


def test_the_compliant_platform_passes_under_the_sdk(plan):
    assert run_resource_policies(plan) == []
    assert run_stack_policies(plan) == []


def test_resource_wrapper_reports_against_the_resource(plan):
    set_path(find(plan, "aws:s3/bucket:Bucket", "models")["inputs"], "region", "us-east-1")
    found = run_resource_policies(plan)
    assert ("aws-any-resource-in-residency-zone", find(plan, "aws:s3/bucket:Bucket", "models")["urn"]) in {
        (p, u) for p, u, _ in found}


def test_stack_wrapper_follows_dependencies_and_names_the_urn(plan):
    set_path(find(plan, "aws:s3/bucket:Bucket", "replica")["inputs"], "region", "us-east-1")
    # In a real preview the destination ARN of a new bucket is unknown.
    set_path(find(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models-to-replica")["inputs"],
             "rules.0.destination.bucket", "[unknown]")
    found = run_stack_policies(plan)
    replication = find(plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models-to-replica")["urn"]
    assert [(p, u) for p, u, _ in found] == [("aws-s3-bucketreplication-in-residency-zone", replication)]


def test_config_as_the_cli_passes_it(plan):
    # The CLI fills schema defaults and sends numbers as floats.
    strict = {"aws-kms-key-rotation-enabled": {"maxRotationDays": 90.0, "exemptions": []}}
    assert [p for p, _, _ in run_resource_policies(plan, strict)] == ["aws-kms-key-rotation-enabled"]
    exempt = {"aws-kms-key-rotation-enabled": {"maxRotationDays": 90.0,
                                               "exemptions": [{"pattern": "key", "justification": "CISO-123"}]}}
    assert run_resource_policies(plan, exempt) == []


def test_invalid_config_is_refused_not_ignored(plan):
    bad = {"aws-kms-key-rotation-enabled": {"exemptions": [{"pattern": "key", "justification": " "}]}}
    with pytest.raises(ConfigError, match=r"aws-kms-key-rotation-enabled\.exemptions\[0\]\.justification"):
        run_resource_policies(plan, bad)
