"""The VPN mesh under the mock engine: what exists per cloud pair and per hub, with which inputs,
how the clouds are wired to each other, and that nothing outside the mesh waits for it."""

from __future__ import annotations

import pytest

from planning.mesh import PAIR_TUNNELS, plan_mesh
from settings import ConfigError, load_settings
from tests.planview import PlanView, keep_serving_valid, plan_for_config, stack_platform_config

MESH = "multicloud-inference:index:VpnMesh"
LINK = "multicloud-inference:index:VpnLink"
INGRESS = "multicloud-inference:index:PeerIngress"
HUB_TYPES = {
    "aws": "multicloud-inference:index:AwsMeshHub",
    "azure": "multicloud-inference:index:AzureMeshHub",
    "gcp": "multicloud-inference:index:GcpMeshHub",
}
PSK = "random:index/randomPassword:RandomPassword"
AWS_CGW, AWS_VPN = "aws:ec2/customerGateway:CustomerGateway", "aws:ec2/vpnConnection:VpnConnection"
AZ_LNG, AZ_CONN = "azure-native:network:LocalNetworkGateway", "azure-native:network:VirtualNetworkGatewayConnection"
AZ_GW, AZ_PIP = "azure-native:network:VirtualNetworkGateway", "azure-native:network:PublicIPAddress"
GCP_EXT, GCP_TUNNEL = "gcp:compute/externalVpnGateway:ExternalVpnGateway", "gcp:compute/vPNTunnel:VPNTunnel"
GCP_IF, GCP_PEER = "gcp:compute/routerInterface:RouterInterface", "gcp:compute/routerPeer:RouterPeer"
GCP_HA, GCP_ROUTER = "gcp:compute/haVpnGateway:HaVpnGateway", "gcp:compute/router:Router"
TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
VPN_TYPES = {AWS_CGW, AWS_VPN, AZ_LNG, AZ_CONN, AZ_GW, GCP_EXT, GCP_TUNNEL, GCP_IF, GCP_PEER, GCP_HA, PSK}

# What one link between two hubs is made of, whatever the number of regions.
LINK_RESOURCES = {
    "aws-gcp": {PSK: 4, AWS_CGW: 2, AWS_VPN: 2, GCP_EXT: 1, GCP_TUNNEL: 4, GCP_IF: 4, GCP_PEER: 4},
    "aws-azure": {PSK: 4, AWS_CGW: 2, AWS_VPN: 2, AZ_LNG: 4, AZ_CONN: 4},
    "azure-gcp": {PSK: 2, AZ_LNG: 2, AZ_CONN: 2, GCP_EXT: 1, GCP_TUNNEL: 2, GCP_IF: 2, GCP_PEER: 2},
}
TUNNELS_OF = {AWS_VPN: 2, GCP_TUNNEL: 1, AZ_CONN: 1}


def component(plan: PlanView, type_: str, name: str | None = None) -> dict:
    matches = [r for r in plan.of_type(type_) if name is None or r["name"] == name]
    assert len(matches) == 1, f"expected one {type_} {name or ''}, found {len(matches)}"
    return matches[0]


def counts(resources: list[dict]) -> dict[str, int]:
    found: dict[str, int] = {}
    for r in resources:
        if r["custom"]:
            found[r["type"]] = found.get(r["type"], 0) + 1
    return found


def links(plan: PlanView) -> dict[str, dict]:
    return {r["name"].split("-mesh-", 1)[1]: r for r in plan.of_type(LINK)}


def tunnels_per_pair(plan: PlanView) -> dict[str, dict[str, int]]:
    """Per link, tunnels as each cloud counts them (AWS: 2 per VPN connection)."""
    result = {}
    for key, link in links(plan).items():
        below = plan.children(link["urn"])
        result[key] = {t: sum(1 for r in below if r["type"] == t) * n for t, n in TUNNELS_OF.items()
                       if any(r["type"] == t for r in below)}
    return result


