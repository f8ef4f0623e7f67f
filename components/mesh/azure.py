"""Azure side of the mesh: the hub VNet's active-active VPN gateway (BGP, custom APIPA addresses),
the other regions' VNets peered to the hub (gateway transit), and per link one local network
gateway and one IKEv2 connection per tunnel.

The gateway and the peerings write to VNets that the landing zones and clusters also write to, and
Azure refuses concurrent writes to one VNet: each takes its turn in that VNet's `VnetWrites` queue
(a peering in both VNets' queues, since it changes the peering state on both sides)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network

from components.landing_zone.azure import VnetWrites
from planning.mesh import LinkPlan, MeshPlan

GATEWAY_SKU = "VpnGw2AZ"
"""Zone-redundant, active-active, BGP, up to ~1.25 Gbit/s; VpnGw1AZ is the cheaper floor."""

# One pinned suite, offered identically by AWS and GCP: AES-256/SHA-256/DH 14 for IKE, AES-256-GCM
# with PFS 2048 (group 14) for ESP. 3600 s matches AWS's phase 2 maximum so both ends rekey alike.
AZURE_IPSEC_POLICY = {
    "ike_encryption": "AES256",
    "ike_integrity": "SHA256",
    "dh_group": "DHGroup14",
    "ipsec_encryption": "GCMAES256",
    "ipsec_integrity": "GCMAES256",
    "pfs_group": "PFS2048",
    "sa_life_time_seconds": 3600,
    "sa_data_size_kilobytes": 102400000,
}
INSTANCES = (0, 1)


@dataclass(frozen=True)
class AzureRegionNetwork:
    resource_group_name: pulumi.Input[str]
    vnet_name: pulumi.Input[str]
    vnet_id: pulumi.Input[str]
    writes: VnetWrites
    """The VNet's write queue (the landing zone's): the gateway and the peerings join it."""
    gateway_subnet_id: pulumi.Input[str] | None = None
    """Only the hub VNet has a GatewaySubnet."""


@dataclass(frozen=True)
class AzureMeshHubArgs:
    plan: MeshPlan
    hub_region: str
    regions: dict[str, AzureRegionNetwork]
    provider: pulumi.ProviderResource
    subscription_id: str
    tags: dict[str, str] = field(default_factory=dict)


class AzureMeshHub(pulumi.ComponentResource):
    public_ips: list[network.PublicIPAddress]
    gateway: network.VirtualNetworkGateway | None

    def __init__(self, name: str, args: AzureMeshHubArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:AzureMeshHub", name, None, opts)
        self.name, self.args = name, args
        self.child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        hub = args.regions[args.hub_region]
        self.public_ips, self.gateway = [], None
        if args.plan.links_of("azure"):
            self._gateway(hub)
        for region, spoke in args.regions.items():
            if region != args.hub_region:
                self._peer(region, spoke, hub)
        self.register_outputs({"gateway_id": self.gateway.id if self.gateway else None})

    def ip_configuration_id(self, instance: int) -> pulumi.Output[str]:
        # The gateway's own sub-resource id, needed inside its own definition: built from its name.
        return pulumi.Output.concat(
            "/subscriptions/", self.args.subscription_id,
            "/resourceGroups/", self.args.regions[self.args.hub_region].resource_group_name,
            "/providers/Microsoft.Network/virtualNetworkGateways/", self.gateway_name,
            "/ipConfigurations/", f"instance-{instance}",
        )

    def _gateway(self, hub: AzureRegionNetwork) -> None:
        name, args = self.name, self.args
        location = args.hub_region
        self.gateway_name = f"{name}-vpngw"
        self.public_ips = [
            network.PublicIPAddress(
                f"{name}-vpngw-{instance}",
                resource_group_name=hub.resource_group_name,
                location=location,
                sku={"name": "Standard", "tier": "Regional"},
                public_ip_allocation_method="Static",
                # AZ gateway SKUs need zone-redundant addresses.
                zones=["1", "2", "3"],
                tags=args.tags,
                opts=self.child,
            )
            for instance in INSTANCES
        ]
        apipa = {
            instance: sorted(
                {
                    str(t.end("azure").address)
                    for link in args.plan.links_of("azure")
                    for t in link.on_device("azure", instance)
                }
            )
            for instance in INSTANCES
        }
        self.gateway = network.VirtualNetworkGateway(
            f"{name}-vpngw",
            virtual_network_gateway_name=self.gateway_name,
            resource_group_name=hub.resource_group_name,
            location=location,
            gateway_type="Vpn",
            vpn_type="RouteBased",
            vpn_gateway_generation="Generation2",
            sku={"name": GATEWAY_SKU, "tier": GATEWAY_SKU},
            active_active=True,
            enable_bgp=True,
            bgp_settings={
                "asn": args.plan.hub_asns["azure"],
                "bgp_peering_addresses": [
                    {"ipconfiguration_id": self.ip_configuration_id(i), "custom_bgp_ip_addresses": apipa[i]}
                    for i in INSTANCES
                ],
            },
            ip_configurations=[
                {
                    "name": f"instance-{i}",
                    "subnet": {"id": hub.gateway_subnet_id},
                    "public_ip_address": {"id": self.public_ips[i].id},
                    "private_ip_allocation_method": "Dynamic",
                }
                for i in INSTANCES
            ],
            tags=args.tags,
            # It takes the GatewaySubnet and holds the hub VNet for 30-45 minutes.
            opts=hub.writes.options(self.child),
        )
        hub.writes.took(self.gateway)

    def _peer(self, region: str, spoke: AzureRegionNetwork, hub: AzureRegionNetwork) -> None:
        transit = self.gateway is not None
        hub.writes.took(
            network.VirtualNetworkPeering(
                f"{self.name}-hub-to-{region}",
                resource_group_name=hub.resource_group_name,
                virtual_network_name=hub.vnet_name,
                remote_virtual_network={"id": spoke.vnet_id},
                allow_virtual_network_access=True,
                allow_forwarded_traffic=True,
                allow_gateway_transit=transit,
                opts=hub.writes.options(self.child, spoke.writes),
            ),
            spoke.writes,
        )
        # Using the hub's gateway is only accepted once that gateway exists (it is earlier in the
        # hub VNet's queue, so this waits for it).
        hub.writes.took(
            network.VirtualNetworkPeering(
                f"{self.name}-{region}-to-hub",
                resource_group_name=spoke.resource_group_name,
                virtual_network_name=spoke.vnet_name,
                remote_virtual_network={"id": hub.vnet_id},
                allow_virtual_network_access=True,
                allow_forwarded_traffic=True,
                use_remote_gateways=transit,
                opts=spoke.writes.options(self.child, hub.writes),
            ),
            spoke.writes,
        )

    def tunnel_addresses(self, link: LinkPlan) -> list[pulumi.Output[str]]:
        """Azure's outside address for every tunnel of `link`: its instance's public IP."""
        return [self.public_ips[t.end("azure").device].ip_address for t in link.tunnels]


def connect_azure(
    name: str,
    parent: pulumi.Resource,
    hub: AzureMeshHub,
    link: LinkPlan,
    peer_addresses: list[pulumi.Output[str]],
    keys: list[pulumi.Output[str]],
) -> list[pulumi.Output[str]]:
    """Azure's half of `link`: a local network gateway (the far end's outside address and BGP
    address) and a connection per tunnel. Both gateway instances try every connection; each
    connection names the APIPA address each instance uses, the tunnel's own on its instance."""
    args = hub.args
    peer = link.peer_of("azure")
    rg = args.regions[args.hub_region].resource_group_name
    opts = pulumi.ResourceOptions(parent=parent, provider=args.provider)
    for tunnel in link.tunnels:
        own = tunnel.end("azure")
        local = network.LocalNetworkGateway(
            f"{name}-lng-{tunnel.index}",
            resource_group_name=rg,
            location=args.hub_region,
            gateway_ip_address=peer_addresses[tunnel.index],
            bgp_settings={"asn": args.plan.hub_asns[peer], "bgp_peering_address": str(tunnel.far_end("azure").address)},
            tags=args.tags,
            opts=opts,
        )
        custom_bgp = [
            {
                "ip_configuration_id": hub.ip_configuration_id(instance),
                "custom_bgp_ip_address": str(
                    own.address if instance == own.device
                    else link.on_device("azure", instance)[own.slot].end("azure").address
                ),
            }
            for instance in INSTANCES
        ]
        network.VirtualNetworkGatewayConnection(
            f"{name}-conn-{tunnel.index}",
            resource_group_name=rg,
            location=args.hub_region,
            connection_type="IPsec",
            connection_protocol="IKEv2",
            virtual_network_gateway1={"id": hub.gateway.id},
            local_network_gateway2={"id": local.id},
            shared_key=keys[tunnel.index],
            enable_bgp=True,
            use_policy_based_traffic_selectors=False,
            ipsec_policies=[AZURE_IPSEC_POLICY],
            gateway_custom_bgp_ip_addresses=custom_bgp,
            dpd_timeout_seconds=45,
            tags=args.tags,
            opts=opts,
        )
    return hub.tunnel_addresses(link)
