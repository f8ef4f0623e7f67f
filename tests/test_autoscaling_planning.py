"""Autoscaling planning and settings, without the engine: the HPA each region gets, the metrics path
Triton's load signal takes, the node template the EKS autoscaler needs to scale from zero, and the
configs refused before anything is declared."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.serving.triton import APP_LABELS
from offline.plan import REPO_ROOT
from planning.autoscaling import (
    ADAPTER_CHART,
    AWS_ACCELERATOR_LABEL,
    CLUSTER_AUTOSCALER_CHART,
    CLUSTER_AUTOSCALER_IMAGES,
    NODE_TEMPLATE,
    POD_METRICS,
    PROMETHEUS_CHART,
    PodRequest,
    adapter_rules,
    autoscaler_node_labels,
    gpu_pod_capacity,
    node_template_tags,
    plan_region_autoscaling,
    pods_per_gpu_node,
    triton_scrape_config,
)
from planning.clusters import GPU_TAINT, NodePoolPlan, Taint, plan_cluster
from planning.gpu import GPU_CATALOG
from planning.machines import machine_shape, machine_shapes
from planning.platform import plan_platform
from planning.serving import METRICS_PORT
from settings import ConfigError, load_settings
from settings.autoscaling import AutoscalingSettings
from tests.planview import stack_platform_config

KEY = "multicloud-inference:platform"


def problems_for(mutate, stack: str = "prod") -> list[str]:
    config = stack_platform_config(stack)
    mutate(config)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return raised.value.problems


# --- the plan -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    return plan_platform(load_settings(stack_platform_config("prod")))


def test_every_region_gets_its_hpa_from_the_stacks_settings(prod):
    assert set(prod.autoscaling) == set(prod.regions)
    for key, region in prod.autoscaling.items():
        pods = region.pods
        assert (pods.min_replicas, pods.max_replicas, pods.target) == (1, 8, 10_000), key
        assert pods.metric.name == "triton_queue_time_per_request_us"
        assert pods.metric_spec() == {"type": "Pods", "pods": {
            "metric": {"name": "triton_queue_time_per_request_us"},
            "target": {"type": "AverageValue", "averageValue": "10000"}}}
        behavior = pods.behavior()
        assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 60
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 1800
        # Pods go one at a time; at most two are added a minute.
        assert behavior["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]
        assert behavior["scaleUp"]["policies"] == [{"type": "Pods", "value": 2, "periodSeconds": 60}]


def test_each_cloud_scales_its_gpu_pool_between_the_configured_bounds(prod):
    for key, region in prod.autoscaling.items():
        pool = prod.region(key).cluster.gpu
        assert (region.nodes.min_nodes, region.nodes.max_nodes) == (pool.min_nodes, pool.max_nodes) == (1, 8)
        expected = {"aws": "cluster-autoscaler", "azure": "aks-cluster-autoscaler", "gcp": "gke-cluster-autoscaler"}
        assert region.nodes.autoscaler == expected[prod.region(key).cloud]
        if prod.region(key).cloud == "aws":
            assert region.nodes.image == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.6"
            assert region.nodes.template_tags
        else:
            assert region.nodes.image is None and not region.nodes.template_tags


def test_max_replicas_defaults_to_what_each_regions_gpu_pool_holds():
    config = stack_platform_config("prod")
    config["autoscaling"].pop("max_replicas")
    config["clouds"]["azure"]["regions"][1]["gpu"]["max_nodes"] = 3
    config["gpu"]["gpus_per_node"] = 4
    config["clouds"]["azure"]["regions"] = [{**r, "gpu": {**r["gpu"], "gpus_per_node": 4}}
                                            for r in config["clouds"]["azure"]["regions"]]
    config["serving"]["gpus_per_pod"] = 2
    plan = plan_platform(load_settings(config))
    assert plan.autoscaling["aws:us-east-1"].pods.max_replicas == 8 * 4 // 2
    assert plan.autoscaling["azure:northeurope"].pods.max_replicas == 3 * 4 // 2


def test_the_plan_keeps_its_minimum_as_tritons_baseline(prod):
    assert prod.triton.replicas == 1


POD = PodRequest(1, "3", "12Gi")


@pytest.mark.parametrize("metric", sorted(POD_METRICS))
def test_an_unset_target_is_the_metrics_default(metric):
    pool = plan_cluster("gcp", load_settings(stack_platform_config("dev")).gpu, 2).gpu
    plan = plan_region_autoscaling("gcp", pool, POD, AutoscalingSettings(metric=metric), "1.33")
    assert plan.pods.target == POD_METRICS[metric].default_target
    assert POD_METRICS[metric].minimum <= plan.pods.target <= POD_METRICS[metric].maximum


# --- the metrics path -------------------------------------------------------------------------------


def test_the_adapter_serves_tritons_own_series_per_pod():
    rules = {rule["name"]["as"]: rule for rule in adapter_rules()}
    assert set(rules) == {m.name for m in POD_METRICS.values()}
    queue = rules["triton_queue_time_per_request_us"]["metricsQuery"]
    # Queue time per request: the queue counter's rate over the success counter's rate.
    assert queue.index("rate(nv_inference_queue_duration_us{") < queue.index(" / ")
    assert queue.index(" / ") < queue.index("rate(nv_inference_request_success{")
    assert "avg(nv_gpu_utilization{" in rules["triton_gpu_utilization_percent"]["metricsQuery"]
    for rule in rules.values():
        assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
        assert "by (<<.GroupBy>>)" in rule["metricsQuery"] and "<<.LabelMatchers>>" in rule["metricsQuery"]


def test_prometheus_scrapes_the_triton_pods_metrics_port_and_labels_series_by_pod():
    config = triton_scrape_config()
    assert config["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["inference"]}}]
    keep, *labels = config["relabel_configs"]
    assert keep["action"] == "keep"
    assert keep["regex"] == f"{APP_LABELS['app.kubernetes.io/name']};{METRICS_PORT}"
    assert {r["target_label"] for r in labels} == {"namespace", "pod"}


# --- nodes: what the EKS autoscaler must know to scale from zero --------------------------------------

LABEL_KEY = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z]{2,6})?/[a-z][a-z0-9-]{0,15}", fullmatch=True)
LABEL_VALUE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)
TAINTS = st.lists(st.builds(Taint, LABEL_KEY, LABEL_VALUE, st.sampled_from(["NoSchedule", "NoExecute", "PreferNoSchedule"])),
                  max_size=3, unique_by=lambda t: t.key)


@given(labels=st.dictionaries(LABEL_KEY, LABEL_VALUE, max_size=4), taints=TAINTS, gpus=st.integers(0, 8))
def test_the_node_template_advertises_every_label_taint_and_gpu(labels, taints, gpus):
    pool = NodePoolPlan("gpu", "g6.xlarge", 0, 2, labels=labels, taints=tuple(taints), gpus_per_node=gpus)
    tags = node_template_tags(labels, pool)
    expected = {f"{NODE_TEMPLATE}/label/{k}": v for k, v in labels.items()}
    expected |= {f"{NODE_TEMPLATE}/taint/{t.key}": f"{t.value}:{t.effect}" for t in taints}
    if gpus:
        expected[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] = str(gpus)
    assert tags == expected


@pytest.mark.parametrize("gpu_type", sorted(t for t, offers in GPU_CATALOG.items() if "aws" in offers))
def test_every_aws_gpu_pool_gets_a_template_the_autoscaler_can_read(gpu_type):
    offer = GPU_CATALOG[gpu_type]["aws"]
    gpus = min(offer.machine_types)
    request = type("Gpu", (), {"type": gpu_type, "gpus_per_node": gpus, "min_nodes": 0, "max_nodes": 2, "spot": False})
    pool = plan_cluster("aws", request, 2).gpu
    plan = plan_region_autoscaling("aws", pool, POD, AutoscalingSettings(), "1.33")
    tags = plan.nodes.template_tags
    # AWS limits tag keys to 128 characters and values to 256.
    assert all(len(k) <= 128 and len(v) <= 256 for k, v in tags.items())
    assert tags[f"{NODE_TEMPLATE}/taint/{GPU_TAINT.key}"] == f"{GPU_TAINT.value}:NoSchedule"
    assert tags[f"{NODE_TEMPLATE}/resources/nvidia.com/gpu"] == str(gpus)
    # Every label a node gets is advertised, the autoscaler's GPU label included.
    assert dict(plan.nodes.labels) == {**pool.labels, **autoscaler_node_labels("aws", pool)}
    assert {f"{NODE_TEMPLATE}/label/{k}" for k in plan.nodes.labels} <= set(tags)
    assert plan.nodes.labels[AWS_ACCELERATOR_LABEL].startswith("nvidia-")


def test_only_aws_gpu_pools_get_the_autoscalers_gpu_label():
    request = type("Gpu", (), {"type": "T4", "gpus_per_node": 1, "min_nodes": 0, "max_nodes": 2, "spot": False})
    assert autoscaler_node_labels("aws", plan_cluster("aws", request, 2).gpu) == {AWS_ACCELERATOR_LABEL: "nvidia-tesla-t4"}
    assert autoscaler_node_labels("aws", plan_cluster("aws", request, 2).system) == {}
    assert autoscaler_node_labels("gcp", plan_cluster("gcp", request, 2).gpu) == {}


# --- a pod must fit a GPU node, or no autoscaler adds one for it --------------------------------------


def test_every_catalogue_machine_has_a_shape_with_its_source():
    machines = {(cloud, machine) for offers in GPU_CATALOG.values() for cloud, offer in offers.items()
                for machine in offer.machine_types.values()}
    assert set(machine_shapes()) == machines
    for shape in machine_shapes().values():
        assert shape.source.startswith("https://") and shape.checked
        # The kubelet and node agents take a few percent, never most of a machine.
        assert 0.85 * shape.vcpus < shape.allocatable_cpu < shape.vcpus
        assert 0.75 * shape.memory_gib * 2**30 < shape.allocatable_memory < shape.memory_gib * 2**30


def test_pods_per_node_is_bounded_by_gpus_cpus_and_memory():
    request = type("Gpu", (), {"type": "T4", "gpus_per_node": 4, "min_nodes": 0, "max_nodes": 3, "spot": False})
    pool = plan_cluster("aws", request, 2).gpu  # g4dn.12xlarge: 4 GPUs, 48 vCPUs, 192 GiB
    assert pods_per_gpu_node("aws", pool, PodRequest(1, "3", "12Gi")) == 4
    assert pods_per_gpu_node("aws", pool, PodRequest(2, "3", "12Gi")) == 2
    assert pods_per_gpu_node("aws", pool, PodRequest(1, "16", "12Gi")) == 2
    assert pods_per_gpu_node("aws", pool, PodRequest(1, "3", "64Gi")) == 2
    assert gpu_pod_capacity("aws", pool, PodRequest(1, "16", "12Gi")) == 3 * 2
    small = plan_cluster("aws", type("Gpu", (), {**vars(request), "gpus_per_node": 1}), 2).gpu  # g4dn.xlarge
    assert pods_per_gpu_node("aws", small, PodRequest(1, "4", "12Gi")) == 0
    assert machine_shape("aws", small.machine_type).vcpus == 4


# --- refused configs ----------------------------------------------------------------------------------

CASES = {
    "max below min replicas": (
        lambda c: c["autoscaling"].update(min_replicas=4, max_replicas=2),
        f"{KEY}.autoscaling.max_replicas: 2 is below autoscaling.min_replicas (4)",
    ),
    "pods beyond a region's gpu pool": (
        lambda c: c["clouds"]["gcp"]["regions"].__setitem__(2, {"name": "us-central1", "gpu": {"max_nodes": 3}}),
        f"{KEY}.autoscaling.max_replicas: 8 Triton pods do not fit the GPU pool of gcp:us-central1, which holds 3",
    ),
    "min replicas beyond the pool when max is unset": (
        lambda c: c["autoscaling"].pop("max_replicas") and c["autoscaling"].update(min_replicas=9),
        f"{KEY}.autoscaling.min_replicas: 9 Triton pods do not fit the GPU pool of aws:us-east-1, which holds 8",
    ),
    "pod asks for a whole 4-vcpu machine": (
        lambda c: c["serving"].update(cpu="4"),
        f"{KEY}.serving.cpu: 4 CPUs do not fit the g6.xlarge nodes of aws:us-east-1, which leave about 3.67 to pods",
    ),
    "pod asks for all of a machine's memory": (
        lambda c: c["serving"].update(memory="16Gi"),
        f"{KEY}.serving.memory: 16Gi does not fit the g6.xlarge nodes of aws:us-east-1, which leave about 12.8Gi",
    ),
    "queue time target of zero": (
        lambda c: c["autoscaling"].update(target=0),
        f"{KEY}.autoscaling.target: 0 is not a queue_time target; expected average microseconds",
    ),
    "utilisation above 100 percent": (
        lambda c: c["autoscaling"].update(metric="gpu_utilization", target=150),
        f"{KEY}.autoscaling.target: 150 is not a gpu_utilization target; expected average GPU utilisation",
    ),
    "unknown metric": (
        lambda c: c["autoscaling"].update(metric="cpu"),
        f"{KEY}.autoscaling.metric: 'cpu' is not one of queue_time, gpu_utilization",
    ),
    "stabilisation window beyond the api's limit": (
        lambda c: c["autoscaling"].update(scale_down_window_seconds=7200),
        f"{KEY}.autoscaling.scale_down_window_seconds: 7200 is more than the maximum 3600",
    ),
    "fixed replicas": (
        lambda c: c["serving"].update(replicas=3),
        f"{KEY}.serving.replicas: 3 is no longer used: the HorizontalPodAutoscaler owns the pod count",
    ),
    "gpu max below min": (
        lambda c: c["gpu"].update(min_nodes=3, max_nodes=2),
        f"{KEY}.gpu.min_nodes: 3 is more than max_nodes (2)",
    ),
    "regional gpu max below min": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(gpu={"max_nodes": 0}),
        f"{KEY}.clouds.aws.regions[0].gpu.max_nodes: 0 is less than the minimum 1",
    ),
    "regional gpu max below the stack's min": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(gpu={"min_nodes": 5, "max_nodes": 4}),
        f"{KEY}.clouds.aws.regions[0].gpu.min_nodes: 5 is more than max_nodes (4)",
    ),
    "no autoscaler for the kubernetes version": (
        lambda c: c.setdefault("kubernetes", {}).update(version="1.29"),
        f"{KEY}.kubernetes.version: no Cluster Autoscaler release is pinned for Kubernetes 1.29",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_autoscaling_config_is_refused_naming_the_key(case):
    mutate, expected = CASES[case]
    problems = problems_for(mutate)
    assert any(p.startswith(expected) for p in problems), problems


def test_without_aws_no_cluster_autoscaler_release_is_needed():
    def azure_gcp_only(c):
        del c["clouds"]["aws"]
        c["residency_zones"]["eu"] = [r for r in c["residency_zones"]["eu"] if not r.startswith("eu-")]
        c["rollout"]["waves"] = [["gcp:europe-west4", "azure:westeurope"], ["rest"]]
        c["deployer"] = {"egress_cidrs": ["198.51.100.0/24"]}
        c["kubernetes"] = {"version": "1.29", "api_allowed_cidrs": ["198.51.100.0/24"]}
        c.pop("models")  # replication does not matter here

    config = stack_platform_config("prod")
    azure_gcp_only(config)
    load_settings(config)


def test_every_pinned_autoscaler_matches_its_kubernetes_minor():
    for minor, tag in CLUSTER_AUTOSCALER_IMAGES.items():
        assert tag.startswith(f"v{minor}."), minor


@settings(max_examples=40, deadline=None)
@given(min_replicas=st.integers(1, 12), max_replicas=st.one_of(st.none(), st.integers(1, 12)),
       max_nodes=st.integers(1, 8), gpus_per_pod=st.sampled_from([1, 2, 4]))
def test_a_config_loads_exactly_when_its_pods_fit_every_gpu_pool(min_replicas, max_replicas, max_nodes, gpus_per_pod):
    config = copy.deepcopy(DEV)
    config["gpu"].update(max_nodes=max_nodes, gpus_per_node=4)  # T4: a 4-GPU machine in every cloud
    config["serving"]["gpus_per_pod"] = gpus_per_pod
    config["autoscaling"] = {"min_replicas": min_replicas,
                             **({"max_replicas": max_replicas} if max_replicas is not None else {})}
    capacity = max_nodes * 4 // gpus_per_pod
    fits = min_replicas <= (max_replicas or min_replicas) <= capacity
    try:
        plan = plan_platform(load_settings(config))
    except ConfigError as error:
        assert not fits, error.problems
        assert all(p.startswith(f"{KEY}.autoscaling.") for p in error.problems), error.problems
        return
    assert fits
    for region in plan.autoscaling.values():
        assert region.pods.min_replicas == min_replicas
        assert region.pods.max_replicas == (max_replicas if max_replicas is not None else capacity)
        assert region.pods.max_replicas * gpus_per_pod <= max_nodes * 4


DEV = stack_platform_config("dev")


def test_the_readme_documents_every_key_and_pin():
    readme = (REPO_ROOT / "README.md").read_text()
    for key in AutoscalingSettings.model_fields:
        assert f"`autoscaling.{key}`" in readme, key
    for metric in POD_METRICS.values():
        assert f"`{metric.name}`" in readme and f"`{metric.key}`" in readme
    for chart in (PROMETHEUS_CHART, ADAPTER_CHART, CLUSTER_AUTOSCALER_CHART):
        assert f"`{chart.name}` {chart.version}" in readme, chart
    assert CLUSTER_AUTOSCALER_IMAGES["1.33"] in readme
