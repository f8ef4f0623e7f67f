"""Compliant fixtures shaped as the engine shapes them: one per resource type, in a small EU
platform. Tests mutate one property at a time and expect the matching policy to fire.

Properties use engine names (camelCase, integers as floats where the engine sends numbers),
and resources are offline-plan entries, so the plan adapter is exercised too."""

from __future__ import annotations

import copy
from typing import Any

DELETE = object()
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"123456789012.dkr.ecr.eu-central-1.amazonaws.com/lepton/triton@{DIGEST}"
TAGS = {"platform": "lepton", "stack": "test", "owner": "ml-platform", "residency-zone": "eu"}
GLOBAL_TAGS = {k: v for k, v in TAGS.items() if k != "residency-zone"}
"""Global services (IAM, Route 53) claim no residency zone."""
UNKNOWN = "[unknown]"
AZ_RG = "/subscriptions/s/resourceGroups/rg-eu"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::multicloud-inference::{type_}::{name}"


PROVIDERS = {
    "aws": ("pulumi:providers:aws", "aws-eu-central-1", {"region": "eu-central-1"}),
    "azure": ("pulumi:providers:azure-native", "azure", {"location": "westeurope"}),
    "gcp": ("pulumi:providers:gcp", "gcp", {"project": "p", "region": "europe-west4"}),
    "kubernetes": ("pulumi:providers:kubernetes", "k8s-eu", {}),
}


def _pod_spec() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000.0},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}],
        "containers": [{
            "name": "triton",
            "image": IMAGE,
            "securityContext": {"allowPrivilegeEscalation": False, "privileged": False},
            "resources": {"limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}},
            "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": "http"}},
            "livenessProbe": {"httpGet": {"path": "/v2/health/live", "port": "http"}},
        }],
    }


def _sync_pod_spec() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001.0},
        "containers": [{
            "name": "rclone",
            "image": IMAGE,
            "command": ["/usr/local/bin/rclone"],
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        }],
    }


SYNC_SOURCE = "multicloud-inference/replication-source"
SYNC_DESTINATION = "multicloud-inference/replication-destination"