def config_with(regions_per_cloud: int | None = None, clouds: tuple[str, ...] = ("aws", "azure", "gcp")) -> dict:
    config = stack_platform_config("prod")
    extra = {
        "aws": [{"name": "us-west-2", "zones": 2}],
        "azure": [{"name": "eastus", "gpu": {"type": "T4"}}],
        "gcp": ["us-east1"],
    }
    for cloud in list(config["clouds"]):
        if cloud not in clouds:
            del config["clouds"][cloud]
            continue
        spec = config["clouds"][cloud]
        if regions_per_cloud == 1:
            spec["regions"] = [r for r in spec["regions"] if (r if isinstance(r, str) else r["name"]) == spec["hub"]]
        elif regions_per_cloud == 4:
            spec["regions"] = spec["regions"] + extra[cloud]
    kept = {r if isinstance(r, str) else r["name"] for spec in config["clouds"].values() for r in spec["regions"]}
    config["residency_zones"] = {z: [r for r in m if r in kept] for z, m in config["residency_zones"].items()}
    return keep_serving_valid(config)


@pytest.fixture(scope="module")
def one_region() -> PlanView:
    return plan_for_config(config_with(1))


@pytest.fixture(scope="module")
def four_regions() -> PlanView:
    return plan_for_config(config_with(4))


@pytest.fixture(scope="module", params=[("aws", "gcp"), ("aws", "azure"), ("azure", "gcp")], ids="-".join)
def two_clouds(request) -> tuple[tuple[str, str], PlanView]:
    return request.param, plan_for_config(config_with(clouds=request.param))


# --- what exists -----------------------------------------------------------------------------


def test_prod_has_one_link_per_cloud_pair_with_the_pinned_resources(prod_plan):
    found = links(prod_plan)
    assert set(found) == set(LINK_RESOURCES)
    for key, link in found.items():
        assert counts(prod_plan.children(link["urn"])) == LINK_RESOURCES[key], key


def test_prod_tunnel_counts_per_pair(prod_plan):
    assert tunnels_per_pair(prod_plan) == {
        "aws-gcp": {AWS_VPN: 4, GCP_TUNNEL: 4},
        "aws-azure": {AWS_VPN: 4, AZ_CONN: 4},
        "azure-gcp": {AZ_CONN: 2, GCP_TUNNEL: 2},
    }


def test_prod_hubs_have_the_pinned_resources(prod_plan):
    aws = counts(prod_plan.children(component(prod_plan, HUB_TYPES["aws"])["urn"]))
    # 3 regions: a Transit Gateway and VPC attachment each, the platform route in each of the 3
    # private route tables of each VPC, 2 spokes peered to the hub with a route each way.
    assert aws == {
        TGW: 3,
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment": 3,
        "aws:ec2/route:Route": 9,
        "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": 2,
        "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": 2,
        "aws:ec2transitgateway/route:Route": 4,
    }
    azure = counts(prod_plan.children(component(prod_plan, HUB_TYPES["azure"])["urn"]))
    assert azure == {AZ_PIP: 2, AZ_GW: 1, "azure-native:network:VirtualNetworkPeering": 4}
    gcp = counts(prod_plan.children(component(prod_plan, HUB_TYPES["gcp"])["urn"]))
    assert gcp == {GCP_ROUTER: 1, GCP_HA: 1}


@pytest.mark.parametrize("variant", ["one_region", "four_regions"])
def test_tunnels_do_not_grow_with_regions(variant, prod_plan, request):
    plan = request.getfixturevalue(variant)
    assert tunnels_per_pair(plan) == tunnels_per_pair(prod_plan)
    for key, link in links(plan).items():
        assert counts(plan.children(link["urn"])) == LINK_RESOURCES[key]


def test_transit_gateways_follow_regions(one_region, four_regions):
    assert len(one_region.of_type(TGW)) == 1
    assert not one_region.of_type("aws:ec2transitgateway/peeringAttachment:PeeringAttachment")
    assert len(four_regions.of_type(TGW)) == 4
    assert len(four_regions.of_type("azure-native:network:VirtualNetworkPeering")) == 6


