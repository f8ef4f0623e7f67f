"""The global entry under the mock engine: per region a public endpoint and a health check on the
readiness path, Route 53 records that reach it, EU geography records that answer only from EU
regions (followed here through the plan's own records, independently of the policy pack), a
default record, latency records only without residency zones, and the `global_entry` output."""

from __future__ import annotations

import json
import re

import pytest

from tests.planview import PlanView, keep_serving_valid, plan_for_config, stack_platform_config

RECORD, HEALTH_CHECK, ZONE = "aws:route53/record:Record", "aws:route53/healthCheck:HealthCheck", "aws:route53/zone:Zone"
CR = "kubernetes:{}:{}".format
CERTIFICATE, ISSUER = CR("cert-manager.io/v1", "Certificate"), CR("cert-manager.io/v1", "Issuer")
GATEWAY, ROUTE = CR("gateway.networking.k8s.io/v1", "Gateway"), CR("gateway.networking.k8s.io/v1", "HTTPRoute")
PROXY, RELEASE = CR("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"), "kubernetes:helm.sh/v3:Release"
ADDRESS_TYPES = {"aws:ec2/eip:Eip", "azure-native:network:PublicIPAddress", "gcp:compute/address:Address"}
PROD_REGIONS = [
    "aws:us-east-1", "aws:eu-central-1", "aws:eu-west-1", "azure:westeurope", "azure:northeurope",
    "azure:eastus2", "gcp:europe-west4", "gcp:europe-west1", "gcp:us-central1",
]
EU = {"aws:eu-central-1", "aws:eu-west-1", "azure:westeurope", "azure:northeurope", "gcp:europe-west4", "gcp:europe-west1"}
HOSTNAME = "infer.example.com"


def label(key: str) -> str:
    return key.replace(":", "-")


def endpoint_part(plan: PlanView, key: str, type_: str, suffix: str = "") -> dict:
    return plan.one(type_, f"{label(key)}-entry{suffix}")


class Records:
    """The plan's Route 53 records by name, and the regions a record can answer with."""

    def __init__(self, plan: PlanView):
        self.plan = plan
        self.by_name: dict[str, list[dict]] = {}
        for record in plan.of_type(RECORD):
            self.by_name.setdefault(record["inputs"]["name"], []).append(record)

    def regions(self, record: dict) -> set[str]:
        aliases = record["inputs"].get("aliases")
        if aliases:
            return {r for target in self.by_name[aliases[0]["name"]] for r in self.regions(target)}
        sources = [self.plan.by_urn[u] for u in record["property_dependencies"]["records"]]
        assert sources and {s["type"] for s in sources} <= ADDRESS_TYPES, record["name"]
        return {f"{s['cloud']}:{s['region']}" for s in sources}


@pytest.fixture(scope="module")
def records(prod_plan) -> Records:
    return Records(prod_plan)


def geolocation(record: dict) -> dict | None:
    policies = record["inputs"].get("geolocationRoutingPolicies")
    return policies[0] if policies else None


# --- Route 53 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_every_region_has_a_readiness_health_check_and_records_that_reach_it(prod_plan, records, key):
    check = prod_plan.one(HEALTH_CHECK, f"{label(key)}-ready")
    hostname = f"{label(key)}.{HOSTNAME}"
    assert {k: check["inputs"][k] for k in ("type", "fqdn", "port", "resourcePath", "enableSni")} == {
        "type": "HTTPS", "fqdn": hostname, "port": 443, "resourcePath": "/v2/health/ready", "enableSni": True}
    assert (check["inputs"]["requestInterval"], check["inputs"]["failureThreshold"]) == (10, 3)
    checked = [r for r in prod_plan.of_type(RECORD) if check["urn"] in r["property_dependencies"].get("healthCheckId", [])]
    # The nearest set's bucket, and the zone set's for an EU region: each answers with the region's addresses.
    assert len(checked) == (2 if key in EU else 1)
    assert all(records.regions(r) == {key} and r["inputs"]["weightedRoutingPolicies"] for r in checked)
    (own,) = records.by_name[hostname]
    assert records.regions(own) == {key} and own["inputs"]["ttl"] == 60


