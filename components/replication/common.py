"""What every replication mechanism reads: the platform's landing zones, clusters and providers for
an edge's two ends, and the few helpers their least-privilege grants share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import pulumi
from pulumi_aws import iam
from pulumi_azure_native import authorization, managedidentity

from components.context import region_tags
from planning.platform import PlatformPlan, RegionPlan

if TYPE_CHECKING:
    from components.providers import CloudProviders
    from settings import Settings

STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
AZURE_TOKEN_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra ID expects on a federated token (workload identity, other clouds' issuers)."""


@dataclass(frozen=True, kw_only=True)
class ReplicationArgs:
    settings: Settings
    plan: PlatformPlan
    stack: str
    providers: CloudProviders
    landing_zones: Mapping[str, pulumi.ComponentResource]
    """Per region key: its model bucket (or storage account) and key."""
    clusters: Mapping[str, pulumi.ComponentResource]
    """Per region key: its cluster (Kubernetes provider, deployer access, OIDC issuer)."""
    images: Mapping[str, pulumi.Input[str]]
    """Per region key: the platform's inference image by digest (it ships rclone)."""


@dataclass(frozen=True)
class End:
    """One end of an edge: its region plan, landing zone, cluster and provider."""

    region: RegionPlan
    landing_zone: Any
    cluster: Any
    provider: pulumi.ProviderResource
    tags: dict[str, str]

    @property
    def key(self) -> str:
        return self.region.key

    @property
    def name(self) -> str:
        return self.region.name

    @property
    def slug(self) -> str:
        """`aws-eu-central-1`: what child resource names carry."""
        return self.key.replace(":", "-")


def end(args: ReplicationArgs, key: str) -> End:
    region = args.plan.region(key)
    providers = args.providers
    provider = {"aws": lambda: providers.aws[region.name], "azure": lambda: providers.azure,
                "gcp": lambda: providers.gcp}[region.cloud]()
    return End(region, args.landing_zones[key], args.clusters[key], provider,
               region_tags(args.settings, args.stack, region.name))


def global_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags for global resources (IAM): a residency-zone tag would claim a location they do not have."""
    return {k: v for k, v in tags.items() if k != "residency-zone"}


def azure_role(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def iam_document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def s3_read_statements(bucket_arn: str, key_arn: str, region: str) -> list[dict]:
    """List and read one bucket, decrypting with its key only through S3 in its region."""
    return [
        {"Sid": "ListSource", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": bucket_arn},
        {"Sid": "ReadSource", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"},
        {"Sid": "DecryptSource", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
    ]


class S3Reader(NamedTuple):
    role: iam.Role
    policy: iam.RolePolicy
    """The role's rights: what a user of the role waits for."""


def s3_reader(parent: pulumi.Resource, name: str, at: End, *, role_name: str, trust: pulumi.Input[str]) -> S3Reader:
    """An IAM role that the principals of `trust` (an assume-role policy) assume to list and read
    `at`'s bucket and decrypt with its key, nothing else."""
    lz = at.landing_zone
    opts = pulumi.ResourceOptions(parent=parent, provider=at.provider)
    role = iam.Role(name, name=role_name, assume_role_policy=trust, tags=global_tags(at.tags), opts=opts)
    policy = iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.all(lz.bucket.arn, lz.key.arn).apply(
            lambda a: iam_document(*s3_read_statements(a[0], a[1], at.name))
        ),
        opts=opts,
    )
    return S3Reader(role, policy)


def issuer_path(issuer: str) -> str:
    """An OIDC issuer URL as AWS condition keys and Azure credentials compare it: no scheme, no
    trailing slash."""
    return issuer.removeprefix("https://").rstrip("/")


@dataclass(frozen=True)
class FederatedContainerAccess:
    """An Entra identity that another cloud's (or a cluster's) tokens sign in as, with one role on
    one end's model container."""

    identity: managedidentity.UserAssignedIdentity
    ready: list[pulumi.Resource]
    """The federated credential and the role assignment: what a user of the identity waits for."""


def federated_container_access(
    parent: pulumi.Resource, name: str, at: End, *, role: str, credential: str, issuer: pulumi.Input[str],
    subject: pulumi.Input[str],
) -> FederatedContainerAccess:
    """A user-assigned identity in `at`'s resource group that trusts tokens from `issuer` about
    `subject`, granted `role` (a full role definition id) on `at`'s container and nothing else."""
    lz = at.landing_zone
    opts = pulumi.ResourceOptions(parent=parent, provider=at.provider)
    identity = managedidentity.UserAssignedIdentity(
        name, resource_group_name=lz.resource_group.name, location=at.name, tags=at.tags, opts=opts
    )
    federated = managedidentity.FederatedIdentityCredential(
        name,
        resource_group_name=lz.resource_group.name,
        resource_name_=identity.name,
        federated_identity_credential_resource_name=credential,
        issuer=issuer,
        subject=subject,
        audiences=[AZURE_TOKEN_AUDIENCE],
        opts=opts,
    )
    grant = authorization.RoleAssignment(
        name, scope=lz.container.id, principal_id=identity.principal_id, principal_type="ServicePrincipal",
        role_definition_id=role, opts=opts,
    )
    return FederatedContainerAccess(identity, [federated, grant])
