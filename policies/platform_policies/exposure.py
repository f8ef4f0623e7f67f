"""Exposure: no public buckets, TLS 1.2 or better, Kubernetes API not open to the internet."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .checks import expect, is_world
from .definitions import PolicyDefinition
from .model import Resource, Stack, contains_unknown, get_path, is_unknown, items, json_object

S3_BUCKET = "aws:s3/bucket:Bucket"
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check_s3_public_access_block(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(S3_BUCKET):
        blocks = stack.referrers(bucket, S3_PUBLIC_ACCESS_BLOCK, "bucket", "bucket")
        if not blocks:
            yield bucket.urn, "no public access block is attached to it"
        for block in blocks:
            for flag in S3_BLOCK_FLAGS:
                if problem := expect(block.get(flag), lambda v: v is True, f"{block.name}.{flag}", "true",
                                     fail_closed=False):
                    yield bucket.urn, problem


def _denies_insecure_transport(document: Any) -> bool:
    for statement in items(get_path(document, "Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
            continue
        secure = get_path(statement, "Condition.Bool.aws:SecureTransport")
        if any(str(v).lower() == "false" for v in items(secure)):
            return True
    return False


def check_s3_tls(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for bucket in stack.of_type(S3_BUCKET):
        documents = [json_object(p.get("policy")) for p in stack.referrers(bucket, S3_POLICY, "bucket", "bucket")]
        if bucket.get("policy") is not None:
            documents.append(json_object(bucket.get("policy")))
        if any(contains_unknown(d) for d in documents):
            continue  # the document embeds ARNs of new resources; it is checked once they are known
        if not any(_denies_insecure_transport(d) for d in documents):
            yield bucket.urn, "no bucket policy denies requests without TLS (aws:SecureTransport = false)"


def check_storage_account_public(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("allowBlobPublicAccess"), lambda v: v is False, "allowBlobPublicAccess",
                         "false", fail_closed=False):
        yield problem


def check_blob_container_public(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    access = resource.get("publicAccess")
    if access is not None and (problem := expect(access, lambda v: v == "None", "publicAccess", "'None' or unset",
                                                 fail_closed=False)):
        yield problem


def check_storage_account_tls(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("minimumTlsVersion"), lambda v: v in ("TLS1_2", "TLS1_3"), "minimumTlsVersion",
                         "'TLS1_2' or newer", fail_closed=False):
        yield problem
    if resource.get("enableHttpsTrafficOnly") is False:
        yield "enableHttpsTrafficOnly is False; expected true or unset"


def check_gcs_bucket_public(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if problem := expect(resource.get("uniformBucketLevelAccess"), lambda v: v is True, "uniformBucketLevelAccess",
                         "true", fail_closed=False):
        yield problem
    if problem := expect(resource.get("publicAccessPrevention"), lambda v: v == "enforced", "publicAccessPrevention",
                         "'enforced'", fail_closed=False):
        yield problem


def _restricted(cidrs: Any, path: str) -> Iterator[str]:
    cidrs = items(cidrs)
    if is_unknown(cidrs):
        return
    if not cidrs:
        yield f"{path} is empty, so the API endpoint is open to the internet"
    for cidr in cidrs:
        if is_world(cidr):
            yield f"{path} includes {cidr}"


def check_eks_api(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    public = resource.get("vpcConfig.endpointPublicAccess")
    if public is False or is_unknown(public):
        return
    # EKS defaults to a public endpoint open to 0.0.0.0/0 when no CIDRs are given.
    yield from _restricted(resource.get("vpcConfig.publicAccessCidrs"), "vpcConfig.publicAccessCidrs")


def check_aks_api(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    profile = "apiServerAccessProfile"
    if resource.get(f"{profile}.enablePrivateCluster") is True:
        return
    yield from _restricted(resource.get(f"{profile}.authorizedIPRanges"), f"{profile}.authorizedIPRanges")


def check_gke_api(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.get("privateClusterConfig.enablePrivateEndpoint") is True:
        return
    networks = "masterAuthorizedNetworksConfig"
    if resource.get(networks) is None:
        yield f"{networks} is not set, so the public endpoint is open to the internet"
        return
    blocks = items(resource.get(f"{networks}.cidrBlocks"))
    if not is_unknown(blocks):
        yield from _restricted([get_path(b, "cidrBlock") for b in blocks], f"{networks}.cidrBlocks")
    if resource.get(f"{networks}.gcpPublicCidrsAccessEnabled") is True:
        yield f"{networks}.gcpPublicCidrsAccessEnabled is True, which admits every Google Cloud public IP"


def _policy(name, description, types, check, *, scope="resource", severity="critical", frameworks=("CIS",)):
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=frameworks, enforcement="mandatory",
        resource_types=types, check=check, scope=scope,
    )


POLICIES = (
    _policy("aws-s3-bucket-public-access-blocked",
            "An S3 bucket has a public access block with all four flags on.",
            (S3_BUCKET, S3_PUBLIC_ACCESS_BLOCK), check_s3_public_access_block, scope="stack",
            frameworks=("CIS", "GDPR")),
    _policy("azure-storage-storageaccount-public-access-disabled",
            "A storage account disallows public blob access.",
            ("azure-native:storage:StorageAccount",), check_storage_account_public, frameworks=("CIS", "GDPR")),
    _policy("azure-storage-blobcontainer-public-access-disabled",
            "A blob container grants no anonymous public access.",
            ("azure-native:storage:BlobContainer",), check_blob_container_public, frameworks=("CIS", "GDPR")),
    _policy("gcp-storage-bucket-public-access-prevented",
            "A GCS bucket uses uniform bucket-level access and enforces public access prevention.",
            ("gcp:storage/bucket:Bucket",), check_gcs_bucket_public, frameworks=("CIS", "GDPR")),
    _policy("aws-s3-bucket-tls-required",
            "An S3 bucket's policy denies requests that do not use TLS (AWS endpoints require TLS 1.2 or newer).",
            (S3_BUCKET, S3_POLICY), check_s3_tls, scope="stack", severity="high"),
    _policy("azure-storage-storageaccount-tls12-required",
            "A storage account accepts only HTTPS with TLS 1.2 or newer.",
            ("azure-native:storage:StorageAccount",), check_storage_account_tls, severity="high"),
    _policy("aws-eks-cluster-api-not-public",
            "An EKS cluster's API endpoint is private or restricted to configured CIDRs, never the whole internet.",
            ("aws:eks/cluster:Cluster",), check_eks_api, severity="high"),
    _policy("azure-containerservice-managedcluster-api-not-public",
            "An AKS cluster's API server is private or restricted to authorized IP ranges, never the whole internet.",
            ("azure-native:containerservice:ManagedCluster",), check_aks_api, severity="high"),
    _policy("gcp-container-cluster-api-not-public",
            "A GKE cluster's control plane is private or restricted to authorized networks, never the whole internet.",
            ("gcp:container/cluster:Cluster",), check_gke_api, severity="high"),
)