def test_every_record_for_the_eu_geography_answers_only_from_eu_regions(records):
    entry = records.by_name[HOSTNAME]
    eu_records = [r for r in entry if geolocation(r) in ({"continent": "EU"}, {"country": "NO"}, {"country": "IS"},
                                                           {"country": "LI"})]
    assert len(eu_records) == 4
    for record in eu_records:
        assert records.regions(record) == EU, record["name"]
        # Never health-evaluated, so Route 53 never falls back to the default record.
        assert record["inputs"]["aliases"][0]["evaluateTargetHealth"] is False and "healthCheckId" not in record["inputs"]


def test_a_default_record_answers_everyone_else_from_every_region(records):
    (default,) = [r for r in records.by_name[HOSTNAME] if geolocation(r) == {"country": "*"}]
    assert records.regions(default) == set(PROD_REGIONS)
    assert {geolocation(r) is not None for r in records.by_name[HOSTNAME]} == {True}


def test_latency_records_name_aws_regions_and_evaluate_their_buckets_health(records):
    eu_set = records.by_name[f"zone-eu.route.{HOSTNAME}"]
    assert sorted(r["inputs"]["latencyRoutingPolicies"][0]["region"] for r in eu_set) == [
        "eu-central-1", "eu-west-1", "eu-west-3"]
    assert all(r["inputs"]["aliases"][0]["evaluateTargetHealth"] is True for r in eu_set)
    bucket = records.by_name[f"eu-central-1.zone-eu.route.{HOSTNAME}"]
    assert sorted(r["inputs"]["setIdentifier"] for r in bucket) == ["aws:eu-central-1", "azure:westeurope",
                                                                    "gcp:europe-west4"]


def test_aliases_wait_for_their_targets_and_route53_is_global(prod_plan, records):
    hub = prod_plan.one("pulumi:providers:aws", "aws-eu-central-1")["urn"]
    zone = prod_plan.one(ZONE, "lepton-global-entry-zone")
    assert zone["inputs"]["name"] == "example.com" and "residency-zone" not in zone["inputs"]["tags"]
    for record in prod_plan.of_type(RECORD):
        assert record["provider"] == hub and zone["urn"] in record["property_dependencies"]["zoneId"]
        for alias in record["inputs"].get("aliases", []):
            assert {t["urn"] for t in records.by_name[alias["name"]]} <= set(record["dependencies"])
    for check in prod_plan.of_type(HEALTH_CHECK):
        assert check["provider"] == hub and "residency-zone" not in check["inputs"]["tags"]


def test_the_global_entry_output_is_the_routing_table(prod_plan):
    table = prod_plan.plan["outputs"]["global_entry"]
    assert table["hostname"] == HOSTNAME and table["name_servers"] and table["zone_id"].startswith("Z")
    assert set(table["allowed"]["eu"]) == EU and table["allowed"]["default"] == PROD_REGIONS
    assert table["geographies"] == {"eu": {"continents": ["EU"], "countries": ["IS", "LI", "NO"]}}
    endpoint = table["endpoints"]["aws:eu-central-1"]
    assert endpoint["hostname"] == f"aws-eu-central-1.{HOSTNAME}" and len(endpoint["addresses"]) == 3
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", a) for e in table["endpoints"].values() for a in e["addresses"])


def test_a_stack_without_residency_zones_or_aws_gets_latency_records_only():
    platform = stack_platform_config("dev")
    platform["residency_zones"] = {}
    del platform["clouds"]["aws"]
    plan = plan_for_config(keep_serving_valid(platform))
    records = plan.of_type(RECORD)
    assert records and not any(r["inputs"].get("geolocationRoutingPolicies") for r in records)
    # Route 53 measures both regions at eu-central-1: one latency record, one weighted bucket.
    (entry,) = [r for r in records if r["inputs"]["name"] == "infer.dev.example.com"]
    assert entry["inputs"]["latencyRoutingPolicies"] == [{"region": "eu-central-1"}]
    bucket = [r for r in records if r["inputs"]["name"] == entry["inputs"]["aliases"][0]["name"]]
    assert sorted(r["inputs"]["setIdentifier"] for r in bucket) == ["azure:westeurope", "gcp:europe-west4"]
    assert plan.plan["outputs"]["global_entry"]["allowed"] == {"default": ["azure:westeurope", "gcp:europe-west4"]}
    # Without AWS regions, Route 53 and IAM get a provider of their own.
    (provider,) = plan.of_type("pulumi:providers:aws")
    assert provider["name"] == "lepton-global-entry-aws" and {r["provider"] for r in records} == {provider["urn"]}


