"""How every region scales with demand: Triton pods on Triton's own load signal, GPU nodes on
pending pods. Pure planning; `components/autoscaling/` renders it.

Pods. One `autoscaling/v2` HorizontalPodAutoscaler per region scales the Triton Deployment on a
per-pod custom metric (`custom.metrics.k8s.io`) that tracks load per GPU:

* `queue_time`: microseconds a request waits in Triton's queue, averaged over the last two minutes:
  `rate(nv_inference_queue_duration_us) / rate(nv_inference_request_success)` (both cumulative
  counters Triton exports on its metrics port). It rises as soon as a pod's GPU cannot keep up,
  whatever the model, batch size or GPU type, which is why it is the default.
* `gpu_utilization`: Triton's `nv_gpu_utilization` (0..1 per GPU) as a percentage.

Prometheus scrapes Triton's metrics port in the `inference` namespace only, and prometheus-adapter
serves both metrics to the HPA (`adapter_rules`). The HPA waits before acting: a short
window before adding pods (each one costs a GPU node and a TensorRT engine build), a long one before
removing them, so that engines are not rebuilt every few minutes.

Nodes. Every GPU pool scales between `gpu.min_nodes` and `gpu.max_nodes`: AKS and GKE with their own
cluster autoscalers (the pools already carry the bounds), EKS with the Cluster Autoscaler this
program deploys, which auto-discovers the managed node groups and is told, through tags on each
group's Auto Scaling group, which labels, taints and GPUs a node would bring: that is what lets it
scale a pool up from zero nodes for a pending pod. Serving pods carry
`cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` (honoured by all three autoscalers): a
GPU node is removed only once the HPA has emptied it, never by evicting a pod mid-request. And a
pod must fit a GPU node, CPU and memory included (`planning/machines.py`), or no autoscaler will
ever add one for it: `pods_per_gpu_node` counts what one node holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, Protocol

from planning.clusters import GPU_TYPE_LABEL, INFERENCE_NAMESPACE, NodePoolPlan
from planning.gpu import GPU_CATALOG
from planning.machines import machine_shape, pods_per_node
from planning.regions import Cloud
from planning.serving import METRICS_PORT, quantity

# --- pods ------------------------------------------------------------------------------------------

MetricKey = Literal["queue_time", "gpu_utilization"]
RATE_WINDOW = "2m"
"""The window every rate() looks back over: eight scrapes at SCRAPE_INTERVAL."""
SCRAPE_INTERVAL = "15s"


@dataclass(frozen=True)
class PodMetric:
    key: str
    """The config value (`autoscaling.metric`)."""
    name: str
    """The metric the adapter serves under `custom.metrics.k8s.io` and the HPA asks for."""
    unit: str
    series: str
    """The Triton series the adapter discovers the metric from."""
    query: str
    """prometheus-adapter's metricsQuery template: per pod (`<<.GroupBy>>`), from Triton's series."""
    default_target: int
    minimum: int
    maximum: int
    description: str


POD_METRICS: dict[str, PodMetric] = {
    "queue_time": PodMetric(
        key="queue_time",
        name="triton_queue_time_per_request_us",
        unit="microseconds",
        series="nv_inference_queue_duration_us",
        # Idle pods answer 0, not NaN: the request rate is clamped away from zero.
        query=(
            f"sum(rate(nv_inference_queue_duration_us{{<<.LabelMatchers>>}}[{RATE_WINDOW}])) by (<<.GroupBy>>)"
            f" / clamp_min(sum(rate(nv_inference_request_success{{<<.LabelMatchers>>}}[{RATE_WINDOW}]))"
            " by (<<.GroupBy>>), 0.001)"
        ),
        default_target=10_000,
        minimum=100,
        maximum=60_000_000,
        description="average microseconds a request waits in Triton's queue",
    ),
    "gpu_utilization": PodMetric(
        key="gpu_utilization",
        name="triton_gpu_utilization_percent",
        unit="percent",
        series="nv_gpu_utilization",
        query="avg(nv_gpu_utilization{<<.LabelMatchers>>}) by (<<.GroupBy>>) * 100",
        default_target=80,
        minimum=1,
        maximum=100,
        description="average GPU utilisation of the pod's GPUs, in percent",
    ),
}

MAX_STABILIZATION_SECONDS = 3600
"""The Kubernetes API's limit for `behavior.*.stabilizationWindowSeconds`."""
SCALE_UP_POLICY = {"type": "Pods", "value": 2, "periodSeconds": 60}
"""At most two new pods a minute: each one is a GPU node and an engine build."""
SCALE_DOWN_POLICY = {"type": "Pods", "value": 1, "periodSeconds": 300}
"""At most one pod removed every five minutes, once the window has passed."""


