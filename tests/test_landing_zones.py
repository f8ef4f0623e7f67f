"""Landing zones under the mock engine: what exists per region, with which inputs, wired to what."""

from __future__ import annotations

import json

import pytest

from offline.plan import sdk_accepts
from planning.regions import KNOWN_REGIONS, region_key
from settings import load_settings
from tests.planview import PlanView, plan_for_config, stack_platform_config

PREFIX = "multicloud-inference:index:"
NETWORK, KEY, BUCKET = "network", "key", "bucket"
CORE_TYPES = {
    "aws": {NETWORK: "aws:ec2/vpc:Vpc", KEY: "aws:kms/key:Key", BUCKET: "aws:s3/bucket:Bucket"},
    "azure": {
        NETWORK: "azure-native:network:VirtualNetwork",
        KEY: "azure-native:keyvault:Key",
        BUCKET: "azure-native:storage:StorageAccount",
    },
    "gcp": {
        NETWORK: "gcp:compute/subnetwork:Subnetwork",
        KEY: "gcp:kms/cryptoKey:CryptoKey",
        BUCKET: "gcp:storage/bucket:Bucket",
    },
}
# The resource that says which key encrypts a region's bucket, and the input that says so.
ENCRYPTION_WIRING = {
    "aws": ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "rules"),
    "azure": ("azure-native:storage:StorageAccount", "encryption"),
    "gcp": ("gcp:storage/bucket:Bucket", "encryption"),
}


def landing_zone(plan: PlanView, cloud: str, region: str) -> list[dict]:
    component = next(
        r for r in plan.resources if not r["custom"] and r["name"] == f"{cloud}-{region}" and "LandingZone" in r["type"]
    )
    return plan.children(component["urn"])


def key_region(plan: PlanView, key: dict) -> str:
    """A key's region: its own, or that of the vault or key ring holding it (the engine has no
    location on Azure keys and GCP crypto keys)."""
    if key["region"]:
        return key["region"]
    holder_input = {"azure-native:keyvault:Key": "vaultName", "gcp:kms/cryptoKey:CryptoKey": "keyRing"}[key["type"]]
    (holder,) = key["property_dependencies"][holder_input]
    return plan.by_urn[holder]["region"]


def home_region(plan: PlanView, resource: dict) -> str | None:
    """The region whose name (`<cloud>-<region>`) the resource, or a component holding it, carries
    (landing zones, clusters, serving, a region's registry), else the resource's own region."""
    node: dict | None = resource
    while node is not None:
        for cloud, regions in KNOWN_REGIONS.items():
            for region in regions:
                name = node["name"]
                if f"{cloud}-{region}" in name and not name.split(f"{cloud}-{region}", 1)[1][:1].isalnum():
                    return region
        node = plan.by_urn.get(node["parent"])
    return resource["region"]


def prod_regions():
    settings = load_settings(stack_platform_config("prod"))
    return [(cloud, region.name) for cloud, region in settings.regions()]


@pytest.mark.parametrize("cloud,region", prod_regions(), ids=lambda v: str(v))
def test_every_region_has_network_key_and_bucket_encrypted_with_its_own_key(prod_plan, cloud, region):
    children = landing_zone(prod_plan, cloud, region)
    by_role = {role: [r for r in children if r["type"] == t] for role, t in CORE_TYPES[cloud].items()}
    assert {role: len(found) for role, found in by_role.items()} == {NETWORK: 1, KEY: 1, BUCKET: 1}
    assert by_role[NETWORK][0]["region"] == by_role[BUCKET][0]["region"] == region
    assert key_region(prod_plan, by_role[KEY][0]) == region

    key_urn = by_role[KEY][0]["urn"]
    wiring_type, wiring_input = ENCRYPTION_WIRING[cloud]
    wiring = [r for r in children if r["type"] == wiring_type]
    assert len(wiring) == 1
    assert key_urn in wiring[0]["property_dependencies"][wiring_input]
    other_keys = {r["urn"] for r in prod_plan.of_type(CORE_TYPES[cloud][KEY])} - {key_urn}
    assert not other_keys & set(wiring[0]["dependencies"])


def test_region_networks_use_the_address_plan(prod_plan):
    cidrs = load_settings(stack_platform_config("prod")).region_cidrs
    for vpc in prod_plan.of_type("aws:ec2/vpc:Vpc"):
        assert vpc["inputs"]["cidrBlock"] == str(cidrs[region_key("aws", vpc["region"])])
    for vnet in prod_plan.of_type("azure-native:network:VirtualNetwork"):
        vnet_space = vnet["inputs"]["addressSpace"]["addressPrefixes"][0]
        assert vnet_space.split("/")[0] == str(cidrs[region_key("azure", vnet["region"])].network_address)
    for subnet in prod_plan.of_type("gcp:compute/subnetwork:Subnetwork"):
        region_cidr = cidrs[region_key("gcp", subnet["region"])]
        ranges = [subnet["inputs"]["ipCidrRange"]] + [r["ipCidrRange"] for r in subnet["inputs"]["secondaryIpRanges"]]
        assert all(r.startswith(str(region_cidr.network_address)[:5]) for r in ranges)


