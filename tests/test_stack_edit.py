"""`place --apply`'s stack file edits (offline/stack_edit.py): only the asked keys change."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from offline.plan import REPO_ROOT
from offline.stack_edit import StackEditError, set_region_gpu

BLOCK = """\
# a stack written in block style, with comments everywhere
config:
  multicloud-inference:platform:
    clouds:
      aws:
        hub: us-east-1   # the hub
        regions:
          - name: us-east-1   # first
            zones: 3
            gpu:
              type: T4    # keep me
              max_nodes: 4
          - name: eu-west-1
            gpu:
              min_nodes: 1  # old value
          - name: eu-central-1
            zones: 2
          - eu-north-1  # plain
          - "eu-south-1"
          - {name: eu-west-2, gpu: {}}

    gpu: {type: T4}   # stack-wide
"""


def test_each_shape_of_region_is_edited_in_its_own_style_and_nothing_else_moves():
    edited = set_region_gpu(BLOCK, {
        "aws:us-east-1": {"min_nodes": 2},
        "aws:eu-west-1": {"min_nodes": 5},
        "aws:eu-central-1": {"min_nodes": 1, "max_nodes": 6},
        "aws:eu-north-1": {"min_nodes": 7},
        "aws:eu-south-1": {"min_nodes": 3},
        "aws:eu-west-2": {"min_nodes": 4},
    })
    assert edited == """\
# a stack written in block style, with comments everywhere
config:
  multicloud-inference:platform:
    clouds:
      aws:
        hub: us-east-1   # the hub
        regions:
          - name: us-east-1   # first
            zones: 3
            gpu:
              type: T4    # keep me
              max_nodes: 4
              min_nodes: 2
          - name: eu-west-1
            gpu:
              min_nodes: 5  # old value
          - name: eu-central-1
            zones: 2
            gpu: {min_nodes: 1, max_nodes: 6}
          - {name: eu-north-1, gpu: {min_nodes: 7}}  # plain
          - {name: "eu-south-1", gpu: {min_nodes: 3}}
          - {name: eu-west-2, gpu: {min_nodes: 4}}

    gpu: {type: T4}   # stack-wide
"""


def test_nothing_asked_changes_nothing():
    assert set_region_gpu(BLOCK, {}) == BLOCK
    assert set_region_gpu(BLOCK, {"aws:us-east-1": {}}) == BLOCK


def test_a_region_the_file_does_not_list_is_an_error():
    with pytest.raises(StackEditError, match=r"region aws:eu-north-2 is not listed under clouds.aws.regions"):
        set_region_gpu(BLOCK, {"aws:eu-north-2": {"min_nodes": 1}})
    with pytest.raises(StackEditError, match=r"no config.multicloud-inference:platform.clouds.gcp.regions list"):
        set_region_gpu(BLOCK, {"gcp:europe-west4": {"min_nodes": 1}})


def test_an_unqualified_platform_key_is_found_too():
    text = "config:\n  platform:\n    clouds:\n      gcp:\n        regions: [europe-west4]  # one\n"
    assert set_region_gpu(text, {"gcp:europe-west4": {"min_nodes": 2}}) == (
        "config:\n  platform:\n    clouds:\n      gcp:\n        regions: [{name: europe-west4, gpu: {min_nodes: 2}}]  # one\n"
    )


PROD = (REPO_ROOT / "Pulumi.prod.yaml").read_text()
PROD_REGIONS = [
    "aws:us-east-1", "aws:eu-central-1", "aws:eu-west-1", "azure:westeurope", "azure:northeurope", "azure:eastus2",
    "gcp:europe-west4", "gcp:europe-west1", "gcp:us-central1",
]


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(
    st.sampled_from(PROD_REGIONS),
    st.fixed_dictionaries({"min_nodes": st.integers(0, 20)}, optional={"max_nodes": st.integers(1, 40)}),
))
def test_prod_keeps_every_line_and_comment_it_was_not_asked_to_change(updates):
    edited = set_region_gpu(PROD, updates)
    old, new = PROD.splitlines(keepends=True), edited.splitlines(keepends=True)
    assert len(old) == len(new)  # prod's regions are flow style: each edit stays on its line
    touched = {key.split(":", 1)[1] for key in updates}
    for before, after in zip(old, new, strict=True):
        if before != after:
            assert any(name in before for name in touched), before
    document = yaml.safe_load(edited)["config"]["multicloud-inference:platform"]
    for cloud, spec in document["clouds"].items():
        for region in spec["regions"]:
            name = region if isinstance(region, str) else region["name"]
            for key, value in updates.get(f"{cloud}:{name}", {}).items():
                assert region["gpu"][key] == value
