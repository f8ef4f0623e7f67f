"""The README's policy table and the example config stay true to the definitions."""

import json
import re

from platform_policies import POLICIES
from platform_policies.config import resolve
from platform_policies.docs import README, render


def test_readme_table_matches_the_definitions():
    text = README.read_text()
    assert render(text) == text, "README is stale: cd policies && python -m platform_policies.docs"


def test_every_policy_is_documented_with_its_keys():
    text = README.read_text()
    for p in POLICIES:
        assert f"`{p.name}`" in text
        for key in p.config_keys:
            assert f"`{key.name}`" in text


def test_the_readme_config_examples_are_valid():
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        resolve(POLICIES, json.loads(block))


def test_description_is_one_sentence():
    for p in POLICIES:
        assert p.description.endswith(".") and p.description.count(". ") == 0, p.name
