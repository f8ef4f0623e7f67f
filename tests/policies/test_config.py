"""Pack configuration in the CLI's --policy-pack-config format: enforcement, keys, exemptions."""

import pytest
from engine_shapes import find, set_path, urn

from platform_policies import CATEGORIES, POLICIES
from platform_policies.config import resolve
from platform_policies.definitions import ConfigError

S3 = "aws:s3/bucket:Bucket"


def test_defaults_residency_and_encryption_are_mandatory_and_fail_closed():
    settings = resolve(POLICIES, None)
    for policy in (*CATEGORIES["residency"], *CATEGORIES["encryption"]):
        assert settings[policy.name].enforcement == "mandatory" and policy.fail_closed


@pytest.mark.parametrize("config, key", [
    ({"aws-s3-bucket-cmek-requird": "advisory"}, "unknown policy aws-s3-bucket-cmek-requird"),
    ({"aws-s3-bucket-cmek-required": "strict"}, "aws-s3-bucket-cmek-required.enforcementLevel"),
    ({"aws-s3-bucket-cmek-required": {"enforcementLevel": "block"}}, "aws-s3-bucket-cmek-required.enforcementLevel"),
    ({"all": {"enforcementLevel": "mandatory", "residencyZones": {}}}, "all: only enforcementLevel"),
    ({"aws-s3-bucket-cmek-required": 3}, "aws-s3-bucket-cmek-required: must be"),
    ({"aws-s3-bucket-cmek-required": {"exemptions": [{"pattern": "models"}]}},
     "aws-s3-bucket-cmek-required.exemptions[0].justification: required"),
    ({"aws-s3-bucket-cmek-required": {"exemptions": [{"pattern": "models", "justification": "  "}]}},
     "aws-s3-bucket-cmek-required.exemptions[0].justification: an exemption needs a justification"),
    ({"aws-s3-bucket-cmek-required": {"exemptions": [{"pattern": "m", "justification": "j", "until": "x"}]}},
     "exemptions[0].until: unknown key"),
    ({"aws-any-resource-in-residency-zone": {"residencyZones": {"eu": "eu-central-1"}}},
     "aws-any-resource-in-residency-zone.residencyZones.eu: expected array"),
    ({"aws-any-resource-in-residency-zone": {"residencyZones": {"eu": []}}}, "residencyZones.eu: needs at least 1"),
    ({"gcp-any-resource-in-residency-zone": {"residencyZones": {"eu": ["europe-west4"], "nl": ["EUROPE-WEST4"]}}},
     "gcp-any-resource-in-residency-zone.residencyZones.nl: region EUROPE-WEST4 is already in zone eu"),
    ({"aws-kms-key-rotation-enabled": {"maxRotationDays": 0}}, "maxRotationDays: must be >= 1"),
    ({"aws-kms-key-rotation-enabled": {"maxRotationDay": 90}}, "aws-kms-key-rotation-enabled.maxRotationDay: unknown key"),
])
def test_invalid_config_is_refused_naming_the_key(config, key):
    with pytest.raises(ConfigError) as error:
        resolve(POLICIES, config)
    assert key in str(error.value)


def test_all_errors_are_reported_together():
    config = {"aws-kms-key-rotation-enabled": {"maxRotationDays": 0},
              "gcp-kms-cryptokey-rotation-enabled": {"maxRotationDays": "90"}}
    with pytest.raises(ConfigError) as error:
        resolve(POLICIES, config)
    assert "aws-kms-key-rotation-enabled.maxRotationDays" in str(error.value)
    assert "gcp-kms-cryptokey-rotation-enabled.maxRotationDays" in str(error.value)


def test_all_sets_every_level_and_a_policy_overrides_it(plan, run):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    config = {"all": "advisory", "aws-s3-bucketreplication-in-residency-zone": {"enforcementLevel": "remediate"}}
    levels = {v.policy: v.enforcement for v in run(plan, config)}
    assert levels["aws-any-resource-in-residency-zone"] == "advisory"
    assert levels.get("aws-s3-bucketreplication-in-residency-zone", "mandatory") == "mandatory"  # remediate reports as mandatory


def test_disabled_policy_reports_nothing(plan, run):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    assert not [v for v in run(plan, {"aws-any-resource-in-residency-zone": "disabled"})
                if v.policy == "aws-any-resource-in-residency-zone"]


