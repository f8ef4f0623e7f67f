"""Hygiene: the platform's tags/labels are on every taggable resource, so owners, stacks and
residency zones can be traced (and the residency rules have something to read)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .definitions import ConfigKey, PolicyDefinition
from .locations import tags_of
from .model import Resource, is_unknown

# Types of ours that accept tags/labels (checked against the installed SDKs when the table was
# written). Types without them (S3 sub-resources, BlobContainer, KeyRing, Network, ...) are exempt.
TAGGABLE = {
    "aws": (
        "aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet",
        "aws:ec2/natGateway:NatGateway", "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:ec2transitgateway/transitGateway:TransitGateway", "aws:ec2/customerGateway:CustomerGateway",
        "aws:ec2/vpnConnection:VpnConnection", "aws:ec2/eip:Eip", "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup", "aws:iam/role:Role",
    ),
    "azure": (
        "azure-native:resources:ResourceGroup", "azure-native:network:VirtualNetwork",
        "azure-native:network:NetworkSecurityGroup", "azure-native:network:PublicIPAddress",
        "azure-native:network:LocalNetworkGateway", "azure-native:network:VirtualNetworkGateway",
        "azure-native:network:VirtualNetworkGatewayConnection", "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key", "azure-native:storage:StorageAccount",
        "azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool",
    ),
    "gcp": (
        "gcp:storage/bucket:Bucket", "gcp:kms/cryptoKey:CryptoKey", "gcp:compute/vPNTunnel:VPNTunnel",
        "gcp:compute/haVpnGateway:HaVpnGateway", "gcp:compute/externalVpnGateway:ExternalVpnGateway",
        "gcp:container/cluster:Cluster",
    ),
}

REQUIRED_TAGS = ConfigKey(
    "requiredTags",
    {
        "type": "array",
        "description": "Tag/label keys every taggable resource must carry (provider default tags count).",
        "items": {"type": "string", "minLength": 1},
        "default": ["platform", "stack", "owner"],
    },
)


def check_tags(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    tags = tags_of(resource)
    if is_unknown(tags):
        return
    missing = [k for k in config["requiredTags"] if tags.get(k) is None or tags.get(k) == ""]
    if missing:
        yield f"it lacks the required tag(s)/label(s) {', '.join(missing)}"


POLICIES = tuple(
    PolicyDefinition(
        name=f"{cloud}-any-resource-{word}-required",
        description=f"A taggable {label} resource carries the platform's required {word}.",
        severity="low",
        frameworks=("CIS",),
        enforcement="advisory",
        resource_types=types,
        check=check_tags,
        config=(REQUIRED_TAGS,),
    )
    for cloud, label, word, types in (
        ("aws", "AWS", "tags", TAGGABLE["aws"]),
        ("azure", "Azure", "tags", TAGGABLE["azure"]),
        ("gcp", "GCP", "labels", TAGGABLE["gcp"]),
    )
)