def test_any_two_clouds_get_exactly_their_link(two_clouds):
    pair, plan = two_clouds
    key = "-".join(pair)
    assert set(links(plan)) == {key}
    assert counts(plan.children(links(plan)[key]["urn"])) == LINK_RESOURCES[key]
    assert len(plan.of_type(PSK)) == PAIR_TUNNELS[pair]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_a_single_cloud_has_no_vpn_at_all(cloud):
    plan = plan_for_config(config_with(clouds=(cloud,)))
    assert not plan.of_type(LINK)
    assert not [r for r in plan.resources if r["type"] in VPN_TYPES or r["type"] == AZ_PIP and "vpngw" in r["name"]]
    assert not plan.of_type("pulumi:providers:random")


# --- with which inputs ---------------------------------------------------------------------


def test_every_pre_shared_key_is_a_secret_random_password(prod_plan):
    for psk in prod_plan.of_type(PSK):
        assert psk["inputs"]["special"] is False and psk["inputs"]["numeric"] is False
        assert psk["inputs"]["length"] >= 32
    for vpn in prod_plan.of_type(AWS_VPN):
        assert vpn["inputs"]["tunnel1PresharedKey"] == "[secret]"
        assert vpn["inputs"]["tunnel2PresharedKey"] == "[secret]"
    for tunnel in prod_plan.of_type(GCP_TUNNEL):
        assert tunnel["inputs"]["sharedSecret"] == "[secret]"
    for connection in prod_plan.of_type(AZ_CONN):
        assert connection["inputs"]["sharedKey"] == "[secret]"
    # And each key comes from the link's RandomPassword, not from anywhere else.
    for link in links(prod_plan).values():
        passwords = {r["urn"] for r in prod_plan.children(link["urn"]) if r["type"] == PSK}
        for r in prod_plan.children(link["urn"]):
            for prop in ("tunnel1PresharedKey", "tunnel2PresharedKey", "sharedSecret", "sharedKey"):
                if prop in r["inputs"]:
                    assert set(r["property_dependencies"][prop]) <= passwords and r["property_dependencies"][prop]


def test_ikev2_and_strong_algorithms_everywhere(prod_plan):
    for vpn in prod_plan.of_type(AWS_VPN):
        for n in (1, 2):
            i = vpn["inputs"]
            assert i[f"tunnel{n}IkeVersions"] == ["ikev2"]
            for phase in (1, 2):
                assert all(a.startswith("AES256") for a in i[f"tunnel{n}Phase{phase}EncryptionAlgorithms"])
                assert all(a.startswith("SHA2-") for a in i[f"tunnel{n}Phase{phase}IntegrityAlgorithms"])
                assert min(i[f"tunnel{n}Phase{phase}DhGroupNumbers"]) >= 14
    for connection in prod_plan.of_type(AZ_CONN):
        assert connection["inputs"]["connectionProtocol"] == "IKEv2"
        assert connection["inputs"]["enableBgp"] is True
        [policy] = connection["inputs"]["ipsecPolicies"]
        assert policy["ipsecEncryption"] == "GCMAES256" and policy["ikeEncryption"] == "AES256"
        assert policy["ikeIntegrity"] == "SHA256" and policy["dhGroup"] == "DHGroup14"
        assert policy["pfsGroup"] == "PFS2048"
    for tunnel in prod_plan.of_type(GCP_TUNNEL):
        assert tunnel["inputs"]["ikeVersion"] == 2
        assert tunnel["inputs"]["cipherSuite"]["phase1"]["dhs"] == ["Group-14"]
        assert tunnel["inputs"]["cipherSuite"]["phase2"]["encryptions"] == ["AES-GCM-16-256"]
    [gateway] = prod_plan.of_type(AZ_GW)
    assert gateway["inputs"]["activeActive"] is True and gateway["inputs"]["enableBgp"] is True
    assert gateway["inputs"]["sku"]["name"].endswith("AZ")


