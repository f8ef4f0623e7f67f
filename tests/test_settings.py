"""The settings model: valid stacks load, and each kind of bad config is refused with its key path."""

from __future__ import annotations

import copy
import json
import re

import pulumi
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from offline.engine import run_program
from offline.plan import REPO_ROOT
from settings import ConfigError, Settings, load_settings
from settings.base import model_names
from tests.planview import stack_platform_config

KEY = "multicloud-inference:platform"


def problems_for(mutate) -> list[str]:
    config = stack_platform_config("prod")
    mutate(config)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return raised.value.problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_are_valid(stack):
    settings = load_settings(stack_platform_config(stack))
    assert settings.region_cidrs, "every region gets a CIDR"


def test_prod_spans_two_regions_per_cloud_with_an_eu_zone():
    settings = load_settings(stack_platform_config("prod"))
    for cloud, spec in settings.clouds.configured():
        assert len(spec.regions) >= 2, cloud
        assert any(settings.residency_zone(r.name) == "eu" for r in spec.regions), cloud
    assert settings.protect


def test_region_strings_and_objects_are_equivalent():
    config = stack_platform_config("dev")
    as_objects = copy.deepcopy(config)
    as_objects["clouds"]["aws"]["regions"] = [{"name": "eu-central-1"}]
    assert load_settings(config).region_cidrs == load_settings(as_objects).region_cidrs


