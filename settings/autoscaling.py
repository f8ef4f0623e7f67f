"""Autoscaling settings: how many Triton pods a region runs, on which load signal, how fast it reacts.

```yaml
autoscaling:
  min_replicas: 1                  # Triton pods per region, at least (the HPA never goes below)
  max_replicas: 8                  # at most; default: as many as the region's GPU pool holds
  metric: queue_time               # or gpu_utilization
  target: 10000                    # queue_time: microseconds a request waits in Triton's queue
                                   # (average over the region's pods); gpu_utilization: percent
  scale_up_window_seconds: 60      # how long demand must last before pods are added
  scale_down_window_seconds: 1800  # how long it must stay low before pods are removed
```

GPU nodes need no key here: every GPU pool scales between `gpu.min_nodes` and `gpu.max_nodes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from planning.autoscaling import (
    CLUSTER_AUTOSCALER_IMAGES,
    MAX_STABILIZATION_SECONDS,
    POD_METRICS,
    PodRequest,
    pods_per_gpu_node,
)
from planning.clusters import plan_cluster
from planning.gpu import placement_error
from planning.machines import machine_shape
from planning.serving import quantity
from settings.base import StrictModel, key_path

if TYPE_CHECKING:
    from settings.model import Settings


class AutoscalingSettings(StrictModel):
    min_replicas: int = Field(1, ge=1, le=64, description="Fewest Triton pods per region (1 or more)")
    max_replicas: int | None = Field(
        None, ge=1, le=64, description="Most Triton pods per region; default: as many as its GPU pool holds"
    )
    metric: Literal["queue_time", "gpu_utilization"] = Field(
        "queue_time", description="The per-pod load signal the HorizontalPodAutoscaler follows"
    )
    target: int | None = Field(
        None, description="Per-pod target: microseconds of queue time, or GPU utilisation percent"
    )
    scale_up_window_seconds: int = Field(
        60, ge=0, le=MAX_STABILIZATION_SECONDS, description="Demand must last this long before pods are added"
    )
    scale_down_window_seconds: int = Field(
        1800, ge=0, le=MAX_STABILIZATION_SECONDS,
        description="Demand must stay low this long before pods are removed (each new pod rebuilds its engines)",
    )


def problems(settings: Settings) -> Iterator[str]:
    """Autoscaling problems: the HPA's bounds and target, and that every region's GPU pool can hold
    the pods the HPA may ask for. They need the regions' GPU requests, so `load_settings` runs them
    with the other post-address-plan checks."""
    autoscaling, serving = settings.autoscaling, settings.serving
    if serving.replicas is not None:
        yield (
            f"{key_path('serving', 'replicas')}: {serving.replicas} is no longer used: the HorizontalPodAutoscaler "
            "owns the pod count; set autoscaling.min_replicas and autoscaling.max_replicas instead "
            "(equal values pin it)"
        )
    metric = POD_METRICS[autoscaling.metric]
    if autoscaling.target is not None and not metric.minimum <= autoscaling.target <= metric.maximum:
        yield (
            f"{key_path('autoscaling', 'target')}: {autoscaling.target} is not a {autoscaling.metric} target; "
            f"expected {metric.description}, {metric.minimum} to {metric.maximum}"
        )
    if autoscaling.max_replicas is not None and autoscaling.max_replicas < autoscaling.min_replicas:
        yield (
            f"{key_path('autoscaling', 'max_replicas')}: {autoscaling.max_replicas} is below "
            f"autoscaling.min_replicas ({autoscaling.min_replicas})"
        )
    yield from _capacity_problems(settings)
    if settings.clouds.aws is not None and settings.kubernetes.version not in CLUSTER_AUTOSCALER_IMAGES:
        yield (
            f"{key_path('kubernetes', 'version')}: no Cluster Autoscaler release is pinned for Kubernetes "
            f"{settings.kubernetes.version} (EKS GPU pools need one); pinned: "
            f"{', '.join(CLUSTER_AUTOSCALER_IMAGES)} (planning/autoscaling.py)"
        )


def _capacity_problems(settings: Settings) -> Iterator[str]:
    """A Triton pod must fit a GPU node (GPUs, CPUs, memory), and the most pods the HPA may ask for
    must fit every region's GPU pool at its maximum: pods that cannot fit stay pending for ever, and
    no node autoscaler adds a node for them."""
    autoscaling, serving = settings.autoscaling, settings.serving
    try:
        pod = PodRequest(serving.gpus_per_pod, serving.cpu, serving.memory)
        cpu, memory = quantity(serving.cpu), quantity(serving.memory)
    except ValueError:
        return  # reported as such (serving.cpu, serving.memory)
    key = "max_replicas" if autoscaling.max_replicas is not None else "min_replicas"
    wanted = autoscaling.max_replicas if autoscaling.max_replicas is not None else autoscaling.min_replicas
    for cloud, region in settings.regions():
        gpu = settings.gpu_for(region)
        if placement_error(gpu.type, cloud, gpu.gpus_per_node, gpu.spot) or pod.gpus > gpu.gpus_per_node:
            continue  # reported as such (gpu.type, serving.gpus_per_pod)
        if gpu.min_nodes > gpu.max_nodes:
            continue  # reported as such (gpu.min_nodes): the pool's size is not known yet
        where = f"{cloud}:{region.name}"
        pool = plan_cluster(cloud, gpu, settings.kubernetes.system_nodes).gpu
        shape = machine_shape(cloud, pool.machine_type)
        if cpu > shape.allocatable_cpu:
            yield (
                f"{key_path('serving', 'cpu')}: {serving.cpu} CPUs do not fit the {pool.machine_type} nodes of {where}, "
                f"which leave about {shape.allocatable_cpu:.2f} to pods; lower it or use larger GPU machines "
                "(gpu.gpus_per_node)"
            )
            continue
        if memory > shape.allocatable_memory:
            yield (
                f"{key_path('serving', 'memory')}: {serving.memory} does not fit the {pool.machine_type} nodes of "
                f"{where}, which leave about {shape.allocatable_memory / 2**30:.1f}Gi to pods; lower it or use "
                "larger GPU machines (gpu.gpus_per_node)"
            )
            continue
        per_node = pods_per_gpu_node(cloud, pool, pod)
        capacity = pool.max_nodes * per_node
        if wanted > capacity:
            yield (
                f"{key_path('autoscaling', key)}: {wanted} Triton pods do not fit the GPU pool of {where}, which "
                f"holds {capacity} (gpu.max_nodes {gpu.max_nodes} x {per_node} per {pool.machine_type} node); "
                "lower it or raise gpu.max_nodes"
            )