@dataclass(frozen=True)
class PodAutoscalingPlan:
    min_replicas: int
    max_replicas: int
    metric: PodMetric
    target: int
    """In the metric's unit; the HPA's `averageValue` across the region's pods."""
    scale_up_window_seconds: int
    scale_down_window_seconds: int

    def metric_spec(self) -> dict:
        """The HPA's `spec.metrics` entry (engine/Kubernetes field names)."""
        return {
            "type": "Pods",
            "pods": {
                "metric": {"name": self.metric.name},
                "target": {"type": "AverageValue", "averageValue": str(self.target)},
            },
        }

    def behavior(self) -> dict:
        return {
            "scaleUp": {
                "stabilizationWindowSeconds": self.scale_up_window_seconds,
                "selectPolicy": "Max",
                "policies": [dict(SCALE_UP_POLICY)],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": self.scale_down_window_seconds,
                "selectPolicy": "Min",
                "policies": [dict(SCALE_DOWN_POLICY)],
            },
        }


@dataclass(frozen=True)
class PodRequest:
    """What one Triton pod asks a node for (`serving.gpus_per_pod`, `serving.cpu`, `serving.memory`)."""

    gpus: int
    cpu: str
    memory: str


def pods_per_gpu_node(cloud: Cloud, pool: NodePoolPlan, pod: PodRequest) -> int:
    """How many Triton pods one node of the GPU pool holds: by GPUs, and by what the kubelet leaves of
    the machine's CPUs and memory (0: the pod fits no node, so no autoscaler will ever add one)."""
    return pods_per_node(machine_shape(cloud, pool.machine_type), pool.gpus_per_node, pod.gpus,
                         quantity(pod.cpu), quantity(pod.memory))


def gpu_pod_capacity(cloud: Cloud, pool: NodePoolPlan, pod: PodRequest) -> int:
    """How many Triton pods a region's GPU pool holds at `max_nodes`."""
    return pool.max_nodes * pods_per_gpu_node(cloud, pool, pod)


# --- the metrics stack -----------------------------------------------------------------------------

METRICS_NAMESPACE = "monitoring"
PROMETHEUS_RELEASE = "prometheus"
PROMETHEUS_SERVER = "prometheus-server"
"""The server's Deployment and Service name (fixed through the chart's `server.fullnameOverride`)."""
PROMETHEUS_PORT = 80
PROMETHEUS_CONTAINER_PORT = 9090
ADAPTER_RELEASE = "prometheus-adapter"
ADAPTER_PORT = 10250
"""The adapter's HTTPS port. The API server calls it directly: 10250 (the kubelet's port number, on the
pod's own address) is one that private GKE control planes may reach without an extra firewall rule."""
METRICS_READER_ROLE = "triton-metrics-reader"
"""The ClusterRole Prometheus is bound to in the inference namespace only (read pods, to find Triton)."""
PROMETHEUS_RETENTION = "6h"
"""Autoscaling looks back minutes; a few hours of history is enough to see what it did."""


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repository: str
    app_version: str
    """What the chart's version deploys, for the README; the chart version is what is pinned."""


