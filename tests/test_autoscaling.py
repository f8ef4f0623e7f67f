"""Autoscaling under the mock engine: in every region of dev and prod an HPA on Triton's own load signal
with its metrics adapter in the same cluster, every GPU pool scaling between the configured bounds on
every cloud (EKS through the Cluster Autoscaler and its Pod Identity), pools that scale up from zero,
serving pods no autoscaler evicts, and bad config refused before anything is registered."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from offline.__main__ import EXIT_INVALID, main
from offline.engine import Recording, run_program
from offline.plan import REPO_ROOT
from offline.policy_check import apply_policies
from planning.gpu import GPU_CATALOG
from settings import load_settings
from tests.planview import PlanView, stack_platform_config

PREFIX = "multicloud-inference:index:"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
RELEASE = "kubernetes:helm.sh/v3:Release"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ASG_TAG = "aws:autoscaling/tag:Tag"
TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
KEY = "multicloud-inference:platform"
CLUSTERS = {"aws": "EksCluster", "azure": "AksCluster", "gcp": "GkeCluster"}
POOLS = {"aws": "aws:eks/nodeGroup:NodeGroup", "azure": "azure-native:containerservice:AgentPool",
         "gcp": "gcp:container/nodePool:NodePool"}
PINNED = {
    "prometheus": ("prometheus", "29.27.0", "https://prometheus-community.github.io/helm-charts", "monitoring"),
    "metrics-adapter": ("prometheus-adapter", "5.3.0", "https://prometheus-community.github.io/helm-charts", "monitoring"),
    "cluster-autoscaler": ("cluster-autoscaler", "9.51.0", "https://kubernetes.github.io/autoscaler", "kube-system"),
}


def regions(plan: PlanView) -> list[str]:
    return list(plan.plan["outputs"]["region_cidrs"])


def component(plan: PlanView, key: str) -> dict:
    return plan.one(PREFIX + "RegionAutoscaling", f"{key.replace(':', '-')}-autoscaling")


def below(plan: PlanView, key: str, type_: str) -> list[dict]:
    return [r for r in plan.children(component(plan, key)["urn"]) if r["type"] == type_]


def cluster_provider(plan: PlanView, key: str) -> str:
    cloud, region = key.split(":")
    cluster = plan.one(PREFIX + CLUSTERS[cloud], f"{cloud}-{region}")
    (provider,) = [r for r in plan.children(cluster["urn"]) if r["type"] == "pulumi:providers:kubernetes"]
    return provider["urn"]


def release(plan: PlanView, key: str, which: str) -> dict:
    return plan.one(RELEASE, f"{key.replace(':', '-')}-autoscaling-{which}")


def gpu_pool(plan: PlanView, key: str) -> dict:
    cloud, region = key.split(":")
    return plan.one(POOLS[cloud], f"{cloud}-{region}-gpu")


@pytest.fixture(params=["dev", "prod"])
def stack(request) -> tuple[PlanView, object]:
    name = request.param
    return request.getfixturevalue(f"{name}_plan"), load_settings(stack_platform_config(name))


# --- pods: an HPA per region, on Triton's signal, served by an adapter in the same cluster -----------


def test_every_region_has_an_hpa_on_its_own_triton_deployment(stack):
    plan, settings = stack
    for key in regions(plan):
        (hpa,) = below(plan, key, HPA)
        deployment = plan.one(DEPLOYMENT, f"{key.replace(':', '-')}-serving-triton")
        spec = hpa["inputs"]["spec"]
        assert hpa["provider"] == deployment["provider"] == cluster_provider(plan, key)
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                          "name": deployment["inputs"]["metadata"]["name"]}
        assert hpa["inputs"]["metadata"]["namespace"] == deployment["inputs"]["metadata"]["namespace"] == "inference"
        assert deployment["urn"] in hpa["property_dependencies"]["spec"]
        # A per-pod custom metric from Triton, never CPU.
        (metric,) = spec["metrics"]
        assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"].startswith("triton_")
        target = settings.autoscaling.target
        assert metric["pods"]["target"] == {"type": "AverageValue", "averageValue": str(target)}
        gpu = settings.gpu_for(next(r for c, r in settings.regions() if f"{c}:{r.name}" == key))
        assert spec["minReplicas"] == settings.autoscaling.min_replicas
        assert spec["maxReplicas"] == settings.autoscaling.max_replicas <= gpu.max_nodes * gpu.gpus_per_node
        assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == settings.autoscaling.scale_down_window_seconds
        assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == settings.autoscaling.scale_up_window_seconds


def test_every_cluster_runs_its_own_pinned_metrics_adapter_before_its_hpa(stack):
    plan, _ = stack
    for key in regions(plan):
        (hpa,) = below(plan, key, HPA)
        prometheus, adapter = release(plan, key, "prometheus"), release(plan, key, "metrics-adapter")
        for resource in (prometheus, adapter):
            assert resource["provider"] == cluster_provider(plan, key)
        assert adapter["urn"] in hpa["dependencies"] and prometheus["urn"] in adapter["dependencies"]
        values = adapter["inputs"]["values"]
        served = {rule["name"]["as"] for rule in values["rules"]["custom"]}
        assert hpa["inputs"]["spec"]["metrics"][0]["pods"]["metric"]["name"] in served
        assert values["rules"]["default"] is False
        # The adapter queries the Prometheus the other release runs, in the same namespace.
        server = prometheus["inputs"]["values"]["server"]["fullnameOverride"]
        assert values["prometheus"]["url"] == f"http://{server}.{prometheus['inputs']['namespace']}.svc"


@pytest.mark.parametrize("which", sorted(PINNED))
def test_every_release_pins_its_chart_version_and_rolls_back_on_failure(prod_plan, which):
    chart, version, repository, namespace = PINNED[which]
    found = [r for r in prod_plan.of_type(RELEASE) if r["name"].endswith(f"-autoscaling-{which}")]
    expected = [k for k in regions(prod_plan) if which != "cluster-autoscaler" or k.startswith("aws:")]
    assert len(found) == len(expected)
    for resource in found:
        inputs = resource["inputs"]
        assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (chart, version, repository)
        assert inputs["namespace"] == namespace and inputs["name"] == chart
        assert inputs["atomic"] is True and inputs["maxHistory"] == 5


def test_prometheus_scrapes_triton_only_from_the_namespace_tritons_network_policy_admits(prod_plan):
    for key in regions(prod_plan):
        values = release(prod_plan, key, "prometheus")["inputs"]["values"]
        jobs = {name: job for name, job in values["scrapeConfigs"].items() if job["enabled"]}
        assert list(jobs) == ["triton"]
        for chart_part in ("alertmanager", "kube-state-metrics", "prometheus-node-exporter", "prometheus-pushgateway"):
            assert values[chart_part] == {"enabled": False}
        server = values["server"]
        # No cluster-wide read: a role of ours, bound in the inference namespace only.
        assert server["namespaces"] == ["inference"]
        (role,) = below(prod_plan, key, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
        assert server["useExistingClusterRoleName"] == role["inputs"]["metadata"]["name"]
        assert role["inputs"]["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
        namespace = next(r for r in below(prod_plan, key, "kubernetes:core/v1:Namespace"))
        triton_policy = prod_plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy",
                                      f"{key.replace(':', '-')}-serving-network-policy")
        metrics_rule = next(rule for rule in triton_policy["inputs"]["spec"]["ingress"]
                            if rule["ports"] == [{"protocol": "TCP", "port": 8002}])
        selector = metrics_rule["from"][0]["namespaceSelector"]["matchLabels"]
        assert selector.items() <= namespace["inputs"]["metadata"]["labels"].items()
        assert namespace["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


# --- serving pods: the HPA owns the count, no autoscaler evicts them ----------------------------------


def test_triton_leaves_its_replica_count_to_the_hpa_and_is_never_evicted_to_consolidate(stack):
    plan, _ = stack
    for key in regions(plan):
        name = key.replace(":", "-")
        deployment = plan.one(DEPLOYMENT, f"{name}-serving-triton")["inputs"]["spec"]
        assert "replicas" not in deployment
        annotations = deployment["template"]["metadata"]["annotations"]
        assert annotations == {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}
        budget = plan.one("kubernetes:policy/v1:PodDisruptionBudget", f"{name}-serving-disruption-budget")
        assert budget["inputs"]["spec"]["maxUnavailable"] == 1


# --- nodes: every GPU pool scales between the configured bounds ---------------------------------------


def test_every_gpu_pool_autoscales_between_the_configured_bounds_on_every_cloud(stack):
    plan, settings = stack
    for cloud, spec in settings.regions():
        key = f"{cloud}:{spec.name}"
        gpu = settings.gpu_for(spec)
        inputs = gpu_pool(plan, key)["inputs"]
        if cloud == "aws":
            scaling = inputs["scalingConfig"]
            assert (scaling["minSize"], scaling["maxSize"]) == (gpu.min_nodes, gpu.max_nodes)
        elif cloud == "azure":
            assert inputs["enableAutoScaling"] is True
            assert (inputs["minCount"], inputs["maxCount"]) == (gpu.min_nodes, gpu.max_nodes)
        else:
            autoscaling = inputs["autoscaling"]
            assert (autoscaling["totalMinNodeCount"], autoscaling["totalMaxNodeCount"]) == (gpu.min_nodes, gpu.max_nodes)


def test_every_eks_cluster_runs_the_cluster_autoscaler_under_its_own_pod_identity(stack):
    plan, settings = stack
    for key in [k for k in regions(plan) if k.startswith("aws:")]:
        name = f"{key.replace(':', '-')}-autoscaling-cluster-autoscaler"
        cluster = plan.one("aws:eks/cluster:Cluster", key.replace(":", "-"))
        role = plan.one("aws:iam/role:Role", name)
        assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
            "Service": "pods.eks.amazonaws.com"}
        association = plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", name)
        assert (association["inputs"]["namespace"], association["inputs"]["serviceAccount"]) == (
            "kube-system", "cluster-autoscaler")
        assert role["urn"] in association["property_dependencies"]["roleArn"]
        assert cluster["urn"] in association["property_dependencies"]["clusterName"]
        autoscaler = plan.one(RELEASE, name)
        values = autoscaler["inputs"]["values"]
        assert values["rbac"]["serviceAccount"] == {"create": True, "name": "cluster-autoscaler"}
        assert values["cloudProvider"] == "aws" and values["awsRegion"] == key.split(":")[1]
        # Discovers this cluster's node groups: its name comes from the cluster resource.
        assert cluster["urn"] in autoscaler["property_dependencies"]["values"]
        assert values["image"]["tag"].startswith(f"v{settings.kubernetes.version}.")
        # Credentials before its first call.
        assert association["urn"] in autoscaler["dependencies"]
        # It may resize only the Auto Scaling groups EKS tagged as this cluster's.
        policy = plan.one("aws:iam/rolePolicy:RolePolicy", name)
        statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
        condition = statements["ScaleOwnGroups"]["Condition"]["StringEquals"]
        assert list(condition) == [f"aws:ResourceTag/k8s.io/cluster-autoscaler/{values['autoDiscovery']['clusterName']}"]
        assert statements["ReadNodeGroups"]["Resource"].endswith(f":nodegroup/{values['autoDiscovery']['clusterName']}/*")


def test_clusters_of_aks_and_gke_deploy_no_autoscaler_of_their_own(prod_plan):
    for key in regions(prod_plan):
        if not key.startswith("aws:"):
            assert not [r for r in below(prod_plan, key, RELEASE) if r["name"].endswith("cluster-autoscaler")]
            assert below(prod_plan, key, ASG_TAG) == []


# --- scaling up from zero (dev: min_nodes 0) ------------------------------------------------------------


def test_dev_gpu_pools_can_scale_up_from_zero_on_every_cloud(dev_plan):
    settings = load_settings(stack_platform_config("dev"))
    assert settings.gpu.min_nodes == 0
    for key in regions(dev_plan):
        cloud = key.split(":")[0]
        pool = gpu_pool(dev_plan, key)
        inputs = pool["inputs"]
        if cloud == "aws":
            assert inputs["scalingConfig"]["minSize"] == inputs["scalingConfig"]["desiredSize"] == 0
            # The autoscaler learns a GPU node's labels, taint and GPUs from tags on the group's ASG.
            tags = below(dev_plan, key, ASG_TAG)
            assert tags and all(pool["urn"] in t["property_dependencies"]["autoscalingGroupName"] for t in tags)
            advertised = {t["inputs"]["tag"]["key"]: t["inputs"]["tag"]["value"] for t in tags}
            expected = {f"{TEMPLATE}/label/{k}": v for k, v in inputs["labels"].items()}
            expected |= {f"{TEMPLATE}/taint/{t['key']}": f"{t['value']}:NoSchedule" for t in inputs["taints"]}
            expected[f"{TEMPLATE}/resources/nvidia.com/gpu"] = str(settings.gpu.gpus_per_node)
            assert advertised == expected
            assert inputs["labels"]["k8s.amazonaws.com/accelerator"] == "nvidia-tesla-t4"
            assert all(t["inputs"]["tag"]["propagateAtLaunch"] is False for t in tags)
            autoscaler = dev_plan.one(RELEASE, f"{key.replace(':', '-')}-autoscaling-cluster-autoscaler")
            assert {t["urn"] for t in tags} <= set(autoscaler["dependencies"])
        elif cloud == "azure":
            # AKS's autoscaler reads the pool itself: bounds, labels, taints, and a GPU size.
            assert (inputs["enableAutoScaling"], inputs["minCount"], inputs["count"]) == (True, 0, 0)
            assert inputs["vmSize"] in GPU_CATALOG["T4"]["azure"].machine_types.values()
            assert "nvidia.com/gpu=present:NoSchedule" in inputs["nodeTaints"]
            assert inputs["nodeLabels"]["multicloud-inference/pool"] == "gpu"
        else:
            assert inputs["autoscaling"]["totalMinNodeCount"] == 0
            config = inputs["nodeConfig"]
            assert config["guestAccelerators"][0]["count"] == settings.gpu.gpus_per_node
            assert config["labels"]["multicloud-inference/pool"] == "gpu"
            assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"} in config["taints"]


def test_stack_plans_raise_no_autoscaling_policy_violation(dev_plan, prod_plan):
    for plan in (dev_plan, prod_plan):
        violations = apply_policies(plan.plan)["violations"]
        assert not [v for v in violations if "autoscaling" in v["policy"]], violations


# --- bad config: exit 2 naming the key, nothing registered ---------------------------------------------

BAD = {
    "gpu-max-below-min": (lambda c: c["gpu"].update(min_nodes=3, max_nodes=2),
                          f"{KEY}.gpu.min_nodes: 3 is more than max_nodes (2)"),
    "hpa-target": (lambda c: c["autoscaling"].update(metric="gpu_utilization", target=150),
                   f"{KEY}.autoscaling.target: 150 is not a gpu_utilization target"),
    "hpa-max-below-min": (lambda c: c["autoscaling"].update(min_replicas=3, max_replicas=2),
                          f"{KEY}.autoscaling.max_replicas: 2 is below autoscaling.min_replicas (3)"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_autoscaling_config_exits_2_naming_the_key(tmp_path, capsys, case):
    mutate, expected = BAD[case]
    platform = stack_platform_config("dev")
    mutate(platform)
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": {KEY: platform}}))
    out = tmp_path / "plan.json"
    assert main(["preview", "bad", "--config-file", str(path), "--json", str(out)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert expected in captured.err and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_the_program_registers_nothing_for_bad_autoscaling_config(case):
    mutate, expected = BAD[case]
    platform = stack_platform_config("dev")
    mutate(platform)
    recording = Recording()
    with pytest.raises(pulumi.RunError) as raised:
        run_program(REPO_ROOT / "__main__.py", "multicloud-inference", "dev", {KEY: json.dumps(platform)}, recording)
    assert expected in str(raised.value)
    assert recording.registrations == []
