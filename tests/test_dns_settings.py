"""`dns` settings: the committed stacks' global entry, and each bad value refused naming its key,
by the settings, the offline CLI (exit 2) and the program (nothing registered)."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from offline.__main__ import EXIT_INVALID, main
from offline.engine import Recording, run_program
from offline.plan import REPO_ROOT
from planning.routing import Geography
from settings import ConfigError, load_settings
from tests.planview import stack_platform_config

KEY = "multicloud-inference:platform"


def problems_for(mutate, stack: str = "prod") -> list[str]:
    config = stack_platform_config(stack)
    mutate(config)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    return raised.value.problems


def test_committed_stacks_have_a_global_entry():
    prod, dev = (load_settings(stack_platform_config(s)).dns for s in ("prod", "dev"))
    assert (prod.zone, prod.name, prod.provider, prod.hostname) == ("example.com", "infer", "route53", "infer.example.com")
    assert (prod.health_check.interval, prod.health_check.failure_threshold) == (10, 3)
    assert dev.hostname == "infer.dev.example.com" and dev.health_check.interval == 30


def test_eu_geography_is_built_in_and_config_adds_to_it():
    config = stack_platform_config("prod")
    config["dns"]["geographies"] = {"eu": {"countries": ["GF", "RE"]}}
    dns = load_settings(config).dns
    assert dns.geographies_for({"eu": []}) == {"eu": Geography(frozenset({"EU"}), frozenset({"NO", "IS", "LI", "GF", "RE"}))}


def test_without_dns_there_is_no_global_entry():
    config = stack_platform_config("dev")
    del config["dns"]
    assert load_settings(config).dns is None


def _second_zone(config, geography=None):
    config["residency_zones"]["us"] = ["us-east-1"]
    if geography is not None:
        config["dns"]["geographies"] = {"us": geography}


CASES = {
    "no zone": (lambda c: c["dns"].pop("zone"), f"{KEY}.dns.zone: is required"),
    "unknown provider": (
        lambda c: c["dns"].update(provider="clouddns"),
        f"{KEY}.dns.provider: 'clouddns' is not a supported DNS provider; use route53",
    ),
    "continent in two zones": (
        lambda c: _second_zone(c, {"continents": ["NA", "EU"]}),
        f"{KEY}.dns.geographies.us.continents[1]: continent EU is also in residency zone 'eu''s geography",
    ),
    "country in two zones": (
        lambda c: _second_zone(c, {"continents": ["NA"], "countries": ["NO"]}),
        f"{KEY}.dns.geographies.us.countries[0]: NO is also in residency zone 'eu''s geography",
    ),
    "country inside another zone's continent": (
        lambda c: _second_zone(c, {"countries": ["US", "CH"]}),
        f"{KEY}.dns.geographies.us.countries[1]: CH lies in continent EU, residency zone 'eu''s geography",
    ),
    "zone without a geography": (
        lambda c: _second_zone(c),
        f"{KEY}.dns.geographies.us: residency zone 'us' needs a client geography",
    ),
    "geography of no zone": (
        lambda c: c["dns"].update(geographies={"apac": {"countries": ["SG"]}}),
        f"{KEY}.dns.geographies.apac: 'apac' is not a residency zone (residency_zones: eu)",
    ),
    "unknown continent": (
        lambda c: c["dns"].update(geographies={"eu": {"continents": ["EUR"]}}),
        f"{KEY}.dns.geographies.eu.continents[0]: 'EUR' is not a Route 53 continent code",
    ),
    "unknown country": (
        lambda c: c["dns"].update(geographies={"eu": {"countries": ["UK"]}}),
        f"{KEY}.dns.geographies.eu.countries[0]: 'UK' is not an ISO 3166-1 alpha-2 country code Route 53 knows",
    ),
    "country without location data": (
        lambda c: c["dns"].update(geographies={"eu": {"countries": ["BV"]}}),
        f"{KEY}.dns.geographies.eu.countries[0]: Route 53 has no location data for 'BV'",
    ),
    "bad zone": (
        lambda c: c["dns"].update(zone="Example.COM."),
        f"{KEY}.dns.zone: 'Example.COM.' is not a lower-case domain name such as example.com",
    ),
    "bad hosted zone id": (
        lambda c: c["dns"].update(hosted_zone_id="example.com"),
        f"{KEY}.dns.hosted_zone_id: 'example.com' is not a Route 53 hosted zone id",
    ),
    "health check interval": (
        lambda c: c["dns"]["health_check"].update(interval=20), f"{KEY}.dns.health_check.interval: 20 is not one of 10, 30"),
    "unknown dns key": (lambda c: c["dns"].update(zones="example.com"),
                        f"{KEY}.dns.zones: unknown key 'zones'; did you mean 'zone'?"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_dns_config_is_refused_naming_the_key(case):
    mutate, expected = CASES[case]
    problems = problems_for(mutate)
    assert any(p.startswith(expected) for p in problems), problems


def _write(tmp_path, platform) -> str:
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": {KEY: platform}}))
    return str(path)


@pytest.mark.parametrize("mutate,expected", [
    (CASES["no zone"][0], "platform.dns.zone: is required"),
    (CASES["unknown provider"][0], "platform.dns.provider: 'clouddns' is not a supported DNS provider"),
    (CASES["continent in two zones"][0], "platform.dns.geographies.us.continents[1]: continent EU is also in"),
], ids=["no-zone", "unknown-provider", "overlap"])
def test_the_offline_preview_exits_2_naming_the_key(tmp_path, capsys, mutate, expected):
    platform = stack_platform_config("prod")
    mutate(platform)
    assert main(["preview", "variant", "--config-file", _write(tmp_path, platform)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert expected in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_the_program_registers_nothing_for_a_bad_dns_section():
    platform = stack_platform_config("dev")
    platform["dns"]["provider"] = "azuretm"
    recording = Recording()
    with pytest.raises(pulumi.RunError) as raised:
        run_program(REPO_ROOT / "__main__.py", "multicloud-inference", "dev", {KEY: json.dumps(platform)}, recording)
    assert f"{KEY}.dns.provider: 'azuretm' is not a supported DNS provider" in str(raised.value)
    assert recording.registrations == []
