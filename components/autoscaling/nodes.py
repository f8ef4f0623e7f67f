"""GPU nodes on pending pods, per cloud: one row of `NODE_AUTOSCALERS` each.

AKS and GKE run a cluster autoscaler of their own over the pools' bounds (the AgentPool's
`enableAutoScaling`/`minCount`/`maxCount`, the NodePool's `autoscaling`), and know each pool's
labels, taints and GPUs even at zero nodes: nothing to deploy. EKS scales nothing by itself, so its
row deploys the Cluster Autoscaler: a Helm release in `kube-system` that auto-discovers the
cluster's managed node groups (EKS tags their Auto Scaling groups for it) and moves each between its
min and max size; an IAM role it assumes through EKS Pod Identity, allowed to resize only this
cluster's groups; and, on the GPU group's Auto Scaling group, the node-template tags that tell it a
GPU node's labels, taint and `nvidia.com/gpu` before one exists (scaling up from zero).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
from pulumi_aws import autoscaling, eks, iam

from components.autoscaling.metrics import CONTAINER_SECURITY, ON_SYSTEM_POOL, POD_SECURITY, release
from components.context import RegionContext
from components.kubernetes.common import kubernetes_options
from planning.autoscaling import (
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_NAMESPACE,
    CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
    NODE_TEMPLATE,
    NodeAutoscalingPlan,
)
from planning.regions import Cloud

DISCOVERY_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
SCALING_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


@dataclass(frozen=True)
class NodeAutoscalerArgs:
    context: RegionContext
    plan: NodeAutoscalingPlan
    cluster: pulumi.ComponentResource


def pod_identity_trust() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                       "Action": ["sts:AssumeRole", "sts:TagSession"]}],
    })


def cluster_autoscaler_policy(cluster_name: str, cluster_arn: str) -> str:
    """The Cluster Autoscaler's permissions (its AWS README's policy), narrowed: it reads the node
    groups of this cluster only, and resizes only Auto Scaling groups EKS tagged as this cluster's."""
    node_groups = cluster_arn.replace(":cluster/", ":nodegroup/", 1) + "/*"
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Discover", "Effect": "Allow", "Action": list(DISCOVERY_ACTIONS), "Resource": "*"},
            # Labels and taints of a managed node group at zero nodes.
            {"Sid": "ReadNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup", "Resource": node_groups},
            {"Sid": "ScaleOwnGroups", "Effect": "Allow", "Action": list(SCALING_ACTIONS), "Resource": "*",
             "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
        ],
    })


def cluster_autoscaler_values(cluster_name: pulumi.Input[str], region: str, image: str) -> dict:
    repository, tag = image.rsplit(":", 1)
    return {
        # Deployment `kube-system/cluster-autoscaler` (the chart would name it after cloud and chart).
        "fullnameOverride": "cluster-autoscaler",
        "cloudProvider": "aws",
        "awsRegion": region,
        # Node groups tagged k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/<cluster>.
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"repository": repository, "tag": tag},
        "rbac": {"serviceAccount": {"create": True, "name": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT}},
        "extraArgs": {
            # One instance type per group: the cheapest group that fits wins.
            "expander": "least-waste",
            # Serving pods protect themselves (safe-to-evict: false); other pods' emptyDirs (the
            # metrics stack's) must not pin a system node for ever.
            "skip-nodes-with-local-storage": "false",
            "scale-down-unneeded-time": "10m",
        },
        "nodeSelector": dict(ON_SYSTEM_POOL),
        "securityContext": dict(POD_SECURITY),
        "containerSecurityContext": dict(CONTAINER_SECURITY),
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}},
    }


def _tag_suffix(key: str) -> str:
    return key.removeprefix(f"{NODE_TEMPLATE}/").replace("/", "-").replace(".", "-")


def eks_cluster_autoscaler(name: str, args: NodeAutoscalerArgs, parent: pulumi.Resource) -> list[pulumi.Resource]:
    ctx, plan, cluster = args.context, args.plan, args.cluster
    aws = pulumi.ResourceOptions(parent=parent, provider=ctx.providers.aws[ctx.region.name])
    # IAM is global: a residency-zone tag would claim a location the role does not have.
    iam_tags = {k: v for k, v in ctx.tags.items() if k != "residency-zone"}
    role = iam.Role(f"{name}-cluster-autoscaler", assume_role_policy=pod_identity_trust(), tags=iam_tags, opts=aws)
    policy = iam.RolePolicy(
        f"{name}-cluster-autoscaler",
        role=role.id,
        policy=pulumi.Output.all(cluster.cluster.name, cluster.cluster.arn).apply(
            lambda a: cluster_autoscaler_policy(*a)
        ),
        opts=aws,
    )
    association = eks.PodIdentityAssociation(
        f"{name}-cluster-autoscaler",
        cluster_name=cluster.cluster.name,
        namespace=CLUSTER_AUTOSCALER_NAMESPACE,
        service_account=CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        role_arn=role.arn,
        tags=ctx.tags,
        opts=aws,
    )
    # EKS does not copy node group tags to the group's Auto Scaling group: tag it directly.
    group = cluster.gpu_pool.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
    template = [
        autoscaling.Tag(
            f"{name}-gpu-node-template-{_tag_suffix(key)}",
            autoscaling_group_name=group,
            tag={"key": key, "value": value, "propagate_at_launch": False},
            opts=aws,
        )
        for key, value in plan.template_tags.items()
    ]
    autoscaler = release(
        f"{name}-cluster-autoscaler", "cluster-autoscaler", CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_NAMESPACE,
        cluster_autoscaler_values(cluster.cluster.name, ctx.region.name, plan.image),
        # Its credentials exist before its first call, and it knows the GPU group before its first scan.
        kubernetes_options(cluster, parent, depends_on=[association, policy, *template]),
    )
    return [role, policy, association, *template, autoscaler]


def native(name: str, args: NodeAutoscalerArgs, parent: pulumi.Resource) -> list[pulumi.Resource]:
    """The cloud's managed autoscaler scales the pool between the bounds its cluster component set."""
    return []


NodeAutoscalerBuilder = Callable[[str, NodeAutoscalerArgs, pulumi.Resource], list[pulumi.Resource]]
NODE_AUTOSCALERS: dict[Cloud, NodeAutoscalerBuilder] = {
    "aws": eks_cluster_autoscaler,
    "azure": native,
    "gcp": native,
}
