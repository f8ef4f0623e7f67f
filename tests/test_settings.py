"""The settings model: valid stacks load, and each kind of bad config is refused with its key path."""

from __future__ import annotations

import copy

import pytest

from settings import ConfigError, load_settings
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


CASES = {
    "unknown region": (
        lambda c: c["clouds"]["aws"]["regions"].append("us-eats-1"),
        f"{KEY}.clouds.aws.regions[3].name: unknown aws region 'us-eats-1'; did you mean us-east-1",
    ),
    "duplicate region": (
        lambda c: c["clouds"]["gcp"]["regions"].append("europe-west1"),
        f"{KEY}.clouds.gcp.regions: region 'europe-west1' is listed 2 times",
    ),
    "hub not among regions": (
        lambda c: c["clouds"]["azure"].update(hub="uksouth"),
        f"{KEY}.clouds.azure.hub: hub 'uksouth' must be one of this cloud's regions",
    ),
    "overlapping cidrs": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="10.64.0.0/16")
        or c["clouds"]["aws"]["regions"][1].update(cidr="10.64.128.0/17"),
        f"{KEY}.clouds.aws.regions[1].cidr: 10.64.128.0/17 overlaps 10.64.0.0/16 at {KEY}.clouds.aws.regions[0].cidr",
    ),
    "cidr outside the supernet": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="172.16.0.0/16"),
        f"{KEY}.clouds.aws.regions[0].cidr: 172.16.0.0/16 is outside the supernet 10.64.0.0/11",
    ),
    "malformed cidr": (
        lambda c: c["clouds"]["aws"]["regions"][0].update(cidr="10.64.0.300/16"),
        f"{KEY}.clouds.aws.regions[0].cidr: Input is not a valid IPv4 network",
    ),
    "zone names an undeployed region": (
        lambda c: c["residency_zones"]["eu"].append("francecentral"),
        f"{KEY}.residency_zones.eu[6]: region 'francecentral' is not deployed by any cloud",
    ),
    "missing required key": (
        lambda c: c["clouds"]["gcp"].pop("project"),
        f"{KEY}.clouds.gcp.project: is required",
    ),
    "wrong type": (
        lambda c: c["gpu"].update(max_nodes="lots"),
        f"{KEY}.gpu.max_nodes: Input should be a valid integer",
    ),
    "unknown key": (
        lambda c: c.update(regoins=[]),
        f"{KEY}.regoins: is not a known key (check its spelling)",
    ),
    "bad name": (
        lambda c: c.update(name="Lepton_Prod"),
        f"{KEY}.name: 'Lepton_Prod' is not 2 to 10 lower-case letters and digits",
    ),
    "gpu bounds": (
        lambda c: c["gpu"].update(min_nodes=5, max_nodes=2),
        f"{KEY}.gpu: Value error, min_nodes (5) must not exceed max_nodes (2)",
    ),
    "gpu type missing in a cloud": (
        lambda c: c["clouds"]["azure"].update(regions=["westeurope", "northeurope"]),
        f"{KEY}.gpu.type: Azure does not offer L4 GPUs; L4 is offered by AWS and GCP",
    ),
    "region in two zones": (
        lambda c: c["residency_zones"].update(emea=["westeurope"]),
        f"{KEY}.residency_zones: region 'westeurope' is in several zones ['eu', 'emea']",
    ),
    "hub outside the residency zone": (
        lambda c: c["clouds"]["aws"].update(hub="us-east-1"),
        f"{KEY}.clouds.aws.hub: hub 'us-east-1' is outside residency zone 'eu', so traffic of "
        "['eu-central-1', 'eu-west-1'] would transit it",
    ),
    "no clouds": (
        lambda c: c.update(clouds={}, residency_zones={}),
        f"{KEY}.clouds: configure at least one of aws, azure, gcp",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_config_is_refused_naming_the_key(case):
    mutate, expected = CASES[case]
    problems = problems_for(mutate)
    assert any(p.startswith(expected) for p in problems), problems


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
