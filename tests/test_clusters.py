"""The clusters under the mock engine: one per region, pools as configured, encryption and identity
wired to that region's own key and bucket, nothing waiting on the VPN mesh."""

from __future__ import annotations

import json

import pytest

from planning.gpu import GPU_CATALOG

PREFIX = "multicloud-inference:index:"
CLUSTER_TYPES = {"aws": "EksCluster", "azure": "AksCluster", "gcp": "GkeCluster"}
LANDING_ZONE_TYPES = {"aws": "AwsLandingZone", "azure": "AzureLandingZone", "gcp": "GcpLandingZone"}
KEY_TYPES = {"aws": "aws:kms/key:Key", "azure": "azure-native:keyvault:Key", "gcp": "gcp:kms/cryptoKey:CryptoKey"}
PROD_REGIONS = {
    "aws": ["us-east-1", "eu-central-1", "eu-west-1"],
    "azure": ["westeurope", "northeurope", "eastus2"],
    "gcp": ["europe-west4", "europe-west1", "us-central1"],
}
# Prod asks for L4 (1 to 8 nodes, on demand); Azure has none, so its regions override to T4.
PROD_GPU = {"aws": "L4", "azure": "T4", "gcp": "L4"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present"}
REGION_CASES = [(cloud, region) for cloud, regions in PROD_REGIONS.items() for region in regions]


def component(plan, cloud, region, types=CLUSTER_TYPES):
    return plan.one(PREFIX + types[cloud], f"{cloud}-{region}")


def below(plan, parent, type_):
    return [r for r in plan.children(parent["urn"]) if r["type"] == type_]


def only(resources):
    assert len(resources) == 1, [r["name"] for r in resources]
    return resources[0]


def gpu_pool(plan, cloud, region):
    cluster = component(plan, cloud, region)
    pool_type = {"aws": "aws:eks/nodeGroup:NodeGroup", "azure": "azure-native:containerservice:AgentPool",
                 "gcp": "gcp:container/nodePool:NodePool"}[cloud]
    return only([r for r in below(plan, cluster, pool_type) if r["name"].endswith("-gpu")])


def region_key_urn(plan, cloud, region):
    return only(below(plan, component(plan, cloud, region, LANDING_ZONE_TYPES), KEY_TYPES[cloud]))["urn"]


@pytest.mark.parametrize("cloud", PROD_REGIONS)
def test_one_cluster_per_configured_region(prod_plan, cloud):
    names = sorted(r["name"] for r in prod_plan.of_type(PREFIX + CLUSTER_TYPES[cloud]))
    assert names == sorted(f"{cloud}-{region}" for region in PROD_REGIONS[cloud])


@pytest.mark.parametrize(("cloud", "region"), REGION_CASES)
def test_gpu_pool_is_tainted_labelled_and_sized_as_configured(prod_plan, cloud, region):
    inputs = gpu_pool(prod_plan, cloud, region)["inputs"]
    machine = GPU_CATALOG[PROD_GPU[cloud]][cloud].machine_types[1]
    labels = {"multicloud-inference/pool": "gpu", "multicloud-inference/gpu-type": PROD_GPU[cloud]}
    if cloud == "aws":
        assert inputs["amiType"] == "AL2023_x86_64_NVIDIA" and inputs["instanceTypes"] == [machine]
        assert inputs["taints"] == [{**GPU_TAINT, "effect": "NO_SCHEDULE"}]
        # Plus the Cluster Autoscaler's GPU label (tests/test_autoscaling.py).
        assert inputs["labels"] == {**labels, "k8s.amazonaws.com/accelerator": "nvidia-l4"}
        assert (inputs["scalingConfig"]["minSize"], inputs["scalingConfig"]["maxSize"]) == (1, 8)
        assert inputs["capacityType"] == "ON_DEMAND"
    elif cloud == "azure":
        assert inputs["vmSize"] == machine and inputs["mode"] == "User"
        assert inputs["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"] and inputs["nodeLabels"] == labels
        assert (inputs["enableAutoScaling"], inputs["minCount"], inputs["maxCount"]) == (True, 1, 8)
        assert "scaleSetPriority" not in inputs and inputs["gpuProfile"] == {"driver": "Install"}
    else:
        config = inputs["nodeConfig"]
        assert config["machineType"] == machine and config["spot"] is False
        assert config["guestAccelerators"] == [
            {"type": "nvidia-l4", "count": 1, "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"}}
        ]
        assert config["taints"] == [{**GPU_TAINT, "effect": "NO_SCHEDULE"}] and config["labels"] == labels
        assert (inputs["autoscaling"]["totalMinNodeCount"], inputs["autoscaling"]["totalMaxNodeCount"]) == (1, 8)