def test_aws_region_has_private_subnets_in_each_zone_behind_its_own_nat(prod_plan):
    children = landing_zone(prod_plan, "aws", "eu-central-1")
    subnets = [r for r in children if r["type"] == "aws:ec2/subnet:Subnet"]
    private = [s for s in subnets if "private" in s["name"]]
    assert sorted(s["inputs"]["availabilityZoneId"] for s in private) == ["euc1-az1", "euc1-az2", "euc1-az3"]
    assert not any(s["inputs"].get("mapPublicIpOnLaunch") for s in subnets)
    nats = [r for r in children if r["type"] == "aws:ec2/natGateway:NatGateway"]
    assert len(nats) == 3
    # Egress routes are standalone resources: the VPN mesh adds its own route to these tables.
    egress = [r for r in children if r["type"] == "aws:ec2/route:Route" and r["inputs"]["destinationCidrBlock"] == "0.0.0.0/0"]
    assert sorted(r["property_dependencies"]["natGatewayId"][0] for r in egress) == sorted(n["urn"] for n in nats)


def test_aws_key_and_bucket_are_hardened(prod_plan):
    children = landing_zone(prod_plan, "aws", "us-east-1")
    of = lambda t: next(r for r in children if r["type"] == t)  # noqa: E731
    key = of("aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True and key["protect"]
    assert of("aws:s3/bucket:Bucket")["protect"]
    block = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert all(block[f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert of("aws:s3/bucketVersioning:BucketVersioning")["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    sse = of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    policy = json.loads(of("aws:s3/bucketPolicy:BucketPolicy")["inputs"]["policy"])
    conditions = [s["Condition"] for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions


def test_azure_vault_key_and_storage_are_hardened(prod_plan):
    children = landing_zone(prod_plan, "azure", "westeurope")
    of = lambda t: next(r for r in children if r["type"] == t)  # noqa: E731
    vault = of("azure-native:keyvault:Vault")
    assert vault["inputs"]["properties"]["enableRbacAuthorization"] is True
    assert vault["inputs"]["properties"]["enablePurgeProtection"] is True
    assert vault["inputs"]["properties"]["networkAcls"]["defaultAction"] == "Deny"
    key = of("azure-native:keyvault:Key")
    actions = [a["action"]["type"] for a in key["inputs"]["properties"]["rotationPolicy"]["lifetimeActions"]]
    assert "rotate" in actions
    account = of("azure-native:storage:StorageAccount")
    inputs = account["inputs"]
    assert inputs["allowBlobPublicAccess"] is False and inputs["minimumTlsVersion"] == "TLS1_2"
    assert inputs["allowSharedKeyAccess"] is False and inputs["enableHttpsTrafficOnly"] is True
    assert inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    role = of("azure-native:authorization:RoleAssignment")
    assert prod_plan.depends_on(account["urn"], role["urn"]), "the account must wait until its identity may use the key"
    assert vault["protect"] and key["protect"] and account["protect"]


def test_only_the_azure_hub_has_a_gateway_subnet(prod_plan):
    subnets = prod_plan.of_type("azure-native:network:Subnet")
    gateway_subnets = [r for r in subnets if r["inputs"]["subnetName"] == "GatewaySubnet"]
    assert [r["name"] for r in gateway_subnets] == ["azure-westeurope-gatewaysubnet"]


def test_gcp_has_one_global_vpc_and_a_subnetwork_nat_key_and_bucket_per_region(prod_plan):
    networks = prod_plan.of_type("gcp:compute/network:Network")
    assert len(networks) == 1
    assert networks[0]["inputs"]["routingMode"] == "GLOBAL"
    assert networks[0]["inputs"]["autoCreateSubnetworks"] is False
    assert len(prod_plan.of_type("gcp:compute/routerNat:RouterNat")) == 3
    for bucket in prod_plan.of_type("gcp:storage/bucket:Bucket"):
        inputs = bucket["inputs"]
        assert inputs["uniformBucketLevelAccess"] is True and inputs["publicAccessPrevention"] == "enforced"
        assert inputs["location"] == bucket["region"].upper()
        agent_grant = next(
            r for r in prod_plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
            if r["urn"] in bucket["dependencies"]
        )
        assert agent_grant["inputs"]["member"].endswith("@gs-project-accounts.iam.gserviceaccount.com")
    for ring in prod_plan.of_type("gcp:kms/keyRing:KeyRing"):
        assert ring["inputs"]["location"] == ring["region"]
    for key in prod_plan.of_type("gcp:kms/cryptoKey:CryptoKey"):
        assert key["inputs"]["rotationPeriod"] == "7776000s"


def test_dev_protects_nothing(dev_plan):
    assert not [r["urn"] for r in dev_plan.resources if r["protect"]]


def test_prod_protects_exactly_keys_and_buckets(prod_plan):
    protected = {r["type"] for r in prod_plan.resources if r["protect"]}
    assert protected == {
        "aws:kms/key:Key", "aws:s3/bucket:Bucket",
        "azure-native:keyvault:Vault", "azure-native:keyvault:Key", "azure-native:storage:StorageAccount",
        "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey", "gcp:storage/bucket:Bucket",
    }


def test_every_resource_uses_an_explicit_provider(prod_plan):
    for r in prod_plan.custom():
        if r["type"].startswith("pulumi:providers:"):
            continue
        assert r["provider"] is not None, r["urn"]
        assert prod_plan.by_urn[r["provider"]]["type"].startswith("pulumi:providers:")


GLOBAL_TYPES = {"aws:iam/role:Role", "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:route53/zone:Zone",
                "aws:route53/healthCheck:HealthCheck", "azure-native:privatedns:PrivateZone",
                "azure-native:privatedns:VirtualNetworkLink"}
"""Taggable but located in no region, so in no residency zone."""


def test_every_taggable_resource_carries_the_common_tags(prod_plan):
    eu = set(stack_platform_config("prod")["residency_zones"]["eu"])
    checked = 0
    for r in prod_plan.custom():
        argument = "labels" if r["cloud"] == "gcp" else "tags"
        if not sdk_accepts(r["type"], argument):
            continue
        tags = r["inputs"].get(argument)
        assert tags, f"{r['urn']} takes {argument} but has none"
        assert {k: tags[k] for k in ("platform", "stack", "owner")} == {
            "platform": "lepton", "stack": "prod", "owner": "ml-platform"
        }, r["urn"]
        in_zone = r["type"] not in GLOBAL_TYPES and home_region(prod_plan, r) in eu
        assert tags.get("residency-zone") == ("eu" if in_zone else None), r["urn"]
        checked += 1
    assert checked > 50


def test_adding_removing_and_reordering_regions_leaves_every_other_resource_unchanged(prod_plan):
    """Remove the first AWS region, put a new one at the head of the AWS list, append a GCP region
    and reorder Azure's: every resource both plans have keeps its inputs (addresses included)."""
    config = stack_platform_config("prod")
    aws = config["clouds"]["aws"]["regions"]
    config["clouds"]["aws"]["regions"] = ["ap-northeast-1"] + [r for r in aws if r["name"] != "us-east-1"]
    config["clouds"]["gcp"]["regions"].append("asia-northeast1")
    config["clouds"]["azure"]["regions"].reverse()
    # us-east-1 was the source of the regions outside every zone: another takes its place.
    config["models"]["sources"]["default"] = "gcp:us-central1"
    changed_plan = plan_for_config(config, stack="prod")
    before = {r["urn"]: r for r in prod_plan.resources}
    after = {r["urn"]: r for r in changed_plan.resources}
    removed = {urn for urn in before if urn not in after}
    assert {home_region(prod_plan, before[urn]) for urn in removed if before[urn]["custom"]} <= {"us-east-1", "eu-central-1"}
    # Other regions' ingress rules must change: they admit the new regions' CIDRs, not the old one's.
    (ingress,) = changed_plan.of_type("multicloud-inference:index:PeerIngress")
    admits_other_regions = {r["urn"] for r in changed_plan.children(ingress["urn"])}
    # The outside-every-zone group's copies now start from its new source (each copy is pinned by
    # tests/test_replication.py); they sit below the replication component.
    replication = {r["urn"] for r in changed_plan.children(
        changed_plan.one("multicloud-inference:index:ModelReplication", "lepton-replication")["urn"])}
    changed = [
        urn for urn, r in before.items()
        if urn in after and r["inputs"] != after[urn]["inputs"] and urn not in admits_other_regions | replication
    ]
    # The one build's push targets follow the regions' registries; nothing deployed changes.
    assert [urn.rsplit("::", 1)[1] for urn in changed] == ["lepton-image-build"]
    # A new AWS spoke also adds its hub-side peering acceptance and return route, in the hub region.
    mesh = {r["urn"] for r in changed_plan.children(changed_plan.of_type(PREFIX + "VpnMesh")[0]["urn"])}
    new_regions = {
        home_region(changed_plan, r)
        for urn, r in after.items()
        if urn not in before and r["custom"] and urn not in mesh | admits_other_regions | replication
    }
    assert new_regions == {"ap-northeast-1", "asia-northeast1"}
    copies = changed_plan.plan["outputs"]["model_replication"]
    eu = [e for e in copies if e["from"] == "gcp:europe-west4" or e["to"] in ("aws:eu-west-1", "azure:northeurope")]
    assert eu == [e for e in prod_plan.plan["outputs"]["model_replication"] if e in eu] and len(eu) == 5
    assert {e["to"] for e in copies if e["from"] == "gcp:us-central1"} == {
        "aws:ap-northeast-1", "azure:eastus2", "gcp:asia-northeast1",
    }

