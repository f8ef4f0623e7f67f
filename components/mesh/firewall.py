"""Admit the platform's other regions, only on the ports in `planning.mesh.PEER_INGRESS`.

Deliberately not part of VpnMesh: clusters attach these rules (the AWS security group in
particular), and nothing outside the mesh may wait for a VPN. These depend only on the landing
zones' networks and the address plan, so they are ready in seconds."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, vpc
from pulumi_azure_native import network as azure_network
from pulumi_gcp import compute

from planning.mesh import AWS_ICMP_FRAGMENTATION_NEEDED, PEER_INGRESS, peer_sources
from planning.regions import region_key

AZURE_ALLOW_PRIORITY = 300
AZURE_DENY_PRIORITY = 4000
"""Azure's default AllowVnetInBound (65000) also admits every prefix learned over the VPN gateway
and peerings; this explicit deny keeps the other regions to the allowed ports."""
AZURE_PROTOCOLS = {"tcp": "Tcp", "icmp": "Icmp"}


def _port_range(ports: tuple[int, int]) -> str:
    return str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"


@dataclass(frozen=True)
class AwsIngressTarget:
    security_group_id: pulumi.Input[str]
    """The EKS cluster security group: managed node groups put every node (and pod, with the VPC
    CNI) in it, so peers are admitted where the inference pods actually run."""
    provider: pulumi.ProviderResource


@dataclass(frozen=True)
class AzureIngressTarget:
    resource_group_name: pulumi.Input[str]
    nsg_name: pulumi.Input[str]
    provider: pulumi.ProviderResource


@dataclass(frozen=True)
class GcpIngressTarget:
    network_id: pulumi.Input[str]
    provider: pulumi.ProviderResource


@dataclass(frozen=True)
class PeerIngressArgs:
    region_cidrs: dict[str, ipaddress.IPv4Network]
    """Keyed `cloud:region`, the whole address plan."""
    aws: dict[str, AwsIngressTarget] = field(default_factory=dict)
    azure: dict[str, AzureIngressTarget] = field(default_factory=dict)
    gcp: dict[str, GcpIngressTarget] = field(default_factory=dict)
    region_tags: dict[str, dict[str, str]] = field(default_factory=dict)


class PeerIngress(pulumi.ComponentResource):
    aws_peer_prefix_lists: dict[str, ec2.ManagedPrefixList]
    """Per AWS region: the other regions' CIDRs, one list the security group rules refer to."""

    def __init__(self, name: str, args: PeerIngressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:PeerIngress", name, None, opts)
        self.name, self.args = name, args
        self.aws_peer_prefix_lists = {
            region: self._aws(region, target) for region, target in args.aws.items()
        }
        for region, target in args.azure.items():
            self._azure(region, target)
        for region, target in args.gcp.items():
            self._gcp(region, target)
        self.register_outputs({"aws_peer_prefix_list_ids": {r: p.id for r, p in self.aws_peer_prefix_lists.items()}})

    def _sources(self, cloud: str, region: str) -> list[str]:
        return [str(c) for c in peer_sources(self.args.region_cidrs, region_key(cloud, region))]

    def _aws(self, region: str, target: AwsIngressTarget) -> ec2.ManagedPrefixList:
        sources = self._sources("aws", region)
        opts = pulumi.ResourceOptions(parent=self, provider=target.provider)
        tags = self.args.region_tags[region]
        peers = ec2.ManagedPrefixList(
            f"{self.name}-aws-{region}",
            address_family="IPv4",
            # Room for every region of the plan, so a new region is an in-place update.
            max_entries=len(self.args.region_cidrs),
            entries=[{"cidr": cidr, "description": "another platform region"} for cidr in sources],
            tags={**tags, "Name": f"{self.name}-aws-{region}"},
            opts=opts,
        )
        for index, port in enumerate(PEER_INGRESS):
            from_port, to_port = port.ports or AWS_ICMP_FRAGMENTATION_NEEDED
            vpc.SecurityGroupIngressRule(
                f"{self.name}-aws-{region}-{index}",
                security_group_id=target.security_group_id,
                prefix_list_id=peers.id,
                ip_protocol=port.protocol,
                from_port=from_port,
                to_port=to_port,
                description=port.why[:255],
                tags=tags,
                opts=opts,
            )
        return peers

    def _azure(self, region: str, target: AzureIngressTarget) -> None:
        sources = self._sources("azure", region)
        opts = pulumi.ResourceOptions(parent=self, provider=target.provider)
        common = {
            "resource_group_name": target.resource_group_name,
            "network_security_group_name": target.nsg_name,
            "direction": "Inbound",
            "source_address_prefixes": sources,
            "source_port_range": "*",
            "destination_address_prefix": "VirtualNetwork",
        }
        for index, port in enumerate(PEER_INGRESS):
            azure_network.SecurityRule(
                f"{self.name}-azure-{region}-{index}",
                security_rule_name=f"allow-platform-{port.protocol}-{index}",
                access="Allow",
                priority=AZURE_ALLOW_PRIORITY + 10 * index,
                protocol=AZURE_PROTOCOLS[port.protocol],
                destination_port_range=_port_range(port.ports) if port.ports else "*",
                description=port.why,
                opts=opts,
                **common,
            )
        azure_network.SecurityRule(
            f"{self.name}-azure-{region}-deny",
            security_rule_name="deny-platform-other",
            access="Deny",
            priority=AZURE_DENY_PRIORITY,
            protocol="*",
            destination_port_range="*",
            description="Everything else from the other platform regions",
            opts=opts,
            **common,
        )

    def _gcp(self, region: str, target: GcpIngressTarget) -> None:
        region_cidr = self.args.region_cidrs[region_key("gcp", region)]
        compute.Firewall(
            f"{self.name}-gcp-{region}",
            network=target.network_id,
            direction="INGRESS",
            priority=1000,
            source_ranges=self._sources("gcp", region),
            # One rule per region, aimed at that region's addresses: the VPC is global.
            destination_ranges=[str(region_cidr)],
            allows=[
                {"protocol": port.protocol, **({"ports": [_port_range(port.ports)]} if port.ports else {})}
                for port in PEER_INGRESS
            ],
            description="Other platform regions: HTTPS, Triton, ICMP for PMTUD only",
            log_config={"metadata": "EXCLUDE_ALL_METADATA"},
            opts=pulumi.ResourceOptions(parent=self, provider=target.provider),
        )
