"""Every policy: the compliant platform passes, and each one-property mutation is caught."""

import pytest
from engine_shapes import COMPLIANT, DELETE, SYNC_DESTINATION, SYNC_SOURCE, find, set_path, urn

from platform_policies import POLICIES

S3 = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
REMOVE = object()  # mutation that drops the resource from the plan
POD = "spec.template.spec"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
CRON = "kubernetes:batch/v1:CronJob"
RECORD = "aws:route53/record:Record"
R53_POLICY = "aws-route53-record-answers-in-residency-zone"

# policy, mutated (type, name), property path (or REMOVE), new value, expected message part,
# and the resource the violation is reported on when it is not the mutated one.
CASES = [
    # residency
    ("aws-any-resource-in-residency-zone", (S3, "models"), "region", "us-east-1", "located in us-east-1", None),
    ("aws-any-resource-in-residency-zone", ("aws:kms/key:Key", "key"), "tags.residency-zone", "apac", "does not define", None),
    ("azure-any-resource-in-residency-zone", ("azure-native:storage:StorageAccount", "models-we"), "location", "East US 2",
     "located in eastus2", None),
    ("azure-any-resource-in-residency-zone", ("azure-native:resources:ResourceGroup", "rg-eu"), "location", DELETE,
     "neither it nor its provider", None),
    ("gcp-any-resource-in-residency-zone", ("gcp:storage/bucket:Bucket", "models-ew4"), "location", "US", "located in us", None),
    ("gcp-any-resource-in-residency-zone", ("gcp:container/cluster:Cluster", "gke"), "location", "us-central1-a",
     "located in us-central1", None),
    ("aws-s3-bucketreplication-in-residency-zone", (S3, "replica"), "region", "us-east-1", "to replica in us-east-1",
     ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models-to-replica")),
    ("aws-s3-bucketreplication-in-residency-zone", ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
     "models-to-replica"), "bucket", "someone-elses-bucket", "not a data store of this stack", None),
    ("azure-storage-objectreplicationpolicy-in-residency-zone", ("azure-native:storage:StorageAccount", "models-ne"),
     "location", "eastus", "to models-ne in eastus", ("azure-native:storage:ObjectReplicationPolicy", "we-to-ne")),
    ("gcp-storage-transferjob-in-residency-zone", ("gcp:storage/transferJob:TransferJob", "ew4-to-ew1"),
     "transferSpec.gcsDataSink.bucketName", "us-archive", "'us-archive' is not a data store of this stack", None),
    ("gcp-storage-transferjob-in-residency-zone", ("gcp:storage/bucket:Bucket", "models-ew1"), "location", "US-EAST1",
     "to models-ew1 in us-east1", ("gcp:storage/transferJob:TransferJob", "ew4-to-ew1")),
    ("kubernetes-batch-cronjob-replication-in-residency-zone", (CRON, "model-sync"), f"metadata.annotations.{SYNC_DESTINATION}",
     "aws:us-east-1", "copies zone 'eu' data from gcp:europe-west4 to aws:us-east-1, outside the zone", None),
    ("kubernetes-batch-cronjob-replication-in-residency-zone", (CRON, "model-sync"), f"metadata.annotations.{SYNC_SOURCE}",
     DELETE, "does not name its source in multicloud-inference/replication-source (fail closed)", None),
    ("kubernetes-batch-cronjob-replication-in-residency-zone", (CRON, "model-sync"), f"metadata.annotations.{SYNC_DESTINATION}",
     "eu-central-1", "its destination 'eu-central-1' (multicloud-inference/replication-destination) is not cloud:region", None),
    # global entry (Route 53)
    (R53_POLICY, (RECORD, "zone-eu-bucket"), "property_dependencies", {"records": [("aws:ec2/eip:Eip", "entry-us")]},
     "answers from outside the zone: us-east-1 (entry-us via infer.example.com [eu-continent-eu] -> "
     "zone-eu.route.infer.example.com [eu-central-1] -> eu-central-1.zone-eu.route.infer.example.com [aws:eu-central-1])",
     (RECORD, "entry-eu")),
    (R53_POLICY, (RECORD, "entry-eu"), "aliases.0.name", "nearest.route.infer.example.com",
     "answers from outside the zone: us-east-1", None),
    (R53_POLICY, (RECORD, "entry-eu"), "healthCheckId", "hc-1",
     "can fail over (it is health-evaluated) to infer [default], which answers from outside the zone: us-east-1", None),
    (R53_POLICY, (RECORD, "entry-eu"), "aliases.0.evaluateTargetHealth", True,
     "can fail over (it is health-evaluated) to infer [default], which answers from outside the zone: us-east-1", None),
    (R53_POLICY, (RECORD, "entry-eu"), "aliases.0.name", "elb.example.net",
     "aliases elb.example.net, where aliases ('elb.example.net') comes from no resource of this stack", None),
    (R53_POLICY, (RECORD, "zone-eu-bucket"), "property_dependencies", {},
     "where records (['203.0.113.10']) comes from no resource of this stack whose region is known (fail closed)",
     (RECORD, "entry-eu")),
    (R53_POLICY, (RECORD, "entry-eu"), "geolocationRoutingPolicies", "[unknown]", "its geolocation is unknown", None),
    (R53_POLICY, (RECORD, "entry-eu"), REMOVE, None, "serves residency zone 'eu' clients (country AD, country AL, "
     "country AT and 51 more) but answers from outside the zone: us-east-1", (RECORD, "entry-default")),
    ("aws-route53-healthcheck-readiness-path", ("aws:route53/healthCheck:HealthCheck", "eu-ready"), "resourcePath",
     "/v2/health/live", "probes '/v2/health/live', not the readiness path /v2/health/ready", None),
    ("aws-route53-healthcheck-readiness-path", ("aws:route53/healthCheck:HealthCheck", "us-ready"), "type", "TCP",
     "checks TCP, not the readiness path", None),
    # encryption
    ("aws-s3-bucket-cmek-required", (SSE, "models"), REMOVE, None, "no server-side encryption configuration", (S3, "models")),
    ("aws-s3-bucket-cmek-required", (SSE, "models"), "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256",
     "sseAlgorithm is 'AES256'", (S3, "models")),
    ("aws-s3-bucket-cmek-required", (SSE, "models"), "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", DELETE,
     "kmsMasterKeyId is not set", (S3, "models")),
    ("azure-storage-storageaccount-cmek-required", ("azure-native:storage:StorageAccount", "models-we"),
     "encryption.keySource", "Microsoft.Storage", "keySource is 'Microsoft.Storage'", None),
    ("gcp-storage-bucket-cmek-required", ("gcp:storage/bucket:Bucket", "models-ew4"), "encryption", DELETE,
     "defaultKmsKeyName is not set", None),
    ("aws-kms-key-rotation-enabled", ("aws:kms/key:Key", "key"), "enableKeyRotation", False, "enableKeyRotation is False", None),
    ("aws-kms-key-rotation-enabled", ("aws:kms/key:Key", "key"), "rotationPeriodInDays", 400.0, "at most 365 days", None),
    ("azure-keyvault-key-rotation-enabled", ("azure-native:keyvault:Key", "storage-key"),
     "properties.rotationPolicy.lifetimeActions.0.trigger.timeAfterCreate", "P2Y", "at most 365 days", None),
    ("azure-keyvault-key-rotation-enabled", ("azure-native:keyvault:Key", "storage-key"), "properties.rotationPolicy",
     DELETE, "no lifetime action of type 'rotate'", None),
    ("gcp-kms-cryptokey-rotation-enabled", ("gcp:kms/cryptoKey:CryptoKey", "key-ew4"), "rotationPeriod", "63072000s",
     "at most 365 days", None),
    ("gcp-kms-cryptokey-rotation-enabled", ("gcp:kms/cryptoKey:CryptoKey", "key-ew4"), "rotationPeriod", DELETE,
     "rotationPeriod is not set", None),
    ("azure-keyvault-vault-purge-protection-enabled", ("azure-native:keyvault:Vault", "kv"),
     "properties.enablePurgeProtection", False, "enablePurgeProtection is False", None),
    ("aws-eks-cluster-secrets-cmek-required", ("aws:eks/cluster:Cluster", "eks"), "encryptionConfig", DELETE,
     "encryptionConfig.resources is not set", None),
    ("azure-containerservice-managedcluster-secrets-cmek-required", ("azure-native:containerservice:ManagedCluster", "aks"),
     "securityProfile.azureKeyVaultKms.enabled", False, "azureKeyVaultKms.enabled is False", None),
    ("gcp-container-cluster-secrets-cmek-required", ("gcp:container/cluster:Cluster", "gke"), "databaseEncryption.state",
     "DECRYPTED", "'ENCRYPTED'", None),
    # exposure
    ("aws-s3-bucket-public-access-blocked", ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "models"),
     "restrictPublicBuckets", False, "restrictPublicBuckets is False", (S3, "models")),
    ("aws-s3-bucket-public-access-blocked", ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "replica"),
     REMOVE, None, "no public access block", (S3, "replica")),
    ("azure-storage-storageaccount-public-access-disabled", ("azure-native:storage:StorageAccount", "models-we"),
     "allowBlobPublicAccess", True, "allowBlobPublicAccess is True", None),
    ("azure-storage-blobcontainer-public-access-disabled", ("azure-native:storage:BlobContainer", "models"),
     "publicAccess", "Container", "publicAccess is 'Container'", None),
    ("gcp-storage-bucket-public-access-prevented", ("gcp:storage/bucket:Bucket", "models-ew1"), "publicAccessPrevention",
     "inherited", "'enforced'", None),
    ("gcp-storage-bucket-public-access-prevented", ("gcp:storage/bucket:Bucket", "models-ew1"), "uniformBucketLevelAccess",
     False, "uniformBucketLevelAccess is False", None),
    ("aws-s3-bucket-tls-required", ("aws:s3/bucketPolicy:BucketPolicy", "models-tls"), REMOVE, None,
     "aws:SecureTransport", (S3, "models")),
    ("azure-storage-storageaccount-tls12-required", ("azure-native:storage:StorageAccount", "models-ne"),
     "minimumTlsVersion", "TLS1_0", "'TLS1_2' or newer", None),
    ("aws-eks-cluster-api-not-public", ("aws:eks/cluster:Cluster", "eks"), "vpcConfig.publicAccessCidrs", DELETE,
     "open to the internet", None),
    ("aws-eks-cluster-api-not-public", ("aws:eks/cluster:Cluster", "eks"), "vpcConfig.publicAccessCidrs",
     ["203.0.113.0/24", "0.0.0.0/0"], "includes 0.0.0.0/0", None),
    ("azure-containerservice-managedcluster-api-not-public", ("azure-native:containerservice:ManagedCluster", "aks"),
     "apiServerAccessProfile", DELETE, "open to the internet", None),
    ("gcp-container-cluster-api-not-public", ("gcp:container/cluster:Cluster", "gke"), "masterAuthorizedNetworksConfig",
     DELETE, "open to the internet", None),
    # network
    ("aws-ec2-securitygroup-no-public-ingress", ("aws:ec2/securityGroup:SecurityGroup", "ingress"),
     "ingress.1.cidrBlocks", ["0.0.0.0/0"], "ingress[1] admits 0.0.0.0/0 on every port", None),
    ("aws-ec2-securitygroup-no-public-ingress", ("aws:ec2/securityGroup:SecurityGroup", "ingress"),
     "ingress.0.toPort", 444.0, "port(s) 444", None),
    ("aws-ec2-securitygroup-no-public-ingress", ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https"),
     "ipProtocol", "-1", "on every port", None),
    ("azure-network-networksecuritygroup-no-public-ingress", ("azure-native:network:NetworkSecurityGroup", "nsg"),
     "securityRules.0.destinationPortRange", "22", "port(s) 22", None),
    ("azure-network-networksecuritygroup-no-public-ingress", ("azure-native:network:NetworkSecurityGroup", "nsg"),
     "securityRules.1.sourceAddressPrefix", "*", "securityRules[1] admits * on every port", None),
    ("gcp-compute-firewall-no-public-ingress", ("gcp:compute/firewall:Firewall", "https"), "allows.0.ports", ["22", "443"],
     "port(s) 22", None),
    ("gcp-compute-firewall-no-public-ingress", ("gcp:compute/firewall:Firewall", "https"), "allows.0.protocol", "all",
     "every port", None),
    ("aws-ec2-vpnconnection-ikev2-strong-crypto", ("aws:ec2/vpnConnection:VpnConnection", "to-gcp-0"),
     "tunnel2IkeVersions", ["ikev1", "ikev2"], "tunnel2IkeVersions allows ikev1", None),
    ("aws-ec2-vpnconnection-ikev2-strong-crypto", ("aws:ec2/vpnConnection:VpnConnection", "to-gcp-0"),
     "tunnel1Phase1DhGroupNumbers", [2.0, 14.0], "allows 2.0", None),
    ("aws-ec2-vpnconnection-ikev2-strong-crypto", ("aws:ec2/vpnConnection:VpnConnection", "to-gcp-0"),
     "tunnel1Phase2EncryptionAlgorithms", DELETE, "tunnel1Phase2EncryptionAlgorithms is not set", None),
    ("azure-network-virtualnetworkgatewayconnection-ikev2-strong-crypto",
     ("azure-native:network:VirtualNetworkGatewayConnection", "to-aws-0"), "ipsecPolicies.0.dhGroup", "DHGroup2",
     "dhGroup allows DHGroup2", None),
    ("azure-network-virtualnetworkgatewayconnection-ikev2-strong-crypto",
     ("azure-native:network:VirtualNetworkGatewayConnection", "to-aws-0"), "connectionProtocol", "IKEv1",
     "expected 'IKEv2'", None),
    ("azure-network-virtualnetworkgatewayconnection-ikev2-strong-crypto",
     ("azure-native:network:VirtualNetworkGatewayConnection", "to-aws-0"), "ipsecPolicies", DELETE,
     "ipsecPolicies is empty", None),
    ("gcp-compute-vpntunnel-ikev2-strong-crypto", ("gcp:compute/vPNTunnel:VPNTunnel", "to-aws-0"), "ikeVersion", 1.0,
     "expected 2", None),
    ("gcp-compute-vpntunnel-ikev2-strong-crypto", ("gcp:compute/vPNTunnel:VPNTunnel", "to-aws-0"),
     "cipherSuite.phase1.encryptions", ["AES-CBC-128"], "allows AES-CBC-128", None),
    # workloads
    ("kubernetes-pod-container-privileged-disallowed", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.containers.0.securityContext.privileged", True, "is privileged", None),
    ("kubernetes-pod-container-privileged-disallowed", ("kubernetes:apps/v1:DaemonSet", "dcgm"),
     f"{POD}.containers.0.securityContext.allowPrivilegeEscalation", DELETE, "allowPrivilegeEscalation", None),
    ("kubernetes-pod-container-nonroot-required", ("kubernetes:core/v1:Pod", "smoke"),
     "spec.containers.0.securityContext.runAsUser", 0.0, "runs as user 0", None),
    ("kubernetes-pod-container-nonroot-required", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.securityContext", DELETE, "neither runAsNonRoot", None),
    ("kubernetes-pod-container-limits-required", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.containers.0.resources.limits.memory", DELETE, "no memory limit", None),
    ("kubernetes-pod-gpu-scheduling-required", ("kubernetes:apps/v1:Deployment", "triton"), f"{POD}.tolerations", DELETE,
     "does not tolerate the GPU node taint", None),
    ("kubernetes-pod-gpu-scheduling-required", ("kubernetes:apps/v1:DaemonSet", "dcgm"),
     f"{POD}.containers.0.resources", {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"nvidia.com/gpu": "1"}},
     "requests nvidia.com/gpu without a limit", None),
    ("kubernetes-pod-container-image-trusted", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.containers.0.image", "docker.io/library/nginx:latest", "not from an allowed registry", None),
    ("kubernetes-pod-container-image-trusted", ("kubernetes:core/v1:Pod", "smoke"), "spec.containers.0.image",
     "123456789012.dkr.ecr.eu-central-1.amazonaws.com/lepton/triton:24.08", "not pinned by @sha256 digest", None),
    ("kubernetes-deployment-container-probes-required", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.containers.0.readinessProbe", DELETE, "containers[0] (triton) has no readinessProbe", None),
    ("kubernetes-deployment-container-probes-required", ("kubernetes:apps/v1:Deployment", "triton"),
     f"{POD}.containers.0.livenessProbe", DELETE, "has no livenessProbe", None),
    # registries
    ("aws-ecr-repository-cmek-required", ("aws:ecr/repository:Repository", "inference"), "encryptionConfigurations",
     DELETE, "encryptionConfigurations is not set", None),
    ("aws-ecr-repository-cmek-required", ("aws:ecr/repository:Repository", "inference"),
     "encryptionConfigurations.0.encryptionType", "AES256", "expected 'KMS'", None),
    ("aws-ecr-repository-cmek-required", ("aws:ecr/repository:Repository", "inference"),
     "encryptionConfigurations", "[unknown]", "unknown at preview (fail closed)", None),
    ("aws-ecr-repository-immutable-tags", ("aws:ecr/repository:Repository", "inference"), "imageTagMutability",
     "MUTABLE", "imageTagMutability is 'MUTABLE'", None),
    ("azure-containerregistry-registry-shared-credentials-disabled", ("azure-native:containerregistry:Registry", "acr"),
     "adminUserEnabled", True, "an admin user", None),
    ("azure-containerregistry-registry-shared-credentials-disabled", ("azure-native:containerregistry:Registry", "acr"),
     "anonymousPullEnabled", True, "anonymous pull", None),
    ("gcp-artifactregistry-repository-cmek-required", ("gcp:artifactregistry/repository:Repository", "inference-ew4"),
     "kmsKeyName", DELETE, "kmsKeyName is not set", None),
    ("gcp-artifactregistry-repository-immutable-tags", ("gcp:artifactregistry/repository:Repository", "inference-ew4"),
     "dockerConfig", DELETE, "dockerConfig.immutableTags is not set", None),
    # autoscaling
    ("kubernetes-autoscaling-horizontalpodautoscaler-bounds-valid", (HPA, "triton"),
     "spec.maxReplicas", 0.0, "spec.maxReplicas (0) is below spec.minReplicas (1)", None),
    ("kubernetes-autoscaling-horizontalpodautoscaler-bounds-valid", (HPA, "triton"),
     "spec.minReplicas", 9.0, "spec.maxReplicas (8) is below spec.minReplicas (9)", None),
    ("kubernetes-autoscaling-horizontalpodautoscaler-bounds-valid", (HPA, "triton"),
     "spec.maxReplicas", DELETE, "spec.maxReplicas is not set", None),
    ("aws-eks-nodegroup-gpu-autoscaling-required", ("aws:eks/nodeGroup:NodeGroup", "gpu"), "scalingConfig.maxSize", 0.0,
     "maximum (0) is not above its minimum (0)", None),
    ("aws-eks-nodegroup-gpu-autoscaling-required", ("aws:eks/nodeGroup:NodeGroup", "gpu"), "scalingConfig", DELETE,
     "its minimum and maximum node counts are missing", None),
    ("azure-containerservice-agentpool-gpu-autoscaling-required", ("azure-native:containerservice:AgentPool", "gpu"),
     "enableAutoScaling", False, "the GPU agent pool does not autoscale", None),
    ("azure-containerservice-agentpool-gpu-autoscaling-required", ("azure-native:containerservice:AgentPool", "gpu"),
     "maxCount", DELETE, "its maximum node count is missing", None),
    ("azure-containerservice-agentpool-gpu-autoscaling-required",
     ("azure-native:containerservice:ManagedCluster", "aks"), "agentPoolProfiles.1.enableAutoScaling", DELETE,
     "agentPoolProfiles[1] (gpuinline), a GPU pool, does not autoscale", None),
    ("gcp-container-nodepool-gpu-autoscaling-required", ("gcp:container/nodePool:NodePool", "gpu"), "autoscaling",
     DELETE, "the GPU node pool does not autoscale", None),
    ("gcp-container-nodepool-gpu-autoscaling-required", ("gcp:container/nodePool:NodePool", "gpu"),
     "autoscaling.totalMaxNodeCount", 0.0, "maximum (0) is not above its minimum (0)", None),
    # hygiene
    ("aws-any-resource-tags-required", ("aws:ec2/vpc:Vpc", "vpc"), "tags.owner", DELETE, "owner", None),
    ("azure-any-resource-tags-required", ("azure-native:keyvault:Vault", "kv"), "tags", DELETE, "platform, stack, owner", None),
    ("gcp-any-resource-labels-required", ("gcp:kms/cryptoKey:CryptoKey", "key-ew4"), "labels.platform", DELETE, "platform", None),
]


def _id(case):
    policy, (_, name), path, *_ = case
    return f"{policy}:{name}:{'remove' if path is REMOVE else path}"


def test_the_compliant_platform_passes_every_policy(plan, run):
    assert run(plan) == []


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_a_mutation_is_caught(plan, run, case):
    policy, (type_, name), path, value, expected, reported_on = case
    target = find(plan, type_, name)
    if path is REMOVE:
        plan["resources"].remove(target)
    elif path == "property_dependencies":
        target["property_dependencies"] = {k: [urn(*d) for d in v] for k, v in value.items()}
    else:
        set_path(target["inputs"], path, value)
    found = [v for v in run(plan) if v.policy == policy]
    report_urn = urn(*reported_on) if reported_on else target["urn"]
    assert any(v.urn == report_urn and expected in v.message for v in found), found


def test_a_node_agent_may_tolerate_the_gpu_taint_without_a_gpu(plan, run):
    daemonset = find(plan, "kubernetes:apps/v1:DaemonSet", "dcgm")
    set_path(daemonset["inputs"], f"{POD}.containers.0.resources.limits", {"cpu": "100m", "memory": "128Mi"})
    assert run(plan) == []


def test_pools_without_gpus_are_not_judged_by_the_gpu_autoscaling_policies(plan, run):
    find(plan, "aws:eks/nodeGroup:NodeGroup", "system")["inputs"].pop("scalingConfig")
    set_path(find(plan, "azure-native:containerservice:ManagedCluster", "aks")["inputs"],
             "agentPoolProfiles.0.enableAutoScaling", False)
    gke = find(plan, "gcp:container/nodePool:NodePool", "gpu")["inputs"]
    gke.pop("autoscaling")
    gke["nodeConfig"] = {"machineType": "e2-standard-4"}
    assert run(plan) == []


def test_an_hpa_bound_unknown_at_preview_is_not_judged(plan, run):
    set_path(find(plan, HPA, "triton")["inputs"], "spec.maxReplicas", "[unknown]")
    assert run(plan) == []


def test_a_cronjob_that_copies_nothing_is_not_judged(plan, run):
    job = find(plan, CRON, "model-sync")
    job["inputs"]["metadata"] = {"name": "report", "labels": {"app.kubernetes.io/name": "nightly-report"}}
    assert run(plan) == []


def test_a_sync_job_from_outside_every_zone_may_copy_anywhere(plan, run):
    annotations = find(plan, CRON, "model-sync")["inputs"]["metadata"]["annotations"]
    annotations.update({SYNC_SOURCE: "aws:us-east-1", SYNC_DESTINATION: "azure:eastus2"})
    assert run(plan) == []


def test_the_program_and_the_pack_agree_on_the_sync_job_markers():
    # The pack is standalone (it cannot import the program), so the keys are written twice.
    from planning import replication
    from platform_policies import residency

    assert (residency.SOURCE_ANNOTATION, residency.DESTINATION_ANNOTATION, residency.REPLICATION_LABEL) == (
        replication.SOURCE_ANNOTATION, replication.DESTINATION_ANNOTATION, replication.SYNC_COMPONENT_LABEL
    )


def test_a_country_record_may_fall_back_to_its_zones_continent_record(plan, run):
    # NO's record evaluates health; its fallback is the EU continent record, which stays in the zone.
    set_path(find(plan, RECORD, "entry-no")["inputs"], "aliases.0.evaluateTargetHealth", True)
    assert run(plan) == []


def test_records_not_serving_a_zone_geography_may_answer_from_anywhere(plan, run):
    # The default's latency set answers from us-east-1 too: only a zone's clients are restricted.
    set_path(find(plan, RECORD, "nearest-us")["inputs"], "latencyRoutingPolicies.0.region", "us-west-2")
    assert run(plan) == []


def test_every_policy_has_a_violating_case():
    assert {p.name for p in POLICIES} <= {c[0] for c in CASES}


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_policy_applies_to_a_compliant_fixture(policy):
    # Guards against a policy that silently matches nothing (e.g. a mistyped type token).
    assert any(policy.applies_to(t) for t, _ in COMPLIANT), policy.name
