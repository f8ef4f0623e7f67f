"""The Route 53 residency policy on the program's own prod plan, its config, and its country table."""

import copy
import json

import pytest

from offline.policy_check import apply_policies, check_plan_file
from planning.geolocation import country_continents
from platform_policies import POLICIES
from platform_policies.config import resolve
from platform_policies.definitions import ConfigError
from platform_policies.global_entry import CONTINENT_OF

POLICY = "aws-route53-record-answers-in-residency-zone"
RECORD = "aws:route53/record:Record"


def test_the_packs_country_table_is_route53s_as_the_planner_reads_it():
    # The pack is standalone (it cannot import the program), so it carries its own copy.
    assert CONTINENT_OF == dict(country_continents())


def test_overlapping_zone_geographies_are_refused_naming_the_key():
    config = {POLICY: {"residencyZones": {"eu": ["eu-central-1"], "ch": ["eu-central-2"]},
                       "residencyGeographies": {"eu": {"continents": ["EU"]}, "ch": {"countries": ["CH", "XX"]}}}}
    with pytest.raises(ConfigError) as raised:
        resolve(POLICIES, config)
    message = str(raised.value)
    assert f"{POLICY}.residencyGeographies.ch.countries: 'XX' is not a country Route 53 geolocation knows" in message
    assert f"{POLICY}.residencyGeographies: zones ch and eu both claim CH" in message


def _eu_continent_record(plan):
    return next(r for r in plan["resources"] if r["type"] == RECORD
                and r["inputs"].get("geolocationRoutingPolicies") == [{"continent": "EU"}])


def test_prod_records_pass(prod_plan):
    assert [v for v in apply_policies(prod_plan.plan)["violations"] if v["policy"].startswith("aws-route53")] == []


def test_a_prod_plan_whose_eu_record_points_at_a_us_region_fails_check_naming_the_record(prod_plan, tmp_path, capsys):
    plan = copy.deepcopy(prod_plan.plan)
    record = _eu_continent_record(plan)
    record["inputs"]["aliases"][0]["name"] = "aws-us-east-1.infer.example.com"  # the US region's own endpoint
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(plan))
    assert check_plan_file(path) == 1
    out = capsys.readouterr().out
    section = out.split(f"[mandatory] {POLICY} (", 1)[1].split("\n[", 1)[0]
    assert f"  {record['urn']}\n" in section
    assert "answers from outside the zone: us-east-1 (aws-us-east-1-entry-" in section
    assert " via infer.example.com [eu-continent-eu] -> aws-us-east-1.infer.example.com)" in section


def test_a_prod_eu_record_that_can_fail_over_to_the_default_is_caught(prod_plan):
    plan = copy.deepcopy(prod_plan.plan)
    record = _eu_continent_record(plan)
    record["inputs"]["aliases"][0]["evaluateTargetHealth"] = True
    found = [v for v in apply_policies(plan)["violations"] if v["policy"] == POLICY]
    assert found and {v["urn"] for v in found} == {record["urn"]}
    assert all("can fail over (it is health-evaluated) to infer.example.com [default]" in v["message"] for v in found)
