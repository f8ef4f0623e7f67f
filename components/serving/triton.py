"""NVIDIA Triton in one region's cluster, and the gate that says the region serves.

One component for every cloud; what differs is a small table (`IDENTITY_BINDING`): how the
inference service account is bound to the region's cloud identity (EKS Pod Identity needs nothing on
the service account; AKS workload identity an annotation and a pod label; GKE workload identity an
annotation). Everything else comes from the region's plan: the GPU pool's labels and taints, the
Triton plan (resources, probes, timeouts), the region's model store and the image reference.

The gate is a Job that sends one inference request to this region's Service and must succeed. It is
awaited (pulumi-kubernetes waits for a Job to complete), and the next rollout wave's Deployments
depend on it, so a wave starts only once the previous one answers requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import pulumi
from pulumi_kubernetes.apps.v1 import Deployment
from pulumi_kubernetes.batch.v1 import Job
from pulumi_kubernetes.core.v1 import Namespace, Service, ServiceAccount
from pulumi_kubernetes.networking.v1 import NetworkPolicy
from pulumi_kubernetes.policy.v1 import PodDisruptionBudget

from components.kubernetes.common import kubernetes_options
from planning.autoscaling import SERVING_POD_ANNOTATIONS
from planning.clusters import INFERENCE_NAMESPACE, INFERENCE_SERVICE_ACCOUNT, POOL_LABEL
from planning.platform import RegionPlan
from planning.regions import Cloud
from planning.serving import (
    CANARY_MODEL,
    ENGINE_CACHE_DIR,
    GRPC_PORT,
    HTTP_PORT,
    LIVE_PATH,
    METRICS_PORT,
    MODEL_REPOSITORY_DIR,
    MODEL_STORE_DIR,
    READY_PATH,
    RUN_AS,
    SCRATCH_DIR,
    SERVICE_NAME,
    TritonPlan,
)

SMOKE_TEST = "/opt/inference/smoke_test.py"
SMOKE_TEST_MINUTES = 10
APP_LABELS = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/component": "inference"}
GATE_LABELS = {"app.kubernetes.io/name": "triton-smoke-test"}
METRICS_SCRAPER_LABEL = {"multicloud-inference/metrics": "scrape"}
"""Namespaces with this label (the cluster's metrics stack) may scrape Triton's metrics port."""


@dataclass(frozen=True)
class IdentityBinding:
    annotations: Callable[[pulumi.ComponentResource], dict[str, pulumi.Input[str]]]
    """Service account annotations, from the region's cluster component."""
    pod_labels: dict[str, str] = field(default_factory=dict)


IDENTITY_BINDING: dict[Cloud, IdentityBinding] = {
    # The cluster's PodIdentityAssociation names namespace and service account; nothing to annotate.
    "aws": IdentityBinding(lambda cluster: {}),
    "azure": IdentityBinding(
        lambda cluster: {"azure.workload.identity/client-id": cluster.inference_identity.client_id},
        {"azure.workload.identity/use": "true"},
    ),
    "gcp": IdentityBinding(lambda cluster: {"iam.gke.io/gcp-service-account": cluster.inference_identity.email}),
}


@dataclass(frozen=True, kw_only=True)
class TritonArgs:
    region: RegionPlan
    triton: TritonPlan
    image: pulumi.Input[str]
    model_store_url: pulumi.Input[str]
    cluster: pulumi.ComponentResource
    """The region's cluster component: Kubernetes provider, deployer access, inference identity."""
    after: list[pulumi.Resource] = field(default_factory=list)
    """The previous rollout wave's gates: this region's Deployment waits for them."""


def triton_env(model_store_url: pulumi.Input[str]) -> list[dict]:
    """The environment the image's entrypoint reads (planning.serving.ENTRYPOINT_ENV)."""
    return [
        {"name": "MODEL_STORE_URL", "value": model_store_url},
        {"name": "ENGINE_CACHE_DIR", "value": ENGINE_CACHE_DIR},
        {"name": "MODEL_STORE_DIR", "value": MODEL_STORE_DIR},
        {"name": "MODEL_REPOSITORY_DIR", "value": MODEL_REPOSITORY_DIR},
        {"name": "TRT_PRECISION", "value": "fp16"},
        # The image's user has no home directory; tools that cache (rclone) write under /tmp.
        {"name": "HOME", "value": SCRATCH_DIR},
    ]


def pod_security() -> dict:
    """Pod Security Standard `restricted`, as the image's user: every pod that runs the platform's
    image (Triton, the gate, the model sync jobs) uses it."""
    return {"run_as_non_root": True, "run_as_user": RUN_AS, "run_as_group": RUN_AS, "fs_group": RUN_AS,
            "seccomp_profile": {"type": "RuntimeDefault"}}


def container_security() -> dict:
    """The container half of `restricted`, plus a read-only root (the image writes only to volumes)."""
    return {"allow_privilege_escalation": False, "read_only_root_filesystem": True, "run_as_non_root": True,
            "capabilities": {"drop": ["ALL"]}}


def _gpu_placement(region: RegionPlan) -> dict:
    """On the GPU pool only, tolerating its taints (the GPU taint, and AKS's spot taint)."""
    pool = region.cluster.gpu
    return {
        "node_selector": {POOL_LABEL: pool.labels[POOL_LABEL]},
        "tolerations": [
            {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect} for t in pool.taints
        ],
    }


def revision(triton: TritonPlan, image: str) -> str:
    """What the gate re-checks: it reruns whenever the image or the Triton plan changes."""
    return hashlib.sha256(json.dumps([asdict(triton), image], sort_keys=True).encode()).hexdigest()[:16]


class TritonRegion(pulumi.ComponentResource):
    deployment: Deployment
    service: Service
    gate: Job
    namespace: pulumi.Output[str]
    pod_labels: dict[str, str]
    """The labels that select the Triton pods (Service, PDB, network policy; anything routing to them)."""

    def __init__(self, name: str, args: TritonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:TritonRegion", name, None, opts)
        region, triton, cluster = args.region, args.triton, args.cluster
        binding = IDENTITY_BINDING[region.cloud]
        k8s = kubernetes_options(cluster, self)

        namespace = Namespace(
            f"{name}-namespace",
            metadata={
                "name": INFERENCE_NAMESPACE,
                # Triton runs unprivileged: enforce the restricted Pod Security Standard on the namespace.
                "labels": {"pod-security.kubernetes.io/enforce": "restricted",
                           "pod-security.kubernetes.io/enforce-version": "latest"},
            },
            opts=k8s,
        )
        ns = namespace.metadata.name
        self.namespace, self.pod_labels = ns, dict(APP_LABELS)
        account = ServiceAccount(
            f"{name}-service-account",
            metadata={"name": INFERENCE_SERVICE_ACCOUNT, "namespace": ns, "annotations": binding.annotations(cluster)},
            # The pods never call the Kubernetes API; the clouds' webhooks project their own tokens.
            automount_service_account_token=False,
            opts=k8s,
        )
        gpu = str(triton.gpus_per_pod)
        resources = {"cpu": triton.cpu, "memory": triton.memory}
        timeout = f"{triton.ready_timeout_minutes}m"
        self.deployment = Deployment(
            f"{name}-triton",
            metadata={"name": SERVICE_NAME, "namespace": ns, "labels": APP_LABELS},
            spec={
                # No `replicas`: the region's HorizontalPodAutoscaler (components/autoscaling) owns the
                # count. Declared here, every `pulumi up` would reset it (server-side apply); left out,
                # a new Deployment starts at 1 and the HPA raises it to autoscaling.min_replicas.
                # A Deployment that cannot become ready fails here, not after the whole timeout.
                "progress_deadline_seconds": triton.ready_timeout_seconds,
                "revision_history_limit": 5,
                # GPUs are scarce: add the new pod before removing an old one, never the reverse.
                "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                "selector": {"match_labels": APP_LABELS},
                "template": {
                    "metadata": {
                        "labels": {**APP_LABELS, **binding.pod_labels},
                        # No node autoscaler evicts a serving pod to consolidate (mid-request, or while it
                        # builds its engines): a GPU node goes once the HPA has removed its pods.
                        "annotations": dict(SERVING_POD_ANNOTATIONS),
                    },
                    "spec": {
                        "service_account_name": account.metadata.name,
                        "automount_service_account_token": False,
                        "enable_service_links": False,
                        "termination_grace_period_seconds": 60,
                        "security_context": pod_security(),
                        **_gpu_placement(region),
                        "topology_spread_constraints": [{
                            "max_skew": 1,
                            "topology_key": "topology.kubernetes.io/zone",
                            # Spread when capacity allows; GPU capacity is too scarce to refuse a zone.
                            "when_unsatisfiable": "ScheduleAnyway",
                            "label_selector": {"match_labels": APP_LABELS},
                        }],
                        "containers": [{
                            "name": "triton",
                            "image": args.image,
                            "ports": [
                                {"name": "http", "container_port": HTTP_PORT},
                                {"name": "grpc", "container_port": GRPC_PORT},
                                {"name": "metrics", "container_port": METRICS_PORT},
                            ],
                            "env": triton_env(args.model_store_url),
                            "resources": {"requests": {**resources, "nvidia.com/gpu": gpu},
                                          "limits": {**resources, "nvidia.com/gpu": gpu}},
                            # The entrypoint builds TensorRT engines before Triton listens: the startup
                            # probe allows for a cold build, liveness and readiness take over after.
                            "startup_probe": _probe(LIVE_PATH, triton.probes.period_seconds, triton.probes.startup_failures),
                            "liveness_probe": _probe(LIVE_PATH, triton.probes.period_seconds, triton.probes.liveness_failures),
                            "readiness_probe": _probe(READY_PATH, triton.probes.period_seconds, triton.probes.readiness_failures),
                            "security_context": container_security(),
                            "volume_mounts": [
                                {"name": "engine-cache", "mount_path": ENGINE_CACHE_DIR},
                                {"name": "model-store", "mount_path": MODEL_STORE_DIR},
                                {"name": "model-repository", "mount_path": MODEL_REPOSITORY_DIR},
                                {"name": "scratch", "mount_path": SCRATCH_DIR},
                                {"name": "shm", "mount_path": "/dev/shm"},
                            ],
                        }],
                        "volumes": [
                            # Engines are tied to the node's GPU architecture: a node-local cache that
                            # survives container restarts is the right lifetime.
                            {"name": "engine-cache", "empty_dir": {"size_limit": triton.engine_cache_size}},
                            {"name": "model-store", "empty_dir": {}},
                            {"name": "model-repository", "empty_dir": {}},
                            {"name": "scratch", "empty_dir": {"size_limit": "1Gi"}},
                            {"name": "shm", "empty_dir": {"medium": "Memory", "size_limit": "1Gi"}},
                        ],
                    },
                },
            },
            opts=kubernetes_options(
                cluster, self, depends_on=list(args.after),
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )
        self.service = Service(
            f"{name}-service",
            metadata={"name": SERVICE_NAME, "namespace": ns, "labels": APP_LABELS},
            spec={
                "type": "ClusterIP",
                "selector": APP_LABELS,
                "ports": [
                    {"name": "http", "port": HTTP_PORT, "target_port": "http", "app_protocol": "http"},
                    {"name": "grpc", "port": GRPC_PORT, "target_port": "grpc", "app_protocol": "kubernetes.io/h2c"},
                    {"name": "metrics", "port": METRICS_PORT, "target_port": "metrics", "app_protocol": "http"},
                ],
            },
            opts=k8s,
        )
        PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata={"name": SERVICE_NAME, "namespace": ns, "labels": APP_LABELS},
            # Drains and upgrades take one Triton pod at a time, never block forever.
            spec={"max_unavailable": 1, "selector": {"match_labels": APP_LABELS}},
            opts=k8s,
        )
        NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": SERVICE_NAME, "namespace": ns, "labels": APP_LABELS},
            spec={
                "pod_selector": {"match_labels": APP_LABELS},
                "policy_types": ["Ingress"],
                "ingress": [
                    # Inference (HTTP, gRPC): whatever routes requests in (the gate, a load balancer).
                    {"ports": [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": GRPC_PORT}]},
                    # Metrics: only the metrics stack.
                    {"ports": [{"protocol": "TCP", "port": METRICS_PORT}],
                     "from": [{"namespace_selector": {"match_labels": METRICS_SCRAPER_LABEL}}]},
                ],
            },
            opts=k8s,
        )
        NetworkPolicy(
            f"{name}-gate-network-policy",
            metadata={"name": "triton-smoke-test", "namespace": ns, "labels": APP_LABELS},
            # The gate only calls out; nothing may call it.
            spec={"pod_selector": {"match_labels": GATE_LABELS}, "policy_types": ["Ingress"]},
            opts=k8s,
        )
        self.address = pulumi.Output.concat(SERVICE_NAME, ".", ns, ".svc.cluster.local")
        self.gate = self._gate(name, args, ns)
        self.register_outputs({"service": self.address, "image": args.image})

    def _gate(self, name: str, args: TritonArgs, namespace: pulumi.Output[str]) -> Job:
        """One inference request to the region's Service, from inside the cluster. It runs the
        same image on the GPU pool (already pulled there) without asking for a GPU."""
        url = pulumi.Output.concat("http://", self.address, f":{HTTP_PORT}")
        revision_hash = pulumi.Output.from_input(args.image).apply(lambda image: revision(args.triton, image))
        timeout = f"{SMOKE_TEST_MINUTES}m"
        return Job(
            f"{name}-gate",
            metadata={"namespace": namespace, "labels": {**APP_LABELS, "app.kubernetes.io/component": "smoke-test"}},
            spec={
                "backoff_limit": 2,
                "active_deadline_seconds": SMOKE_TEST_MINUTES * 60,
                "template": {
                    "metadata": {
                        "labels": GATE_LABELS,
                        "annotations": {"multicloud-inference/revision": revision_hash},
                    },
                    "spec": {
                        "restart_policy": "Never",
                        "automount_service_account_token": False,
                        "enable_service_links": False,
                        "security_context": pod_security(),
                        **_gpu_placement(args.region),
                        "containers": [{
                            "name": "smoke-test",
                            "image": args.image,
                            "command": ["python3", SMOKE_TEST, url, CANARY_MODEL],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                          "limits": {"cpu": "500m", "memory": "256Mi"}},
                            "security_context": container_security(),
                        }],
                    },
                },
            },
            opts=kubernetes_options(
                args.cluster, self, depends_on=[self.deployment, self.service],
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )


def _probe(path: str, period: int, failures: int) -> dict:
    return {"http_get": {"path": path, "port": "http"}, "period_seconds": period, "timeout_seconds": 5,
            "failure_threshold": failures}
