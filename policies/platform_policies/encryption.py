"""Encryption at rest with customer-managed keys, and key hygiene. Fail closed: a value the
verdict depends on that is unknown at preview is a violation (a key *reference* that is unknown
is fine: it points at a key created in the same deployment)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .checks import expect, iso_duration_days, reference, seconds_duration_days
from .definitions import ConfigKey, PolicyDefinition
from .model import Resource, Stack, get_path, is_unknown, items

MAX_ROTATION_DAYS = ConfigKey(
    "maxRotationDays",
    {"type": "integer", "minimum": 1, "description": "Longest allowed key rotation period, in days.", "default": 365},
)

S3_BUCKET = "aws:s3/bucket:Bucket"
S3_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _check_sse_rule(rule: Any, path: str) -> Iterator[str]:
    default = get_path(rule, "applyServerSideEncryptionByDefault")
    alg = get_path(default, "sseAlgorithm")
    if problem := expect(alg, lambda a: a in KMS_ALGORITHMS, f"{path}.applyServerSideEncryptionByDefault.sseAlgorithm",
                         " or ".join(KMS_ALGORITHMS), fail_closed=True):
        yield problem
    elif problem := reference(get_path(default, "kmsMasterKeyId"),
                              f"{path}.applyServerSideEncryptionByDefault.kmsMasterKeyId",
                              "a customer-managed KMS key (without it S3 uses the AWS-managed aws/s3 key)"):
        yield problem


def check_s3_bucket_cmek(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(S3_BUCKET):
        configs = [(f"{c.name}.rules", c.get("rules")) for c in stack.referrers(bucket, S3_SSE, "bucket", "bucket")]
        inline = bucket.get("serverSideEncryptionConfiguration.rule")
        if inline is not None:
            configs.append(("serverSideEncryptionConfiguration.rule", [inline]))
        if not configs:
            yield bucket.urn, "no server-side encryption configuration with a customer-managed KMS key is attached to it"
        for path, rules in configs:
            rules = items(rules)
            if is_unknown(rules):
                yield bucket.urn, f"{path} is unknown at preview (fail closed)"
                continue
            if not rules:
                yield bucket.urn, f"{path} has no encryption rule"
            for i, rule in enumerate(rules):
                for problem in _check_sse_rule(rule, f"{path}[{i}]"):
                    yield bucket.urn, problem


def check_kms_key_rotation(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("enableKeyRotation"), lambda v: v is True, "enableKeyRotation", "true", fail_closed=True):
        yield problem
    period = resource.get("rotationPeriodInDays")
    max_days = config["maxRotationDays"]
    if period is not None and (problem := expect(period, lambda p: p <= max_days, "rotationPeriodInDays",
                                                 f"at most {max_days} days", fail_closed=True)):
        yield problem
    elif period is None and max_days < 365:
        yield f"rotationPeriodInDays is not set (AWS rotates yearly); expected at most {max_days} days"


def check_keyvault_key_rotation(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    actions = items(resource.get("properties.rotationPolicy.lifetimeActions"))
    if is_unknown(actions):
        yield "properties.rotationPolicy.lifetimeActions is unknown at preview (fail closed)"
        return
    rotate = [a for a in actions if str(get_path(a, "action.type")).lower() == "rotate"]
    if not rotate:
        yield "properties.rotationPolicy has no lifetime action of type 'rotate'"
        return
    max_days = config["maxRotationDays"]
    for i, action in enumerate(rotate):
        after = get_path(action, "trigger.timeAfterCreate")
        if problem := expect(after, lambda v: (d := iso_duration_days(v)) is not None and d <= max_days,
                             f"rotate action [{i}].trigger.timeAfterCreate",
                             f"an ISO-8601 duration of at most {max_days} days (e.g. P90D)", fail_closed=True):
            yield problem


def check_gcp_cryptokey_rotation(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    max_days = config["maxRotationDays"]
    if problem := expect(resource.get("rotationPeriod"),
                         lambda v: (d := seconds_duration_days(str(v))) is not None and d <= max_days,
                         "rotationPeriod", f"at most {max_days} days, in seconds (e.g. 7776000s)", fail_closed=True):
        yield problem


def check_keyvault_purge_protection(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("properties.enablePurgeProtection"), lambda v: v is True,
                         "properties.enablePurgeProtection", "true", fail_closed=True):
        yield problem
    soft_delete = resource.get("properties.enableSoftDelete")
    if soft_delete is not None and (problem := expect(soft_delete, lambda v: v is True, "properties.enableSoftDelete",
                                                      "true or unset (purge protection needs soft delete)",
                                                      fail_closed=True)):
        yield problem


def check_eks_secrets(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    resources = resource.get("encryptionConfig.resources")
    if problem := expect(resources, lambda r: "secrets" in r, "encryptionConfig.resources", "to include 'secrets'",
                         fail_closed=True):
        yield problem
    if problem := reference(resource.get("encryptionConfig.provider.keyArn"), "encryptionConfig.provider.keyArn",
                            "the ARN of a customer-managed KMS key"):
        yield problem


def check_aks_secrets(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    kms = "securityProfile.azureKeyVaultKms"
    if problem := expect(resource.get(f"{kms}.enabled"), lambda v: v is True, f"{kms}.enabled", "true", fail_closed=True):
        yield problem
    if problem := reference(resource.get(f"{kms}.keyId"), f"{kms}.keyId", "a Key Vault key id"):
        yield problem


def check_gke_secrets(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("databaseEncryption.state"), lambda v: v == "ENCRYPTED",
                         "databaseEncryption.state", "'ENCRYPTED'", fail_closed=True):
        yield problem
    if problem := reference(resource.get("databaseEncryption.keyName"), "databaseEncryption.keyName",
                            "a Cloud KMS key name"):
        yield problem


def check_storage_account_cmek(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("encryption.keySource"), lambda v: str(v).lower() == "microsoft.keyvault",
                         "encryption.keySource", "'Microsoft.Keyvault'", fail_closed=True):
        yield problem
    for prop in ("keyName", "keyVaultUri"):
        path = f"encryption.keyVaultProperties.{prop}"
        if problem := reference(resource.get(path), path, "the customer-managed Key Vault key"):
            yield problem


def check_gcs_bucket_cmek(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := reference(resource.get("encryption.defaultKmsKeyName"), "encryption.defaultKmsKeyName",
                            "a Cloud KMS key"):
        yield problem


def _policy(name, description, types, check, *, scope="resource", config=(), severity="high") -> PolicyDefinition:
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=("GDPR", "CIS"),
        enforcement="mandatory", resource_types=types, check=check, scope=scope, config=config, fail_closed=True,
    )


POLICIES = (
    _policy("aws-s3-bucket-cmek-required",
            "An S3 bucket is encrypted by default with a customer-managed KMS key.",
            (S3_BUCKET, S3_SSE), check_s3_bucket_cmek, scope="stack"),
    _policy("azure-storage-storageaccount-cmek-required",
            "A storage account encrypts data with a customer-managed Key Vault key.",
            ("azure-native:storage:StorageAccount",), check_storage_account_cmek),
    _policy("gcp-storage-bucket-cmek-required",
            "A GCS bucket has a default customer-managed Cloud KMS key.",
            ("gcp:storage/bucket:Bucket",), check_gcs_bucket_cmek),
    _policy("aws-kms-key-rotation-enabled",
            "A KMS key has automatic rotation on, within the configured maximum period.",
            ("aws:kms/key:Key",), check_kms_key_rotation, config=(MAX_ROTATION_DAYS,)),
    _policy("azure-keyvault-key-rotation-enabled",
            "A Key Vault key has a rotation policy that rotates it within the configured maximum period.",
            ("azure-native:keyvault:Key",), check_keyvault_key_rotation, config=(MAX_ROTATION_DAYS,)),
    _policy("gcp-kms-cryptokey-rotation-enabled",
            "A Cloud KMS key has a rotation period within the configured maximum.",
            ("gcp:kms/cryptoKey:CryptoKey",), check_gcp_cryptokey_rotation, config=(MAX_ROTATION_DAYS,)),
    _policy("azure-keyvault-vault-purge-protection-enabled",
            "A Key Vault has purge protection on, so keys cannot be destroyed before their retention ends.",
            ("azure-native:keyvault:Vault",), check_keyvault_purge_protection),
    _policy("aws-eks-cluster-secrets-cmek-required",
            "An EKS cluster encrypts Kubernetes secrets with a customer-managed KMS key.",
            ("aws:eks/cluster:Cluster",), check_eks_secrets),
    _policy("azure-containerservice-managedcluster-secrets-cmek-required",
            "An AKS cluster encrypts Kubernetes secrets with a customer-managed Key Vault key (KMS).",
            ("azure-native:containerservice:ManagedCluster",), check_aks_secrets),
    _policy("gcp-container-cluster-secrets-cmek-required",
            "A GKE cluster encrypts Kubernetes secrets at the application layer with a Cloud KMS key.",
            ("gcp:container/cluster:Cluster",), check_gke_secrets),
)