def test_spot_reaches_every_cloud(dev_plan):
    assert gpu_pool(dev_plan, "aws", "eu-central-1")["inputs"]["capacityType"] == "SPOT"
    azure = gpu_pool(dev_plan, "azure", "westeurope")["inputs"]
    assert azure["scaleSetPriority"] == "Spot" and azure["scaleSetEvictionPolicy"] == "Delete"
    assert "kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in azure["nodeTaints"]
    assert gpu_pool(dev_plan, "gcp", "europe-west4")["inputs"]["nodeConfig"]["spot"] is True


ENCRYPTION = {
    "aws": ("aws:eks/cluster:Cluster", "encryptionConfig"),
    "azure": ("azure-native:containerservice:ManagedCluster", "securityProfile"),
    "gcp": ("gcp:container/cluster:Cluster", "databaseEncryption"),
}


@pytest.mark.parametrize(("cloud", "region"), REGION_CASES)
def test_secrets_encryption_depends_on_its_own_regions_key_only(prod_plan, cloud, region):
    type_, prop = ENCRYPTION[cloud]
    cluster = only(below(prod_plan, component(prod_plan, cloud, region), type_))
    keys = {r["urn"] for r in prod_plan.of_type(KEY_TYPES[cloud])}
    assert set(cluster["property_dependencies"][prop]) & keys == {region_key_urn(prod_plan, cloud, region)}


