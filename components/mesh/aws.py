"""AWS side of the mesh: a Transit Gateway per region joined to the hub's by peering, and the hub
Transit Gateway's VPN connections to the other clouds (BGP, IKEv2, AES-256, SHA-2, DH 14+)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, ec2transitgateway

from planning.mesh import LinkPlan, MeshPlan
from planning.regions import AWS_REGION_SLOTS

# Offered to the peer, strongest first; every entry is AES-256, SHA-2 and DH group 14 or higher.
# The peers are pinned to one suite from these lists (Azure: ipsec policy, GCP: cipher suite).
AWS_TUNNEL_CRYPTO = {
    "ike_versions": ["ikev2"],
    "phase1_encryption_algorithms": ["AES256-GCM-16", "AES256"],
    "phase1_integrity_algorithms": ["SHA2-512", "SHA2-384", "SHA2-256"],
    "phase1_dh_group_numbers": [21, 20, 19, 16, 15, 14],
    "phase2_encryption_algorithms": ["AES256-GCM-16", "AES256"],
    "phase2_integrity_algorithms": ["SHA2-512", "SHA2-384", "SHA2-256"],
    "phase2_dh_group_numbers": [21, 20, 19, 16, 15, 14],
}
CUSTOMER_GATEWAY_ASN_MAX = 2147483647
"""Above this the customer gateway takes the ASN as `bgp_asn_extended`."""


@dataclass(frozen=True)
class AwsRegionNetwork:
    """What the mesh reads from an AWS landing zone."""

    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    route_table_ids: list[pulumi.Input[str]]


@dataclass(frozen=True)
class AwsMeshHubArgs:
    plan: MeshPlan
    hub_region: str
    regions: dict[str, AwsRegionNetwork]
    providers: dict[str, pulumi.ProviderResource]
    region_cidrs: dict[str, ipaddress.IPv4Network]
    platform_cidr: ipaddress.IPv4Network
    """Every region of every cloud lives inside it: one route to it covers all of them."""
    region_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per region: the platform's tags, with the region's residency zone where it has one."""


class AwsMeshHub(pulumi.ComponentResource):
    """Transit Gateways: one per region, each attached to its VPC. Spokes peer with the hub and
    send the whole platform CIDR there; the hub routes each spoke's CIDR back over its peering.
    VPN connections (built by `connect_aws`) attach to the hub Transit Gateway, associate with and
    propagate into its default route table, so BGP routes from the other clouds reach every spoke
    through the hub and the spokes' static routes are advertised to the other clouds."""

    transit_gateways: dict[str, ec2transitgateway.TransitGateway]

    def __init__(self, name: str, args: AwsMeshHubArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:AwsMeshHub", name, None, opts)
        self.name, self.args = name, args
        self.transit_gateways = {}
        needed = len(args.regions) > 1 or bool(args.plan.links_of("aws"))
        if not needed:
            self.register_outputs({})
            return
        for region, network in args.regions.items():
            child = self._in(region)
            tgw = ec2transitgateway.TransitGateway(
                f"{name}-{region}",
                description=f"{name}: {region}",
                amazon_side_asn=args.plan.transit_asns[region],
                default_route_table_association="enable",
                default_route_table_propagation="enable",
                # Spread traffic over all four tunnels to a peer cloud, not just one.
                vpn_ecmp_support="enable",
                dns_support="enable",
                tags={**args.region_tags[region], "Name": f"{name}-{region}"},
                opts=child,
            )
            attachment = ec2transitgateway.VpcAttachment(
                f"{name}-{region}",
                transit_gateway_id=tgw.id,
                vpc_id=network.vpc_id,
                subnet_ids=network.subnet_ids,
                dns_support="enable",
                tags={**args.region_tags[region], "Name": f"{name}-{region}"},
                opts=child,
            )
            for index, route_table_id in enumerate(network.route_table_ids):
                # The VPC's own CIDR is more specific (local), so this covers every other region.
                ec2.Route(
                    f"{name}-{region}-platform-{index}",
                    route_table_id=route_table_id,
                    destination_cidr_block=str(args.platform_cidr),
                    transit_gateway_id=tgw.id,
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[attachment])),
                )
            self.transit_gateways[region] = tgw

        hub = self.transit_gateways[args.hub_region]
        for region in args.regions:
            if region != args.hub_region:
                self._peer_with_hub(AWS_REGION_SLOTS[region], region, hub)
        self.register_outputs({"transit_gateway_ids": {r: t.id for r, t in self.transit_gateways.items()}})

    def _in(self, region: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.args.providers[region])

    def _peer_with_hub(self, slot: int, region: str, hub: ec2transitgateway.TransitGateway) -> None:
        """Hub-side resources are named by their spoke's fixed slot (planning/regions.py), not its
        region: they live in the hub region, and a spoke's region in their name would place them in
        its residency zone for the policy pack's name patterns (the Name tag still says which
        spoke). Not by position either: removing a region would rename every later spoke's."""
        name, args = self.name, self.args
        spoke = self.transit_gateways[region]
        peering = ec2transitgateway.PeeringAttachment(
            f"{name}-{region}-to-hub",
            transit_gateway_id=spoke.id,
            peer_region=args.hub_region,
            peer_transit_gateway_id=hub.id,
            tags={**args.region_tags[region], "Name": f"{name}-{region}-to-{args.hub_region}"},
            opts=self._in(region),
        )
        accepted = ec2transitgateway.PeeringAttachmentAccepter(
            f"{name}-hub-accepts-spoke-{slot}",
            transit_gateway_attachment_id=peering.id,
            tags={**args.region_tags[args.hub_region], "Name": f"{name}-{region}-to-{args.hub_region}"},
            opts=self._in(args.hub_region),
        )
        # Peering attachments carry static routes only (no propagation), and only once accepted.
        after_accept = pulumi.ResourceOptions(depends_on=[accepted])
        ec2transitgateway.Route(
            f"{name}-{region}-to-hub",
            transit_gateway_route_table_id=spoke.association_default_route_table_id,
            destination_cidr_block=str(args.platform_cidr),
            transit_gateway_attachment_id=peering.id,
            opts=pulumi.ResourceOptions.merge(self._in(region), after_accept),
        )
        ec2transitgateway.Route(
            f"{name}-hub-to-spoke-{slot}",
            transit_gateway_route_table_id=hub.association_default_route_table_id,
            destination_cidr_block=str(args.region_cidrs[region]),
            transit_gateway_attachment_id=accepted.transit_gateway_attachment_id,
            opts=pulumi.ResourceOptions.merge(self._in(args.hub_region), after_accept),
        )


