"""What makes the first `pulumi up` come up clean, pinned in the plan (inputs and dependency
closures), not only in the code: AWS zones by ID and NAT after the internet gateway, the Azure
CMK grant before the storage account, one write at a time per Azure VNet, storage reached only
through a private endpoint, AKS KMS following the key's rotation, and the GKE node role."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from offline.engine import INVOKES
from planning.regions import AWS_ZONE_IDS, EKS_UNSUPPORTED_ZONE_IDS, aws_zone_ids
from tests.planview import PlanView

PREFIX = "multicloud-inference:index:"
AZURE_REGIONS = ["westeurope", "northeurope", "eastus2"]


def component(plan: PlanView, type_: str, name: str) -> dict:
    return plan.one(PREFIX + type_, name)


def below(plan: PlanView, parent: dict, type_: str) -> list[dict]:
    return [r for r in plan.children(parent["urn"]) if r["type"] == type_]


def only(resources: list[dict]) -> dict:
    assert len(resources) == 1, [r["name"] for r in resources]
    return resources[0]


# --- 1. AWS zones by zone ID --------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "eu-west-1"])
def test_aws_subnets_are_placed_by_zone_id_from_the_regions_table(prod_plan, region):
    lz = component(prod_plan, "AwsLandingZone", f"aws-{region}")
    subnets = below(prod_plan, lz, "aws:ec2/subnet:Subnet")
    zones = aws_zone_ids(region, 3)
    for kind in ("private", "public"):
        placed = sorted((s["name"], s["inputs"]["availabilityZoneId"]) for s in subnets if f"-{kind}-" in s["name"])
        assert placed == sorted((f"aws-{region}-{kind}-{z.split('-')[1]}", z) for z in zones)
    assert all("availabilityZone" not in s["inputs"] for s in subnets), "zone names differ per account"


def test_no_aws_subnet_anywhere_lands_in_a_zone_eks_cannot_use(prod_plan, dev_plan):
    for plan in (prod_plan, dev_plan):
        for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
            zone = subnet["inputs"]["availabilityZoneId"]
            assert zone not in EKS_UNSUPPORTED_ZONE_IDS and zone in AWS_ZONE_IDS[subnet["region"]]


# --- 2. NAT gateways after the internet gateway -----------------------------------------------


def test_nat_gateways_and_their_addresses_wait_for_their_vpcs_internet_gateway(prod_plan):
    nats = prod_plan.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 9
    for nat in nats:
        vpc_component = prod_plan.by_urn[nat["parent"]]
        (igw,) = below(prod_plan, vpc_component, "aws:ec2/internetGateway:InternetGateway")
        (eip,) = nat["property_dependencies"]["allocationId"]
        assert igw["urn"] in nat["dependencies"] and igw["urn"] in prod_plan.by_urn[eip]["dependencies"]


# --- 3. the CMK-encrypted storage account waits for its identity's grant on the key -------------


@pytest.mark.parametrize("region", AZURE_REGIONS)
def test_storage_identity_is_granted_on_the_key_and_the_account_waits_for_it_to_propagate(prod_plan, region):
    lz = component(prod_plan, "AzureLandingZone", f"azure-{region}")
    account = only(below(prod_plan, lz, "azure-native:storage:StorageAccount"))
    key = only(below(prod_plan, lz, "azure-native:keyvault:Key"))
    grant = prod_plan.one("azure-native:authorization:RoleAssignment", f"azure-{region}-storage-key")
    # Scoped to the key itself (not the whole vault), with the role that wraps and unwraps data keys.
    assert grant["property_dependencies"]["scope"] == [key["urn"]]
    assert grant["inputs"]["roleDefinitionId"].endswith("/e147488a-f6f5-4113-8e2d-b22465e65bf6")
    # The grantee is the identity the account encrypts with.
    (identity,) = grant["property_dependencies"]["principalId"]
    assert account["property_dependencies"]["identity"] == [identity]
    assert set(account["property_dependencies"]["encryption"]) >= {identity, key["urn"]}
    # The account waits for the grant and then for its propagation.
    sleep = only([r for r in prod_plan.of_type("time:index/sleep:Sleep") if r["parent"] == lz["urn"]])
    assert sleep["dependencies"] == [grant["urn"]] and sleep["inputs"]["createDuration"] == "120s"
    assert sleep["urn"] in account["dependencies"] and prod_plan.depends_on(account["urn"], grant["urn"])
    assert prod_plan.by_urn[sleep["provider"]]["type"] == "pulumi:providers:time"


# --- 4. one write at a time per Azure VNet --------------------------------------------------------


def vnet_writers(plan: PlanView, vnet: dict) -> list[dict]:
    """Everything that writes to `vnet`: its subnets, whatever joins or takes one of them (private
    endpoints, the VPN gateway), and the peerings on either side."""
    subnets = {
        r["urn"] for r in plan.of_type("azure-native:network:Subnet")
        if r["property_dependencies"]["virtualNetworkName"] == [vnet["urn"]]
    }
    writers = [r for r in plan.resources if r["urn"] in subnets]
    writers += [
        r for r in plan.of_type("azure-native:network:PrivateEndpoint") if set(r["property_dependencies"]["subnet"]) & subnets
    ]
    writers += [
        r for r in plan.of_type("azure-native:network:VirtualNetworkGateway")
        if set(r["property_dependencies"]["ipConfigurations"]) & subnets
    ]
    writers += [
        r for r in plan.of_type("azure-native:network:VirtualNetworkPeering")
        if vnet["urn"] in r["property_dependencies"]["virtualNetworkName"] + r["property_dependencies"]["remoteVirtualNetwork"]
    ]
    return writers


# Writers per VNet: its subnets, the storage and registry private endpoints, the AKS API server
# subnet, the peerings (and the hub's gateway).
@pytest.mark.parametrize(("region", "count"), [("westeurope", 11), ("northeurope", 7), ("eastus2", 7)])
def test_every_write_to_a_vnet_waits_for_every_other(prod_plan, region, count):
    """Any two writers of one VNet are ordered: one depends, directly or not, on the other."""
    vnet = prod_plan.one("azure-native:network:VirtualNetwork", f"azure-{region}-vnet")
    writers = vnet_writers(prod_plan, vnet)
    kinds = sorted({w["type"].rsplit(":", 1)[1] for w in writers})
    expected = {"PrivateEndpoint", "Subnet", "VirtualNetworkPeering"}
    if region == "westeurope":
        expected.add("VirtualNetworkGateway")
    assert (len(writers), kinds) == (count, sorted(expected))
    for a, b in combinations(writers, 2):
        assert prod_plan.depends_on(a["urn"], b["urn"]) or prod_plan.depends_on(b["urn"], a["urn"]), (a["name"], b["name"])


def test_the_aks_api_server_subnet_and_the_hub_gateway_take_their_turn(prod_plan):
    api = prod_plan.one("azure-native:network:Subnet", "azure-westeurope-apiserver")
    endpoint = prod_plan.one("azure-native:network:PrivateEndpoint", "azure-westeurope-models-blob")
    gateway = only(prod_plan.of_type("azure-native:network:VirtualNetworkGateway"))
    assert prod_plan.depends_on(api["urn"], endpoint["urn"]) and api["urn"] in gateway["dependencies"]


# --- 5. storage reachable only through a private endpoint -----------------------------------------


@pytest.mark.parametrize("region", AZURE_REGIONS)
def test_storage_has_no_public_network_access_and_a_private_endpoint_in_its_regions_vnet(prod_plan, region):
    lz = component(prod_plan, "AzureLandingZone", f"azure-{region}")
    account = only(below(prod_plan, lz, "azure-native:storage:StorageAccount"))
    assert account["inputs"]["publicNetworkAccess"] == "Disabled"
    assert account["inputs"]["networkRuleSet"]["defaultAction"] == "Deny"
    vnet = only(below(prod_plan, lz, "azure-native:network:VirtualNetwork"))
    endpoints_subnet = prod_plan.one("azure-native:network:Subnet", f"azure-{region}-endpoints")
    endpoint = only(below(prod_plan, lz, "azure-native:network:PrivateEndpoint"))
    assert endpoint["property_dependencies"]["subnet"] == [endpoints_subnet["urn"]]
    assert endpoints_subnet["property_dependencies"]["virtualNetworkName"] == [vnet["urn"]]
    assert endpoint["region"] == region
    (connection,) = endpoint["inputs"]["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["blob"]
    assert endpoint["property_dependencies"]["privateLinkServiceConnections"] == [account["urn"]]

    zone = only(below(prod_plan, lz, "azure-native:privatedns:PrivateZone"))
    assert zone["inputs"]["privateZoneName"] == "privatelink.blob.core.windows.net"
    assert zone["inputs"]["location"] == "global" and "residency-zone" not in zone["inputs"]["tags"]
    link = only(below(prod_plan, lz, "azure-native:privatedns:VirtualNetworkLink"))
    assert link["property_dependencies"]["virtualNetwork"] == [vnet["urn"]]
    assert link["property_dependencies"]["privateZoneName"] == [zone["urn"]]
    assert link["inputs"]["registrationEnabled"] is False
    group = only(below(prod_plan, lz, "azure-native:network:PrivateDnsZoneGroup"))
    assert group["property_dependencies"]["privateEndpointName"] == [endpoint["urn"]]
    assert group["property_dependencies"]["privateDnsZoneConfigs"] == [zone["urn"]]
    # Containers are management-plane (ARM) resources: they stay, and the inference identity's
    # read grant still targets the container.
    container = only(below(prod_plan, lz, "azure-native:storage:BlobContainer"))
    reader = prod_plan.one("azure-native:authorization:RoleAssignment", f"azure-{region}-inference-models")
    assert reader["property_dependencies"]["scope"] == [container["urn"]]


# --- 6. AKS KMS follows the key's rotation ---------------------------------------------------------


@pytest.mark.parametrize("region", AZURE_REGIONS)
def test_aks_kms_uses_the_keys_current_version_read_on_every_run(prod_plan, region):
    lz = component(prod_plan, "AzureLandingZone", f"azure-{region}")
    key = only(below(prod_plan, lz, "azure-native:keyvault:Key"))
    vault = only(below(prod_plan, lz, "azure-native:keyvault:Vault"))
    cluster = prod_plan.one("azure-native:containerservice:ManagedCluster", f"azure-{region}")
    kms = cluster["inputs"]["securityProfile"]["azureKeyVaultKms"]
    # The offline engine answers the key lookup with a version other than the one the key was
    # created with, as after a rotation: the cluster must carry the current one.
    current = INVOKES["azure-native:keyvault:getKey"]({"vaultName": vault["inputs"]["vaultName"], "keyName": "models"})
    assert kms["keyId"] == current["keyUriWithVersion"]
    assert re.fullmatch(rf"https://{vault['inputs']['vaultName']}\.vault\.azure\.net/keys/models/[0-9a-f]{{32}}", kms["keyId"])
    # The lookup waits for the key (no version exists before it).
    assert key["urn"] in cluster["property_dependencies"]["securityProfile"]


def test_key_versions_outlive_the_next_rotation(prod_plan):
    """AKS KMS decrypts with the previous version until the next rotation: a version must stay
    valid for two rotation periods."""
    for key in prod_plan.of_type("azure-native:keyvault:Key"):
        policy = key["inputs"]["properties"]["rotationPolicy"]
        rotate = next(a for a in policy["lifetimeActions"] if a["action"]["type"] == "rotate")
        days_between_rotations = int(re.fullmatch(r"P(\d+)D", rotate["trigger"]["timeAfterCreate"])[1])
        expiry_days = 365 * int(re.fullmatch(r"P(\d+)Y", policy["attributes"]["expiryTime"])[1])
        assert expiry_days > 2 * days_between_rotations


# --- 7. GKE nodes get the default node service account role -------------------------------------


@pytest.mark.parametrize("region", ["europe-west4", "europe-west1", "us-central1"])
def test_gke_node_service_account_has_the_default_node_role_before_the_cluster(prod_plan, region):
    gke = component(prod_plan, "GkeCluster", f"gcp-{region}")
    nodes_account = prod_plan.one("gcp:serviceaccount/account:Account", f"gcp-{region}-nodes")
    roles = below(prod_plan, gke, "gcp:projects/iAMMember:IAMMember")
    (role,) = [r for r in roles if r["inputs"]["role"] == "roles/container.defaultNodeServiceAccount"]
    email = f"{nodes_account['inputs']['accountId']}@lepton-prod-inference.iam.gserviceaccount.com"
    assert role["inputs"]["member"] == f"serviceAccount:{email}"
    assert role["property_dependencies"]["member"] == [nodes_account["urn"]]
    cluster = only(below(prod_plan, gke, "gcp:container/cluster:Cluster"))
    assert role["urn"] in cluster["dependencies"]
    for pool in below(prod_plan, gke, "gcp:container/nodePool:NodePool"):
        assert prod_plan.depends_on(pool["urn"], role["urn"])
