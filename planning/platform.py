"""Every decision about a stack, computed once from its validated settings: `plan_platform`.

Data flows one way: settings -> `PlatformPlan` -> components that only render it. The offline verbs
(cost, placement, critical path) read the same plan, so what they report is what the program builds.
Each concern adds its planner's answer as one field here; nothing in this module calls Pulumi.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from planning.addressing import RegionSubnets, aws_subnets, azure_subnets, gcp_subnets
from planning.clusters import ClusterPlan, plan_cluster
from planning.mesh import MeshPlan, plan_mesh
from planning.regions import AWS_DEFAULT_ZONES, Cloud, aws_zone_ids, region_key

if TYPE_CHECKING:
    from settings import RegionSpec, Settings

IPv4Network = ipaddress.IPv4Network


@dataclass(frozen=True)
class RegionPlan:
    """One configured region: where it sits in the address plan, its zone, its cluster."""

    cloud: Cloud
    name: str
    """The cloud's own region name, e.g. `eu-central-1`."""
    cidr: IPv4Network
    subnets: RegionSubnets
    residency_zone: str | None
    is_hub: bool
    cluster: ClusterPlan

    @property
    def key(self) -> str:
        """`cloud:region`, the name config, outputs and policies use."""
        return region_key(self.cloud, self.name)


@dataclass(frozen=True)
class PlatformPlan:
    regions: Mapping[str, RegionPlan]
    """Keyed `cloud:region`, in config order (cloud by cloud, each cloud's regions as listed)."""
    mesh: MeshPlan

    def region(self, key: str) -> RegionPlan:
        return self.regions[key]

    def of_cloud(self, cloud: Cloud) -> Iterator[RegionPlan]:
        return (r for r in self.regions.values() if r.cloud == cloud)


def _subnets(cloud: Cloud, spec: RegionSpec, cidr: IPv4Network) -> RegionSubnets:
    if cloud == "aws":
        return aws_subnets(cidr, aws_zone_ids(spec.name, spec.zones or AWS_DEFAULT_ZONES))
    return {"azure": azure_subnets, "gcp": gcp_subnets}[cloud](cidr)


def plan_platform(settings: Settings) -> PlatformPlan:
    """The whole plan of a stack whose settings `load_settings` has validated."""
    regions: dict[str, RegionPlan] = {}
    for cloud, spec in settings.regions():
        cidr = settings.region_cidr(cloud, spec.name)
        region = RegionPlan(
            cloud=cloud,
            name=spec.name,
            cidr=cidr,
            subnets=_subnets(cloud, spec, cidr),
            residency_zone=settings.residency_zone(spec.name),
            is_hub=getattr(settings.clouds, cloud).hub == spec.name,
            cluster=plan_cluster(cloud, settings.gpu_for(spec), settings.kubernetes.system_nodes),
        )
        regions[region.key] = region
    aws = settings.clouds.aws
    mesh = plan_mesh(
        [cloud for cloud, _ in settings.clouds.configured()],
        aws_regions=[r.name for r in aws.regions] if aws else (),
        aws_hub=aws.hub if aws else None,
        asns=settings.network.asns,
        tunnel_cidrs=settings.network.tunnel_cidrs,
    )
    return PlatformPlan(regions=MappingProxyType(regions), mesh=mesh)
