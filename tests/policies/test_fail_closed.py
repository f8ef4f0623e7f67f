"""Residency and encryption fail closed on values unknown at preview; the others do not judge
what they cannot see. Exercised both through the offline plan's "[unknown]" marker and through
pulumi_policy's real unknown-checking proxy (which would otherwise make the SDK skip the policy)."""

import pytest
from engine_shapes import PROVIDERS, find, set_path, urn
from pulumi_policy import PolicyCustomTimeouts, PolicyProviderResource, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from platform_policies import POLICIES
from platform_policies.pulumi_pack import to_policy

S3 = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
RECORD = "aws:route53/record:Record"
UNKNOWN = "[unknown]"


def _provider(plan, cloud):
    ptype, pname, _ = PROVIDERS[cloud]
    return find(plan, ptype, pname)


FAIL_CLOSED = [
    # policy, resource, property, reported on (None: the resource itself), message part
    ("aws-any-resource-in-residency-zone", (S3, "models"), "tags", None, "tags/labels are unknown"),
    ("aws-any-resource-in-residency-zone", (S3, "replica"), "region", None, "region is unknown at preview"),
    ("azure-any-resource-in-residency-zone", ("azure-native:keyvault:Vault", "kv"), "location", None, "region is unknown"),
    ("gcp-any-resource-in-residency-zone", ("gcp:storage/bucket:Bucket", "models-ew1"), "location", None, "region is unknown"),
    ("aws-s3-bucketreplication-in-residency-zone", (S3, "replica"), "region", (REPLICATION, "models-to-replica"),
     "not known at preview"),
    ("gcp-storage-transferjob-in-residency-zone", ("gcp:storage/bucket:Bucket", "models-ew1"), "location",
     ("gcp:storage/transferJob:TransferJob", "ew4-to-ew1"), "not known at preview"),
    ("kubernetes-batch-cronjob-replication-in-residency-zone", ("kubernetes:batch/v1:CronJob", "model-sync"),
     "metadata.annotations.multicloud-inference/replication-destination", None, "destination"
     " (multicloud-inference/replication-destination) is unknown at preview (fail closed)"),
    ("kubernetes-batch-cronjob-replication-in-residency-zone", ("kubernetes:batch/v1:CronJob", "model-sync"),
     "metadata.annotations", None, "labels or annotations are unknown at preview"),
    ("aws-s3-bucket-cmek-required", (SSE, "models"), "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm",
     (S3, "models"), "sseAlgorithm is unknown at preview (fail closed)"),
    ("aws-s3-bucket-cmek-required", (SSE, "models"), "rules", (S3, "models"), "rules is unknown at preview"),
    ("aws-kms-key-rotation-enabled", ("aws:kms/key:Key", "key"), "enableKeyRotation", None, "unknown at preview"),
    ("aws-eks-cluster-secrets-cmek-required", ("aws:eks/cluster:Cluster", "eks"), "encryptionConfig.resources", None,
     "unknown at preview"),
    ("azure-storage-storageaccount-cmek-required", ("azure-native:storage:StorageAccount", "models-we"),
     "encryption.keySource", None, "unknown at preview"),
    ("gcp-kms-cryptokey-rotation-enabled", ("gcp:kms/cryptoKey:CryptoKey", "key-ew4"), "rotationPeriod", None,
     "unknown at preview"),
    ("azure-keyvault-vault-purge-protection-enabled", ("azure-native:keyvault:Vault", "kv"),
     "properties.enablePurgeProtection", None, "unknown at preview"),
    ("aws-route53-record-answers-in-residency-zone", (RECORD, "entry-eu"), "aliases", None,
     "its alias target is unknown at preview (fail closed)"),
    ("aws-route53-record-answers-in-residency-zone", (RECORD, "entry-eu"), "aliases.0.evaluateTargetHealth", None,
     "can fail over (it is health-evaluated) to infer [default]"),
    ("aws-route53-record-answers-in-residency-zone", (RECORD, "entry-no"), "geolocationRoutingPolicies.0.country", None,
     "its geolocation is unknown at preview"),
]


@pytest.mark.parametrize("case", FAIL_CLOSED, ids=[f"{c[0]}:{c[2]}" for c in FAIL_CLOSED])
def test_unknown_is_a_violation_for_fail_closed_policies(plan, run, case):
    policy, (type_, name), path, reported_on, expected = case
    target = find(plan, type_, name)
    set_path(target["inputs"], path, UNKNOWN)
    report_urn = urn(*reported_on) if reported_on else target["urn"]
    assert any(v.policy == policy and v.urn == report_urn and expected in v.message for v in run(plan)), run(plan)


