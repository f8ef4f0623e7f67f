"""Rollout waves as a pure plan: every region in exactly one wave, `rest` last, bad entries named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.rollout import REST, plan_waves, wave_problems

REGIONS = ["aws:us-east-1", "aws:eu-central-1", "azure:westeurope", "gcp:europe-west4", "gcp:us-central1"]


def test_rest_expands_to_the_unnamed_regions_in_config_order():
    waves = plan_waves(REGIONS, [["aws:eu-central-1"], ["gcp:europe-west4", "azure:westeurope"], [REST]])
    assert waves == (("aws:eu-central-1",), ("gcp:europe-west4", "azure:westeurope"), ("aws:us-east-1", "gcp:us-central1"))


def test_the_default_is_one_wave_of_everything():
    assert plan_waves(REGIONS) == (tuple(REGIONS),)


def test_a_rest_wave_left_empty_is_dropped():
    assert plan_waves(REGIONS[:2], [[REGIONS[1]], [REGIONS[0]], [REST]]) == ((REGIONS[1],), (REGIONS[0],))


@pytest.mark.parametrize(
    ("waves", "path", "message"),
    [
        ([["aws:eu-central-1"], ["aws:eu-centrl-1", REST]], (1, 0),
         "'aws:eu-centrl-1' is not a configured region; did you mean aws:eu-central-1?"),
        ([["aws:us-east-1"], ["aws:us-east-1", REST]], (1, 0),
         "'aws:us-east-1' is already in waves[0][0]; a region rolls out once"),
        ([[REST], ["aws:us-east-1"]], (0, 0), "'rest' stands for every region not named yet, so it belongs to the last wave"),
        ([["aws:us-east-1"], [REST, REST]], (1, 1), "'rest' may appear once, already at waves[1][0]"),
        ([["aws:us-east-1"], []], (1,), "is an empty wave; remove it or name its regions"),
        ([["aws:us-east-1"]], (),
         "does not place aws:eu-central-1, azure:westeurope, gcp:europe-west4, gcp:us-central1; "
         "name them in a wave or end with [rest]"),
        ([], (), "needs at least one wave; use [[rest]] for every region at once"),
    ],
)
def test_bad_waves_are_refused_naming_the_entry(waves, path, message):
    problems = wave_problems(REGIONS, waves)
    assert [(p.path, p.message) for p in problems] == [(path, message)]
    with pytest.raises(ValueError, match="waves"):
        plan_waves(REGIONS, waves)


@st.composite
def configs(draw):
    regions = draw(st.lists(st.sampled_from(REGIONS + ["azure:eastus2", "aws:eu-west-1"]), min_size=1, unique=True))
    named = draw(st.permutations(regions))
    named = named[: draw(st.integers(0, len(named)))]
    cuts = sorted(draw(st.lists(st.integers(0, len(named)), max_size=3)))
    waves, start = [], 0
    for cut in [*cuts, len(named)]:
        if named[start:cut]:
            waves.append(list(named[start:cut]))
        start = cut
    return regions, waves + [[REST]]


@given(configs())
def test_every_region_rolls_out_exactly_once_in_the_order_given(config):
    regions, waves = config
    planned = plan_waves(regions, waves)
    flat = [r for wave in planned for r in wave]
    assert sorted(flat) == sorted(regions) and len(flat) == len(set(flat))
    named = [r for wave in waves for r in wave if r != REST]
    assert flat[: len(named)] == named
    assert all(planned)


@given(configs(), st.sampled_from(["gcp:asia-east1", "aws:ap-south-1"]))
def test_a_region_added_later_joins_the_rest_wave_and_moves_no_other(config, added):
    regions, waves = config
    before, after = plan_waves(regions, waves), plan_waves([*regions, added], waves)
    assert after[-1][-1] == added
    assert [tuple(r for r in wave if r != added) for wave in after if set(wave) != {added}] == list(before)
