"""A GPU Kubernetes cluster per region: EKS, AKS or GKE, each on its region's landing zone.

`CLUSTERS` maps a cloud to the function that builds its cluster from the platform's region context
and that region's landing zone, so the platform wires every cloud the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.context import RegionContext
from components.kubernetes.aks import AksCluster, AksClusterArgs
from components.kubernetes.common import nvidia_device_plugin
from components.kubernetes.eks import EksCluster, EksClusterArgs
from components.kubernetes.gke import GkeCluster, GkeClusterArgs
from components.serving.registries import RegionRegistry
from planning.regions import Cloud


def _common(ctx: RegionContext, registry: RegionRegistry) -> dict:
    return {
        "region": ctx.region.name,
        "plan": ctx.region.cluster,
        "kubernetes_version": ctx.settings.kubernetes.version,
        "access": ctx.plan.access[ctx.region.key],
        "tags": ctx.tags,
        "registry": registry,
        "deployer": ctx.settings.deployer,
    }


def _eks(ctx: RegionContext, landing_zone, registry, opts: pulumi.ResourceOptions) -> EksCluster:
    args = EksClusterArgs(**_common(ctx, registry), provider=ctx.providers.aws[ctx.region.name], landing_zone=landing_zone)
    return EksCluster(ctx.name, args, opts)


def _aks(ctx: RegionContext, landing_zone, registry, opts: pulumi.ResourceOptions) -> AksCluster:
    args = AksClusterArgs(
        **_common(ctx, registry),
        provider=ctx.providers.azure,
        landing_zone=landing_zone,
        subnets=ctx.region.subnets,
        subscription_id=ctx.settings.clouds.azure.subscription_id,
        tenant_id=ctx.settings.clouds.azure.tenant_id,
    )
    return AksCluster(ctx.name, args, opts)


def _gke(ctx: RegionContext, landing_zone, registry, opts: pulumi.ResourceOptions) -> GkeCluster:
    settings = ctx.settings
    args = GkeClusterArgs(
        **_common(ctx, registry),
        provider=ctx.providers.gcp,
        landing_zone=landing_zone,
        network=ctx.gcp_network,
        project=settings.clouds.gcp.project,
        stack=f"{settings.name}{ctx.stack}",
        release_channel=settings.kubernetes.release_channel,
        protect=settings.protect,
    )
    return GkeCluster(ctx.name, args, opts)


ClusterBuilder = Callable[
    [RegionContext, pulumi.ComponentResource, RegionRegistry, pulumi.ResourceOptions], pulumi.ComponentResource
]
CLUSTERS: dict[Cloud, ClusterBuilder] = {"aws": _eks, "azure": _aks, "gcp": _gke}


DEVICE_PLUGIN: dict[Cloud, bool] = {
    # The AL2023 NVIDIA AMI has the driver and container toolkit but not the device plugin.
    "aws": True,
    # AKS installs the driver on GPU sizes (gpuProfile.driver: Install), not the plugin.
    "azure": True,
    # GKE installs the driver and runs the device plugin itself on nodes with accelerators.
    "gcp": False,
}
"""Whether the program deploys the NVIDIA device plugin into the cloud's clusters."""


def cluster_addons(ctx: RegionContext, cluster: pulumi.ComponentResource) -> None:
    """In-cluster add-ons, declared once the deployer's path to the cluster exists."""
    if DEVICE_PLUGIN[ctx.cloud]:
        nvidia_device_plugin(ctx.name, ctx.region.cluster.gpu, cluster)