# (type, name) -> (inputs, property dependencies by property -> [(type, name)])
COMPLIANT: dict[tuple[str, str], tuple[dict[str, Any], dict[str, list[tuple[str, str]]]]] = {
    # --- AWS ----------------------------------------------------------------------------
    ("aws:s3/bucket:Bucket", "models"): ({"bucket": "models-eu", "tags": TAGS}, {}),
    ("aws:s3/bucket:Bucket", "replica"): ({"bucket": "replica-eu", "region": "eu-west-1", "tags": TAGS}, {}),
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "models"): (
        {"bucket": "models-eu", "rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-central-1:1:key/k"}, "bucketKeyEnabled": True}]},
        {"bucket": [("aws:s3/bucket:Bucket", "models")]},
    ),
    ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "replica"): (
        {"bucket": "replica-eu", "region": "eu-west-1", "rules": [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:aws:kms:eu-west-1:1:key/k"}}]},
        {"bucket": [("aws:s3/bucket:Bucket", "replica")]},
    ),
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "models"): (
        {"bucket": "models-eu", "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
         "restrictPublicBuckets": True},
        {"bucket": [("aws:s3/bucket:Bucket", "models")]},
    ),
    ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "replica"): (
        {"bucket": "replica-eu", "region": "eu-west-1", "blockPublicAcls": True, "blockPublicPolicy": True,
         "ignorePublicAcls": True, "restrictPublicBuckets": True},
        {"bucket": [("aws:s3/bucket:Bucket", "replica")]},
    ),
    ("aws:s3/bucketPolicy:BucketPolicy", "models-tls"): (
        {"bucket": "models-eu", "policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", '
         '"Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}'},
        {"bucket": [("aws:s3/bucket:Bucket", "models")]},
    ),
    ("aws:s3/bucketPolicy:BucketPolicy", "replica-tls"): (
        {"bucket": "replica-eu", "region": "eu-west-1", "policy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}}]}},
        {"bucket": [("aws:s3/bucket:Bucket", "replica")]},
    ),
    ("aws:s3/bucketVersioning:BucketVersioning", "models"): (
        {"bucket": "models-eu", "versioningConfiguration": {"status": "Enabled"}},
        {"bucket": [("aws:s3/bucket:Bucket", "models")]},
    ),
    ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models-to-replica"): (
        {"bucket": "models-eu", "role": "arn:aws:iam::1:role/replication",
         "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::replica-eu"}}]},
        {"bucket": [("aws:s3/bucket:Bucket", "models")],
         "rules": [("aws:s3/bucket:Bucket", "replica"), ("aws:iam/role:Role", "replication")]},
    ),
    ("aws:kms/key:Key", "key"): ({"enableKeyRotation": True, "rotationPeriodInDays": 365.0, "tags": TAGS}, {}),
    ("aws:ecr/repository:Repository", "inference"): (
        {"name": "lepton-test/inference", "imageTagMutability": "IMMUTABLE", "tags": TAGS,
         "imageScanningConfiguration": {"scanOnPush": True},
         "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-central-1:1:key/k"}]}, {}),
    ("aws:ec2/vpc:Vpc", "vpc"): ({"cidrBlock": "10.65.0.0/16", "tags": TAGS}, {}),
    ("aws:ec2/subnet:Subnet", "private-a"): ({"cidrBlock": "10.65.0.0/20", "tags": TAGS}, {}),
    ("aws:ec2/natGateway:NatGateway", "nat"): ({"subnetId": "subnet-1", "tags": TAGS}, {}),
    ("aws:ec2/securityGroup:SecurityGroup", "ingress"): (
        {"tags": TAGS, "ingress": [
            {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"], "ipv6CidrBlocks": ["::/0"]},
            {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["10.64.0.0/11"]},
        ]},
        {},
    ),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https"): (
        {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrIpv4": "0.0.0.0/0",
         "tags": TAGS},
        {},
    ),
    ("aws:ec2transitgateway/transitGateway:TransitGateway", "tgw"): ({"amazonSideAsn": 64512.0, "tags": TAGS}, {}),
    ("aws:ec2/customerGateway:CustomerGateway", "gcp-if0"): (
        {"bgpAsn": "65010", "ipAddress": "203.0.113.10", "type": "ipsec.1", "tags": TAGS}, {}),
    ("aws:ec2/vpnConnection:VpnConnection", "to-gcp-0"): (
        {"customerGatewayId": "cgw-1", "type": "ipsec.1", "transitGatewayId": "tgw-1", "tags": TAGS,
         **{f"tunnel{t}{k}": v for t in (1, 2) for k, v in {
             "IkeVersions": ["ikev2"],
             "Phase1EncryptionAlgorithms": ["AES256-GCM-16"], "Phase2EncryptionAlgorithms": ["AES256-GCM-16"],
             "Phase1IntegrityAlgorithms": ["SHA2-256"], "Phase2IntegrityAlgorithms": ["SHA2-256"],
             "Phase1DhGroupNumbers": [20.0], "Phase2DhGroupNumbers": [20.0],
         }.items()}},
        {},
    ),
    ("aws:eks/cluster:Cluster", "eks"): (
        {"roleArn": "arn:aws:iam::1:role/eks", "tags": TAGS,
         "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-central-1:1:key/k"}, "resources": ["secrets"]},
         "vpcConfig": {"subnetIds": ["subnet-1"], "endpointPrivateAccess": True, "endpointPublicAccess": True,
                       "publicAccessCidrs": ["203.0.113.0/24"]}},
        {},
    ),
    ("aws:eks/nodeGroup:NodeGroup", "gpu"): (
        {"clusterName": "eks", "amiType": "AL2023_x86_64_NVIDIA", "tags": TAGS, "instanceTypes": ["g6.xlarge"],
         "scalingConfig": {"minSize": 0.0, "maxSize": 4.0, "desiredSize": 0.0},
         "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]},
        {},
    ),
    # A fixed-size pool without GPUs is not judged by the GPU autoscaling policies.
    ("aws:eks/nodeGroup:NodeGroup", "system"): (
        {"clusterName": "eks", "amiType": "AL2023_x86_64_STANDARD", "tags": TAGS, "instanceTypes": ["m6i.xlarge"],
         "scalingConfig": {"minSize": 2.0, "maxSize": 2.0, "desiredSize": 2.0}},
        {},
    ),
    ("aws:iam/role:Role", "replication"): (
        {"assumeRolePolicy": "{}", "tags": {k: v for k, v in TAGS.items() if k != "residency-zone"}}, {}),
    # --- Route 53: an EU geography record tree and a default for everyone else ----------------
    ("aws:ec2/eip:Eip", "entry-eu"): ({"domain": "vpc", "tags": TAGS}, {}),
    ("aws:ec2/eip:Eip", "entry-us"): ({"domain": "vpc", "region": "us-east-1", "tags": GLOBAL_TAGS}, {}),
    ("aws:route53/zone:Zone", "zone"): ({"name": "example.com", "tags": GLOBAL_TAGS}, {}),
    ("aws:route53/healthCheck:HealthCheck", "eu-ready"): (
        {"type": "HTTPS", "fqdn": "aws-eu-central-1.infer.example.com", "port": 443.0,
         "resourcePath": "/v2/health/ready", "enableSni": True, "requestInterval": 30.0, "failureThreshold": 3.0,
         "tags": GLOBAL_TAGS}, {}),
    ("aws:route53/healthCheck:HealthCheck", "us-ready"): (
        {"type": "HTTPS", "fqdn": "aws-us-east-1.infer.example.com", "port": 443.0,
         "resourcePath": "/v2/health/ready", "enableSni": True, "tags": GLOBAL_TAGS}, {}),
    ("aws:route53/record:Record", "entry-eu"): (
        {"zoneId": UNKNOWN, "name": "infer.example.com", "type": "A", "setIdentifier": "eu-continent-eu",
         "geolocationRoutingPolicies": [{"continent": "EU"}],
         "aliases": [{"name": "zone-eu.route.infer.example.com", "zoneId": UNKNOWN, "evaluateTargetHealth": False}]},
        {"zoneId": [("aws:route53/zone:Zone", "zone")]}),
    ("aws:route53/record:Record", "entry-no"): (
        {"zoneId": UNKNOWN, "name": "infer.example.com.", "type": "A", "setIdentifier": "eu-country-no",
         "geolocationRoutingPolicies": [{"country": "NO"}],
         "aliases": [{"name": "zone-eu.route.infer.example.com", "zoneId": UNKNOWN, "evaluateTargetHealth": False}]},
        {"zoneId": [("aws:route53/zone:Zone", "zone")]}),
    ("aws:route53/record:Record", "entry-default"): (
        {"zoneId": UNKNOWN, "name": "infer", "type": "A", "setIdentifier": "default",
         "geolocationRoutingPolicies": [{"country": "*"}],
         "aliases": [{"name": "nearest.route.infer.example.com", "zoneId": UNKNOWN, "evaluateTargetHealth": False}]},
        {"zoneId": [("aws:route53/zone:Zone", "zone")]}),
    ("aws:route53/record:Record", "zone-eu"): (
        {"zoneId": UNKNOWN, "name": "zone-eu.route.infer.example.com", "type": "A", "setIdentifier": "eu-central-1",
         "latencyRoutingPolicies": [{"region": "eu-central-1"}],
         "aliases": [{"name": "eu-central-1.zone-eu.route.infer.example.com", "zoneId": UNKNOWN,
                      "evaluateTargetHealth": True}]},
        {"zoneId": [("aws:route53/zone:Zone", "zone")]}),
    ("aws:route53/record:Record", "zone-eu-bucket"): (
        {"zoneId": UNKNOWN, "name": "eu-central-1.zone-eu.route.infer.example.com", "type": "A",
         "setIdentifier": "aws:eu-central-1", "weightedRoutingPolicies": [{"weight": 1.0}], "ttl": 60.0,
         "records": ["203.0.113.10"], "healthCheckId": UNKNOWN},
        {"zoneId": [("aws:route53/zone:Zone", "zone")], "records": [("aws:ec2/eip:Eip", "entry-eu")],
         "healthCheckId": [("aws:route53/healthCheck:HealthCheck", "eu-ready")]}),
    ("aws:route53/record:Record", "nearest-eu"): (
        {"zoneId": UNKNOWN, "name": "nearest.route.infer.example.com", "type": "CNAME", "setIdentifier": "eu-central-1",
         "latencyRoutingPolicies": [{"region": "eu-central-1"}], "ttl": 60.0,
         "records": ["eu-central-1.zone-eu.route.infer.example.com"]},
        {"zoneId": [("aws:route53/zone:Zone", "zone")]}),
    ("aws:route53/record:Record", "nearest-us"): (
        {"zoneId": UNKNOWN, "name": "nearest.route.infer.example.com", "type": "A", "setIdentifier": "us-east-1",
         "latencyRoutingPolicies": [{"region": "us-east-1"}], "ttl": 60.0, "records": ["203.0.113.20"],
         "healthCheckId": UNKNOWN},
        {"zoneId": [("aws:route53/zone:Zone", "zone")], "records": [("aws:ec2/eip:Eip", "entry-us")],
         "healthCheckId": [("aws:route53/healthCheck:HealthCheck", "us-ready")]}),
    # --- Azure --------------------------------------------------------------------------
    ("azure-native:resources:ResourceGroup", "rg-eu"): ({"location": "westeurope", "tags": TAGS}, {}),
    ("azure-native:network:VirtualNetwork", "vnet"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS,
         "addressSpace": {"addressPrefixes": ["10.72.0.0/16"]}}, {}),
    ("azure-native:network:NetworkSecurityGroup", "nsg"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS, "securityRules": [
            {"name": "https", "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "priority": 100.0,
             "sourceAddressPrefix": "Internet", "destinationPortRange": "443", "destinationAddressPrefix": "*",
             "sourcePortRange": "*"},
            {"name": "vnet", "direction": "Inbound", "access": "Allow", "protocol": "*", "priority": 200.0,
             "sourceAddressPrefix": "VirtualNetwork", "destinationPortRange": "*", "destinationAddressPrefix": "*",
             "sourcePortRange": "*"},
            {"name": "deny-all", "direction": "Inbound", "access": "Deny", "protocol": "*", "priority": 4000.0,
             "sourceAddressPrefix": "*", "destinationPortRange": "*", "destinationAddressPrefix": "*",
             "sourcePortRange": "*"},
        ]}, {}),
    ("azure-native:containerregistry:Registry", "acr"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS, "sku": {"name": "Premium"},
         "adminUserEnabled": False, "anonymousPullEnabled": False}, {}),
    ("azure-native:keyvault:Vault", "kv"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS, "properties": {
            "tenantId": "t", "sku": {"family": "A", "name": "premium"}, "enableRbacAuthorization": True,
            "enablePurgeProtection": True, "enableSoftDelete": True, "softDeleteRetentionInDays": 90.0}}, {}),
    ("azure-native:keyvault:Key", "storage-key"): (
        {"resourceGroupName": "rg-eu", "vaultName": "kv", "tags": TAGS, "properties": {
            "kty": "RSA-HSM", "keySize": 4096.0, "rotationPolicy": {
                "attributes": {"expiryTime": "P2Y"},
                "lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                                    {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}]}}}, {}),
    ("azure-native:storage:StorageAccount", "models-we"): (
        {"accountName": "modelswe", "location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS,
         "kind": "StorageV2", "sku": {"name": "Standard_ZRS"}, "allowBlobPublicAccess": False,
         "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2",
         "encryption": {"keySource": "Microsoft.Keyvault",
                        "keyVaultProperties": {"keyName": "storage-key", "keyVaultUri": "https://kv.vault.azure.net/"}}},
        {}),
    ("azure-native:storage:StorageAccount", "models-ne"): (
        {"accountName": "modelsne", "location": "North Europe", "resourceGroupName": "rg-eu", "tags": TAGS,
         "kind": "StorageV2", "sku": {"name": "Standard_ZRS"}, "allowBlobPublicAccess": False,
         "minimumTlsVersion": "TLS1_2",
         "encryption": {"keySource": "Microsoft.Keyvault",
                        "keyVaultProperties": {"keyName": "storage-key", "keyVaultUri": "https://kv.vault.azure.net/"}}},
        {}),
    ("azure-native:storage:BlobContainer", "models"): (
        {"accountName": "modelswe", "resourceGroupName": "rg-eu", "publicAccess": "None"}, {}),
    ("azure-native:storage:ObjectReplicationPolicy", "we-to-ne"): (
        {"accountName": "modelsne", "resourceGroupName": "rg-eu", "sourceAccount": f"{AZ_RG}/storageAccounts/modelswe",
         "destinationAccount": "modelsne", "rules": [{"sourceContainer": "models", "destinationContainer": "models"}]},
        {}),
    ("azure-native:network:VirtualNetworkGateway", "vpngw"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS, "gatewayType": "Vpn",
         "vpnType": "RouteBased", "activeActive": True, "enableBgp": True}, {}),
    ("azure-native:network:VirtualNetworkGatewayConnection", "to-aws-0"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS, "connectionType": "IPsec",
         "connectionProtocol": "IKEv2", "sharedKey": "[secret]", "enableBgp": True,
         "ipsecPolicies": [{"ikeEncryption": "GCMAES256", "ikeIntegrity": "SHA384", "dhGroup": "ECP384",
                            "ipsecEncryption": "GCMAES256", "ipsecIntegrity": "GCMAES256", "pfsGroup": "ECP384",
                            "saDataSizeKilobytes": 102400000.0, "saLifeTimeSeconds": 3600.0}]}, {}),
    ("azure-native:containerservice:ManagedCluster", "aks"): (
        {"location": "westeurope", "resourceGroupName": "rg-eu", "tags": TAGS,
         "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"]},
         "securityProfile": {"azureKeyVaultKms": {"enabled": True, "keyId": "https://kv.vault.azure.net/keys/k/1",
                                                  "keyVaultNetworkAccess": "Public"}},
         "agentPoolProfiles": [
             {"name": "system", "mode": "System", "vmSize": "Standard_D4ds_v5", "count": 2.0},
             {"name": "gpuinline", "mode": "User", "vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": True,
              "minCount": 0.0, "maxCount": 2.0},
         ]}, {}),
    ("azure-native:containerservice:AgentPool", "gpu"): (
        {"resourceGroupName": "rg-eu", "resourceName": "aks", "tags": TAGS, "vmSize": "Standard_NC24ads_A100_v4",
         "enableAutoScaling": True, "minCount": 0.0, "maxCount": 4.0,
         "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"]}, {}),
    # --- GCP ----------------------------------------------------------------------------
    ("gcp:storage/bucket:Bucket", "models-ew4"): (
        {"name": "models-ew4", "location": "EUROPE-WEST4", "labels": TAGS, "uniformBucketLevelAccess": True,
         "publicAccessPrevention": "enforced",
         "encryption": {"defaultKmsKeyName": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k"}},
        {}),
    ("gcp:storage/bucket:Bucket", "models-ew1"): (
        {"name": "models-ew1", "location": "europe-west1", "labels": TAGS, "uniformBucketLevelAccess": True,
         "publicAccessPrevention": "enforced",
         "encryption": {"defaultKmsKeyName": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"}},
        {}),
    ("gcp:kms/keyRing:KeyRing", "ring-ew4"): ({"location": "europe-west4", "name": "ring"}, {}),
    ("gcp:artifactregistry/repository:Repository", "inference-ew4"): (
        {"location": "europe-west4", "repositoryId": "lepton-test", "format": "DOCKER", "labels": TAGS,
         "kmsKeyName": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k",
         "dockerConfig": {"immutableTags": True}}, {}),
    ("gcp:kms/cryptoKey:CryptoKey", "key-ew4"): (
        {"keyRing": "projects/p/locations/europe-west4/keyRings/ring", "rotationPeriod": "7776000s", "labels": TAGS}, {}),
    ("gcp:compute/network:Network", "vpc"): ({"autoCreateSubnetworks": False, "routingMode": "GLOBAL"}, {}),
    ("gcp:compute/subnetwork:Subnetwork", "europe-west4"): ({"ipCidrRange": "10.80.0.0/16", "region": "europe-west4"}, {}),
    ("gcp:compute/firewall:Firewall", "https"): (
        {"network": "vpc", "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"],
         "allows": [{"protocol": "tcp", "ports": ["443"]}]}, {}),
    ("gcp:compute/vPNTunnel:VPNTunnel", "to-aws-0"): (
        {"region": "europe-west4", "ikeVersion": 2.0, "sharedSecret": "[secret]", "labels": TAGS,
         "vpnGatewayInterface": 0.0}, {}),
    ("gcp:container/cluster:Cluster", "gke"): (
        {"location": "europe-west4", "resourceLabels": TAGS,
         "databaseEncryption": {"state": "ENCRYPTED", "keyName": "projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k"},
         "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": False},
         "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "ops"}]}},
        {}),
    ("gcp:container/nodePool:NodePool", "gpu"): (
        {"cluster": "gke", "location": "europe-west4-a",
         "autoscaling": {"totalMinNodeCount": 0.0, "totalMaxNodeCount": 4.0, "locationPolicy": "ANY"},
         "nodeConfig": {"machineType": "g2-standard-8",
                        "guestAccelerators": [{"type": "nvidia-l4", "count": 1.0}]}}, {}),
    ("gcp:storage/transferJob:TransferJob", "ew4-to-ew1"): (
        {"description": "models", "transferSpec": {"gcsDataSource": {"bucketName": "models-ew4"},
                                                   "gcsDataSink": {"bucketName": "models-ew1"}}},
        {"transferSpec": [("gcp:storage/bucket:Bucket", "models-ew4"), ("gcp:storage/bucket:Bucket", "models-ew1")]}),
    # --- Kubernetes ---------------------------------------------------------------------
    ("kubernetes:apps/v1:Deployment", "triton"): (
        {"metadata": {"name": "triton"}, "spec": {"replicas": 2.0, "template": {"spec": _pod_spec()}}}, {}),
    ("kubernetes:apps/v1:DaemonSet", "dcgm"): (
        {"metadata": {"name": "dcgm"}, "spec": {"template": {"spec": _pod_spec()}}}, {}),
    ("kubernetes:core/v1:Pod", "smoke"): ({"metadata": {"name": "smoke"}, "spec": _pod_spec()}, {}),
    ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "triton"): (
        {"metadata": {"name": "triton"}, "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "triton"},
            "minReplicas": 1.0, "maxReplicas": 8.0,
            "metrics": [{"type": "Pods", "pods": {"metric": {"name": "triton_queue_time_per_request_us"},
                                                  "target": {"type": "AverageValue", "averageValue": "10000"}}}]}},
        {}),
    # A model sync job in an EU cluster, copying from the EU source.
    ("kubernetes:batch/v1:CronJob", "model-sync"): (
        {"metadata": {"name": "model-sync", "namespace": "model-sync",
                      "labels": {"app.kubernetes.io/component": "model-replication"},
                      "annotations": {SYNC_SOURCE: "gcp:europe-west4", SYNC_DESTINATION: "aws:eu-central-1"}},
         "spec": {"schedule": "*/15 * * * *", "jobTemplate": {"spec": {"template": {"spec": _sync_pod_spec()}}}}},
        {}),
}


