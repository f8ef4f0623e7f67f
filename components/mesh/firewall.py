"""Admit the platform's other regions, only on the ports in `planning.mesh.PEER_INGRESS`.

Deliberately not part of VpnMesh: clusters attach these rules (the AWS security group in
particular), and nothing outside the mesh may wait for a VPN. These depend only on the landing
zones' networks and the address plan, so they are ready in seconds."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2
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
    vpc_id: pulumi.Input[str]
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
    aws_security_groups: dict[str, ec2.SecurityGroup]
    """Per AWS region: attach to the cluster's nodes to admit the other regions."""

    def __init__(self, name: str, args: PeerIngressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:PeerIngress", name, None, opts)
        self.name, self.args = name, args
        self.aws_security_groups = {
            region: self._aws(region, target) for region, target in args.aws.items()
        }
        for region, target in args.azure.items():
            self._azure(region, target)
        for region, target in args.gcp.items():
            self._gcp(region, target)
        self.register_outputs({"aws_security_group_ids": {r: g.id for r, g in self.aws_security_groups.items()}})

    def _sources(self, cloud: str, region: str) -> list[str]:
        return [str(c) for c in peer_sources(self.args.region_cidrs, region_key(cloud, region))]

    def _aws(self, region: str, target: AwsIngressTarget) -> ec2.SecurityGroup:
        sources = self._sources("aws", region)
        ingress = [
            {
                "protocol": port.protocol,
                "from_port": port.ports[0] if port.ports else AWS_ICMP_FRAGMENTATION_NEEDED[0],
                "to_port": port.ports[1] if port.ports else AWS_ICMP_FRAGMENTATION_NEEDED[1],
                "cidr_blocks": sources,
                "description": port.why[:255],
            }
            for port in PEER_INGRESS
        ]
        return ec2.SecurityGroup(
            f"{self.name}-aws-{region}",
            vpc_id=target.vpc_id,
            description="Other platform regions: HTTPS, Triton, PMTUD only",
            ingress=ingress,
            tags={**self.args.region_tags[region], "Name": f"{self.name}-aws-{region}"},
            opts=pulumi.ResourceOptions(parent=self, provider=target.provider),
        )

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