# --- the regional endpoints ------------------------------------------------------------------------


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_only_health_and_inference_routes_are_public_and_metrics_never(prod_plan, key):
    route = endpoint_part(prod_plan, key, ROUTE, "-routes")["inputs"]
    assert route["metadata"]["namespace"] == "inference"
    spec = route["spec"]
    assert spec["hostnames"] == [f"{label(key)}.{HOSTNAME}", HOSTNAME]
    assert spec["parentRefs"] == [{"name": "public", "namespace": "global-entry", "sectionName": "https"}]
    ports = {b["port"] for rule in spec["rules"] for b in rule["backendRefs"]}
    assert ports == {8000, 8001} and {b["name"] for rule in spec["rules"] for b in rule["backendRefs"]} == {"triton"}
    paths = [(m["path"]["type"], m["path"]["value"], m["method"]) for rule in spec["rules"] for m in rule["matches"]]
    grpc = "/inference.GRPCInferenceService/"
    for kind, path, method in paths:
        if kind == "Exact" and path.startswith(grpc):
            assert method == "POST" and path[len(grpc):] in {"ModelInfer", "ModelStreamInfer", "ServerLive",
                                                             "ServerReady", "ModelReady"}
        elif kind == "Exact":
            assert (path, method) in {("/v2/health/live", "GET"), ("/v2/health/ready", "GET")}
        else:
            assert kind == "RegularExpression" and path.startswith("^/v2/models/") and path.endswith(
                ("/ready$", "/(infer|generate|generate_stream)$"))
    for probe in ("/v2/repository/index", "/v2/models/m/unload", "/metrics", "/v2/models/stats", "/v2/logging",
                  "/v2/systemsharedmemory/status"):
        assert not any(re.fullmatch(p, probe) if k == "RegularExpression" else p == probe for k, p, _ in paths), probe


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_tls_on_443_with_a_certificate_for_the_regional_and_the_global_name(prod_plan, key):
    certificate = endpoint_part(prod_plan, key, CERTIFICATE, "-certificate")
    gateway = endpoint_part(prod_plan, key, GATEWAY, "-gateway")
    spec = certificate["inputs"]["spec"]
    assert spec["dnsNames"] == [f"{label(key)}.{HOSTNAME}", HOSTNAME]
    assert spec["privateKey"]["algorithm"] == "ECDSA" and 20 <= spec["renewBeforePercentage"] <= 33
    (listener,) = gateway["inputs"]["spec"]["listeners"]
    assert (listener["protocol"], listener["port"], listener["tls"]["mode"]) == ("HTTPS", 443, "Terminate")
    assert listener["tls"]["certificateRefs"] == [{"kind": "Secret", "name": spec["secretName"]}]
    assert listener["allowedRoutes"]["namespaces"]["selector"]["matchLabels"] == {"kubernetes.io/metadata.name": "inference"}
    # Awaited: pulumi up reports a region whose certificate or load balancer never comes up.
    assert certificate["inputs"]["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert gateway["inputs"]["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    assert prod_plan.depends_on(gateway["urn"], certificate["urn"])
    cluster_provider = certificate["provider"]
    assert gateway["provider"] == cluster_provider and cluster_provider.endswith(f"{label(key)}-k8s")


def test_regions_spread_their_renewals_by_name_not_position(prod_plan, dev_plan):
    def renewal(plan, key):
        return endpoint_part(plan, key, CERTIFICATE, "-certificate")["inputs"]["spec"]["renewBeforePercentage"]

    percentages = {k: renewal(prod_plan, k) for k in PROD_REGIONS}
    assert len(set(percentages.values())) >= 5 and all(20 <= p <= 33 for p in percentages.values())
    # aws:eu-central-1 is the second prod region and the first dev one: same day either way.
    assert renewal(dev_plan, "aws:eu-central-1") == percentages["aws:eu-central-1"]


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_charts_are_pinned_and_custom_resources_wait_for_them(prod_plan, key):
    releases = {r["inputs"]["name"]: r for r in prod_plan.of_type(RELEASE) if r["name"].startswith(f"{label(key)}-entry")}
    assert {n: (r["inputs"]["chart"], r["inputs"]["version"]) for n, r in releases.items()} == {
        "cert-manager": ("cert-manager", "v1.20.2"),
        "envoy-gateway": ("oci://docker.io/envoyproxy/gateway-helm", "v1.8.2"),
    }
    issuer = endpoint_part(prod_plan, key, ISSUER, "-issuer")
    assert prod_plan.depends_on(issuer["urn"], releases["cert-manager"]["urn"])
    for type_, suffix in ((GATEWAY, "-gateway"), (PROXY, "-proxy"), (ROUTE, "-routes")):
        assert prod_plan.depends_on(endpoint_part(prod_plan, key, type_, suffix)["urn"], releases["envoy-gateway"]["urn"])


@pytest.mark.parametrize("key", PROD_REGIONS)
def test_dns01_role_is_trusted_by_the_clusters_issuer_for_its_names_only(prod_plan, key):
    role = endpoint_part(prod_plan, key, "aws:iam/role:Role", "-acme")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    oidc = endpoint_part(prod_plan, key, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "-oidc")
    issuer = oidc["inputs"]["url"].removeprefix("https://").rstrip("/")
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity" and oidc["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]
    assert trust["Condition"]["StringEquals"] == {f"{issuer}:sub": "system:serviceaccount:global-entry:acme-dns01",
                                                  f"{issuer}:aud": "sts.amazonaws.com"}
    expected = {"aws": "oidc.eks.", "azure": "oidc.prod-aks.azure.com/", "gcp": "container.googleapis.com/v1/projects/"}
    assert expected[key.split(":")[0]] in issuer
    policy = json.loads(endpoint_part(prod_plan, key, "aws:iam/rolePolicy:RolePolicy", "-acme-dns01")["inputs"]["policy"])
    (change,) = [s for s in policy["Statement"] if s["Action"] == "route53:ChangeResourceRecordSets"]
    names = change["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert names == [f"_acme-challenge.{label(key)}.{HOSTNAME}", f"_acme-challenge.{HOSTNAME}"]
    assert change["Condition"]["ForAllValues:StringEquals"] == {"route53:ChangeResourceRecordSetsRecordTypes": ["TXT"]}
    assert change["Resource"].startswith("arn:aws:route53:::hostedzone/Z")


def test_each_cloud_takes_its_static_address_its_own_way(prod_plan):
    aws = endpoint_part(prod_plan, "aws:eu-west-1", PROXY, "-proxy")["inputs"]["spec"]["provider"]["kubernetes"]
    service = aws["envoyService"]
    eips = [r for r in prod_plan.of_type("aws:ec2/eip:Eip") if r["name"].startswith("aws-eu-west-1-entry-")]
    assert len(eips) == 3 and {r["region"] for r in eips} == {"eu-west-1"}  # one per public subnet (zones: 3)
    assert service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert len(service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-eip-allocations"].split(",")) == 3
    assert (service["type"], service["externalTrafficPolicy"]) == ("LoadBalancer", "Local")

    azure = endpoint_part(prod_plan, "azure:westeurope", PROXY, "-proxy")
    ip = endpoint_part(prod_plan, "azure:westeurope", "azure-native:network:PublicIPAddress")
    annotations = azure["inputs"]["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"]
    assert ip["urn"] in azure["dependencies"] and annotations["service.beta.kubernetes.io/azure-pip-name"]
    assert ip["inputs"]["publicIPAllocationMethod"] == "Static" and ip["inputs"]["tags"]["residency-zone"] == "eu"
    grant = endpoint_part(prod_plan, "azure:westeurope", "azure-native:authorization:RoleAssignment", "-join")
    rule = endpoint_part(prod_plan, "azure:westeurope", "azure-native:network:SecurityRule", "-https")
    assert ip["urn"] in grant["property_dependencies"]["scope"]
    assert (rule["inputs"]["sourceAddressPrefix"], rule["inputs"]["destinationPortRange"]) == ("Internet", "443")
    assert ip["urn"] in rule["property_dependencies"]["destinationAddressPrefix"]
    gateway = endpoint_part(prod_plan, "azure:westeurope", GATEWAY, "-gateway")
    assert {grant["urn"], rule["urn"]} <= set(gateway["dependencies"])

    gcp = endpoint_part(prod_plan, "gcp:europe-west1", PROXY, "-proxy")["inputs"]["spec"]["provider"]["kubernetes"]
    address = endpoint_part(prod_plan, "gcp:europe-west1", "gcp:compute/address:Address")
    assert address["inputs"]["region"] == "europe-west1" and address["inputs"]["addressType"] == "EXTERNAL"
    assert gcp["envoyService"]["loadBalancerIP"] and gcp["envoyService"]["annotations"] == {
        "cloud.google.com/l4-rbs": "enabled"}
