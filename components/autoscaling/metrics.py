"""The metrics path of one cluster: Prometheus scraping Triton, prometheus-adapter serving Triton's load
signal to the HorizontalPodAutoscaler through `custom.metrics.k8s.io`.

Both are Helm releases of pinned chart versions (`planning/autoscaling.py`); `pulumi up` fetches the
charts. They run on the system pool in namespace `monitoring`, whose label is the one Triton's
NetworkPolicy admits on its metrics port. Prometheus reads pods in the `inference` namespace only
(its own ClusterRole, bound there by the chart) and keeps a few hours in memory-backed storage: the
HPA needs minutes of history, and no cluster has to provide a storage class for it.
"""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.core.v1 import Namespace
from pulumi_kubernetes.helm.v3 import Release
from pulumi_kubernetes.networking.v1 import NetworkPolicy
from pulumi_kubernetes.rbac.v1 import ClusterRole

from components.kubernetes.common import kubernetes_options
from components.serving.triton import METRICS_SCRAPER_LABEL, TritonRegion
from planning.autoscaling import (
    ADAPTER_CHART,
    ADAPTER_PORT,
    ADAPTER_RELEASE,
    METRICS_NAMESPACE,
    METRICS_READER_ROLE,
    PROMETHEUS_CHART,
    PROMETHEUS_CONTAINER_PORT,
    PROMETHEUS_DEFAULT_JOBS,
    PROMETHEUS_PORT,
    PROMETHEUS_RELEASE,
    PROMETHEUS_RETENTION,
    PROMETHEUS_SERVER,
    SCRAPE_INTERVAL,
    TRITON_SCRAPE_JOB,
    Chart,
    adapter_rules,
    triton_scrape_config,
)
from planning.clusters import INFERENCE_NAMESPACE, POOL_LABEL

ON_SYSTEM_POOL = {POOL_LABEL: "system"}
POD_SECURITY = {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                      "capabilities": {"drop": ["ALL"]}}
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server",
                         "app.kubernetes.io/instance": PROMETHEUS_RELEASE}
ADAPTER_POD_LABELS = {"app.kubernetes.io/name": "prometheus-adapter", "app.kubernetes.io/instance": ADAPTER_RELEASE}
"""The pod labels the two charts set (their selector labels), for the network policy."""
RELEASE_TIMEOUT_SECONDS = 600
RELEASE_HISTORY = 5


def prometheus_url() -> str:
    return f"http://{PROMETHEUS_SERVER}.{METRICS_NAMESPACE}.svc"


def prometheus_values(inference_namespace: pulumi.Input[str] = INFERENCE_NAMESPACE) -> dict:
    """Values for the prometheus chart: the server only, scraping Triton only. The inference
    namespace is where the chart binds the reader role (given as the Namespace's output, the release
    waits for it)."""
    return {
        "alertmanager": {"enabled": False},
        "kube-state-metrics": {"enabled": False},
        "prometheus-node-exporter": {"enabled": False},
        "prometheus-pushgateway": {"enabled": False},
        "server": {
            "fullnameOverride": PROMETHEUS_SERVER,
            # No cluster-wide read: the chart binds this role in the inference namespace only.
            "useExistingClusterRoleName": METRICS_READER_ROLE,
            "namespaces": [inference_namespace],
            "retention": PROMETHEUS_RETENTION,
            "persistentVolume": {"enabled": False},
            "emptyDir": {"sizeLimit": "4Gi"},
            "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": "1m"},
            "nodeSelector": dict(ON_SYSTEM_POOL),
            "securityContext": dict(POD_SECURITY),
            "containerSecurityContext": dict(CONTAINER_SECURITY),
            "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
        },
        "configmapReload": {
            "prometheus": {
                "containerSecurityContext": dict(CONTAINER_SECURITY),
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                              "limits": {"cpu": "100m", "memory": "64Mi"}},
            }
        },
        # The chart's own jobs (cluster-wide scrapes) are all off; Triton is the only target.
        "scrapeConfigs": {
            **{job: {"enabled": False} for job in PROMETHEUS_DEFAULT_JOBS},
            TRITON_SCRAPE_JOB: {"enabled": True, **triton_scrape_config()},
        },
    }


def adapter_values() -> dict:
    """Values for the prometheus-adapter chart: Triton's metrics per pod, nothing else."""
    return {
        "prometheus": {"url": prometheus_url(), "port": PROMETHEUS_PORT},
        "listenPort": ADAPTER_PORT,
        "metricsRelistInterval": "1m",
        # Only custom.metrics.k8s.io: the clusters' own metrics-server keeps metrics.k8s.io.
        "rules": {"default": False, "custom": adapter_rules()},
        # Without the adapter every HPA holds its count: two replicas, drained one at a time.
        "replicas": 2,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "nodeSelector": dict(ON_SYSTEM_POOL),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    }


def release(name: str, release_name: str, chart: Chart, namespace: pulumi.Input[str], values: dict,
            opts: pulumi.ResourceOptions) -> Release:
    """A Helm release of a pinned chart version; a failed install or upgrade is rolled back."""
    return Release(
        name,
        name=release_name,
        chart=chart.name,
        version=chart.version,
        repository_opts={"repo": chart.repository},
        namespace=namespace,
        values=values,
        atomic=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=RELEASE_HISTORY,
        opts=opts,
    )


def metrics_pipeline(name: str, cluster: pulumi.ComponentResource, serving: TritonRegion,
                     parent: pulumi.Resource) -> Release:
    """Prometheus and prometheus-adapter in `cluster`; returns the adapter's release, which every
    HorizontalPodAutoscaler of the cluster waits for."""
    k8s = kubernetes_options(cluster, parent)
    namespace = Namespace(
        f"{name}-monitoring",
        metadata={
            "name": METRICS_NAMESPACE,
            "labels": {**METRICS_SCRAPER_LABEL,
                       "pod-security.kubernetes.io/enforce": "restricted",
                       "pod-security.kubernetes.io/enforce-version": "latest"},
        },
        opts=k8s,
    )
    reader = ClusterRole(
        f"{name}-metrics-reader",
        metadata={"name": METRICS_READER_ROLE, "labels": {"app.kubernetes.io/name": "prometheus"}},
        # Finding Triton's pods is all Prometheus does with the API.
        rules=[{"api_groups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
        opts=k8s,
    )
    NetworkPolicy(
        f"{name}-prometheus-network-policy",
        metadata={"name": PROMETHEUS_SERVER, "namespace": namespace.metadata.name},
        spec={
            "pod_selector": {"match_labels": PROMETHEUS_POD_LABELS},
            "policy_types": ["Ingress"],
            # Only the adapter queries Prometheus.
            "ingress": [{
                "from": [{"pod_selector": {"match_labels": ADAPTER_POD_LABELS}}],
                "ports": [{"protocol": "TCP", "port": PROMETHEUS_CONTAINER_PORT}],
            }],
        },
        opts=k8s,
    )
    prometheus = release(
        f"{name}-prometheus", PROMETHEUS_RELEASE, PROMETHEUS_CHART, namespace.metadata.name,
        prometheus_values(serving.namespace), kubernetes_options(cluster, parent, depends_on=[reader]),
    )
    return release(
        f"{name}-metrics-adapter", ADAPTER_RELEASE, ADAPTER_CHART, namespace.metadata.name, adapter_values(),
        kubernetes_options(cluster, parent, depends_on=[prometheus]),
    )