def test_bgp_and_inside_addresses_follow_the_plan(prod_plan):
    plan = plan_mesh(["aws", "azure", "gcp"], ["us-east-1", "eu-central-1", "eu-west-1"], "us-east-1")
    by_pair = {link.key: link for link in plan.links}
    aws_inside = sorted(
        v["inputs"][f"tunnel{n}InsideCidr"] for v in prod_plan.of_type(AWS_VPN) for n in (1, 2)
    )
    assert aws_inside == sorted(str(t.inside_cidr) for k in ("aws-gcp", "aws-azure") for t in by_pair[k].tunnels)
    peers = {p["inputs"]["peerIpAddress"]: p["inputs"]["peerAsn"] for p in prod_plan.of_type(GCP_PEER)}
    for key in ("aws-gcp", "azure-gcp"):
        for t in by_pair[key].tunnels:
            assert peers[str(t.far_end("gcp").address)] == plan.hub_asns[t.far_end("gcp").cloud]
    [gateway] = prod_plan.of_type(AZ_GW)
    settings = gateway["inputs"]["bgpSettings"]
    assert settings["asn"] == plan.hub_asns["azure"]
    custom = sorted(a for p in settings["bgpPeeringAddresses"] for a in p["customBgpIpAddresses"])
    assert custom == sorted(
        str(t.end("azure").address) for k in ("aws-azure", "azure-gcp") for t in by_pair[k].tunnels
    )
    lng_peers = sorted(g["inputs"]["bgpSettings"]["bgpPeeringAddress"] for g in prod_plan.of_type(AZ_LNG))
    assert lng_peers == sorted(
        str(t.far_end("azure").address) for k in ("aws-azure", "azure-gcp") for t in by_pair[k].tunnels
    )


def test_each_side_points_at_the_other_sides_addresses(prod_plan):
    """GCP's external gateway lists AWS's four tunnel addresses, AWS's customer gateways are GCP's
    two HA VPN interfaces, and Azure's local gateways are the peers' outside addresses."""
    link = links(prod_plan)["aws-gcp"]
    below = prod_plan.children(link["urn"])
    external = next(r for r in below if r["type"] == GCP_EXT)
    assert external["inputs"]["redundancyType"] == "FOUR_IPS_REDUNDANCY"
    assert len(external["inputs"]["interfaces"]) == 4
    assert all(set(external["property_dependencies"]["interfaces"]) == {r["urn"] for r in below if r["type"] == AWS_VPN}
               for _ in [0])
    [ha] = prod_plan.of_type(GCP_HA)
    for cgw in (r for r in below if r["type"] == AWS_CGW):
        assert cgw["property_dependencies"]["ipAddress"] == [ha["urn"]]
    azure_gcp = prod_plan.children(links(prod_plan)["azure-gcp"]["urn"])
    external = next(r for r in azure_gcp if r["type"] == GCP_EXT)
    assert external["inputs"]["redundancyType"] == "TWO_IPS_REDUNDANCY"
    gateway_ips = {r["urn"] for r in prod_plan.of_type(AZ_PIP) if "vpngw" in r["name"]}
    assert set(external["property_dependencies"]["interfaces"]) == gateway_ips


def test_mesh_resources_have_explicit_providers_and_live_below_the_mesh(prod_plan):
    mesh = component(prod_plan, MESH)
    below = prod_plan.children(mesh["urn"])
    for r in below:
        if r["custom"] and not r["type"].startswith("pulumi:providers:"):
            assert r["provider"], f"{r['name']} has no explicit provider"
        assert r["name"].startswith(mesh["name"]), r["name"]
    assert VPN_TYPES <= {r["type"] for r in below}
    # Nothing VPN-shaped exists outside the mesh.
    outside = [r for r in prod_plan.resources if r["type"] in VPN_TYPES and r not in below]
    assert not outside


