"""One region's autoscaling: the metrics path, the HorizontalPodAutoscaler on the Triton Deployment,
and its cloud's node autoscaler (`nodes.NODE_AUTOSCALERS`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.autoscaling.v2 import HorizontalPodAutoscaler

from components.autoscaling.metrics import metrics_pipeline
from components.autoscaling.nodes import NODE_AUTOSCALERS, NodeAutoscalerArgs
from components.context import RegionContext
from components.kubernetes.common import kubernetes_options
from components.serving.triton import TritonRegion
from planning.autoscaling import RegionAutoscalingPlan
from planning.serving import SERVICE_NAME

HPA_LABELS = {"app.kubernetes.io/name": "triton", "app.kubernetes.io/component": "autoscaling"}


@dataclass(frozen=True, kw_only=True)
class RegionAutoscalingArgs:
    context: RegionContext
    plan: RegionAutoscalingPlan
    cluster: pulumi.ComponentResource
    """The region's cluster component: Kubernetes provider, deployer access, node pools."""
    serving: TritonRegion
    """The region's Triton: the Deployment the HPA scales, and its namespace."""


class RegionAutoscaling(pulumi.ComponentResource):
    hpa: HorizontalPodAutoscaler
    adapter: pulumi.Resource
    node_autoscaler: list[pulumi.Resource]

    def __init__(self, name: str, args: RegionAutoscalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:RegionAutoscaling", name, None, opts)
        plan, cluster, serving = args.plan, args.cluster, args.serving
        self.adapter = metrics_pipeline(name, cluster, serving, self)
        pods = plan.pods
        self.hpa = HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata={"name": SERVICE_NAME, "namespace": serving.namespace, "labels": HPA_LABELS},
            spec={
                # Named through the Deployment's output: the HPA waits for the Deployment.
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": serving.deployment.metadata.name},
                "minReplicas": pods.min_replicas,
                "maxReplicas": pods.max_replicas,
                "metrics": [pods.metric_spec()],
                "behavior": pods.behavior(),
            },
            # Its metric exists once the adapter serves it.
            opts=kubernetes_options(cluster, self, depends_on=[self.adapter]),
        )
        self.node_autoscaler = NODE_AUTOSCALERS[args.context.cloud](
            name, NodeAutoscalerArgs(args.context, plan.nodes, cluster), self
        )
        self.register_outputs({
            "hpa": self.hpa.metadata.name,
            "replicas": f"{pods.min_replicas}-{pods.max_replicas}",
            "metric": pods.metric.name,
            "node_autoscaler": plan.nodes.autoscaler,
        })