def test_an_unknown_provider_region_fails_closed_for_zone_members(plan, run):
    _provider(plan, "aws")["inputs"]["region"] = UNKNOWN
    flagged = {v.urn for v in run(plan) if v.policy == "aws-any-resource-in-residency-zone"}
    assert urn(S3, "models") in flagged and urn("aws:kms/key:Key", "key") in flagged
    assert urn(S3, "replica") not in flagged  # its own region input wins over the provider's


@pytest.mark.parametrize("reference", [
    (SSE, "models", "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"),
    ("aws:eks/cluster:Cluster", "eks", "encryptionConfig.provider.keyArn"),
    ("gcp:storage/bucket:Bucket", "models-ew4", "encryption.defaultKmsKeyName"),
    ("azure-native:containerservice:ManagedCluster", "aks", "securityProfile.azureKeyVaultKms.keyId"),
    # The destination ARN of a new bucket is unknown: replication is followed through the
    # engine's property dependencies instead.
    (REPLICATION, "models-to-replica", "rules.0.destination.bucket"),
    (REPLICATION, "models-to-replica", "bucket"),
    # A new address's value is unknown: the record is attributed to it by property dependency.
    (RECORD, "zone-eu-bucket", "records"),
])
def test_an_unknown_key_or_target_reference_is_not_a_violation(plan, run, reference):
    type_, name, path = reference
    set_path(find(plan, type_, name)["inputs"], path, UNKNOWN)
    assert run(plan) == []


def test_unknown_replication_target_without_dependencies_fails_closed(plan, run):
    replication = find(plan, REPLICATION, "models-to-replica")
    set_path(replication["inputs"], "rules.0.destination.bucket", UNKNOWN)
    replication["property_dependencies"]["rules"] = []
    assert any(v.policy == "aws-s3-bucketreplication-in-residency-zone" and "depends on no data store" in v.message
               for v in run(plan))


@pytest.mark.parametrize("case", [
    ("aws:ec2/securityGroup:SecurityGroup", "ingress", "ingress.1.cidrBlocks"),
    ("aws:eks/cluster:Cluster", "eks", "vpcConfig.publicAccessCidrs"),
    ("kubernetes:apps/v1:Deployment", "triton", "spec.template.spec.containers.0.image"),
    ("aws:ec2/vpc:Vpc", "vpc", "tags"),
])
def test_other_policies_do_not_judge_unknowns(plan, run, case):
    type_, name, path = case
    set_path(find(plan, type_, name)["inputs"], path, UNKNOWN)
    fail_closed = {p.name for p in POLICIES if p.fail_closed}
    assert [v for v in run(plan) if v.urn == urn(type_, name) and v.policy not in fail_closed] == []


# --- through pulumi_policy's own proxy ------------------------------------------------------

def _args(resource_type, name, props, provider_props):
    ptype, pname, _ = PROVIDERS["aws"]
    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    provider = PolicyProviderResource(ptype, unknown_checking_proxy(provider_props), urn(ptype, pname), pname)
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(props), urn(resource_type, name), name, opts,
                                  provider, None)


def _policy(name):
    return to_policy(next(p for p in POLICIES if p.name == name))


def test_the_sdk_proxy_would_skip_a_naive_policy():
    args = _args(S3, "models", {"tags": {"residency-zone": "eu"}}, {"region": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        args.provider.props["region"]  # what the SDK turns into "can't run policy during preview"


def test_the_wrapped_residency_policy_reports_instead_of_skipping():
    args = _args(S3, "models", {"tags": {"residency-zone": "eu"}}, {"region": UNKNOWN_STRING_VALUE})
    reported = []
    _policy("aws-any-resource-in-residency-zone").validate(args, lambda message, urn=None: reported.append(message))
    assert reported and "region is unknown at preview" in reported[0]


def test_the_wrapped_encryption_policy_fails_closed_but_accepts_a_key_reference():
    key = "aws:kms/key:Key"
    reported = []
    report = lambda message, urn=None: reported.append(message)  # noqa: E731
    policy = _policy("aws-kms-key-rotation-enabled")
    policy.validate(_args(key, "key", {"enableKeyRotation": UNKNOWN_STRING_VALUE}, {"region": "eu-central-1"}), report)
    assert len(reported) == 1 and "unknown at preview" in reported[0]
    reported.clear()
    eks = {"encryptionConfig": {"provider": {"keyArn": UNKNOWN_STRING_VALUE}, "resources": ["secrets"]}}
    _policy("aws-eks-cluster-secrets-cmek-required").validate(
        _args("aws:eks/cluster:Cluster", "eks", eks, {"region": "eu-central-1"}), report)
    assert reported == []

