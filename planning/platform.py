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
from planning.autoscaling import PodRequest, RegionAutoscalingPlan, plan_region_autoscaling
from planning.clusters import ClusterPlan, plan_cluster
from planning.deployer import ClusterAccess, plan_access
from planning.geolocation import latency_region
from planning.mesh import MeshPlan, plan_mesh
from planning.regions import AWS_DEFAULT_ZONES, Cloud, aws_zone_ids, region_key
from planning.replication import ReplicationPlan, plan_replication
from planning.rollout import plan_waves, wave_of
from planning.routing import RoutedRegion, RoutingPlan, plan_routing
from planning.serving import TritonPlan, plan_triton

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
    access: Mapping[str, ClusterAccess]
    """Per region: how `pulumi up` reaches its cluster's API, and what the cluster allows for it."""
    deployer_region: str | None
    """The region whose network the deploy runner sits in; None when it sits outside."""
    waves: tuple[tuple[str, ...], ...]
    """Rollout waves of region keys: a wave's Deployments wait for the previous wave's gates."""
    triton: TritonPlan
    autoscaling: Mapping[str, RegionAutoscalingPlan]
    """Per region: its HorizontalPodAutoscaler, and how its GPU pool scales (planning/autoscaling.py)."""
    replication: ReplicationPlan
    """Which bucket copies models to which, and how: each zone's source to the zone's other regions."""
    routing: RoutingPlan | None = None
    """The global entry's names and Route 53 records; None without a `dns` section."""

    def wave_of(self, key: str) -> int:
        return wave_of(self.waves, key)

    def region(self, key: str) -> RegionPlan:
        return self.regions[key]

    def of_cloud(self, cloud: Cloud) -> Iterator[RegionPlan]:
        return (r for r in self.regions.values() if r.cloud == cloud)


def _subnets(cloud: Cloud, spec: RegionSpec, cidr: IPv4Network) -> RegionSubnets:
    if cloud == "aws":
        return aws_subnets(cidr, aws_zone_ids(spec.name, spec.zones or AWS_DEFAULT_ZONES))
    return {"azure": azure_subnets, "gcp": gcp_subnets}[cloud](cidr)


def plan_regions(settings: Settings) -> dict[str, RegionPlan]:
    """Every configured region's plan, keyed `cloud:region`, in config order."""
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
    return regions


def plan_platform(settings: Settings) -> PlatformPlan:
    """The whole plan of a stack whose settings `load_settings` has validated."""
    regions = plan_regions(settings)
    aws = settings.clouds.aws
    mesh = plan_mesh(
        [cloud for cloud, _ in settings.clouds.configured()],
        aws_regions=[r.name for r in aws.regions] if aws else (),
        aws_hub=aws.hub if aws else None,
        asns=settings.network.asns,
        tunnel_cidrs=settings.network.tunnel_cidrs,
    )
    hubs = {cloud: spec.hub for cloud, spec in settings.clouds.configured()}
    access, problems = plan_access(
        list(regions.values()), hubs, settings.kubernetes.api_allowed_cidrs, settings.deployer.request()
    )
    if problems:
        raise ValueError("; ".join(p.message for p in problems))  # load_settings reports them first
    serving = settings.serving
    return PlatformPlan(
        regions=MappingProxyType(regions),
        mesh=mesh,
        access=MappingProxyType(access),
        deployer_region=settings.deployer.network,
        waves=plan_waves(list(regions), settings.rollout.waves),
        # The HorizontalPodAutoscaler owns the pod count; a region starts from (and keeps) its minimum.
        triton=plan_triton(settings.autoscaling.min_replicas, serving.gpus_per_pod, serving.cpu, serving.memory,
                           serving.engine_cache_size, serving.ready_timeout_minutes),
        autoscaling=MappingProxyType({
            key: plan_region_autoscaling(
                region.cloud, region.cluster.gpu, PodRequest(serving.gpus_per_pod, serving.cpu, serving.memory),
                settings.autoscaling, settings.kubernetes.version,
            )
            for key, region in regions.items()
        }),
        replication=(
            plan_replication(regions.values(), settings.models.sources)
            if settings.models is not None else ReplicationPlan(sources={}, edges=())
        ),
        routing=_routing(settings, regions),
    )


def _routing(settings: Settings, regions: Mapping[str, RegionPlan]) -> RoutingPlan | None:
    dns = settings.dns
    if dns is None:
        return None
    routed = [RoutedRegion(key, r.residency_zone, latency_region(r.cloud, r.name)) for key, r in regions.items()]
    return plan_routing(routed, dns.zone, dns.name, dns.geographies_for(settings.residency_zones))
