"""Container registries the platform deploys from: encrypted with the region's key, tags that cannot
be moved, no shared admin password. Encryption fails closed; a key reference unknown at preview is
fine (it names a key created in the same deployment)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .checks import expect, reference
from .definitions import PolicyDefinition
from .model import Resource, get_path, is_unknown, items

ECR = "aws:ecr/repository:Repository"
ACR = "azure-native:containerregistry:Registry"
ARTIFACT_REGISTRY = "gcp:artifactregistry/repository:Repository"

BUILD_CACHE = {
    "pattern": "*-build-cache",
    "justification": "The image build's layer cache: its one tag is rewritten by every build by design, and "
    "nothing is ever deployed from it (deployments name the inference image by digest).",
}


def check_ecr_cmek(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    configs = items(resource.get("encryptionConfigurations"))
    if is_unknown(configs):
        yield "encryptionConfigurations is unknown at preview (fail closed)"
        return
    if not configs:
        yield ("encryptionConfigurations is not set, so ECR encrypts with its own AES-256 key; expected KMS with "
               "a customer-managed key")
        return
    first = configs[0]
    if problem := expect(get_path(first, "encryptionType"), lambda v: v == "KMS", "encryptionConfigurations[0].encryptionType",
                         "'KMS'", fail_closed=True):
        yield problem
    elif problem := reference(get_path(first, "kmsKey"), "encryptionConfigurations[0].kmsKey",
                              "a customer-managed KMS key (without it ECR uses the AWS-managed aws/ecr key)"):
        yield problem


def check_ecr_immutable(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("imageTagMutability"), lambda v: v == "IMMUTABLE", "imageTagMutability",
                         "'IMMUTABLE' (a pushed tag never moves)", fail_closed=False):
        yield problem


def check_acr_no_shared_credentials(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for prop, what in (("adminUserEnabled", "an admin user (one shared password for push and pull)"),
                       ("anonymousPullEnabled", "anonymous pull")):
        value = resource.get(prop)
        if value is True:
            yield f"{prop} is true: {what}; use Entra ID identities (AcrPull, AcrPush) instead"
        elif is_unknown(value):
            yield f"{prop} is unknown at preview (fail closed)"


def check_artifact_registry_cmek(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := reference(resource.get("kmsKeyName"), "kmsKeyName", "a customer-managed Cloud KMS key"):
        yield problem


def check_artifact_registry_immutable(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.get("format") not in (None, "DOCKER"):
        return
    if problem := expect(resource.get("dockerConfig.immutableTags"), lambda v: v is True, "dockerConfig.immutableTags",
                         "true (a pushed tag never moves)", fail_closed=False):
        yield problem


def _policy(name, description, types, check, *, frameworks=("CIS",), severity="high", exemptions=(),
            fail_closed=False) -> PolicyDefinition:
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=frameworks, enforcement="mandatory",
        resource_types=types, check=check, fail_closed=fail_closed, default_exemptions=exemptions,
    )


POLICIES = (
    _policy("aws-ecr-repository-cmek-required",
            "An ECR repository encrypts images with a customer-managed KMS key.",
            (ECR,), check_ecr_cmek, frameworks=("GDPR", "CIS"), fail_closed=True),
    _policy("aws-ecr-repository-immutable-tags",
            "An ECR repository's tags are immutable, so a deployed tag can never be repointed.",
            (ECR,), check_ecr_immutable, exemptions=(BUILD_CACHE,)),
    _policy("azure-containerregistry-registry-shared-credentials-disabled",
            "A container registry has no admin user and no anonymous pull: every push and pull is an Entra ID identity.",
            (ACR,), check_acr_no_shared_credentials, fail_closed=True),
    _policy("gcp-artifactregistry-repository-cmek-required",
            "An Artifact Registry repository encrypts images with a customer-managed Cloud KMS key.",
            (ARTIFACT_REGISTRY,), check_artifact_registry_cmek, frameworks=("GDPR", "CIS"), fail_closed=True),
    _policy("gcp-artifactregistry-repository-immutable-tags",
            "A Docker repository in Artifact Registry has immutable tags.",
            (ARTIFACT_REGISTRY,), check_artifact_registry_immutable, exemptions=(BUILD_CACHE,)),
)
