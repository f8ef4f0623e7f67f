"""`models.sources`: one source region per residency zone, and `default` for the regions outside
every zone; each refusal names the key and the value found there."""

from __future__ import annotations

import pytest

from planning.platform import plan_platform
from settings import ConfigError, load_settings
from tests.planview import stack_platform_config

KEY = "multicloud-inference:platform.models.sources"
EU = "aws:eu-central-1, aws:eu-west-1, azure:westeurope, azure:northeurope, gcp:europe-west4, gcp:europe-west1"
OUTSIDE = "aws:us-east-1, azure:eastus2, gcp:us-central1"


def problems(stack: str, mutate) -> list[str]:
    config = stack_platform_config(stack)
    mutate(config)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return raised.value.problems


def sources(**given):
    return lambda c: c["models"].update(sources=given)


CASES = {
    "zone source outside the zone": (
        "prod", sources(eu="aws:us-east-1", default="aws:us-east-1"),
        f"{KEY}.eu: 'aws:us-east-1' is not one of zone 'eu': it is outside every zone; choose one of {EU}",
    ),
    "zone source not configured": (
        "prod", sources(eu="gcp:europe-west9", default="aws:us-east-1"),
        f"{KEY}.eu: 'gcp:europe-west9' is not a configured region (cloud:region); choose one of {EU}",
    ),
    "source without its cloud": (
        "prod", sources(eu="europe-west4", default="aws:us-east-1"),
        f"{KEY}.eu: 'europe-west4' is not a configured region (cloud:region); choose one of {EU}",
    ),
    "default inside a zone": (
        "prod", sources(eu="gcp:europe-west4", default="gcp:europe-west4"),
        f"{KEY}.default: 'gcp:europe-west4' is not one of the regions outside every zone: it is in zone 'eu'; "
        f"choose one of {OUTSIDE}",
    ),
    "zone without a source": (
        "prod", sources(default="aws:us-east-1"),
        f"{KEY}.eu: is required: zone 'eu' has regions {EU}; name the one its models are uploaded to",
    ),
    "regions outside every zone without a default": (
        "prod", sources(eu="gcp:europe-west4"),
        f"{KEY}.default: is required: {OUTSIDE} are outside every zone; name the one their models are uploaded to",
    ),
    "source of an undefined zone": (
        "prod", sources(eu="gcp:europe-west4", default="aws:us-east-1", apac="aws:us-east-1"),
        f"{KEY}.apac: 'aws:us-east-1' is the source of zone 'apac', which residency_zones does not define (zones: eu;",
    ),
    "default where every region is in a zone": (
        "dev", sources(eu="gcp:europe-west4", default="aws:eu-central-1"),
        f"{KEY}.default: 'aws:eu-central-1' is not needed: no region is outside every zone; remove the key",
    ),
    "not a mapping": (
        "dev", lambda c: c["models"].update(sources="gcp:europe-west4"),
        f"{KEY}: 'gcp:europe-west4' is not a mapping of keys (write `key: value` lines under it)",
    ),
    "a zone named default": (
        "dev", lambda c: c["residency_zones"].update(default=[]),
        "multicloud-inference:platform.residency_zones.default: the zone name 'default' is reserved",
    ),
    "unknown key": (
        "dev", lambda c: c["models"].update(source={"eu": "gcp:europe-west4"}),
        "multicloud-inference:platform.models.source: unknown key 'source'; did you mean 'sources'?",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_sources_are_refused_naming_the_key_and_the_value(case):
    stack, mutate, expected = CASES[case]
    found = problems(stack, mutate)
    assert any(p.startswith(expected) for p in found), found


def test_every_sources_problem_is_reported_together():
    found = problems("prod", sources(eu="aws:us-east-1", apac="gcp:europe-west4"))
    assert [p.split(": ", 1)[0].removeprefix(KEY) for p in found] == [".eu", ".apac", ".default"]


def test_without_models_nothing_is_replicated():
    config = stack_platform_config("dev")
    del config["models"]
    assert plan_platform(load_settings(config)).replication.edges == ()


def test_once_models_is_set_every_zone_with_regions_needs_a_source():
    config = stack_platform_config("dev")
    config["models"] = {"sources": {}}
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert raised.value.problems == [
        f"{KEY}.eu: is required: zone 'eu' has regions aws:eu-central-1, azure:westeurope, gcp:europe-west4; "
        "name the one its models are uploaded to"
    ]


def test_committed_sources():
    assert load_settings(stack_platform_config("prod")).models.sources == {
        "eu": "gcp:europe-west4", "default": "aws:us-east-1",
    }
    assert load_settings(stack_platform_config("dev")).models.sources == {"eu": "gcp:europe-west4"}
