"""The whole platform for one stack: providers, then a landing zone in every configured region.

Everything else (the VPN mesh, the clusters) hangs off the landing zones built here; this module
only wires plans to components, one table entry per cloud instead of one branch per cloud.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.autoscaling import build_autoscaling
from components.context import RegionContext, region_tags
from components.global_entry import GlobalEntry, GlobalEntryArgs
from components.kubernetes import CLUSTERS, cluster_addons
from components.landing_zone.aws import AwsLandingZone, AwsLandingZoneArgs
from components.landing_zone.azure import AzureLandingZone, AzureLandingZoneArgs
from components.landing_zone.gcp import GcpLandingZone, GcpLandingZoneArgs, GcpNetwork
from components.mesh import build_network
from components.providers import CloudProviders
from components.replication import ModelReplication, ReplicationArgs
from components.serving.image import InferenceImage, InferenceImageArgs
from components.serving.registries import Registries, RegistryEndpoints, RegistryEndpointsArgs
from components.serving.triton import TritonArgs, TritonRegion
from planning.platform import PlatformPlan, plan_platform
from planning.regions import Cloud
from planning.serving import HTTP_PORT
from settings import Settings


def _aws(ctx: RegionContext, opts: pulumi.ResourceOptions) -> AwsLandingZone:
    args = AwsLandingZoneArgs(
        **ctx.landing_zone_args, provider=ctx.providers.aws[ctx.region.name], subnets=ctx.region.subnets
    )
    return AwsLandingZone(ctx.name, args, opts)


def _azure(ctx: RegionContext, opts: pulumi.ResourceOptions) -> AzureLandingZone:
    azure = ctx.settings.clouds.azure
    args = AzureLandingZoneArgs(
        **ctx.landing_zone_args,
        provider=ctx.providers.azure,
        subscription_id=azure.subscription_id,
        tenant_id=azure.tenant_id,
        stack=f"{ctx.settings.name}{ctx.stack}",
    )
    return AzureLandingZone(ctx.name, args, opts)


def _gcp(ctx: RegionContext, opts: pulumi.ResourceOptions) -> GcpLandingZone:
    args = GcpLandingZoneArgs(**ctx.landing_zone_args, provider=ctx.providers.gcp, network=ctx.gcp_network)
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
        self.plan: PlatformPlan = plan_platform(settings)
        self.providers = CloudProviders.create(settings, parent=self)
        child = pulumi.ResourceOptions(parent=self)
        self.gcp_network = (
            GcpNetwork(f"{name}-gcp", self.providers.gcp, child) if settings.clouds.gcp else None
        )
        contexts = {
            key: RegionContext(settings, self.plan, region, stack, self.providers, self.gcp_network)
            for key, region in self.plan.regions.items()
        }
        self.landing_zones = {key: LANDING_ZONES[ctx.cloud](ctx, child) for key, ctx in contexts.items()}
        # Registries before clusters: each cluster grants its nodes pull on its region's registry
        # before any node exists.
        self.registries = Registries(f"{name}-registries", {
            "platform": settings.name, "stack": stack, "settings": settings, "plan": self.plan,
            "landing_zones": self.landing_zones, "providers": self.providers,
            "builder_ranges": self._builder_ranges(),
        }, child)
        self.clusters = {
            key: CLUSTERS[ctx.cloud](ctx, self.landing_zones[key], self.registries.regions[key], child)
            for key, ctx in contexts.items()
        }
        self.image = InferenceImage(f"{name}-image", InferenceImageArgs(
            mode=settings.image.mode, registries=self.registries, digest=settings.image.digest, ref=settings.image.ref,
        ), child)
        # The cross-cloud network comes after the clusters (the AWS ingress rules sit on their
        # security groups); no cloud resource outside the mesh waits for a VPN.
        self.mesh, self.peer_ingress = build_network(
            name,
            settings,
            self.plan,
            self.landing_zones,
            self.clusters,
            self.providers,
            self.gcp_network,
            lambda region: region_tags(settings, stack, region),
            self,
        )
        # A deployer inside the network reaches other regions' clusters over the mesh: their
        # Kubernetes objects wait for the path, or the first apply would race the VPN.
        for key, cluster in self.clusters.items():
            cluster.kubernetes_ready.extend(self._path_to(key))
            cluster_addons(contexts[key], cluster)
        self.registry_endpoints = self._registry_endpoints(name, stack, child)
        self.serving = self._serve(name, child)
        # Pods on Triton's own load signal, GPU nodes on pending pods (components/autoscaling).
        self.autoscaling = build_autoscaling(contexts, self.clusters, self.serving, child)
        self.global_entry = GlobalEntry(f"{name}-global-entry", GlobalEntryArgs(
            settings=settings, plan=self.plan, stack=stack, landing_zones=self.landing_zones, clusters=self.clusters,
            serving=self.serving, providers=self.providers,
            region_tags={key: ctx.tags for key, ctx in contexts.items()},
        ), child) if self.plan.routing else None
        # Each zone's models, from its source to its other regions (sync jobs run the image above).
        self.replication = ModelReplication(f"{name}-replication", ReplicationArgs(
            settings=settings, plan=self.plan, stack=stack, providers=self.providers,
            landing_zones=self.landing_zones, clusters=self.clusters, images=self.image.refs,
        ), child)
        self.register_outputs({})

    def _registry_endpoints(self, name: str, stack: str, child: pulumi.ResourceOptions) -> RegistryEndpoints | None:
        if self.registries.private is None:
            return None
        args = RegistryEndpointsArgs(
            private=self.registries.private,
            regions=list(self.plan.of_cloud("azure")),
            landing_zones=self.landing_zones,
            provider=self.providers.azure,
            tags=lambda region: region_tags(self.settings, stack, region),
        )
        return RegistryEndpoints(f"{name}-registry-endpoints", args, child)

    def _path_to(self, key: str) -> list[pulumi.Resource]:
        """The network components the deployer's requests to `key`'s cluster travel through."""
        by_kind = {"mesh-hub": self.mesh.hubs, "mesh-link": self.mesh.links}
        found: list[pulumi.Resource] = []
        for token in self.plan.access[key].waits_for:
            kind, _, what = token.partition(":")
            found.append(self.peer_ingress if kind == "peer-ingress" else by_kind[kind][what])
        return found

    def _builder_ranges(self) -> list[pulumi.Input[str]]:
        """Where the image build pushes from: the deployer's egress (registry allow-lists)."""
        if self.plan.deployer_region is None:
            return [str(c) for c in self.settings.deployer.egress_cidrs]
        return list(self.landing_zones[self.plan.deployer_region].egress_ips)

    def _serve(self, name: str, child: pulumi.ResourceOptions) -> dict[str, TritonRegion]:
        """Triton in every region, wave by wave: a wave's Deployments wait for the previous wave's gates."""
        serving: dict[str, TritonRegion] = {}
        previous: list[pulumi.Resource] = []
        for wave in self.plan.waves:
            for key in wave:
                args = TritonArgs(
                    region=self.plan.region(key),
                    triton=self.plan.triton,
                    image=self.image.refs[key],
                    model_store_url=self.landing_zones[key].model_store_url,
                    cluster=self.clusters[key],
                    # The previous wave's gates, and the private path to the registry where pulls need one.
                    after=previous + (self.registry_endpoints.ready.get(key, []) if self.registry_endpoints else []),
                )
                serving[key] = TritonRegion(f"{key.replace(':', '-')}-serving", args, child)
            previous = [serving[key].gate for key in wave]
        return serving

    def region_cidrs(self) -> dict[str, str]:
        return {key: str(region.cidr) for key, region in self.plan.regions.items()}

    def regions(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        """Per `cloud:region`: where its models live, which cluster serves them, at which address,
        with which image, in which rollout wave."""
        return {
            key: {
                "model_store_url": zone.model_store_url,
                "cluster": self.clusters[key].cluster.name,
                "service": pulumi.Output.concat(self.serving[key].address, f":{HTTP_PORT}"),
                "image": self.image.refs[key],
                "wave": self.plan.wave_of(key) + 1,
                "deployer_path": " -> ".join(self.plan.access[key].route),
            }
            for key, zone in self.landing_zones.items()
        }

    def kubeconfigs(self) -> pulumi.Output[dict[str, str]]:
        """Every cluster's kubeconfig, secret as a whole (each uses the caller's cloud identity)."""
        return pulumi.Output.secret({key: cluster.kubeconfig for key, cluster in self.clusters.items()})
