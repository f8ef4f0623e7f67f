"""Autoscaling: a HorizontalPodAutoscaler that can run at all, and GPU pools that can scale.

GPUs are the platform's dominant cost: a GPU pool without autoscaling bounds either wastes nodes or
cannot grow under load (advisory: a fixed pool may be deliberate). An HPA whose maximum is below its
minimum is refused by nothing until it fails at runtime (mandatory)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .definitions import PolicyDefinition
from .model import Resource, get_path, is_unknown, known_items

HPA_TYPES = ("kubernetes:autoscaling/*:HorizontalPodAutoscaler",)
GPU_TAINT_KEY = "nvidia.com/gpu"
# Machine families that carry GPUs (as the platform's catalogue maps them, and their siblings).
AWS_GPU_INSTANCE = re.compile(r"^(g\d|p\d|gr\d)[a-z0-9-]*\.")
AZURE_GPU_SIZE = re.compile(r"^Standard_N[CDVG]", re.IGNORECASE)
GCP_GPU_MACHINE = re.compile(r"^(a2|a3|a4|g2|g4)-")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check_hpa_bounds(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    spec = resource.get("spec")
    minimum, maximum = get_path(spec, "minReplicas"), get_path(spec, "maxReplicas")
    if is_unknown(minimum) or is_unknown(maximum):
        return  # bounds computed at deploy time cannot be judged at preview
    if maximum is None:
        yield "spec.maxReplicas is not set; an autoscaler needs an upper bound"
        return
    low = _number(minimum) if minimum is not None else 1.0  # Kubernetes' default minimum
    high = _number(maximum)
    if high is None or low is None:
        return
    if high < low:
        yield f"spec.maxReplicas ({high:g}) is below spec.minReplicas ({low:g}): it cannot run at all"
    elif high < 1:
        yield f"spec.maxReplicas is {high:g}; expected at least 1"


def _bounds(pool: str, low: Any, high: Any, enabled: Any = True) -> Iterator[str]:
    """Autoscaling on, both bounds known, room to scale: max above min."""
    if any(is_unknown(v) for v in (low, high, enabled)):
        return
    if enabled is not True:
        yield f"{pool} does not autoscale; give it a minimum and a larger maximum node count"
        return
    if low is None or high is None:
        missing = [n for n, v in (("minimum", low), ("maximum", high)) if v is None]
        counts = "node counts are" if len(missing) > 1 else "node count is"
        yield f"{pool} has no autoscaling bounds: its {' and '.join(missing)} {counts} missing"
        return
    lo, hi = _number(low), _number(high)
    if lo is not None and hi is not None and hi <= lo:
        yield f"{pool} cannot scale: its maximum ({hi:g}) is not above its minimum ({lo:g}) nodes"


def _tainted_for_gpus(taints: Any) -> bool:
    for taint in known_items(taints):
        key = taint.split("=", 1)[0] if isinstance(taint, str) else get_path(taint, "key")
        if key == GPU_TAINT_KEY:
            return True
    return False


def check_eks_node_group(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    ami = resource.get("amiType")
    instances = [t for t in known_items(resource.get("instanceTypes")) if isinstance(t, str)]
    gpu = (
        (isinstance(ami, str) and ("NVIDIA" in ami or "GPU" in ami))
        or any(AWS_GPU_INSTANCE.match(t) for t in instances)
        or _tainted_for_gpus(resource.get("taints"))
    )
    if gpu:
        scaling = resource.get("scalingConfig")
        yield from _bounds("the GPU node group", get_path(scaling, "minSize"), get_path(scaling, "maxSize"))


def _azure_gpu_pool(pool: Any) -> bool:
    size = get_path(pool, "vmSize")
    return (
        (isinstance(size, str) and bool(AZURE_GPU_SIZE.match(size)))
        or get_path(pool, "gpuProfile") is not None
        or _tainted_for_gpus(get_path(pool, "nodeTaints"))
    )


def _azure_pool_bounds(pool: Any, name: str) -> Iterator[str]:
    if _azure_gpu_pool(pool):
        yield from _bounds(name, get_path(pool, "minCount"), get_path(pool, "maxCount"),
                           get_path(pool, "enableAutoScaling"))


def check_aks_pools(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.type == "azure-native:containerservice:AgentPool":
        yield from _azure_pool_bounds(resource.props, "the GPU agent pool")
        return
    for i, pool in enumerate(known_items(resource.get("agentPoolProfiles"))):
        yield from _azure_pool_bounds(pool, f"agentPoolProfiles[{i}] ({get_path(pool, 'name')}), a GPU pool,")


def check_gke_node_pool(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    machine = resource.get("nodeConfig.machineType")
    accelerators = known_items(resource.get("nodeConfig.guestAccelerators"))
    if not (accelerators or (isinstance(machine, str) and GCP_GPU_MACHINE.match(machine))):
        return
    autoscaling = resource.get("autoscaling")
    if is_unknown(autoscaling):
        return
    if autoscaling is None:
        yield "the GPU node pool does not autoscale; give it a minimum and a larger maximum node count"
        return
    # Totals across the pool's zones, or per-zone counts: either pair bounds the pool.
    total = [get_path(autoscaling, k) for k in ("totalMinNodeCount", "totalMaxNodeCount")]
    per_zone = [get_path(autoscaling, k) for k in ("minNodeCount", "maxNodeCount")]
    low, high = total if any(v is not None for v in total) else per_zone
    yield from _bounds("the GPU node pool", low, high)


def _policy(name, description, check, types, *, severity, enforcement) -> PolicyDefinition:
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=("Well-Architected",),
        enforcement=enforcement, resource_types=types, check=check,
    )


POLICIES = (
    _policy("kubernetes-autoscaling-horizontalpodautoscaler-bounds-valid",
            "A HorizontalPodAutoscaler has a maxReplicas at least its minReplicas (default 1).",
            check_hpa_bounds, HPA_TYPES, severity="high", enforcement="mandatory"),
    _policy("aws-eks-nodegroup-gpu-autoscaling-required",
            "An EKS GPU node group has autoscaling bounds: a minimum and a larger maximum size.",
            check_eks_node_group, ("aws:eks/nodeGroup:NodeGroup",), severity="medium", enforcement="advisory"),
    _policy("azure-containerservice-agentpool-gpu-autoscaling-required",
            "An AKS GPU node pool (an agent pool or a cluster's inline pool) autoscales between a minimum and a "
            "larger maximum count.",
            check_aks_pools, ("azure-native:containerservice:AgentPool", "azure-native:containerservice:ManagedCluster"),
            severity="medium", enforcement="advisory"),
    _policy("gcp-container-nodepool-gpu-autoscaling-required",
            "A GKE GPU node pool autoscales between a minimum and a larger maximum node count.",
            check_gke_node_pool, ("gcp:container/nodePool:NodePool",), severity="medium", enforcement="advisory"),
)