PROMETHEUS_CHART = Chart("prometheus", "29.27.0", "https://prometheus-community.github.io/helm-charts", "v3.14.0")
ADAPTER_CHART = Chart("prometheus-adapter", "5.3.0", "https://prometheus-community.github.io/helm-charts", "v0.12.0")
CLUSTER_AUTOSCALER_CHART = Chart("cluster-autoscaler", "9.51.0", "https://kubernetes.github.io/autoscaler", "v1.33.0")

PROMETHEUS_DEFAULT_JOBS = (
    "prometheus", "kubernetes-api-servers", "kubernetes-nodes", "kubernetes-nodes-cadvisor",
    "kubernetes-service-endpoints", "kubernetes-service-endpoints-slow", "prometheus-pushgateway",
    "kubernetes-services", "kubernetes-pods", "kubernetes-pods-slow",
)
"""The prometheus chart's own scrape jobs (29.x `scrapeConfigs`); all off, only Triton is scraped."""

TRITON_SCRAPE_JOB = "triton"
TRITON_APP_NAME = "triton"
"""The `app.kubernetes.io/name` label of the Triton pods (components/serving/triton.py APP_LABELS)."""


def triton_scrape_config() -> dict:
    """Triton's metrics port on every Triton pod of the inference namespace, labelled with the pod's
    namespace and name: what prometheus-adapter maps each series to a pod by."""
    return {
        "scrape_interval": SCRAPE_INTERVAL,
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [INFERENCE_NAMESPACE]}}],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name",
                                  "__meta_kubernetes_pod_container_port_number"],
                "action": "keep",
                "regex": f"{TRITON_APP_NAME};{METRICS_PORT}",
            },
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ],
    }


def adapter_rules() -> list[dict]:
    """prometheus-adapter rules serving every `POD_METRICS` entry per pod, so switching
    `autoscaling.metric` changes the HPA only."""
    return [
        {
            "seriesQuery": f'{metric.series}{{namespace!="",pod!=""}}',
            "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
            "name": {"matches": f"^{metric.series}$", "as": metric.name},
            "metricsQuery": metric.query,
        }
        for metric in POD_METRICS.values()
    ]


# --- nodes -------------------------------------------------------------------------------------------

SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
SERVING_POD_ANNOTATIONS = {SAFE_TO_EVICT: "false"}
"""On every serving pod: no node autoscaler evicts it to consolidate (Cluster Autoscaler on EKS, and
the autoscalers AKS and GKE run). A GPU node goes once the HPA has removed its pods."""

AWS_ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""The Cluster Autoscaler's GPU node label on AWS: a labelled node without allocatable GPUs yet (the
device plugin still starting) counts as not ready, instead of triggering a second scale-up."""
NODE_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
GPU_RESOURCE = "nvidia.com/gpu"

NodeAutoscaler = Literal["cluster-autoscaler", "aks-cluster-autoscaler", "gke-cluster-autoscaler"]
NODE_AUTOSCALERS: dict[Cloud, NodeAutoscaler] = {
    # EKS managed node groups do not scale by themselves: the program deploys the Cluster Autoscaler.
    "aws": "cluster-autoscaler",
    # The pools' own autoscaling (AgentPool enableAutoScaling, GKE NodePool autoscaling).
    "azure": "aks-cluster-autoscaler",
    "gcp": "gke-cluster-autoscaler",
}

CLUSTER_AUTOSCALER_IMAGES: dict[str, str] = {
    # Kubernetes minor -> the newest Cluster Autoscaler release of that minor (tags of
    # kubernetes/autoscaler, 2026-07-22). The autoscaler's minor must match the cluster's.
    "1.31": "v1.31.5",
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
    "1.36": "v1.36.1",
}
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
CLUSTER_AUTOSCALER_NAMESPACE = "kube-system"
CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"


def accelerator_label_value(gpu_type: str) -> str:
    """The accelerator's usual label name: GCP's where GCP sells the type (`nvidia-tesla-t4`,
    `nvidia-l4`), else `nvidia-<type>` (`nvidia-a10g`)."""
    offer = GPU_CATALOG.get(gpu_type, {}).get("gcp")
    return offer.accelerator if offer and offer.accelerator else f"nvidia-{gpu_type.lower()}"


def autoscaler_node_labels(cloud: Cloud, pool: NodePoolPlan) -> dict[str, str]:
    """Labels a pool's nodes carry for their cloud's node autoscaler, beyond the pool's own."""
    if cloud == "aws" and pool.gpus_per_node:
        return {AWS_ACCELERATOR_LABEL: accelerator_label_value(pool.labels[GPU_TYPE_LABEL])}
    return {}


