"""Autoscaling in every region: Triton pods on Triton's own load signal, GPU nodes on pending pods.

`metrics` (Prometheus and prometheus-adapter per cluster), `nodes` (each cloud's node autoscaler: the
Cluster Autoscaler on EKS, the managed ones on AKS and GKE), `region` (one region's component with its
HorizontalPodAutoscaler). The decisions (bounds, metric, windows, node template) are in
`planning/autoscaling.py`; the settings in `settings/autoscaling.py`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.autoscaling.region import RegionAutoscaling, RegionAutoscalingArgs
from components.context import RegionContext
from components.serving.triton import TritonRegion


def build_autoscaling(
    contexts: Mapping[str, RegionContext],
    clusters: Mapping[str, pulumi.ComponentResource],
    serving: Mapping[str, TritonRegion],
    opts: pulumi.ResourceOptions,
) -> dict[str, RegionAutoscaling]:
    """One `RegionAutoscaling` per region, named `<cloud>-<region>-autoscaling`."""
    return {
        key: RegionAutoscaling(
            f"{ctx.name}-autoscaling",
            RegionAutoscalingArgs(context=ctx, plan=ctx.plan.autoscaling[key], cluster=clusters[key], serving=serving[key]),
            opts,
        )
        for key, ctx in contexts.items()
    }