# --- depending on what ---------------------------------------------------------------------


def _closure(plan: PlanView) -> dict[str, set[str]]:
    memo: dict[str, set[str]] = {}

    def deps(urn: str) -> set[str]:
        if urn not in memo:
            memo[urn] = set()
            found = set()
            for d in plan.by_urn[urn]["dependencies"]:
                if d in plan.by_urn:
                    found |= {d} | deps(d)
            memo[urn] = found
        return memo[urn]

    for urn in plan.by_urn:
        deps(urn)
    return memo


def _applied_over_the_mesh(plan: PlanView) -> set[str]:
    """Kubernetes objects of clusters outside the deployer's own region: the deployer reaches them
    over the mesh, so they must wait for it (and only they may)."""
    paths = {key: r["deployer_path"] for key, r in plan.plan["outputs"]["regions"].items()}
    remote = {
        p["urn"] for p in plan.of_type("pulumi:providers:kubernetes")
        if any(p["name"] == key.replace(":", "-") + "-k8s" and " inside its " not in path for key, path in paths.items())
    }
    return {r["urn"] for r in plan.resources if r["provider"] in remote}


@pytest.mark.parametrize("variant", ["prod_plan", "one_region"])
def test_no_cloud_resource_outside_the_mesh_waits_for_it(variant, request):
    plan = request.getfixturevalue(variant)
    mesh = component(plan, MESH)
    inside = {r["urn"] for r in plan.children(mesh["urn"])} | {mesh["urn"]}
    waits, over_the_mesh = _closure(plan), _applied_over_the_mesh(plan)
    # The registry's private endpoints queue behind the hub VNet's gateway on purpose (one write at a
    # time per VNet, and the gateway must not wait for them): RegistryEndpoints in registries.py.
    endpoints = component(plan, "multicloud-inference:index:RegistryEndpoints")
    over_the_mesh |= {r["urn"] for r in plan.children(endpoints["urn"])}
    offenders = {
        r["name"]: sorted(plan.by_urn[u]["name"] for u in waits[r["urn"]] & inside)
        for r in plan.resources
        if r["urn"] not in inside and waits[r["urn"]] & inside and r["urn"] not in over_the_mesh
    }
    assert not offenders


def test_kubernetes_objects_reached_over_the_mesh_wait_for_their_path(prod_plan):
    # Prod's deployer runs in the AWS hub: an AKS cluster's objects wait for the AWS and Azure hubs
    # and their VPN link; a GKE cluster's for the AWS-GCP link; the hub's own cluster for nothing.
    def waits_for(deployment: str, component_name: str) -> bool:
        """Directly: a later wave also waits, transitively, for the paths of earlier waves' regions."""
        (target,) = [r for r in prod_plan.resources if r["name"] == component_name and not r["custom"]]
        below = {r["urn"] for r in prod_plan.children(target["urn"])}
        return bool(set(prod_plan.one("kubernetes:apps/v1:Deployment", deployment)["dependencies"]) & below)

    assert waits_for("azure-northeurope-serving-triton", "lepton-mesh-aws-azure")
    assert waits_for("azure-northeurope-serving-triton", "lepton-mesh-azure")
    assert waits_for("gcp-us-central1-serving-triton", "lepton-mesh-aws-gcp")
    assert not waits_for("gcp-us-central1-serving-triton", "lepton-mesh-aws-azure")
    assert waits_for("aws-us-east-1-serving-triton", "lepton-mesh-aws")
    assert not waits_for("aws-eu-central-1-serving-triton", "lepton-mesh-aws")


def test_spoke_peerings_wait_for_the_gateway_and_routes_for_acceptance(prod_plan):
    [gateway] = prod_plan.of_type(AZ_GW)
    spokes = [p for p in prod_plan.of_type("azure-native:network:VirtualNetworkPeering") if p["inputs"].get("useRemoteGateways")]
    assert len(spokes) == 2 and all(prod_plan.depends_on(p["urn"], gateway["urn"]) for p in spokes)
    accepters = {a["urn"] for a in prod_plan.of_type("aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter")}
    for route in prod_plan.of_type("aws:ec2transitgateway/route:Route"):
        assert accepters & set(route["dependencies"])