def node_template_tags(labels: Mapping[str, str], pool: NodePoolPlan) -> dict[str, str]:
    """Tags on an Auto Scaling group telling the Cluster Autoscaler what a node of it would bring,
    before any exists: every label, every taint, and its GPUs."""
    tags = {f"{NODE_TEMPLATE}/label/{key}": value for key, value in labels.items()}
    tags |= {f"{NODE_TEMPLATE}/taint/{t.key}": f"{t.value}:{t.effect}" for t in pool.taints}
    if pool.gpus_per_node:
        tags[f"{NODE_TEMPLATE}/resources/{GPU_RESOURCE}"] = str(pool.gpus_per_node)
    return tags


@dataclass(frozen=True)
class NodeAutoscalingPlan:
    autoscaler: NodeAutoscaler
    min_nodes: int
    max_nodes: int
    labels: Mapping[str, str] = field(default_factory=dict)
    """Every label of a GPU node, the autoscaler's own included."""
    template_tags: Mapping[str, str] = field(default_factory=dict)
    """EKS: tags for the GPU node group's Auto Scaling group; empty where the cloud knows its pools."""
    image: str | None = None
    """EKS: the Cluster Autoscaler image matching the cluster's Kubernetes minor."""


@dataclass(frozen=True)
class RegionAutoscalingPlan:
    pods: PodAutoscalingPlan
    nodes: NodeAutoscalingPlan


class AutoscalingRequestLike(Protocol):
    """What `plan_region_autoscaling` reads from the autoscaling settings."""

    min_replicas: int
    max_replicas: int | None
    metric: str
    target: int | None
    scale_up_window_seconds: int
    scale_down_window_seconds: int


def plan_region_autoscaling(
    cloud: Cloud,
    pool: NodePoolPlan,
    pod: PodRequest,
    request: AutoscalingRequestLike,
    kubernetes_version: str,
) -> RegionAutoscalingPlan:
    """One region's plan, from its GPU pool's plan, the Triton pod's requests and the stack's
    (validated) autoscaling settings."""
    metric = POD_METRICS[request.metric]
    capacity = gpu_pod_capacity(cloud, pool, pod)
    pods = PodAutoscalingPlan(
        min_replicas=request.min_replicas,
        # Unset: as many pods as the region's GPU pool holds at its maximum.
        max_replicas=request.max_replicas if request.max_replicas is not None else capacity,
        metric=metric,
        target=request.target if request.target is not None else metric.default_target,
        scale_up_window_seconds=request.scale_up_window_seconds,
        scale_down_window_seconds=request.scale_down_window_seconds,
    )
    labels = {**pool.labels, **autoscaler_node_labels(cloud, pool)}
    autoscaler = NODE_AUTOSCALERS[cloud]
    deployed = autoscaler == "cluster-autoscaler"
    nodes = NodeAutoscalingPlan(
        autoscaler=autoscaler,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        labels=MappingProxyType(labels),
        template_tags=MappingProxyType(node_template_tags(labels, pool) if deployed else {}),
        image=f"{CLUSTER_AUTOSCALER_IMAGE}:{CLUSTER_AUTOSCALER_IMAGES[kubernetes_version]}" if deployed else None,
    )
    return RegionAutoscalingPlan(pods, nodes)
