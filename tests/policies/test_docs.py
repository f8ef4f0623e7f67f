"""The README's policy table and the example config stay true to the definitions."""

import json
from pathlib import Path

from platform_policies import POLICIES
from platform_policies.config import resolve
from platform_policies.docs import README, render

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"


def test_readme_table_matches_the_definitions():
    text = README.read_text()
    assert render(text) == text, "README is stale: cd policies && python -m platform_policies.docs"


def test_every_policy_is_documented_with_its_keys():
    text = README.read_text()
    for p in POLICIES:
        assert f"`{p.name}`" in text
        for key in p.config_keys:
            assert f"`{key.name}`" in text


def test_example_config_is_valid():
    example = json.loads((POLICIES_DIR / "config.example.json").read_text())
    settings = resolve(POLICIES, example)
    assert settings["kubernetes-pod-container-limits-required"].enforcement == "mandatory"


def test_description_is_one_sentence():
    for p in POLICIES:
        assert p.description.endswith(".") and p.description.count(". ") == 0, p.name
