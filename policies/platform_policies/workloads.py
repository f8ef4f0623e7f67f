"""Workloads (pulumi-kubernetes): hardened containers, GPU scheduling, trusted pinned images.

Every type with a pod template is covered through the path to its pod spec."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from .definitions import ConfigKey, PolicyDefinition
from .model import Resource, get_path, is_unknown, known_items, matches_any

POD_SPEC_PATHS = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:core/v1:ReplicationController": "spec.template.spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}
WORKLOAD_TYPES = tuple(POD_SPEC_PATHS)

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}

ALLOWED_REGISTRIES = ConfigKey(
    "allowedRegistries",
    {
        "type": "array",
        "description": "Image reference globs of the platform's registries (ECR, ACR, Artifact Registry).",
        "items": {"type": "string", "minLength": 1},
        # NGC holds the NVIDIA node agents the clusters run (digest-pinned like everything else).
        "default": ["*.dkr.ecr.*.amazonaws.com/*", "*.azurecr.io/*", "*-docker.pkg.dev/*", "nvcr.io/nvidia/*"],
    },
)
REQUIRE_DIGEST = ConfigKey(
    "requireDigest",
    {"type": "boolean", "description": "Images must be pinned by @sha256 digest.", "default": True},
)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _pod_spec(resource: Resource) -> Any:
    return resource.get(POD_SPEC_PATHS[resource.type])


def _containers(spec: Any) -> Iterator[tuple[str, Any]]:
    for field in ("initContainers", "containers"):
        for i, container in enumerate(known_items(get_path(spec, field))):
            yield f"{field}[{i}] ({get_path(container, 'name')})", container


def check_privileged(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for where, container in _containers(_pod_spec(resource)):
        if get_path(container, "securityContext.privileged") is True:
            yield f"{where} is privileged"
        escalation = get_path(container, "securityContext.allowPrivilegeEscalation")
        if escalation is not False and not is_unknown(escalation):
            yield f"{where} does not set securityContext.allowPrivilegeEscalation to false"


def _effective_security(spec: Any, container: Any, field: str) -> Any:
    """The container's security context overrides the pod's, field by field."""
    own = get_path(container, f"securityContext.{field}")
    return own if own is not None else get_path(spec, f"securityContext.{field}")


def check_non_root(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    spec = _pod_spec(resource)
    for where, container in _containers(spec):
        non_root, user = (_effective_security(spec, container, field) for field in ("runAsNonRoot", "runAsUser"))
        if is_unknown(non_root) or is_unknown(user):
            continue
        if user is not None and int(user) == 0:
            yield f"{where} runs as user 0 (root)"
        elif non_root is not True and user is None:
            yield f"{where} sets neither runAsNonRoot: true nor a non-zero runAsUser"


def check_limits(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for where, container in _containers(_pod_spec(resource)):
        for kind in ("cpu", "memory"):
            if get_path(container, f"resources.limits.{kind}") is None:
                yield f"{where} has no {kind} limit"


def _tolerates_gpu_taint(spec: Any) -> bool:
    for toleration in known_items(get_path(spec, "tolerations")):
        key, op, effect = (get_path(toleration, f) for f in ("key", "operator", "effect"))
        if key == GPU_TAINT["key"] and effect in (None, "", GPU_TAINT["effect"]) and (
            op == "Exists" or (op in (None, "Equal") and get_path(toleration, "value") == GPU_TAINT["value"])
        ):
            return True
    return False


def check_gpu(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    # Only pods that use GPUs are judged: node agents (device plugin, DCGM exporter) tolerate the
    # GPU taint without requesting a GPU, legitimately.
    spec = _pod_spec(resource)
    uses_gpu = False
    for where, container in _containers(spec):
        # get_path splits on dots, so read the extended resource name from the mappings directly.
        limits, requests = (get_path(container, f"resources.{kind}") for kind in ("limits", "requests"))
        limit = limits.get(GPU_RESOURCE) if isinstance(limits, Mapping) else None
        request = requests.get(GPU_RESOURCE) if isinstance(requests, Mapping) else None
        uses_gpu = uses_gpu or limit is not None or request is not None
        if request is not None and limit is None:
            yield f"{where} requests {GPU_RESOURCE} without a limit (Kubernetes schedules extended resources by limit)"
    if uses_gpu and not _tolerates_gpu_taint(spec):
        taint = f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}"
        yield f"it uses {GPU_RESOURCE} but does not tolerate the GPU node taint {taint}"


def check_images(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    for where, container in _containers(_pod_spec(resource)):
        image = get_path(container, "image")
        if is_unknown(image):
            continue  # a digest produced by this deployment's image build
        image = str(image or "")
        if not matches_any(image, config["allowedRegistries"]):
            yield f"{where} image {image!r} is not from an allowed registry"
        if config["requireDigest"] and not _DIGEST.search(image):
            yield f"{where} image {image!r} is not pinned by @sha256 digest"


SERVING_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def check_probes(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    # Without a readiness probe a pod counts as ready the moment it starts: the rollout's await,
    # its gate and the Service would all send traffic to a server still building its engines.
    spec = _pod_spec(resource)
    for i, container in enumerate(known_items(get_path(spec, "containers"))):
        where = f"containers[{i}] ({get_path(container, 'name')})"
        for probe in ("readinessProbe", "livenessProbe"):
            if get_path(container, probe) is None:
                yield f"{where} has no {probe}"


NVIDIA_DEVICE_PLUGIN = {
    "pattern": "*-nvidia-device-plugin",
    "justification": "The NVIDIA device plugin registers its socket in the root-owned "
    "/var/lib/kubelet/device-plugins and advertises GPUs without consuming one; it runs with no "
    "capabilities, no privilege escalation and a read-only root filesystem.",
}


def _policy(name, description, check, *, severity, enforcement, config=(), default_exemptions=(), types=WORKLOAD_TYPES):
    return PolicyDefinition(
        name=name, description=description, severity=severity, frameworks=("CIS",), enforcement=enforcement,
        resource_types=types, check=check, config=config, default_exemptions=default_exemptions,
    )


POLICIES = (
    _policy("kubernetes-pod-container-privileged-disallowed",
            "No container runs privileged or may escalate privileges.",
            check_privileged, severity="critical", enforcement="mandatory"),
    _policy("kubernetes-pod-container-nonroot-required",
            "Every container runs as a non-root user.",
            check_non_root, severity="high", enforcement="mandatory", default_exemptions=(NVIDIA_DEVICE_PLUGIN,)),
    _policy("kubernetes-pod-container-limits-required",
            "Every container has CPU and memory limits.",
            check_limits, severity="medium", enforcement="advisory"),
    _policy("kubernetes-pod-gpu-scheduling-required",
            "A workload that uses GPUs sets an nvidia.com/gpu limit and tolerates the GPU taint "
            "nvidia.com/gpu=present:NoSchedule.",
            check_gpu, severity="medium", enforcement="advisory", default_exemptions=(NVIDIA_DEVICE_PLUGIN,)),
    _policy("kubernetes-deployment-container-probes-required",
            "Every container of a Deployment or StatefulSet has readiness and liveness probes.",
            check_probes, severity="high", enforcement="mandatory", types=SERVING_TYPES),
    _policy("kubernetes-pod-container-image-trusted",
            "Every container image comes from the platform's registries and is pinned by digest.",
            check_images, severity="high", enforcement="mandatory", config=(ALLOWED_REGISTRIES, REQUIRE_DIGEST)),
)
