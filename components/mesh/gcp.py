"""GCP side of the mesh: the global VPC's Cloud Router and HA VPN gateway in the hub region, and per
link an external VPN gateway for the peer's addresses, one IKEv2 tunnel per planned tunnel, and a
Cloud Router interface and BGP peer on each."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import compute

from planning.mesh import LinkPlan, MeshPlan

# The same suite Azure is pinned to and AWS offers: AES-256-CBC/SHA-256/group 14 for IKE, AES-256-GCM
# (integrity built in) with PFS group 14 for ESP.
GCP_CIPHER_SUITE = {
    "phase1": {
        "encryptions": ["AES-CBC-256"],
        "integrities": ["HMAC-SHA2-256-128"],
        "prves": ["PRF-HMAC-SHA2-256"],
        "dhs": ["Group-14"],
    },
    "phase2": {"encryptions": ["AES-GCM-16-256"], "pfs": ["Group-14"]},
}
REDUNDANCY = {2: "TWO_IPS_REDUNDANCY", 4: "FOUR_IPS_REDUNDANCY"}
"""External gateway redundancy by the number of peer addresses (one per tunnel)."""


@dataclass(frozen=True)
class GcpMeshHubArgs:
    plan: MeshPlan
    hub_region: str
    network_id: pulumi.Input[str]
    provider: pulumi.ProviderResource
    labels: dict[str, str] = field(default_factory=dict)


class GcpMeshHub(pulumi.ComponentResource):
    """Only needed with a peer cloud: GCP's regions already share one VPC. The VPC routes globally
    (set in GcpNetwork), so this one regional Cloud Router announces every region's subnets and its
    learned routes reach every region."""

    router: compute.Router | None
    gateway: compute.HaVpnGateway | None

    def __init__(self, name: str, args: GcpMeshHubArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:GcpMeshHub", name, None, opts)
        self.name, self.args = name, args
        self.child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.router = self.gateway = None
        if args.plan.links_of("gcp"):
            self.router = compute.Router(
                f"{name}-router",
                region=args.hub_region,
                network=args.network_id,
                bgp={"asn": args.plan.hub_asns["gcp"], "advertise_mode": "DEFAULT"},
                opts=self.child,
            )
            self.gateway = compute.HaVpnGateway(
                f"{name}-vpngw", region=args.hub_region, network=args.network_id, labels=args.labels, opts=self.child
            )
        self.register_outputs({"gateway_id": self.gateway.id if self.gateway else None})

    def tunnel_addresses(self, link: LinkPlan) -> list[pulumi.Output[str]]:
        """GCP's outside address for every tunnel of `link`: its HA VPN interface's address."""
        return [self.gateway.vpn_interfaces.apply(_interface_address(t.end("gcp").device)) for t in link.tunnels]


def connect_gcp(
    name: str,
    parent: pulumi.Resource,
    hub: GcpMeshHub,
    link: LinkPlan,
    peer_addresses: list[pulumi.Output[str]],
    keys: list[pulumi.Output[str]],
) -> list[pulumi.Output[str]]:
    """GCP's half of `link`: the peer as an external gateway with one interface per tunnel, then a
    tunnel, a router interface and a BGP peer per tunnel."""
    args = hub.args
    peer = link.peer_of("gcp")
    opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    external = compute.ExternalVpnGateway(
        f"{name}-peer",
        redundancy_type=REDUNDANCY[len(link.tunnels)],
        interfaces=[{"id": t.index, "ip_address": peer_addresses[t.index]} for t in link.tunnels],
        description=f"{peer} side of {link.key}",
        # A global resource: it sits in no region, so it carries no residency zone.
        labels={k: v for k, v in args.labels.items() if k != "residency-zone"},
        opts=opts,
    )
    for tunnel in link.tunnels:
        own = tunnel.end("gcp")
        vpn_tunnel = compute.VPNTunnel(
            f"{name}-tunnel-{tunnel.index}",
            region=args.hub_region,
            vpn_gateway=hub.gateway.id,
            vpn_gateway_interface=own.device,
            peer_external_gateway=external.id,
            peer_external_gateway_interface=tunnel.index,
            shared_secret=keys[tunnel.index],
            router=hub.router.id,
            ike_version=2,
            cipher_suite=GCP_CIPHER_SUITE,
            labels=args.labels,
            opts=opts,
        )
        interface = compute.RouterInterface(
            f"{name}-if-{tunnel.index}",
            router=hub.router.name,
            region=args.hub_region,
            ip_range=f"{own.address}/{tunnel.inside_cidr.prefixlen}",
            vpn_tunnel=vpn_tunnel.name,
            opts=opts,
        )
        compute.RouterPeer(
            f"{name}-bgp-{tunnel.index}",
            router=hub.router.name,
            region=args.hub_region,
            interface=interface.name,
            peer_ip_address=str(tunnel.far_end("gcp").address),
            peer_asn=args.plan.hub_asns[peer],
            advertised_route_priority=100,
            opts=opts,
        )
    return hub.tunnel_addresses(link)


def _interface_address(device: int):
    return lambda interfaces: interfaces[device].ip_address
