"""The JSON Schema of a stack file: generated from the settings model, committed, and true to it."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml

from offline.plan import REPO_ROOT
from offline.schema import REGENERATE, SCHEMA_FILE, render, stack_schema, stale_message

STACK_FILES = sorted(REPO_ROOT.glob("Pulumi.*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((REPO_ROOT / SCHEMA_FILE).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_committed_schema_matches_the_settings_model():
    committed = (REPO_ROOT / SCHEMA_FILE).read_text()
    assert committed == render(), stale_message(SCHEMA_FILE)


def test_the_stale_message_names_the_command_to_run():
    assert "make schema" in stale_message(SCHEMA_FILE) and f"python -m offline schema --out {SCHEMA_FILE}" in REGENERATE


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_file_is_valid_and_points_editors_at_the_schema(validator, path):
    assert path.read_text().splitlines()[0] == f"# yaml-language-server: $schema=./{SCHEMA_FILE}"
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("mutate,where", [
    (lambda p: p["gpu"].update(tpye="L4"), "'tpye' was unexpected"),
    (lambda p: p.setdefault("kubernetes", {}).update(release_channel="NIGHTLY"), "'NIGHTLY' is not one of"),
    (lambda p: p["residency_zones"].update(EU=["eu-central-1"]), "does not match any of the regexes"),
    (lambda p: p["clouds"]["aws"]["regions"].append({"name": "eu-west-3", "zones": 5}), "5 is greater than the maximum of 3"),
    (lambda p: p.pop("owner"), "'owner' is a required property"),
    (lambda p: p.update(region_cidrs={}), "'region_cidrs' was unexpected"),  # computed, not configurable
])
def test_what_the_model_refuses_the_editor_flags(validator, mutate, where):
    document = yaml.safe_load((REPO_ROOT / "Pulumi.prod.yaml").read_text())
    platform = copy.deepcopy(document["config"]["multicloud-inference:platform"])
    mutate(platform)
    document["config"]["multicloud-inference:platform"] = platform
    messages = _messages(validator.iter_errors(document))
    assert any(where in m for m in messages), messages


def _messages(errors) -> list[str]:
    """Every message, those under anyOf branches (an optional cloud, a name-or-object) included."""
    return [m for e in errors for m in [e.message, *_messages(e.context or [])]]


def test_regions_may_be_names_or_objects():
    regions = stack_schema()["$defs"]["AwsSpec"]["properties"]["regions"]["items"]
    assert {"type": "string"} in regions["anyOf"] and {"$ref": "#/$defs/RegionSpec"} in regions["anyOf"]


def test_the_readme_tells_editors_where_the_schema_is():
    readme = (REPO_ROOT / "README.md").read_text()
    assert str(SCHEMA_FILE) in readme and "yaml-language-server" in readme and "make schema" in readme
