"""What every region's Kubernetes cluster is made of, the same way in every cloud.

Pure planning: the node pools (machine type, bounds, capacity, taints, labels) from the
cloud-neutral GPU request, the names the inference workload identity is bound to, and the one
address the AKS API server needs. The cluster components only turn these plans into resources.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

from planning.gpu import place_gpu
from planning.regions import Cloud

IPv4Network = ipaddress.IPv4Network

POOL_LABEL = "multicloud-inference/pool"
GPU_TYPE_LABEL = "multicloud-inference/gpu-type"

INFERENCE_NAMESPACE = "inference"
INFERENCE_SERVICE_ACCOUNT = "inference"
"""The Kubernetes service account whose pods may read the region's model bucket (and nothing else)."""

SYSTEM_MACHINE_TYPES: dict[Cloud, str] = {
    # 4 vCPU / 16 GiB general purpose: room for CoreDNS, CNI, metrics and the device plugin.
    "aws": "m6i.xlarge",
    "azure": "Standard_D4ds_v5",
    "gcp": "e2-standard-4",
}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


GPU_TAINT = Taint("nvidia.com/gpu", "present")
"""Keeps every pod that does not ask for a GPU off the (expensive) GPU nodes."""

AZURE_SPOT_TAINT = Taint("kubernetes.azure.com/scalesetpriority", "spot")
"""AKS puts this taint on every spot pool itself; declaring it keeps config and cluster in step
and tells workloads (device plugin, inference) which tolerations a spot GPU node needs."""


@dataclass(frozen=True)
class NodePoolPlan:
    name: str
    machine_type: str
    min_nodes: int
    max_nodes: int
    spot: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    accelerator: str | None = None
    """GCP's accelerator name; None elsewhere (the machine type implies the GPU)."""
    gpus_per_node: int = 0


@dataclass(frozen=True)
class ClusterPlan:
    system: NodePoolPlan
    gpu: NodePoolPlan


class GpuRequestLike(Protocol):
    type: str
    gpus_per_node: int
    min_nodes: int
    max_nodes: int
    spot: bool


def plan_cluster(cloud: Cloud, gpu: GpuRequestLike, system_nodes: int) -> ClusterPlan:
    """The pools of one region's cluster, from its (validated) GPU request."""
    placement = place_gpu(gpu.type, cloud, gpu.gpus_per_node, gpu.spot)
    taints = (GPU_TAINT, AZURE_SPOT_TAINT) if cloud == "azure" and gpu.spot else (GPU_TAINT,)
    return ClusterPlan(
        # The system pool may double under load (add-ons scale with the cluster), never below
        # the configured size: CoreDNS and the CNI must survive a node loss.
        system=NodePoolPlan(
            "system", SYSTEM_MACHINE_TYPES[cloud], system_nodes, 2 * system_nodes, labels={POOL_LABEL: "system"}
        ),
        gpu=NodePoolPlan(
            "gpu",
            placement.machine_type,
            gpu.min_nodes,
            gpu.max_nodes,
            gpu.spot,
            labels={POOL_LABEL: "gpu", GPU_TYPE_LABEL: gpu.type},
            taints=taints,
            accelerator=placement.accelerator,
            gpus_per_node=gpu.gpus_per_node,
        ),
    )


def dns_service_ip(service_cidr: IPv4Network) -> str:
    """The cluster DNS address: by convention the tenth address of the service range."""
    return str(service_cidr[10])


def inference_subject() -> str:
    """The OIDC subject of the inference pods' service account token."""
    return f"system:serviceaccount:{INFERENCE_NAMESPACE}:{INFERENCE_SERVICE_ACCOUNT}"