# --- firewalls ---------------------------------------------------------------------------------


def test_other_regions_reach_only_https_triton_and_icmp(prod_plan):
    ingress = component(prod_plan, INGRESS)
    below = prod_plan.children(ingress["urn"])
    all_cidrs = set(prod_plan.plan["outputs"]["region_cidrs"].values())
    assert "0.0.0.0/0" not in str([r["inputs"] for r in below])
    prefix_lists = [r for r in below if r["type"] == "aws:ec2/managedPrefixList:ManagedPrefixList"]
    assert len(prefix_lists) == 3
    for peers in prefix_lists:
        cidrs = {e["cidr"] for e in peers["inputs"]["entries"]}
        assert len(cidrs) == len(all_cidrs) - 1 and cidrs < all_cidrs
        rules = [r for r in below if r["property_dependencies"].get("prefixListId") == [peers["urn"]]]
        assert sorted((r["inputs"]["ipProtocol"], r["inputs"]["fromPort"], r["inputs"]["toPort"]) for r in rules) == [
            ("icmp", 3, 4), ("tcp", 443, 443), ("tcp", 8000, 8002)
        ]
        (cluster_sg,) = {tuple(r["property_dependencies"]["securityGroupId"]) for r in rules}
        assert prod_plan.by_urn[cluster_sg[0]]["type"] == "aws:eks/cluster:Cluster", "rules must sit on the nodes' group"
    rules = [r for r in below if r["type"] == "azure-native:network:SecurityRule"]
    allows = {(r["inputs"]["protocol"], r["inputs"]["destinationPortRange"]) for r in rules if r["inputs"]["access"] == "Allow"}
    assert allows == {("Tcp", "443"), ("Tcp", "8000-8002"), ("Icmp", "*")}
    denies = [r for r in rules if r["inputs"]["access"] == "Deny"]
    allow_priorities = [a["inputs"]["priority"] for a in rules if a["inputs"]["access"] == "Allow"]
    assert len(denies) == 3 and all(d["inputs"]["priority"] > max(allow_priorities) for d in denies)
    for firewall in (r for r in below if r["type"] == "gcp:compute/firewall:Firewall"):
        assert firewall["inputs"]["allows"] == [
            {"protocol": "tcp", "ports": ["443"]}, {"protocol": "tcp", "ports": ["8000-8002"]}, {"protocol": "icmp"}
        ]
        assert set(firewall["inputs"]["sourceRanges"]).isdisjoint(firewall["inputs"]["destinationRanges"])


# --- config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "key", "message"),
    [
        ({"asns": {"azure": 65515}}, "network.asns.azure", "Azure's own default VPN gateway ASN"),
        ({"asns": {"gcp": 64512}}, "network.asns.gcp", "already the aws hub's"),
        ({"tunnel_cidrs": {"aws-gcp": ["169.254.1.0/30"] * 4}}, "network.tunnel_cidrs.aws-gcp[0]", "reserved by AWS"),
        ({"tunnel_cidrs": {"aws-azure": ["169.254.30.0/30"] * 4}}, "network.tunnel_cidrs.aws-azure[0]", "APIPA"),
        ({"tunnel_cidrs": {"aws-vmware": []}}, "network.tunnel_cidrs.aws-vmware",
         "unknown key 'aws-vmware'; valid keys here: aws-azure, aws-gcp, azure-gcp"),
    ],
)
def test_bad_mesh_config_is_refused_naming_the_key(network, key, message):
    config = stack_platform_config("prod")
    config["network"] = network
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    text = str(error.value)
    assert f"multicloud-inference:platform.{key}" in text and message in text, text
