"""The whole platform for one stack: providers, then a landing zone in every configured region.

Everything else (the VPN mesh, the clusters) hangs off the landing zones built here; this module
only wires plans to components, one table entry per cloud instead of one branch per cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi

from components.kubernetes import CLUSTERS
from components.landing_zone.aws import AwsLandingZone, AwsLandingZoneArgs
from components.landing_zone.azure import AzureLandingZone, AzureLandingZoneArgs
from components.landing_zone.gcp import GcpLandingZone, GcpLandingZoneArgs, GcpNetwork
from components.mesh import build_network
from components.naming import common_tags
from components.providers import CloudProviders
from planning.regions import Cloud, region_key
from settings import RegionSpec, Settings


@dataclass(frozen=True)
class RegionContext:
    """Everything a landing zone needs to know about its region, the same for every cloud."""

    settings: Settings
    stack: str
    cloud: Cloud
    region: RegionSpec
    providers: CloudProviders
    gcp_network: GcpNetwork | None

    @property
    def name(self) -> str:
        return f"{self.cloud}-{self.region.name}"

    @property
    def common(self) -> dict:
        settings, region = self.settings, self.region.name
        return {
            "region": region,
            "cidr": settings.region_cidr(self.cloud, region),
            "tags": region_tags(settings, self.stack, region),
            "protect": settings.protect,
            "is_hub": getattr(settings.clouds, self.cloud).hub == region,
        }


def region_tags(settings: Settings, stack: str, region: str) -> dict[str, str]:
    """The common tags of a resource located in `region`, its residency zone included."""
    return common_tags(settings.name, stack, settings.owner, settings.residency_zone(region))


def _aws(ctx: RegionContext, opts: pulumi.ResourceOptions) -> AwsLandingZone:
    args = AwsLandingZoneArgs(
        **ctx.common, provider=ctx.providers.aws[ctx.region.name], zones=ctx.region.zones
    )
    return AwsLandingZone(ctx.name, args, opts)


def _azure(ctx: RegionContext, opts: pulumi.ResourceOptions) -> AzureLandingZone:
    azure = ctx.settings.clouds.azure
    args = AzureLandingZoneArgs(
        **ctx.common,
        provider=ctx.providers.azure,
        subscription_id=azure.subscription_id,
        tenant_id=azure.tenant_id,
        stack=f"{ctx.settings.name}{ctx.stack}",
    )
    return AzureLandingZone(ctx.name, args, opts)


def _gcp(ctx: RegionContext, opts: pulumi.ResourceOptions) -> GcpLandingZone:
    args = GcpLandingZoneArgs(**ctx.common, provider=ctx.providers.gcp, network=ctx.gcp_network)
    return GcpLandingZone(ctx.name, args, opts)


LANDING_ZONES: dict[Cloud, Callable[[RegionContext, pulumi.ResourceOptions], pulumi.ComponentResource]] = {
    "aws": _aws,
    "azure": _azure,
    "gcp": _gcp,
}


class Platform(pulumi.ComponentResource):
    landing_zones: dict[str, pulumi.ComponentResource]
    clusters: dict[str, pulumi.ComponentResource]

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:Platform", name, None, opts)
        stack = pulumi.get_stack()
        self.settings = settings
        self.providers = CloudProviders.create(settings, parent=self)
        child = pulumi.ResourceOptions(parent=self)
        self.gcp_network = (
            GcpNetwork(f"{name}-gcp", self.providers.gcp, child) if settings.clouds.gcp else None
        )
        self.landing_zones, self.clusters = {}, {}
        for cloud, region in settings.regions():
            ctx = RegionContext(settings, stack, cloud, region, self.providers, self.gcp_network)
            key = region_key(cloud, region.name)
            self.landing_zones[key] = LANDING_ZONES[cloud](ctx, child)
            self.clusters[key] = CLUSTERS[cloud](ctx, self.landing_zones[key], child)
        # The cross-cloud network comes after the clusters (the AWS ingress rules sit on their
        # security groups); nothing outside the mesh waits for a VPN.
        self.mesh, self.peer_ingress = build_network(
            name,
            settings,
            self.landing_zones,
            self.clusters,
            self.providers,
            self.gcp_network,
            lambda region: region_tags(settings, stack, region),
            self,
        )
        self.register_outputs({})

    def region_cidrs(self) -> dict[str, str]:
        return {key: str(cidr) for key, cidr in self.settings.region_cidrs.items()}

    def regions(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        """Per `cloud:region`: where its models live and which cluster serves them."""
        return {
            key: {"model_store_url": zone.model_store_url, "cluster": self.clusters[key].cluster.name}
            for key, zone in self.landing_zones.items()
        }

    def kubeconfigs(self) -> pulumi.Output[dict[str, str]]:
        """Every cluster's kubeconfig, secret as a whole (each uses the caller's cloud identity)."""
        return pulumi.Output.secret({key: cluster.kubeconfig for key, cluster in self.clusters.items()})