def test_encryption_settings(prod_plan):
    eks = only(below(prod_plan, component(prod_plan, "aws", "us-east-1"), "aws:eks/cluster:Cluster"))["inputs"]
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    kms = only(
        below(prod_plan, component(prod_plan, "azure", "westeurope"), "azure-native:containerservice:ManagedCluster")
    )["inputs"]["securityProfile"]["azureKeyVaultKms"]
    assert kms["enabled"] is True and kms["keyVaultNetworkAccess"] == "Private"
    gke = component(prod_plan, "gcp", "europe-west4")
    assert only(below(prod_plan, gke, "gcp:container/cluster:Cluster"))["inputs"]["databaseEncryption"]["state"] == "ENCRYPTED"
    agent = only([r for r in below(prod_plan, gke, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")])
    assert agent["inputs"]["member"].endswith("@container-engine-robot.iam.gserviceaccount.com")
    assert agent["inputs"]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert region_key_urn(prod_plan, "gcp", "europe-west4") in agent["dependencies"]


BUCKET_TYPES = {"aws": "aws:s3/bucket:Bucket", "azure": "azure-native:storage:BlobContainer",
                "gcp": "gcp:storage/bucket:Bucket"}


def own(plan, cloud, region, type_):
    return only(below(plan, component(plan, cloud, region, LANDING_ZONE_TYPES), type_))["urn"]


@pytest.mark.parametrize(("cloud", "region"), REGION_CASES)
def test_inference_identity_reads_its_own_regions_bucket_only(prod_plan, cloud, region):
    cluster = component(prod_plan, cloud, region)
    buckets = {r["urn"] for r in prod_plan.of_type(BUCKET_TYPES[cloud])}
    bucket = own(prod_plan, cloud, region, BUCKET_TYPES[cloud])
    if cloud == "aws":
        policy = only(below(prod_plan, cluster, "aws:iam/rolePolicy:RolePolicy"))
        assert set(policy["property_dependencies"]["policy"]) == {bucket, region_key_urn(prod_plan, cloud, region)}
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        assert sorted(s["Action"] for s in statements) == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
        association = only(below(prod_plan, cluster, "aws:eks/podIdentityAssociation:PodIdentityAssociation"))
        assert (association["inputs"]["namespace"], association["inputs"]["serviceAccount"]) == ("inference", "inference")
    elif cloud == "azure":
        grant = only([r for r in below(prod_plan, cluster, "azure-native:authorization:RoleAssignment")
                      if r["name"].endswith("-inference-models")])
        assert set(grant["property_dependencies"]["scope"]) & buckets == {bucket}
        assert grant["inputs"]["roleDefinitionId"].endswith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
        credential = only(below(prod_plan, cluster, "azure-native:managedidentity:FederatedIdentityCredential"))
        assert credential["inputs"]["subject"] == "system:serviceaccount:inference:inference"
    else:
        grant = only(below(prod_plan, cluster, "gcp:storage/bucketIAMMember:BucketIAMMember"))
        assert set(grant["property_dependencies"]["bucket"]) & buckets == {bucket}
        assert grant["inputs"]["role"] == "roles/storage.objectViewer"
        binding = only(below(prod_plan, cluster, "gcp:serviceaccount/iAMMember:IAMMember"))
        assert binding["inputs"]["member"] == "serviceAccount:lepton-prod-inference.svc.id.goog[inference/inference]"


def test_gke_nodes_run_as_a_least_privileged_account(prod_plan):
    cluster = component(prod_plan, "gcp", "us-central1")
    roles = sorted(r["inputs"]["role"] for r in below(prod_plan, cluster, "gcp:projects/iAMMember:IAMMember"))
    assert roles == ["roles/container.defaultNodeServiceAccount"]
    pool = gpu_pool(prod_plan, "gcp", "us-central1")
    assert pool["inputs"]["nodeConfig"]["serviceAccount"].startswith("gkenodes")


# dev: a deployer outside the network, admitted by the public endpoints' allow-list; prod: every API
# private, reached from the deployer in the AWS hub over the mesh (tests/test_deployer.py).
@pytest.mark.parametrize(("stack", "allowed"), [("dev", ["198.51.100.0/24"]), ("prod", [])])
def test_api_servers_are_private_unless_an_allow_list_is_given(request, stack, allowed):
    plan = request.getfixturevalue(f"{stack}_plan")
    public = bool(allowed)
    for eks in plan.of_type("aws:eks/cluster:Cluster"):
        vpc = eks["inputs"]["vpcConfig"]
        assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is public
        assert vpc.get("publicAccessCidrs", []) == allowed
    for aks in plan.of_type("azure-native:containerservice:ManagedCluster"):
        access = aks["inputs"]["apiServerAccessProfile"]
        assert access["enablePrivateCluster"] is not public and access["enableVnetIntegration"] is True
        assert access.get("authorizedIPRanges", []) == allowed
    for gke in plan.of_type("gcp:container/cluster:Cluster"):
        config = gke["inputs"]["privateClusterConfig"]
        assert (config["enablePrivateNodes"], config["enablePrivateEndpoint"]) == (True, not public)


@pytest.mark.parametrize(("cloud", "region"), REGION_CASES)
def test_kubernetes_provider_is_built_from_a_secret_kubeconfig(prod_plan, cloud, region):
    cluster = component(prod_plan, cloud, region)
    provider = only(below(prod_plan, cluster, "pulumi:providers:kubernetes"))
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert provider["inputs"]["enableServerSideApply"] in (True, "true")
    plugins = below(prod_plan, cluster, "kubernetes:apps/v1:DaemonSet")
    # GKE runs the device plugin itself; EKS (AL2023 NVIDIA AMI) and AKS need ours.
    assert len(plugins) == (0 if cloud == "gcp" else 1)
    for plugin in plugins:
        assert plugin["provider"] == provider["urn"]
        spec = plugin["inputs"]["spec"]["template"]["spec"]
        assert spec["nodeSelector"]["multicloud-inference/pool"] == "gpu"
        assert {**GPU_TAINT, "operator": "Equal", "effect": "NoSchedule"} in spec["tolerations"]
        container = only(spec["containers"])
        assert "@sha256:" in container["image"] and container["resources"]["limits"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_every_cluster_resource_has_an_explicit_provider(prod_plan):
    for type_ in CLUSTER_TYPES.values():
        for cluster in prod_plan.of_type(PREFIX + type_):
            for resource in prod_plan.children(cluster["urn"]):
                if resource["custom"] and not resource["type"].startswith("pulumi:providers:"):
                    assert resource["provider"], resource["urn"]


def test_no_cluster_resource_waits_for_the_vpn_mesh(prod_plan):
    # The clusters' own cloud resources never wait; the Kubernetes objects that the deployer applies
    # over the mesh do (tests/test_mesh.py pins which).
    mesh = {r["urn"] for m in prod_plan.of_type(PREFIX + "VpnMesh") for r in [m, *prod_plan.children(m["urn"])]}
    for type_ in CLUSTER_TYPES.values():
        for cluster in prod_plan.of_type(PREFIX + type_):
            for resource in [cluster, *prod_plan.children(cluster["urn"])]:
                if not resource["type"].startswith("kubernetes:"):
                    assert not waits_for(prod_plan, resource["urn"]) & mesh, resource["urn"]


def waits_for(plan, urn):
    """Everything `urn` depends on, directly or through other resources."""
    seen, frontier = set(), [urn]
    while frontier:
        for dependency in plan.by_urn[frontier.pop()]["dependencies"]:
            if dependency not in seen and dependency in plan.by_urn:
                seen.add(dependency)
                frontier.append(dependency)
    return seen


@pytest.mark.parametrize("region", PROD_REGIONS["azure"])
def test_aks_kubernetes_objects_wait_for_the_deployers_cluster_admin_grant(prod_plan, region):
    plugin = prod_plan.one("kubernetes:apps/v1:DaemonSet", f"azure-{region}-nvidia-device-plugin")
    grant = prod_plan.one("azure-native:authorization:RoleAssignment", f"azure-{region}-deployer-admin")
    assert prod_plan.depends_on(plugin["urn"], grant["urn"])