def connect_aws(
    name: str,
    parent: pulumi.Resource,
    hub: AwsMeshHub,
    link: LinkPlan,
    peer_addresses: list[pulumi.Output[str]],
    keys: list[pulumi.Output[str]],
) -> list[pulumi.Output[str]]:
    """AWS's half of `link`: a customer gateway per peer device and a VPN connection on each, two
    tunnels per connection. Returns AWS's outside address for every tunnel of the link."""
    peer = link.peer_of("aws")
    peer_asn = hub.args.plan.hub_asns[peer]
    opts = pulumi.ResourceOptions(parent=parent, provider=hub.args.providers[hub.args.hub_region])
    tags = hub.args.region_tags[hub.args.hub_region]
    connections = []
    for device in (0, 1):
        tunnels = link.on_device("aws", device)
        first = tunnels[0]
        asn_key = "bgp_asn" if peer_asn <= CUSTOMER_GATEWAY_ASN_MAX else "bgp_asn_extended"
        gateway = ec2.CustomerGateway(
            f"{name}-cgw-{device}",
            type="ipsec.1",
            ip_address=peer_addresses[first.index],
            device_name=f"{peer}-{device}",
            tags={**tags, "Name": f"{name}-{peer}-{device}"},
            opts=opts,
            **{asn_key: str(peer_asn)},
        )
        per_tunnel = {}
        for tunnel in tunnels:
            number = tunnel.end("aws").slot + 1
            per_tunnel[f"tunnel{number}_inside_cidr"] = str(tunnel.inside_cidr)
            per_tunnel[f"tunnel{number}_preshared_key"] = keys[tunnel.index]
            per_tunnel.update({f"tunnel{number}_{k}": v for k, v in AWS_TUNNEL_CRYPTO.items()})
        connections.append(
            ec2.VpnConnection(
                f"{name}-vpn-{device}",
                type="ipsec.1",
                customer_gateway_id=gateway.id,
                transit_gateway_id=hub.transit_gateways[hub.args.hub_region].id,
                static_routes_only=False,
                tags={**tags, "Name": f"{name}-{peer}-{device}"},
                opts=opts,
                **per_tunnel,
            )
        )
    return [
        getattr(connections[t.end("aws").device], f"tunnel{t.end('aws').slot + 1}_address")
        for t in link.tunnels
    ]
