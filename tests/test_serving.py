"""Serving under the mock engine: registries every region pulls from, one image by digest, Triton in
every region with the properties a GPU inference workload needs, rollout waves in the dependency
graph, and the deployer's access before any Kubernetes object."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys

import pytest
import yaml

from components.kubernetes.aks import kubelogin_kubeconfig
from offline.__main__ import EXIT_INVALID, main
from offline.engine import AKS_USER_KUBECONFIG
from offline.plan import REPO_ROOT
from planning.serving import ENTRYPOINT_ENV, plan_triton
from settings import load_settings
from tests.planview import PlanView, plan_for_config, stack_platform_config

K8S = "kubernetes:"
DEPLOYMENT, SERVICE, PDB, ACCOUNT, JOB = (
    "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service", "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:core/v1:ServiceAccount", "kubernetes:batch/v1:Job",
)
PROD_REGIONS = [
    "aws:us-east-1", "aws:eu-central-1", "aws:eu-west-1", "azure:westeurope", "azure:northeurope",
    "azure:eastus2", "gcp:europe-west4", "gcp:europe-west1", "gcp:us-central1",
]
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
ENTRYPOINT = REPO_ROOT / "inference_image" / "entrypoint.py"


def name(key: str) -> str:
    return key.replace(":", "-") + "-serving"


SUFFIX = {DEPLOYMENT: "triton", SERVICE: "service", PDB: "disruption-budget", ACCOUNT: "service-account", JOB: "gate"}


def serving(plan: PlanView, key: str, type_: str) -> dict:
    return plan.one(type_, f"{name(key)}-{SUFFIX[type_]}")


def pod(resource: dict) -> dict:
    return resource["inputs"]["spec"]["template"]["spec"]


def cluster_provider(plan: PlanView, key: str) -> str:
    cloud, region = key.split(":")
    component = {"aws": "EksCluster", "azure": "AksCluster", "gcp": "GkeCluster"}[cloud]
    cluster = plan.one(f"multicloud-inference:index:{component}", f"{cloud}-{region}")
    (provider,) = [r for r in plan.children(cluster["urn"]) if r["type"] == "pulumi:providers:kubernetes"]
    return provider["urn"]


# --- per region: the objects and their properties -------------------------------------------------


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_every_region_serves_triton_in_its_own_cluster(prod_plan, key):
    provider = cluster_provider(prod_plan, key)
    for type_ in (DEPLOYMENT, SERVICE, PDB, ACCOUNT, JOB):
        assert serving(prod_plan, key, type_)["provider"] == provider, type_
    below = prod_plan.children(prod_plan.one("multicloud-inference:index:TritonRegion", name(key))["urn"])
    policy = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    assert sorted(r["type"] for r in below) == sorted([
        "kubernetes:core/v1:Namespace", ACCOUNT, DEPLOYMENT, SERVICE, PDB, JOB, policy, policy,
    ])


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_the_deployment_runs_triton_on_the_gpu_pool_hardened(prod_plan, key):
    settings = load_settings(stack_platform_config("prod"))
    deployment = serving(prod_plan, key, DEPLOYMENT)
    spec = pod(deployment)
    assert spec["nodeSelector"] == {"multicloud-inference/pool": "gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in spec["tolerations"]
    assert spec["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["automountServiceAccountToken"] is False and spec["serviceAccountName"] == "inference"
    assert spec["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    (triton,) = spec["containers"]
    assert triton["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    resources = triton["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == str(settings.serving.gpus_per_pod)
    assert resources["requests"]["cpu"] == settings.serving.cpu and resources["requests"]["memory"] == settings.serving.memory
    assert {p["name"]: p["containerPort"] for p in triton["ports"]} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert triton["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert triton["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    startup = triton["startupProbe"]
    assert startup["httpGet"]["path"] == "/v2/health/live"
    # Long enough for a cold TensorRT engine build, short of the Deployment's own deadline.
    window = startup["periodSeconds"] * startup["failureThreshold"]
    assert 20 * 60 <= window < deployment["inputs"]["spec"]["progressDeadlineSeconds"] == 40 * 60
    assert deployment["custom_timeouts"] == {"create": "40m", "update": "40m"}
    mounts = {m["name"]: m["mountPath"] for m in triton["volumeMounts"]}
    assert mounts["engine-cache"] == "/var/cache/trt-engines" and mounts["scratch"] == "/tmp"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["engine-cache"]["emptyDir"]["sizeLimit"] == settings.serving.engine_cache_size


def test_azure_spot_gpu_pods_tolerate_the_spot_taint_too(dev_plan):
    tolerations = pod(serving(dev_plan, "azure:westeurope", DEPLOYMENT))["tolerations"]
    assert {t["key"] for t in tolerations} == {"nvidia.com/gpu", "kubernetes.azure.com/scalesetpriority"}


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_service_and_disruption_budget_select_the_triton_pods(prod_plan, key):
    labels = serving(prod_plan, key, DEPLOYMENT)["inputs"]["spec"]["template"]["metadata"]["labels"]
    service = serving(prod_plan, key, SERVICE)["inputs"]["spec"]
    assert service["type"] == "ClusterIP"
    assert {p["name"]: p["port"] for p in service["ports"]} == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert service["selector"].items() <= labels.items()
    budget = serving(prod_plan, key, PDB)["inputs"]["spec"]
    assert budget["maxUnavailable"] == 1 and budget["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_the_service_account_is_bound_to_the_regions_own_cloud_identity(prod_plan, key):
    account = serving(prod_plan, key, ACCOUNT)
    annotations = account["inputs"]["metadata"].get("annotations", {})
    cloud, region = key.split(":")
    labels = serving(prod_plan, key, DEPLOYMENT)["inputs"]["spec"]["template"]["metadata"]["labels"]
    if cloud == "aws":
        # EKS Pod Identity: the association names the namespace and service account.
        association = prod_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"{cloud}-{region}-inference")
        assert (association["inputs"]["namespace"], association["inputs"]["serviceAccount"]) == ("inference", "inference")
        assert annotations == {}
    elif cloud == "azure":
        identity = prod_plan.one("azure-native:managedidentity:UserAssignedIdentity", f"{cloud}-{region}-inference")
        assert identity["urn"] in account["dependencies"]
        assert set(annotations) == {"azure.workload.identity/client-id"}
        assert labels["azure.workload.identity/use"] == "true"
    else:
        identity = prod_plan.one("gcp:serviceaccount/account:Account", f"{cloud}-{region}-inference")
        assert annotations["iam.gke.io/gcp-service-account"].startswith(identity["inputs"]["accountId"] + "@")


# --- the image and the registries -------------------------------------------------------------------


def test_one_build_pushes_one_image_to_every_registry(prod_plan):
    (image,) = prod_plan.of_type("docker-build:index:Image")
    inputs = image["inputs"]
    assert inputs["platforms"] == ["linux/amd64"] and inputs["push"] is True and inputs["buildOnPreview"] is False
    assert inputs["context"] == {"location": "inference_image"}
    hosts = sorted(tag.split("/")[0] for tag in inputs["tags"])
    assert hosts == sorted([
        "123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "acrleptonprod9d4e1b.azurecr.io",
        "europe-west4-docker.pkg.dev", "europe-west1-docker.pkg.dev", "us-central1-docker.pkg.dev",
    ])
    assert len({tag.rsplit(":", 1)[1] for tag in inputs["tags"]}) == 1
    assert inputs["cacheTo"][0]["registry"]["ref"].endswith("/lepton-prod/build-cache:buildcache")
    # ECR and Artifact Registry credentials come from the providers; ACR from the deployer's login.
    assert sorted(r["address"] for r in inputs["registries"]) == sorted(h for h in hosts if "azurecr" not in h)
    assert all(r["password"] == "[secret]" for r in inputs["registries"])


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_each_region_deploys_the_one_digest_from_its_own_registry(prod_plan, key):
    images = {k: pod(serving(prod_plan, k, DEPLOYMENT))["containers"][0]["image"] for k in PROD_REGIONS}
    image = images[key]
    assert DIGEST.search(image)
    assert len({i.rsplit("@", 1)[1] for i in images.values()}) == 1
    cloud, region = key.split(":")
    host = {"aws": f".dkr.ecr.{region}.amazonaws.com", "azure": ".azurecr.io", "gcp": f"{region}-docker.pkg.dev"}[cloud]
    assert host in image.split("/")[0]
    assert prod_plan.plan["outputs"]["regions"][key]["image"] == image


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "eu-west-1"])
def test_ecr_repositories_are_immutable_encrypted_with_the_regions_key_and_scanned(prod_plan, region):
    repo = prod_plan.one("aws:ecr/repository:Repository", f"lepton-registries-aws-{region}")
    key = prod_plan.one("aws:kms/key:Key", f"aws-{region}-key")
    assert repo["region"] == region
    assert repo["inputs"]["imageTagMutability"] == "IMMUTABLE"
    assert repo["inputs"]["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["inputs"]["encryptionConfigurations"][0]["encryptionType"] == "KMS"
    assert key["urn"] in repo["property_dependencies"]["encryptionConfigurations"]


def test_one_premium_acr_replicated_to_every_azure_region_pulled_privately(prod_plan):
    (registry,) = prod_plan.of_type("azure-native:containerregistry:Registry")
    inputs = registry["inputs"]
    assert inputs["sku"] == {"name": "Premium"} and inputs["adminUserEnabled"] is False
    assert inputs["location"] == "westeurope"
    # Prod's deployer sits in AWS: the public endpoint admits only its NAT addresses.
    assert inputs["publicNetworkAccess"] == "Enabled" and inputs["networkRuleSet"]["defaultAction"] == "Deny"
    nat_ips = {r["urn"] for r in prod_plan.of_type("aws:ec2/eip:Eip") if r["region"] == "eu-central-1" and "-nat-" in r["name"]}
    assert set(registry["property_dependencies"]["networkRuleSet"]) == nat_ips
    replicas = {r["inputs"]["location"] for r in prod_plan.of_type("azure-native:containerregistry:Replication")}
    assert replicas == {"northeurope", "eastus2"}
    endpoints = prod_plan.of_type("azure-native:network:PrivateEndpoint")
    assert {e["inputs"]["location"] for e in endpoints} == {"westeurope", "northeurope", "eastus2"}
    for region in ("westeurope", "northeurope", "eastus2"):
        grant = prod_plan.one("azure-native:authorization:RoleAssignment", f"azure-{region}-kubelet-pull")
        assert grant["inputs"]["roleDefinitionId"].endswith("7f951dda-4ed3-4680-a7ca-43fe172d538d")  # AcrPull
        assert registry["urn"] in grant["property_dependencies"]["scope"]
        kubelet = prod_plan.one("azure-native:managedidentity:UserAssignedIdentity", f"azure-{region}-kubelet")
        assert kubelet["urn"] in grant["property_dependencies"]["principalId"]
        cluster = prod_plan.one("azure-native:containerservice:ManagedCluster", f"azure-{region}")
        assert grant["urn"] in cluster["dependencies"]
        assert kubelet["urn"] in cluster["property_dependencies"]["identityProfile"]


@pytest.mark.parametrize("region", ["europe-west4", "europe-west1", "us-central1"])
def test_artifact_registry_per_region_with_its_cmek_and_the_nodes_as_readers(prod_plan, region):
    repo = prod_plan.one("gcp:artifactregistry/repository:Repository", f"lepton-registries-gcp-{region}")
    key = prod_plan.one("gcp:kms/cryptoKey:CryptoKey", f"gcp-{region}-models")
    assert repo["inputs"]["location"] == region and repo["inputs"]["dockerConfig"] == {"immutableTags": True}
    assert key["urn"] in repo["property_dependencies"]["kmsKeyName"]
    agent_grant = prod_plan.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", f"lepton-registries-gcp-{region}-key")
    assert agent_grant["urn"] in repo["dependencies"]
    reader = prod_plan.one("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", f"gcp-{region}-nodes-pull")
    assert reader["inputs"]["role"] == "roles/artifactregistry.reader" and reader["inputs"]["location"] == region
    assert repo["urn"] in reader["property_dependencies"]["repository"]


# --- rollout waves in the graph -----------------------------------------------------------------------


def wave_closure_violations(plan: PlanView, waves: list[list[str]]) -> list[str]:
    problems = []
    for index, wave in enumerate(waves):
        for key in wave:
            deployment = serving(plan, key, DEPLOYMENT)["urn"]
            for earlier in waves[index - 1] if index else []:
                if not plan.depends_on(deployment, serving(plan, earlier, JOB)["urn"]):
                    problems.append(f"{key} does not wait for {earlier}'s gate")
            for later in (k for w in waves[index:] for k in w):
                for type_ in (JOB, DEPLOYMENT):
                    if plan.depends_on(deployment, serving(plan, later, type_)["urn"]):
                        problems.append(f"{key} waits for {later}'s {type_}")
    return problems


def test_each_wave_waits_for_the_previous_waves_gates_and_nothing_later(prod_plan):
    waves = prod_plan.plan["outputs"]["rollout_waves"]
    assert waves == [
        ["aws:eu-central-1"], ["gcp:europe-west4", "azure:westeurope"],
        ["aws:us-east-1", "aws:eu-west-1", "azure:northeurope", "azure:eastus2", "gcp:europe-west1", "gcp:us-central1"],
    ]
    assert wave_closure_violations(prod_plan, waves) == []


def test_reordering_waves_reorders_the_graph(dev_plan):
    config = stack_platform_config("dev")
    config["rollout"] = {"waves": [["azure:westeurope", "aws:eu-central-1"], ["rest"]]}
    reordered = plan_for_config(config)
    waves = [["azure:westeurope", "aws:eu-central-1"], ["gcp:europe-west4"]]
    assert reordered.plan["outputs"]["rollout_waves"] == waves
    assert wave_closure_violations(reordered, waves) == []
    # The same graph under dev's own order would break the new one, and vice versa.
    assert wave_closure_violations(dev_plan, waves) != []


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_the_gate_sends_one_request_to_its_regions_service_after_it_is_ready(prod_plan, key):
    gate = serving(prod_plan, key, JOB)
    deployment, service = serving(prod_plan, key, DEPLOYMENT), serving(prod_plan, key, SERVICE)
    assert {deployment["urn"], service["urn"]} <= set(gate["dependencies"])
    (container,) = pod(gate)["containers"]
    assert container["command"] == [
        "python3", "/opt/inference/smoke_test.py", "http://triton.inference.svc.cluster.local:8000", "tiny_linear",
    ]
    assert container["image"] == pod(deployment)["containers"][0]["image"]
    assert "nvidia.com/gpu" not in json.dumps(container["resources"])
    assert gate["custom_timeouts"] == {"create": "10m", "update": "10m"}


# --- the deployer's access before any Kubernetes object --------------------------------------------


def kubernetes_objects_of(plan: PlanView, key: str) -> list[dict]:
    provider = cluster_provider(plan, key)
    return [r for r in plan.resources if r["provider"] == provider and r["type"].startswith(K8S)]


@pytest.mark.parametrize("key", ["aws:us-east-1", "aws:eu-central-1", "aws:eu-west-1"])
def test_eks_objects_wait_for_the_deployers_access_entry_and_admin_policy(prod_plan, key):
    cloud, region = key.split(":")
    entry = prod_plan.one("aws:eks/accessEntry:AccessEntry", f"{cloud}-{region}-deployer")
    association = prod_plan.one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", f"{cloud}-{region}-deployer-admin")
    assert entry["inputs"]["principalArn"] == "arn:aws:iam::123456789012:role/lepton-prod-deployer"
    assert association["inputs"]["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert association["inputs"]["accessScope"] == {"type": "cluster"}
    cluster = prod_plan.one("aws:eks/cluster:Cluster", f"{cloud}-{region}")
    assert cluster["inputs"]["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False
    objects = kubernetes_objects_of(prod_plan, key)
    assert objects and all(prod_plan.depends_on(o["urn"], association["urn"]) for o in objects)


def test_eks_admin_defaults_to_the_role_behind_the_callers_session(dev_plan):
    entry = dev_plan.one("aws:eks/accessEntry:AccessEntry", "aws-eu-central-1-deployer")
    assert entry["inputs"]["principalArn"] == "arn:aws:iam::123456789012:role/deployer"


@pytest.mark.parametrize("key", ["azure:westeurope", "azure:northeurope", "azure:eastus2"])
def test_aks_objects_wait_for_the_configured_principals_cluster_admin(prod_plan, key):
    cloud, region = key.split(":")
    grant = prod_plan.one("azure-native:authorization:RoleAssignment", f"{cloud}-{region}-deployer-admin")
    assert grant["inputs"]["principalId"] == "33333333-3333-3333-3333-333333333333"
    assert grant["inputs"]["principalType"] == "ServicePrincipal"
    objects = kubernetes_objects_of(prod_plan, key)
    assert objects and all(prod_plan.depends_on(o["urn"], grant["urn"]) for o in objects)


@pytest.mark.parametrize("login", ["azurecli", "workloadidentity"])
def test_aks_kubeconfig_never_asks_for_a_device_code(login):
    built = json.loads(kubelogin_kubeconfig(AKS_USER_KUBECONFIG, login, "22222222-2222-2222-2222-222222222222"))
    assert "devicecode" in AKS_USER_KUBECONFIG and "devicecode" not in json.dumps(built)
    user = built["users"][0]["user"]["exec"]
    assert user["command"] == "kubelogin" and user["interactiveMode"] == "Never"
    assert user["args"][:3] == ["get-token", "--login", login]
    assert built["clusters"][0]["cluster"]["server"] == "https://aks-dns.hcp.westeurope.azmk8s.io:443"


def test_private_clusters_allow_the_deployer_in_the_aws_hub(prod_plan):
    hub_cidr = prod_plan.plan["outputs"]["region_cidrs"]["aws:eu-central-1"]
    for gke in prod_plan.of_type("gcp:container/cluster:Cluster"):
        inputs = gke["inputs"]
        assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
        assert inputs["privateClusterConfig"]["masterGlobalAccessConfig"] == {"enabled": True}
        assert [b["cidrBlock"] for b in inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == [hub_cidr]
    for aks in prod_plan.of_type("azure-native:containerservice:ManagedCluster"):
        assert aks["inputs"]["apiServerAccessProfile"]["enablePrivateClusterPublicFQDN"] is True
    paths = {k: v["deployer_path"] for k, v in prod_plan.plan["outputs"]["regions"].items()}
    assert paths["azure:eastus2"] == "aws:eu-central-1 -> HA VPN AWS-Azure -> azure:westeurope -> VNet peering -> azure:eastus2"


# --- the image contract and bad config ---------------------------------------------------------------


@pytest.fixture(scope="module")
def entrypoint_module():
    spec = importlib.util.spec_from_file_location("serving_contract_entrypoint", ENTRYPOINT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_every_variable_the_deployment_sets_is_one_the_entrypoint_reads(prod_plan, entrypoint_module):
    source = ENTRYPOINT.read_text()
    for key in PROD_REGIONS:
        env = {e["name"]: e["value"] for e in pod(serving(prod_plan, key, DEPLOYMENT))["containers"][0]["env"]}
        assert set(env) == set(ENTRYPOINT_ENV)
        assert all(f'"{name}"' in source for name in env if name != "HOME")  # HOME: for rclone's cache
        settings = entrypoint_module.Settings.from_env(env)
        assert settings.store_url == prod_plan.plan["outputs"]["regions"][key]["model_store_url"]
        # The region's store URL is one the entrypoint turns into a workload-identity rclone source.
        assert "env_auth=true" in entrypoint_module.rclone_source(settings.store_url, "")


def config_error(tmp_path, capsys, mutate) -> str:
    platform = stack_platform_config("prod")
    mutate(platform)
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    assert main(["preview", "bad", "--config-file", str(path)]) == EXIT_INVALID
    return capsys.readouterr().err


KEY = "multicloud-inference:platform"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["deployer"].update(network="azure:northeurope"),
         f"{KEY}.deployer.network: cluster azure:eastus2 is unreachable from azure:northeurope"),
        (lambda c: c["rollout"]["waves"][1].append("gcp:europe-west9"),
         f"{KEY}.rollout.waves[1][2]: 'gcp:europe-west9' is not a configured region; did you mean gcp:europe-west4?"),
        (lambda c: c["rollout"]["waves"][1].append("aws:eu-central-1"),
         f"{KEY}.rollout.waves[1][2]: 'aws:eu-central-1' is already in waves[0][0]; a region rolls out once"),
        (lambda c: c.update(image={"ref": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/lepton/inference:1.2"}),
         f"{KEY}.image.ref: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/lepton/inference:1.2' is not pinned by digest"),
        (lambda c: c.update(image={"digest": "sha256:abc"}), f"{KEY}.image.digest: 'sha256:abc' is not sha256:<64"),
        (lambda c: c["serving"].update(gpus_per_pod=2),
         f"{KEY}.serving.gpus_per_pod: 2 GPUs per pod do not fit the 1-GPU nodes of aws:us-east-1"),
        (lambda c: c["serving"].update(memory="16 GB"), f"{KEY}.serving.memory: '16 GB' is not a Kubernetes quantity"),
        (lambda c: c["deployer"].pop("runner_labels"),
         f"{KEY}.deployer.runner_labels: is required with deployer.network ('aws:eu-central-1')"),
        (lambda c: c["deployer"].update(runner_labels=["self-hosted", ""]),
         f"{KEY}.deployer.runner_labels[1]: '' is not matching"),
    ],
    ids=["unreachable-cluster", "unknown-wave-region", "duplicate-wave-region", "ref-without-digest", "bad-digest",
         "gpus-per-pod", "quantity", "network-without-runner", "empty-runner-label"],
)
def test_bad_serving_config_exits_2_naming_the_key_before_anything_is_registered(tmp_path, capsys, mutate, expected):
    assert expected in config_error(tmp_path, capsys, mutate)


def test_a_prebuilt_ref_is_deployed_verbatim_and_nothing_is_built(dev_plan):
    config = stack_platform_config("dev")
    ref = "europe-west4-docker.pkg.dev/lepton-dev-inference/lepton-dev/inference@sha256:" + "a" * 64
    config["image"] = {"ref": ref}
    plan = plan_for_config(config)
    assert plan.of_type("docker-build:index:Image") == []
    assert {pod(d)["containers"][0]["image"] for d in plan.of_type(DEPLOYMENT)} == {ref}
    assert plan.plan["outputs"]["image"]["digest"] == "sha256:" + "a" * 64


def test_the_triton_plan_leaves_room_for_node_scale_up_inside_the_timeout():
    plan = plan_triton(1, 1, "4", "16Gi", "20Gi", 40)
    assert plan.probes.startup_failures * plan.probes.period_seconds == (40 - 15) * 60
    assert copy.deepcopy(plan) == plan
