"""The cost estimate (planning/cost.py) and `python -m offline cost`."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from offline.__main__ import EXIT_INVALID, EXIT_OK, main
from offline.plan import cloud_of
from planning.cost import (
    RULES,
    CostError,
    compare,
    estimate,
    load_billing,
    render_delta_text,
    render_markdown,
    render_text,
)
from planning.prices import load_catalogue, price_book
from settings import load_settings
from tests.planview import stack_platform_config

CATALOGUE = load_catalogue()
HOURS = CATALOGUE.hours_per_month


def resource(type_, name, region=None, inputs=None, dependencies=(), provider=None, custom=True):
    return {
        "urn": f"urn:pulumi:t::p::{type_}::{name}", "type": type_, "name": name, "custom": custom, "parent": None,
        "provider": provider, "cloud": cloud_of(type_), "region": region, "inputs": inputs or {},
        "dependencies": list(dependencies), "property_dependencies": {}, "protect": False,
    }


def plan_of(*resources, stack="t"):
    return {"project": "p", "stack": stack, "resources": list(resources), "outputs": {}}


def node_group(name, region, low, high, shape="g6.xlarge", spot=False, pool="gpu"):
    return resource("aws:eks/nodeGroup:NodeGroup", name, region, {
        "instanceTypes": [shape], "capacityType": "SPOT" if spot else "ON_DEMAND",
        "scalingConfig": {"minSize": low, "maxSize": high}, "labels": {"multicloud-inference/pool": pool},
    })


@pytest.fixture(scope="module")
def dev_estimate(dev_plan):
    return estimate(dev_plan.plan, CATALOGUE)


@pytest.fixture(scope="module")
def dev_plus(tmp_path_factory):
    """`cost` of dev plus one GCP region outside the EU zone, through the verb: the one extra
    program evaluation of this module. Returns the estimate JSON's path. (A GCP region is a subnet
    of the one global VPC, so everything it adds lives in it; an AWS spoke would also add its
    peering's attachment on the hub's Transit Gateway, see the prod test above.)"""
    platform = stack_platform_config("dev")
    platform["clouds"]["gcp"]["regions"].append("us-central1")
    platform["models"]["sources"]["default"] = "gcp:us-central1"  # its own source: no copy into it
    directory = tmp_path_factory.mktemp("dev-plus")
    config = directory / "Pulumi.dev-plus.yaml"
    config.write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    out = directory / "cost.json"
    assert main(["cost", "dev-plus", "--config-file", str(config), "--json", str(out)]) == EXIT_OK
    return out


def test_dev_is_costed_per_configured_region_with_gpu_pools_at_min_and_max(dev_plan, dev_estimate):
    # Route 53 (the global entry's zone and health checks) bills in no region.
    assert list(dev_estimate["regions"]) == ["aws:eu-central-1", "azure:westeurope", "gcp:europe-west4", "global"]
    assert dev_estimate["catalogue_date"] == "2025-09-01"
    lines = {(region, line["description"]): line for region, part in dev_estimate["regions"].items() for line in part["lines"]}
    gpu = lines[("aws:eu-central-1", "GPU nodes g4dn.xlarge (spot)")]
    scaling = dev_plan.one("aws:eks/nodeGroup:NodeGroup", "aws-eu-central-1-gpu")["inputs"]["scalingConfig"]
    assert gpu["quantity"] == {"min": scaling["minSize"], "max": scaling["maxSize"]} == {"min": 0, "max": 2}
    assert gpu["unit_price"] == CATALOGUE.node("aws", "eu-central-1", "g4dn.xlarge", spot=True).price
    assert gpu["monthly"] == {"min": 0.0, "max": round(2 * gpu["unit_price"] * HOURS, 2)}
    # The things the program creates once per region or per mesh, each on its own line.
    assert lines[("azure:westeurope", "VPN gateway VpnGw2AZ")]["monthly"]["max"] == round(0.563 * HOURS, 2)
    assert lines[("aws:eu-central-1", "Transit Gateway attachment")]["quantity"]["max"] == 5  # VPC + 4 VPN
    assert lines[("gcp:europe-west4", "HA VPN tunnel")]["quantity"]["max"] == 6
    assert lines[("gcp:europe-west4", "Cloud NAT (per VM using it)")]["quantity"] == {"min": 2, "max": 6}  # nodes
    # Cloud NAT egresses from a reserved address (allow-lists elsewhere name it), priced as one.
    # ... and the global entry reserves the load balancer's: two addresses.
    assert lines[("gcp:europe-west4", "external IPv4 address")]["monthly"]["max"] == round(2 * 0.005 * HOURS, 2)
    assert lines[("azure:westeurope", "Key Vault HSM key (RSA-HSM 3072)")]["unit"] == "month"
    assert lines[("gcp:europe-west4", "GPU nodes n1-standard-8+1xnvidia-tesla-t4 (spot)")]["quantity"] == {"min": 0, "max": 2}
    assert {e["type"] for e in dev_estimate["not_included"]} >= {"aws:s3/bucket:Bucket", "gcp:storage/bucket:Bucket"}


def test_totals_add_up_over_lines_and_regions(prod_plan):
    result = estimate(prod_plan.plan, CATALOGUE)
    assert len(result["regions"]) == 9 + 1  # the regions, and Route 53's global items
    for bound in ("min", "max"):
        for part in result["regions"].values():
            assert part["monthly"][bound] == pytest.approx(sum(line["monthly"][bound] for line in part["lines"]), abs=0.005)
        assert result["monthly"][bound] == pytest.approx(sum(p["monthly"][bound] for p in result["regions"].values()), abs=0.005)
    assert result["monthly"]["min"] < result["monthly"]["max"]


def test_each_region_bills_where_its_resources_live_not_where_the_provider_defaults(prod_plan):
    result = estimate(prod_plan.plan, CATALOGUE)
    descriptions = {r: {line["description"]: line for line in p["lines"]} for r, p in result["regions"].items()}
    # Azure's provider defaults to westeurope; each AKS pool and Key Vault key bills in its own region.
    for region in ("azure:westeurope", "azure:northeurope", "azure:eastus2"):
        assert descriptions[region]["GPU nodes Standard_NC4as_T4_v3 (on-demand)"]["quantity"] == {"min": 1, "max": 8}
        assert descriptions[region]["Key Vault HSM key (RSA-HSM 3072)"]["quantity"]["max"] == 1
    assert "VPN gateway VpnGw2AZ" not in descriptions["azure:eastus2"]
    # The AWS hub's Transit Gateway: its VPC, 4 VPN connections and both spokes' peerings (accepter side).
    assert descriptions["aws:eu-central-1"]["Transit Gateway attachment"]["quantity"]["max"] == 7
    assert descriptions["aws:us-east-1"]["Transit Gateway attachment"]["quantity"]["max"] == 2  # VPC + peering


def test_adding_a_region_costs_exactly_its_own_line_items(dev_estimate, dev_plus):
    head = json.loads(dev_plus.read_text())
    assert head["stack"] == "dev-plus"
    delta = compare(dev_estimate, head)
    new_region = head["regions"]["gcp:us-central1"]
    # Nothing else changes price, except the new region's own Route 53 health check (a global item).
    assert list(delta["regions"]) == ["gcp:us-central1", "global"]
    health_check = delta["regions"]["global"]
    assert {line["description"] for line in health_check["lines"]} == {"Route 53 health check", "Route 53 health check options"}
    assert delta["delta"]["min"] > 0 and delta["delta"]["max"] > 0
    for bound in ("min", "max"):
        own = sum(line["monthly"][bound] for line in new_region["lines"]) + health_check["delta"][bound]
        assert delta["delta"][bound] == pytest.approx(own, abs=0.01)
    assert {line["description"] for line in delta["regions"]["gcp:us-central1"]["lines"]} == {
        line["description"] for line in new_region["lines"]
    }
    assert all(line["base"] is None for line in delta["regions"]["gcp:us-central1"]["lines"])
    text = render_delta_text(delta)
    assert f"{delta['delta']['min']:+,.2f}" in text and "gcp:us-central1" in text


regions_ = st.sampled_from(["us-east-1", "eu-central-1", "eu-west-1"])
items = st.one_of(
    st.builds(
        lambda r, lo, extra, spot: ("ng", r, lo, lo + extra, spot), regions_, st.integers(0, 4), st.integers(0, 6), st.booleans()
    ),
    st.builds(lambda r: ("nat", r), regions_),
    st.builds(lambda r: ("kms", r), regions_),
    st.builds(lambda r: ("eks", r), regions_),
)


def synthetic(specs):
    out = []
    for i, spec in specs:
        if spec[0] == "ng":
            out.append(node_group(f"ng{i}", spec[1], spec[2], spec[3], spot=spec[4]))
        else:
            type_ = {"nat": "aws:ec2/natGateway:NatGateway", "kms": "aws:kms/key:Key", "eks": "aws:eks/cluster:Cluster"}[spec[0]]
            out.append(resource(type_, f"{spec[0]}{i}", spec[1]))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(items, max_size=12), st.sets(regions_))
def test_cost_is_additive_over_regions(specs, split):
    """Costing a plan equals costing its regions apart and adding up."""
    specs = list(enumerate(specs))  # names stay the same in the whole and in its parts
    left = [(i, s) for i, s in specs if s[1] in split]
    right = [(i, s) for i, s in specs if s[1] not in split]
    whole = estimate(plan_of(*synthetic(specs)), CATALOGUE)
    parts = [estimate(plan_of(*synthetic(part)), CATALOGUE) for part in (left, right)]
    for bound in ("min", "max"):
        assert whole["monthly"][bound] == pytest.approx(sum(p["monthly"][bound] for p in parts), abs=0.01)
    assert whole["regions"] == {**parts[0]["regions"], **parts[1]["regions"]}
    for part in whole["regions"].values():
        for line in part["lines"]:
            per_unit = line["unit_price"] * (HOURS if line["unit"] == "hour" else 1)
            assert line["monthly"]["max"] == pytest.approx(per_unit * line["quantity"]["max"], abs=0.006)


def test_each_type_is_priced_free_or_usage_billed_exactly_once():
    billing = load_billing()
    assert not set(billing.usage) & set(billing.free)
    assert not set(RULES) & (set(billing.usage) | set(billing.free))


def test_an_unclassified_resource_type_is_an_error_not_a_free_resource():
    plan = plan_of(resource("aws:sagemaker/endpoint:Endpoint", "ep", "us-east-1"), resource("aws:kms/key:Key", "k", "us-east-1"))
    with pytest.raises(CostError) as raised:
        estimate(plan, CATALOGUE)
    assert raised.value.problems == [
        "resource type aws:sagemaker/endpoint:Endpoint is neither priced (planning/cost.py RULES) nor listed as free "
        "or usage-billed (planning/data/billing.yaml)"
    ]


def test_a_missing_price_names_the_shape_the_region_and_the_resource():
    plan = plan_of(node_group("mumbai-gpu", "ap-south-1", 1, 2), resource("aws:ec2/natGateway:NatGateway", "nat", "ap-south-1"))
    with pytest.raises(CostError) as raised:
        estimate(plan, CATALOGUE)
    assert [p.split(":", 1)[0] for p in raised.value.problems] == [
        "no price for nat-gateway in aws", "no price for node shape g6.xlarge in aws"
    ]
    assert "in aws:ap-south-1" in raised.value.problems[1]
    assert raised.value.problems[1].endswith("(needed by mumbai-gpu, aws:eks/nodeGroup:NodeGroup)")


def test_the_resources_the_lead_is_adding_are_priced_already():
    """Registries, health checks and load balancers cost what their pages say once they appear."""
    cluster = resource("aws:eks/cluster:Cluster", "eks", "eu-west-1")
    k8s = resource("pulumi:providers:kubernetes", "eks-k8s", dependencies=[cluster["urn"]])
    plan = plan_of(
        cluster, k8s,
        resource("kubernetes:core/v1:Service", "triton", provider=k8s["urn"], inputs={"spec": {"type": "LoadBalancer"},
                 "metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}}}),
        resource("kubernetes:core/v1:Service", "internal", provider=k8s["urn"], inputs={"spec": {"type": "ClusterIP"}}),
        resource("aws:ecr/repository:Repository", "repo", "us-east-1"),
        resource("aws:route53/healthCheck:HealthCheck", "hc", inputs={"type": "HTTPS", "requestInterval": 10}),
        resource("azure-native:containerregistry:Registry", "acr", "westeurope", {"sku": {"name": "Premium"}}),
        resource("azure-native:containerregistry:Replication", "acr-neu", "northeurope"),
        resource("gcp:artifactregistry/repository:Repository", "ar", "europe-west4"),
        resource("aws:lb/loadBalancer:LoadBalancer", "alb", "us-east-1", {"loadBalancerType": "network"}),
    )
    result = estimate(plan, CATALOGUE)
    lines = {(r, line["description"]): line["monthly"]["max"] for r, p in result["regions"].items() for line in p["lines"]}
    assert lines[("aws:eu-west-1", "network load balancer (Service)")] == round(0.0252 * HOURS, 2)
    assert lines[("global", "Route 53 health check")] == 0.75
    assert lines[("global", "Route 53 health check options")] == 4.0  # HTTPS + fast interval
    assert lines[("azure:westeurope", "container registry (Premium)")] == 50.0
    assert lines[("azure:northeurope", "registry geo-replication")] == 50.0
    assert lines[("aws:us-east-1", "network load balancer")] == round(0.0225 * HOURS, 2)
    assert {e["type"] for e in result["not_included"]} == {
        "aws:ecr/repository:Repository", "gcp:artifactregistry/repository:Repository"
    }


def test_negotiated_rates_from_the_stack_config_reach_the_estimate(dev_plan):
    platform = stack_platform_config("dev")
    platform["prices"] = {"overrides": [{"cloud": "aws", "region": "eu-central-1", "item": "g4dn.xlarge", "spot": 0.1}]}
    result = estimate(dev_plan.plan, price_book(load_settings(platform)))
    line = next(x for x in result["regions"]["aws:eu-central-1"]["lines"] if x["item"] == "g4dn.xlarge")
    assert (line["unit_price"], line["source"], line["date"]) == (0.1, "stack config prices.overrides[0]", "stack config")
    assert result["catalogue_date"] == "2025-09-01"  # the catalogue's rows, overrides aside


def test_renderings_state_the_catalogue_date_and_every_region(dev_estimate):
    text = render_text(dev_estimate)
    assert "planning/data/prices.yaml as of 2025-09-01" in text
    markdown = render_markdown(dev_estimate, compare(dev_estimate, dev_estimate))
    assert markdown.startswith(f"### Monthly cost of `{dev_estimate['stack']}`: ")
    assert "**Change: +0.00 USD/month**" in markdown
    for region in dev_estimate["regions"]:
        assert f"| {region} |" in markdown
    assert "as of 2025-09-01" in markdown


def write_plan(tmp_path, plan, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(plan))
    return str(path)


def test_cost_verb_writes_json_markdown_and_the_delta_from_a_base(tmp_path, capsys, dev_plan, dev_plus):
    out, md = tmp_path / "cost.json", tmp_path / "cost.md"
    argv = ["cost", "dev", "--plan", write_plan(tmp_path, dev_plan.plan), "--json", str(out), "--markdown", str(md),
            "--compare", str(dev_plus)]
    assert main(argv) == EXIT_OK
    printed = capsys.readouterr().out
    assert printed.startswith("Monthly cost of stack dev: ")
    assert "Cost change (dev-plus -> dev): -" in printed and "\ngcp:us-central1: -" in printed
    written = json.loads(out.read_text())
    assert written["stack"] == "dev"
    assert set(written["regions"]) == {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west4", "global"}
    markdown = md.read_text()
    assert markdown.startswith("### Monthly cost of `dev`")
    assert "| gcp:us-central1 | GKE cluster management | 73.00 | - | -73.00 |" in markdown


@pytest.mark.parametrize(
    "args,message",
    [
        (["--compare", "{tmp}/nope.json"], "nope.json: no such cost JSON (written by `cost --json`)"),
        (["--compare", "{tmp}/plan.json"], "plan.json: not a cost JSON (written by `cost --json`) (missing regions, monthly)"),
        (["--plan", "{tmp}/garbage.json"], "garbage.json: not valid JSON"),
    ],
    ids=["missing-base", "base-is-not-an-estimate", "plan-not-json"],
)
def test_cost_verb_refuses_bad_input_files_with_exit_2(tmp_path, capsys, dev_plan, args, message):
    write_plan(tmp_path, dev_plan.plan)
    (tmp_path / "garbage.json").write_text("{not json")
    argv = ["cost", "dev", "--plan", str(tmp_path / "plan.json"), *[a.format(tmp=tmp_path) for a in args]]
    assert main(argv) == EXIT_INVALID
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_cost_verb_names_unclassified_types_and_exits_2(tmp_path, capsys):
    plan = plan_of(resource("aws:sagemaker/endpoint:Endpoint", "ep", "us-east-1"))
    assert main(["cost", "dev", "--plan", write_plan(tmp_path, plan)]) == EXIT_INVALID
    assert "resource type aws:sagemaker/endpoint:Endpoint is neither priced" in capsys.readouterr().err
