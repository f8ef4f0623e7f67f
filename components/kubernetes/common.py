"""What the three cluster components share: their args, the Kubernetes provider built from a
cluster's secret kubeconfig, and the NVIDIA device plugin for clouds that do not install it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DaemonSet

from planning.clusters import ClusterPlan, NodePoolPlan
from planning.deployer import ClusterAccess

if TYPE_CHECKING:
    from components.serving.registries import RegionRegistry
    from settings.serving import DeployerSettings

DEVICE_PLUGIN_IMAGE = (
    "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"
    "@sha256:af31e2b7c7f89834c4e5219860def7ac2e49a207b3d4e8610d5a26772b7738e5"
)
"""Pinned by digest: the plugin's protocol follows the kubelet's, so upgrades are deliberate."""


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    region: str
    plan: ClusterPlan
    kubernetes_version: str
    access: ClusterAccess
    """How the deployer reaches the API: private endpoint (and from where) or public allow-list."""
    tags: dict[str, str]
    provider: pulumi.ProviderResource
    registry: RegionRegistry
    """Where the region's nodes pull the platform's image from."""
    deployer: DeployerSettings
    """Who is given cluster admin, and how AKS credentials are obtained."""


@dataclass(frozen=True)
class WorkloadIdentity:
    """What binds the inference service account to the region's cloud identity."""

    annotations: dict[str, pulumi.Input[str]]
    pod_labels: dict[str, str]


def exec_kubeconfig(name: str, server: str, ca_data: str, command: str, args: list[str]) -> str:
    """A kubeconfig that fetches a short-lived token from the cloud's CLI: nothing long-lived is
    stored in state, and access follows the caller's cloud identity."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": command,
                            "args": args,
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
    )


def kubernetes_provider(name: str, kubeconfig: pulumi.Input[str], parent: pulumi.Resource) -> k8s.Provider:
    return k8s.Provider(
        f"{name}-k8s",
        kubeconfig=pulumi.Output.secret(kubeconfig),
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def kubernetes_options(cluster, parent: pulumi.Resource, **extra) -> pulumi.ResourceOptions:
    """Options for any Kubernetes object in `cluster`: its provider, and everything that must exist
    before the deployer's first request is authorized (`cluster.kubernetes_ready`)."""
    depends_on = [*cluster.kubernetes_ready, *extra.pop("depends_on", [])]
    return pulumi.ResourceOptions(parent=parent, provider=cluster.kubernetes, depends_on=depends_on, **extra)


def nvidia_device_plugin(name: str, pool: NodePoolPlan, cluster: pulumi.ComponentResource) -> DaemonSet:
    """The NVIDIA device plugin on the GPU pool only: it advertises `nvidia.com/gpu` to the kubelet."""
    labels = {"app.kubernetes.io/name": "nvidia-device-plugin"}
    return DaemonSet(
        f"{name}-nvidia-device-plugin",
        metadata={"name": "nvidia-device-plugin", "namespace": "kube-system", "labels": labels},
        spec={
            "selector": {"match_labels": labels},
            "update_strategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "node_selector": pool.labels,
                    "tolerations": [
                        {"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect} for t in pool.taints
                    ],
                    # Without it a GPU node is useless, so it must not be evicted for anything else.
                    "priority_class_name": "system-node-critical",
                    # It talks to the kubelet's socket only, never to the API server.
                    "automount_service_account_token": False,
                    "security_context": {"seccomp_profile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "nvidia-device-plugin",
                            "image": DEVICE_PLUGIN_IMAGE,
                            "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}],
                            # Root is unavoidable: the kubelet's device-plugin socket directory is
                            # root-owned. Everything else is taken away.
                            "security_context": {
                                "allow_privilege_escalation": False,
                                "read_only_root_filesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "32Mi"},
                                "limits": {"cpu": "100m", "memory": "128Mi"},
                            },
                            "volume_mounts": [
                                {"name": "device-plugin", "mount_path": "/var/lib/kubelet/device-plugins"}
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "device-plugin", "host_path": {"path": "/var/lib/kubelet/device-plugins"}}
                    ],
                },
            },
        },
        opts=kubernetes_options(cluster, cluster),
    )