def cloud(type_: str) -> str:
    return {"azure-native": "azure"}.get(type_.split(":")[0], type_.split(":")[0])


def entry(type_: str, name: str, inputs: dict[str, Any], deps: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    ptype, pname, _ = PROVIDERS[cloud(type_)]
    property_dependencies = {k: [urn(*d) for d in v] for k, v in deps.items()}
    return {
        "urn": urn(type_, name), "type": type_, "name": name, "custom": True, "parent": None,
        "provider": urn(ptype, pname), "cloud": cloud(type_), "region": None, "inputs": copy.deepcopy(inputs),
        "dependencies": sorted({u for v in property_dependencies.values() for u in v}),
        "property_dependencies": property_dependencies, "protect": False,
    }


def compliant_plan() -> dict[str, Any]:
    providers = [
        {"urn": urn(t, n), "type": t, "name": n, "custom": True, "parent": None, "provider": None,
         "cloud": c, "region": None, "inputs": dict(inputs), "dependencies": [], "property_dependencies": {},
         "protect": False}
        for c, (t, n, inputs) in PROVIDERS.items()
    ]
    resources = [entry(t, n, inputs, deps) for (t, n), (inputs, deps) in COMPLIANT.items()]
    return {"project": "multicloud-inference", "stack": "test", "resources": providers + resources,
            "outputs": {}, "policies": {"pack": None, "violations": []}}


def set_path(value: Any, path: str, new: Any) -> None:
    """Set (or, with DELETE, remove) `a.b.0.c` in nested dicts/lists."""
    *parents, last = path.split(".")
    for part in parents:
        value = value[int(part)] if isinstance(value, list) else value.setdefault(part, {})
    key: Any = int(last) if isinstance(value, list) else last
    if new is DELETE:
        del value[key]
    else:
        value[key] = new


def find(plan: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["type"] == type_ and r["name"] == name)


def engine_inputs(value: Any) -> Any:
    """Plan values as the engine sends them to a policy pack: the plan's unknown marker becomes the
    engine's unknown sentinel string."""
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    if value == "[unknown]":
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {k: engine_inputs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_inputs(v) for v in value]
    return value