def test_exemption_by_name_pattern_applies_only_to_that_policy_and_those_names(plan, run):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    set_path(find(plan, "aws:kms/key:Key", "key")["inputs"], "region", "us-east-1")
    config = {"aws-any-resource-in-residency-zone": {
        "exemptions": [{"pattern": "mod*", "justification": "RISK-42: US copy approved by the DPO until 2026-06"}]}}
    flagged = {(v.policy, v.urn) for v in run(plan, config)}
    assert ("aws-any-resource-in-residency-zone", urn(S3, "models")) not in flagged
    assert ("aws-any-resource-in-residency-zone", urn("aws:kms/key:Key", "key")) in flagged


def test_exemption_applies_to_stack_policies_by_reported_resource(plan, run):
    plan["resources"].remove(find(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "replica"))
    config = {"aws-s3-bucket-public-access-blocked": {"exemptions": [{"pattern": "replica", "justification": "test"}]}}
    assert run(plan, config) == []


def test_residency_zones_come_from_config(plan, run):
    config = {"aws-any-resource-in-residency-zone": {"residencyZones": {"eu": ["eu-central-1"]}}}
    flagged = [v for v in run(plan, config) if v.policy == "aws-any-resource-in-residency-zone"]
    assert {v.urn for v in flagged} == {urn(S3, "replica")}  # in eu-west-1, no longer allowed


def test_zone_membership_by_name_pattern(plan, run):
    # Subnetworks carry no labels; a name pattern puts them in the zone.
    subnet = find(plan, "gcp:compute/subnetwork:Subnetwork", "europe-west4")
    subnet["inputs"]["region"] = "us-central1"
    assert run(plan) == []
    config = {"gcp-any-resource-in-residency-zone": {"zoneNamePatterns": {"eu": ["europe-*"]}}}
    assert [(v.policy, v.urn) for v in run(plan, config)] == [("gcp-any-resource-in-residency-zone", subnet["urn"])]


@pytest.mark.parametrize("policy, config, mutate", [
    ("aws-ec2-securitygroup-no-public-ingress", {"publicPorts": [443, 80]},
     ("aws:ec2/securityGroup:SecurityGroup", "ingress", "ingress.0",
      {"protocol": "tcp", "fromPort": 80.0, "toPort": 80.0, "cidrBlocks": ["0.0.0.0/0"]})),
    ("kubernetes-pod-container-image-trusted",
     {"allowedRegistries": ["ghcr.io/lepton/*", "*.dkr.ecr.*.amazonaws.com/*"], "requireDigest": False},
     ("kubernetes:apps/v1:Deployment", "triton", "spec.template.spec.containers.0.image", "ghcr.io/lepton/triton:1")),
    ("aws-any-resource-tags-required", {"requiredTags": ["platform"]},
     ("aws:ec2/vpc:Vpc", "vpc", "tags", {"platform": "lepton"})),
])
def test_policy_keys_change_the_verdict(plan, run, policy, config, mutate):
    type_, name, path, value = mutate
    set_path(find(plan, type_, name)["inputs"], path, value)
    assert any(v.policy == policy for v in run(plan))
    assert not any(v.policy == policy for v in run(plan, {policy: config}))


def test_provider_default_tags_count(plan, run):
    vpc = find(plan, "aws:ec2/vpc:Vpc", "vpc")
    vpc["inputs"]["tags"] = {}
    provider = find(plan, "pulumi:providers:aws", "aws-eu-central-1")
    # The engine passes nested provider inputs JSON-encoded.
    provider["inputs"]["defaultTags"] = '{"tags": {"platform": "lepton", "stack": "test", "owner": "ml"}}'
    assert run(plan) == []


def _root_device_plugin(plan):
    daemonset = find(plan, "kubernetes:apps/v1:DaemonSet", "dcgm")
    daemonset["name"] = "aws-eu-central-1-nvidia-device-plugin"
    daemonset["urn"] = urn("kubernetes:apps/v1:DaemonSet", daemonset["name"])
    daemonset["inputs"]["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": 0}
    return daemonset


def test_the_shipped_device_plugin_exemption_lets_only_it_run_as_root(plan, run):
    daemonset = _root_device_plugin(plan)
    assert run(plan) == []
    daemonset["name"] = "some-other-agent"
    assert [v.policy for v in run(plan)] == ["kubernetes-pod-container-nonroot-required"]


def test_configured_exemptions_replace_the_shipped_ones(plan, run):
    _root_device_plugin(plan)
    config = {"kubernetes-pod-container-nonroot-required": {
        "exemptions": [{"pattern": "legacy-*", "justification": "SEC-7: vendor agent, replaced in Q3"}]}}
    assert [v.policy for v in run(plan, config)] == ["kubernetes-pod-container-nonroot-required"]