P = f"{KEY}."
CASES = {
    "unknown region": (
        lambda c: c["clouds"]["aws"]["regions"].append("us-eats-1"),
        f"{P}clouds.aws.regions[3].name: unknown aws region 'us-eats-1'; did you mean us-east-1, us-west-1, "
        "us-east-2? (known regions are listed in planning/regions.py)",
    ),
    "duplicate region": (
        lambda c: c["clouds"]["gcp"]["regions"].append("europe-west1"),
        f"{P}clouds.gcp.regions: region 'europe-west1' is listed 2 times",
    ),
    "hub not among regions": (
        lambda c: c["clouds"]["azure"].update(hub="uksouth"),
        f"{P}clouds.azure.hub: hub 'uksouth' must be one of this cloud's regions ['westeurope', 'northeurope', 'eastus2']",
    ),
    "overlapping pins name both regions": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="10.88.0.0/16")
        or c["clouds"]["aws"]["regions"][1].update(cidr="10.88.128.0/17"),
        f"{P}clouds.aws.regions[1].cidr: aws:eu-central-1's pin 10.88.128.0/17 overlaps aws:us-east-1's pin "
        "10.88.0.0/16; pin it elsewhere in the spare block 10.88.0.0/13, clear of the other pins",
    ),
    "pin over another region's automatic range names both regions": (
        lambda c: c["clouds"]["azure"]["regions"][0].update(cidr="10.64.0.0/16"),
        f"{P}clouds.azure.regions[0].cidr: azure:westeurope's pin 10.64.0.0/16 overlaps aws:us-east-1's automatic "
        "range 10.64.0.0/19; pin it elsewhere, for example in the spare block 10.88.0.0/13, which no automatic "
        "range uses",
    ),
    "cidr outside the supernet": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="172.16.0.0/16"),
        f"{P}clouds.aws.regions[0].cidr: aws:us-east-1's pin 172.16.0.0/16 is outside the supernet 10.64.0.0/11",
    ),
    "malformed cidr": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="10.64.0.300/16"),
        f"{P}clouds.aws.regions[0].cidr: '10.64.0.300/16' is not a valid IPv4 network",
    ),
    "cidr with host bits": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="10.88.1.0/16"),
        f"{P}clouds.aws.regions[0].cidr: '10.88.1.0/16' is not a valid IPv4 network; did you mean 10.88.0.0/16?",
    ),
    "invalid supernet": (
        lambda c: c.update(supernet="10.0.0.0/33"),
        f"{P}supernet: '10.0.0.0/33' is not a valid IPv4 network",
    ),
    "supernet too small for a slot per region": (
        lambda c: c.update(supernet="10.64.0.0/13"),
        f"{P}supernet: 10.64.0.0/13 gives each region a /21 slot (64 slots in each cloud's quarter); a region needs "
        "/12 to /20, so use a larger supernet (/12 to /4)",
    ),
    "region prefix larger than a slot": (
        lambda c: c.update(region_prefix_length=16),
        f"{P}region_prefix_length: 16 asks for /16 regions, larger than the /19 slot each region owns in supernet "
        "10.64.0.0/11; use 19 or more, or a larger supernet",
    ),
    "zone names an undeployed region": (
        lambda c: c["residency_zones"]["eu"].append("francecentral"),
        f"{P}residency_zones.eu[6]: region 'francecentral' is not deployed by any cloud; list only regions under "
        "clouds.*.regions",
    ),
    "missing required key": (
        lambda c: c["clouds"]["gcp"].pop("project"),
        f"{P}clouds.gcp.project: is required",
    ),
    "a word for a count": (
        lambda c: c["gpu"].update(max_nodes="lots"),
        f"{P}gpu.max_nodes: 'lots' is a string, not an integer (drop the quotes)",
    ),
    "a quoted count": (
        lambda c: c["gpu"].update(gpus_per_node="2"),
        f"{P}gpu.gpus_per_node: '2' is a string, not an integer (drop the quotes)",
    ),
    "a boolean count": (
        lambda c: c.setdefault("kubernetes", {}).update(system_nodes=True),
        f"{P}kubernetes.system_nodes: true is a boolean, not an integer",
    ),
    "a fractional count": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(zones=2.5),
        f"{P}clouds.aws.regions[0].zones: 2.5 is not an integer",
    ),
    "a quoted switch": (
        lambda c: c["gpu"].update(spot="yes"),
        f"{P}gpu.spot: 'yes' is a string, not true or false (drop the quotes)",
    ),
    "a count below its minimum": (
        lambda c: c["gpu"].update(max_nodes=0),
        f"{P}gpu.max_nodes: 0 is less than the minimum 1",
    ),
    "a count above its maximum": (
        lambda c: c["gpu"].update(gpus_per_node=16),
        f"{P}gpu.gpus_per_node: 16 is more than the maximum 8",
    ),
    "misspelt key": (
        lambda c: c.update(protcet=True),
        f"{P}protcet: unknown key 'protcet'; did you mean 'protect'?",
    ),
    "misspelt nested key": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(zone=3),
        f"{P}clouds.aws.regions[0].zone: unknown key 'zone'; did you mean 'zones'?",
    ),
    "misspelt key of an optional override": (
        lambda c: c["clouds"]["azure"]["regions"][0]["gpu"].update(tpye="T4"),
        f"{P}clouds.azure.regions[0].gpu.tpye: unknown key 'tpye'; did you mean 'type'?",
    ),
    "unknown key without a close one": (
        lambda c: c["gpu"].update(colour="green"),
        f"{P}gpu.colour: unknown key 'colour'; valid keys here: gpus_per_node, max_nodes, min_nodes, spot, type",
    ),
    "unknown enumeration value": (
        lambda c: c["gpu"].update(type="V100"),
        f"{P}gpu.type: 'V100' is not one of T4, L4, A10G, A100, A100-80GB, H100",
    ),
    "unknown map key from an enumeration": (
        lambda c: c.update(network={"asns": {"oracle": 64600}}),
        f"{P}network.asns.oracle: unknown key 'oracle'; valid keys here: aws, azure, gcp",
    ),
    "a value where a mapping belongs": (
        lambda c: c.update(gpu="L4"),
        f"{P}gpu: 'L4' is not a mapping of keys (write `key: value` lines under it)",
    ),
    "a number where a region belongs": (
        lambda c: c["clouds"]["aws"].update(regions=[5]),
        f"{P}clouds.aws.regions[0]: 5 is not a mapping of keys (write `key: value` lines under it)",
    ),
    "no regions": (
        lambda c: c["clouds"]["aws"].update(regions=[]),
        f"{P}clouds.aws.regions: [] must have at least 1 item",
    ),
    "bad name": (
        lambda c: c.update(name="Lepton_Prod"),
        f"{P}name: 'Lepton_Prod' is not 2 to 10 lower-case letters and digits, starting with a letter",
    ),
    "zones on an Azure region": (
        lambda c: c["clouds"]["azure"]["regions"][0].update(zones=3),
        f"{P}clouds.azure.regions[0].zones: 3 is not used by Azure regions; only AWS regions take zones (Azure "
        "spreads a region's cluster over its zones itself), so remove it",
    ),
    "zones on a GCP region": (
        lambda c: c["clouds"]["gcp"].update(regions=[{"name": "europe-west4", "zones": 2}, "europe-west1", "us-central1"]),
        f"{P}clouds.gcp.regions[0].zones: 2 is not used by GCP regions; only AWS regions take zones (GCP spreads a "
        "region's cluster over its zones itself), so remove it",
    ),
    "more zones than an AWS region can give EKS": (
        lambda c: c["clouds"]["aws"]["regions"].append({"name": "us-west-1", "zones": 3}),
        f"{P}clouds.aws.regions[3].zones: 3 is more than the 2 zones us-west-1 offers for EKS (usw1-az1, usw1-az3); "
        "use 2",
    ),
    "gpu bounds": (
        lambda c: c["gpu"].update(min_nodes=5, max_nodes=2),
        f"{P}gpu.min_nodes: 5 is more than max_nodes (2)",
    ),
    "gpu bounds of a region override": (
        lambda c: c["clouds"]["azure"]["regions"][1]["gpu"].update(max_nodes=0 + 1, min_nodes=None) or
        c["gpu"].update(min_nodes=2),
        f"{P}clouds.azure.regions[1].gpu.max_nodes: 1 is less than min_nodes (2)",
    ),
    "gpu type missing in a cloud, set stack-wide": (
        lambda c: c["clouds"]["azure"].update(regions=["westeurope", "northeurope"]),
        f"{P}gpu.type: Azure does not offer L4 GPUs; L4 is offered by AWS and GCP (needed by azure:westeurope, "
        "azure:northeurope)",
    ),
    "gpu type missing in a cloud, set by a region": (
        lambda c: c["clouds"]["aws"]["regions"][2].update(gpu={"type": "A10G"}) or
        c["clouds"]["gcp"].update(regions=["europe-west4", {"name": "europe-west1", "gpu": {"type": "A10G"}}, "us-central1"]),
        f"{P}clouds.gcp.regions[1].gpu.type: GCP does not offer A10G GPUs; A10G is offered by AWS "
        "(needed by gcp:europe-west1)",
    ),
    "gpu count missing in a cloud": (
        lambda c: c["gpu"].update(gpus_per_node=2) or c["clouds"]["azure"]["regions"][0]["gpu"].update(gpus_per_node=1)
        or c["clouds"]["azure"]["regions"][1]["gpu"].update(gpus_per_node=1)
        or c["clouds"]["azure"]["regions"][2]["gpu"].update(gpus_per_node=1),
        f"{P}gpu.gpus_per_node: AWS has no machine type with 2 x L4; GPUs per node offered: 1, 4, 8 "
        "(needed by aws:us-east-1, aws:eu-central-1, aws:eu-west-1)",
    ),
    "more nodes than a region's pod range holds": (
        lambda c: c["gpu"].update(max_nodes=12),
        f"{P}gpu.max_nodes: 12 GPU nodes + 4 system nodes + 2 upgrade surge nodes = 18 nodes, more than the pod "
        "range holds (a /24 per node) in azure:westeurope (10.73.192.0/19 holds 16), azure:northeurope "
        "(10.73.160.0/19 holds 16), azure:eastus2 (10.72.32.0/19 holds 16), gcp:europe-west4 (10.82.0.0/19 holds 16), "
        "gcp:europe-west1 (10.81.160.0/19 holds 16), gcp:us-central1 (10.80.0.0/19 holds 16); lower max_nodes or "
        "kubernetes.system_nodes, or pin a larger cidr for the region",
    ),
    "region in two zones": (
        lambda c: c["residency_zones"].update(emea=["westeurope"]) or c.pop("dns"),  # (a zone needs a geography)
        f"{P}residency_zones: region 'westeurope' is in several zones ['eu', 'emea']; a region belongs to one zone "
        "at most",
    ),
    "hub outside the residency zone": (
        lambda c: c["clouds"]["aws"].update(hub="us-east-1"),
        f"{P}clouds.aws.hub: hub 'us-east-1' is outside residency zone 'eu', so traffic of "
        "['eu-central-1', 'eu-west-1'] would transit it; choose a hub among ['eu-central-1', 'eu-west-1']",
    ),
    "no clouds": (
        lambda c: c.update(clouds={}, residency_zones={}) or c.pop("models"),
        f"{P}clouds: {{}} configures no cloud; configure at least one of aws, azure, gcp",
    ),
    "an ASN for a cloud that is not configured": (
        lambda c: c["clouds"].pop("gcp") and c["residency_zones"]["eu"].remove("europe-west4")
        or c["residency_zones"]["eu"].remove("europe-west1") or c.update(network={"asns": {"gcp": 65200}})
        or c.pop("models"),
        f"{P}network.asns.gcp: 65200 is set for gcp, which is not configured under clouds",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_is_refused_naming_the_key_and_the_value(case):
    mutate, expected = CASES[case]
    assert problems_for(mutate) == [expected]


def test_every_problem_is_reported_together():
    def break_many(c):
        c["clouds"]["aws"]["regions"].append("us-eats-1")
        c["clouds"]["gcp"]["hub"] = "asia-east1"
        c["clouds"]["aws"]["regions"][0]["cidr"] = "172.16.0.0/16"

    problems = problems_for(break_many)
    assert len(problems) == 3
    assert [p.split(":", 2)[1].split(" ")[0] for p in problems] == [
        "platform.clouds.aws.regions[3].name",
        "platform.clouds.gcp.hub",
        "platform.clouds.aws.regions[0].cidr",
    ]


def test_pydantic_errors_are_collected_too():
    def break_types(c):
        c["gpu"]["max_nodes"] = "lots"
        c["owner"] = "Not A Label"
        c["supernet"] = "10.0.0.0/33"

    assert len(problems_for(break_types)) == 3


def test_per_region_gpu_override_merges_with_the_stack_request():
    settings = load_settings(stack_platform_config("prod"))
    westeurope = settings.clouds.azure.regions[0]
    assert settings.gpu_for(westeurope).type == "T4"
    assert settings.gpu_for(westeurope).max_nodes == settings.gpu.max_nodes


def test_a_misspelt_config_key_is_named_with_the_key_meant():
    keys = ["multicloud-inference:platfrom", "aws:region", "pulumi:disable-default-providers"]
    with pytest.raises(ConfigError) as raised:
        load_settings(None, keys)
    assert raised.value.problems == [
        "multicloud-inference:platfrom: unknown key 'platfrom'; did you mean 'platform'?",
        "multicloud-inference:platform: is required (set it in Pulumi.<stack>.yaml; see Pulumi.dev.yaml)",
    ]
    # Beside a valid `platform` too: the program reads no other key of its namespace.
    with pytest.raises(ConfigError) as raised:
        load_settings(stack_platform_config("dev"), [*keys, "multicloud-inference:platform", "multicloud-inference:gpu"])
    assert raised.value.problems == [
        "multicloud-inference:gpu: unknown key 'gpu'; valid keys here: platform",
        "multicloud-inference:platfrom: unknown key 'platfrom'; did you mean 'platform'?",
    ]


def test_the_program_names_a_misspelt_config_key():
    platform = stack_platform_config("dev")
    config = {"multicloud-inference:platform": json.dumps(platform), "multicloud-inference:protect": "true"}
    with pytest.raises(pulumi.RunError) as raised:
        run_program(REPO_ROOT / "__main__.py", "multicloud-inference", "dev", config)
    assert "multicloud-inference:protect: unknown key 'protect'; valid keys here: platform" in str(raised.value)


def test_a_region_override_names_its_own_keys():
    def override(c):
        c["clouds"]["aws"]["regions"][0]["gpu"] = {"type": "A100", "gpus_per_node": 2}
        c["clouds"]["gcp"]["regions"][0] = {"name": "europe-west4", "gpu": {"gpus_per_node": 3}}

    assert problems_for(override) == [
        f"{P}clouds.aws.regions[0].gpu.gpus_per_node: AWS has no machine type with 2 x A100; GPUs per node "
        "offered: 8 (needed by aws:us-east-1)",
        f"{P}clouds.gcp.regions[0].gpu.gpus_per_node: GCP has no machine type with 3 x L4; GPUs per node "
        "offered: 1, 2, 4, 8 (needed by gcp:europe-west4)",
    ]


def test_messages_never_show_pydantic_class_names():
    names = model_names(Settings)
    assert {"Settings", "GpuRequest", "RegionSpec", "AwsSpec"} <= names
    for mutate, _ in CASES.values():
        for problem in problems_for(mutate):
            assert not any(re.search(rf"\b{name}\b", problem) for name in names), problem


# Keys of every level, and junk a hand may type there.
PATHS = [
    ("name",), ("owner",), ("supernet",), ("region_prefix_length",), ("protect",), ("residency_zones",),
    ("residency_zones", "eu"), ("clouds",), ("clouds", "aws"), ("clouds", "aws", "regions"),
    ("clouds", "aws", "regions", 0), ("clouds", "aws", "regions", 0, "zones"), ("clouds", "aws", "regions", 0, "cidr"),
    ("clouds", "azure", "regions", 1, "gpu"), ("clouds", "azure", "regions", 1, "gpu", "max_nodes"),
    ("clouds", "gcp", "project"), ("gpu",), ("gpu", "type"), ("gpu", "spot"), ("gpu", "min_nodes"),
    ("kubernetes",), ("kubernetes", "api_allowed_cidrs"), ("kubernetes", "release_channel"), ("network", "asns"),
    ("network", "tunnel_cidrs"), ("image",), ("image", "ref"), ("image", "digest"), ("serving", "cpu"),
    ("serving", "gpus_per_pod"), ("rollout", "waves"), ("rollout", "waves", 0), ("deployer",), ("deployer", "network"),
    ("deployer", "egress_cidrs"), ("deployer", "azure_principal_type"),
    # keys nobody reads, at several depths
    ("colour",), ("clouds", "oracle"), ("clouds", "azure", "regions", 0, "gpu", "tpye"), ("kubernetes", "nodes"),
]
junk = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70000), st.floats(allow_nan=False), st.text(max_size=12),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=5)), max_size=2),
)


@hypothesis_settings(derandomize=True, deadline=None, max_examples=300)
@given(st.sampled_from(PATHS), junk)
def test_any_bad_value_anywhere_is_one_line_per_key_naming_it(path, value):
    config = stack_platform_config("prod")
    target = config
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    try:
        load_settings(config)
    except ConfigError as error:
        names = model_names(Settings)
        for problem in error.problems:
            assert problem.startswith(KEY + ".") and ": " in problem, problem
            assert not any(re.search(rf"\b{name}\b", problem) for name in names), problem
            assert "Input should" not in problem and "Value error" not in problem, problem
            assert not problem.endswith("valid keys here: "), problem
