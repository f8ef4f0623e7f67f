"""The cross-cloud network: `VpnMesh` (hubs, peering, HA VPN between the clouds' hubs)
and `PeerIngress` (what other regions may reach). `build_network` wires both from the settings and
the landing zones; one module per cloud, `mesh` for the cross-cloud wiring, `firewall` for ingress."""

from __future__ import annotations

import pulumi

from components.mesh.aws import AwsRegionNetwork
from components.mesh.azure import AzureRegionNetwork
from components.mesh.firewall import (
    AwsIngressTarget,
    AzureIngressTarget,
    GcpIngressTarget,
    PeerIngress,
    PeerIngressArgs,
)
from components.mesh.mesh import VpnMesh, VpnMeshArgs
from planning.regions import region_key

__all__ = ["PeerIngress", "VpnMesh", "build_network"]


def build_network(
    name: str, settings, plan, landing_zones, clusters, providers, gcp_network, tags_in, parent: pulumi.Resource
) -> tuple[VpnMesh, PeerIngress]:
    """The mesh and the ingress rules for a platform whose landing zones and clusters (keyed
    `cloud:region`) already exist. Both are children of `parent`, siblings of the landing zones.
    `tags_in(region)` gives the common tags of a resource located in that region."""
    clouds = settings.clouds

    def zones(cloud):
        spec = getattr(clouds, cloud)
        return {r.name: landing_zones[region_key(cloud, r.name)] for r in spec.regions} if spec else {}

    aws_zones, azure_zones = zones("aws"), zones("azure")

    hubs: dict[str, dict] = {}
    if clouds.aws:
        hubs["aws"] = dict(
            hub_region=clouds.aws.hub,
            regions={
                region: AwsRegionNetwork(
                    vpc_id=lz.vpc.id,
                    subnet_ids=[s.id for s in lz.private_subnets],
                    route_table_ids=[t.id for t in lz.private_route_tables],
                )
                for region, lz in aws_zones.items()
            },
            providers=providers.aws,
            region_cidrs={r: plan.region(region_key("aws", r)).cidr for r in aws_zones},
            platform_cidr=settings.supernet,
            region_tags={r: tags_in(r) for r in aws_zones},
        )
    if clouds.azure:
        hubs["azure"] = dict(
            hub_region=clouds.azure.hub,
            regions={
                region: AzureRegionNetwork(
                    resource_group_name=lz.resource_group.name,
                    vnet_name=lz.vnet.name,
                    vnet_id=lz.vnet.id,
                    writes=lz.vnet_writes,
                    gateway_subnet_id=lz.subnets["GatewaySubnet"].id if "GatewaySubnet" in lz.subnets else None,
                )
                for region, lz in azure_zones.items()
            },
            provider=providers.azure,
            subscription_id=clouds.azure.subscription_id,
            tags=tags_in(clouds.azure.hub),
        )
    if clouds.gcp:
        hubs["gcp"] = dict(
            hub_region=clouds.gcp.hub, network_id=gcp_network.network.id, provider=providers.gcp, labels=tags_in(clouds.gcp.hub)
        )
    child = pulumi.ResourceOptions(parent=parent)
    mesh = VpnMesh(f"{name}-mesh", VpnMeshArgs(plan=plan.mesh, hubs=hubs), child)

    ingress = PeerIngressArgs(
        region_cidrs={key: region.cidr for key, region in plan.regions.items()},
        aws={
            r: AwsIngressTarget(clusters[region_key("aws", r)].node_security_group_id, providers.aws[r])
            for r in aws_zones
        },
        azure={
            r: AzureIngressTarget(lz.resource_group.name, lz.nodes_nsg.name, providers.azure)
            for r, lz in azure_zones.items()
        },
        gcp={r.name: GcpIngressTarget(gcp_network.network.id, providers.gcp) for r in clouds.gcp.regions}
        if clouds.gcp
        else {},
        region_tags={r: tags_in(r) for r in (*aws_zones, *azure_zones)},
    )
    return mesh, PeerIngress(f"{name}-peers", ingress, child)
