"""The placement MILP (planning/placement.py) and `python -m offline place`."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from offline.__main__ import EXIT_INVALID, EXIT_OK, main
from offline.plan import REPO_ROOT
from planning.placement import (
    Demand,
    DemandError,
    Infeasible,
    Site,
    constraints,
    infeasibility,
    parse_demand,
    satisfies,
    sites,
    solve,
)
from planning.platform import plan_platform
from planning.prices import load_catalogue
from settings import load_settings
from tests.planview import stack_platform_config

A, B, US = "aws:eu-central-1", "gcp:europe-west4", "aws:us-east-1"


def demand(zones=None, default=0, quotas=None, redundancy="none"):
    return Demand(zones if zones is not None else {"eu": 0}, default, quotas or {}, redundancy)


# --- hand-solved instances ---------------------------------------------------------------------


def test_n_plus_1_forces_a_second_region():
    """EU demand 4; A is the cheapest EU region. Alone it serves the zone; with n+1 losing A must
    leave 4 GPUs in the zone, and only B is left there (US cannot serve EU demand)."""
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 1, 2.0), Site(US, None, 1, 0.5)]
    alone = solve(sites_, demand({"eu": 4}))
    assert dict(alone.nodes) == {A: 4, B: 0, US: 0} and alone.hourly_cost == 4.0
    redundant = solve(sites_, demand({"eu": 4}, redundancy="n+1"))
    assert dict(redundant.nodes) == {A: 4, B: 4, US: 0} and redundant.hourly_cost == 12.0


def test_default_demand_goes_to_the_cheapest_region_anywhere_and_n_plus_1_spreads_it():
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 1, 2.0), Site(US, None, 2, 1.5)]
    assert dict(solve(sites_, demand({"eu": 0}, default=4)).nodes) == {A: 0, B: 0, US: 2}  # 0.75 per GPU
    # Losing US must leave 4 GPUs elsewhere (A, cheapest), losing A 4 in US: 2 nodes.
    placement = solve(sites_, demand({"eu": 0}, default=4, redundancy="n+1"))
    assert dict(placement.nodes) == {A: 4, B: 0, US: 2} and placement.hourly_cost == 7.0


def test_a_quota_binds_and_the_rest_goes_to_the_next_cheapest_region():
    """EU demand 7: A costs 1.00 per GPU, B 1.50 per GPU (3.00 for 2 GPUs). Without a quota A takes
    all 7; with A limited to 5 nodes, B adds one 2-GPU node: 5 + 3 = 8.00 an hour."""
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 2, 3.0)]
    assert dict(solve(sites_, demand({"eu": 7})).nodes) == {A: 7, B: 0}
    placement = solve(sites_, demand({"eu": 7}, quotas={A: 5}))
    assert dict(placement.nodes) == {A: 5, B: 1} and placement.hourly_cost == 8.0


def test_infeasible_demand_names_the_zone_and_the_binding_quotas():
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 1, 2.0), Site(US, None, 1, 0.5)]
    with pytest.raises(Infeasible) as raised:
        solve(sites_, demand({"eu": 4}, quotas={A: 2, B: 1}))
    assert raised.value.problems == [
        "zone 'eu' needs 4 GPUs but the quotas of the zone's regions allow at most 3 GPUs "
        "(aws:eu-central-1: 2 nodes x 1 GPU, gcp:europe-west4: 1 node x 1 GPU)"
    ]


def test_infeasible_n_plus_1_names_the_zone_with_too_few_regions():
    sites_ = [Site(A, "eu", 1, 1.0), Site(US, None, 1, 0.5), Site("gcp:us-central1", None, 1, 0.6)]
    with pytest.raises(Infeasible) as raised:
        solve(sites_, demand({"eu": 2}, default=1, redundancy="n+1"))
    assert raised.value.problems == [
        "zone 'eu' needs 2 GPUs with n+1 but the zone has too few regions for n+1: aws:eu-central-1 is its only "
        "region, so losing it leaves none (n+1 needs at least two)"
    ]


def test_infeasible_n_plus_1_names_the_region_whose_loss_breaks_the_quotas():
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 1, 2.0)]
    with pytest.raises(Infeasible) as raised:
        solve(sites_, demand({"eu": 3}, quotas={B: 2}, redundancy="n+1"))
    assert raised.value.problems == [
        "zone 'eu' needs 3 GPUs with n+1, but after losing aws:eu-central-1 the quotas of the zone's remaining "
        "regions allow at most 2 GPUs (gcp:europe-west4: 2 nodes x 1 GPU)",
        "default: all demand needs 3 GPUs (3 in eu + 0 default) with n+1, but after losing aws:eu-central-1 the "
        "quotas of the stack's remaining regions allow at most 2 GPUs (gcp:europe-west4: 2 nodes x 1 GPU)",
    ]


def test_the_model_has_one_copy_of_the_inequalities_per_lost_region():
    sites_ = [Site(A, "eu", 1, 1.0), Site(B, "eu", 1, 2.0), Site(US, None, 1, 0.5)]
    rows = constraints(sites_, demand({"eu": 4}, default=2, redundancy="n+1"))
    assert len(rows) == 2 * (1 + len(sites_))
    assert [(r.zone, r.lost, r.regions, r.gpus) for r in rows if r.lost == A] == [
        ("eu", A, (B,), 4), ("default", A, (B, US), 6),
    ]


# --- against brute force -----------------------------------------------------------------------

site_strategy = st.builds(
    lambda zone, g, price: (zone, g, price),
    st.sampled_from(["eu", "us", None]),
    st.sampled_from([1, 2, 4]),
    st.integers(1, 12).map(lambda p: p / 4),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(site_strategy, min_size=1, max_size=3),
    st.integers(0, 6), st.integers(0, 6), st.integers(0, 4),
    st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=3, max_size=3),
    st.sampled_from(["none", "n+1"]),
)
def test_solutions_meet_every_constraint_and_nothing_cheaper_does(raw, eu, us, default, quota_list, redundancy):
    sites_ = [Site(f"c:r{i}", zone, g, price) for i, (zone, g, price) in enumerate(raw)]
    quotas = {s.key: q for s, q in zip(sites_, quota_list, strict=False) if q is not None}
    wanted = Demand({"eu": eu, "us": us}, default, quotas, redundancy)
    total = eu + us + default
    ranges = [range(min(quotas.get(s.key, math.inf), math.ceil(total / s.gpus_per_node)) + 1) for s in sites_]
    best = None
    for counts in itertools.product(*ranges):
        nodes = dict(zip((s.key for s in sites_), counts, strict=True))
        if satisfies(nodes, sites_, wanted):
            cost = sum(s.node_hourly_price * n for s, n in zip(sites_, counts, strict=True))
            best = cost if best is None else min(best, cost)
    if best is None:
        assert infeasibility(sites_, wanted)
        with pytest.raises(Infeasible):
            solve(sites_, wanted)
    else:
        assert infeasibility(sites_, wanted) == []
        placement = solve(sites_, wanted)
        assert satisfies(placement.nodes, sites_, wanted)
        assert placement.hourly_cost == pytest.approx(best)


# --- the demand file ---------------------------------------------------------------------------


def test_demand_defaults_and_zones_without_demand():
    parsed = parse_demand({"demand": {"default": 3}}, ["eu"], [A, B])
    assert parsed == Demand({"eu": 0}, 3, {}, "none")


def test_a_malformed_demand_names_every_bad_key_and_value():
    with pytest.raises(DemandError) as raised:
        parse_demand(
            {"demand": {"asia": 2, "eu": -1, "default": "lots"}, "quotas": {"aws:us-west-2": 1, A: 2.5},
             "redundancy": "n+2", "budget": 10},
            ["eu"], [A, B],
        )
    assert raised.value.problems == [
        "budget: is not a known key (known: demand, quotas, redundancy)",
        "demand.asia: 'asia' is not a residency zone of this stack nor default (known: eu, default)",
        "demand.eu: -1 is not a number of GPUs >= 0",
        "demand.default: 'lots' is not a number of GPUs >= 0",
        "quotas.aws:us-west-2: 'aws:us-west-2' is not a region of this stack (known: aws:eu-central-1, gcp:europe-west4)",
        "quotas.aws:eu-central-1: 2.5 is not a whole number of nodes >= 0",
        "redundancy: 'n+2' is not one of none, n+1",
    ]
    with pytest.raises(DemandError, match=r"demand: is required"):
        parse_demand({"quotas": {}}, ["eu"], [A])
    with pytest.raises(DemandError, match=r"expected a mapping with keys demand, quotas, redundancy, got \[1, 2\]"):
        parse_demand([1, 2], ["eu"], [A])


# --- the stack's sites ---------------------------------------------------------------------------


def test_sites_take_each_regions_gpu_shape_price_and_spot_from_the_plan():
    plan = plan_platform(load_settings(stack_platform_config("prod")))
    priced = {s.key: s for s in sites(plan, load_catalogue())}
    assert list(priced) == list(plan.regions)
    assert priced["azure:westeurope"] == Site("azure:westeurope", "eu", 1, 0.6049)  # T4, on-demand
    assert priced["gcp:us-central1"] == Site("gcp:us-central1", None, 1, 0.8538)  # L4 g2-standard-8
    dev = plan_platform(load_settings(stack_platform_config("dev")))
    assert {s.key: s.node_hourly_price for s in sites(dev, load_catalogue())}["aws:eu-central-1"] == 0.25  # spot


# --- the verb ------------------------------------------------------------------------------------


def write(tmp_path, name, document):
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


def test_place_prints_and_writes_the_documented_json_listing_every_region(tmp_path, capsys):
    out = tmp_path / "placement.json"
    demand_file = write(tmp_path, "demand.yaml", {"demand": {"eu": 3, "default": 1}, "redundancy": "n+1"})
    assert main(["place", "dev", "--demand", demand_file, "--json", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert printed.startswith("Cheapest placement for stack dev (redundancy n+1): 1.3840 per hour")
    # Three EU regions, n+1 over 4 GPUs: any two must hold 4, so 2 + 2 + 2 (hand-solved).
    assert json.loads(out.read_text()) == {
        "status": "optimal",
        "hourly_cost": 1.384,
        "regions": {
            "aws:eu-central-1": {"nodes": 2, "gpus_per_node": 1, "node_hourly_price": 0.25},
            "azure:westeurope": {"nodes": 2, "gpus_per_node": 1, "node_hourly_price": 0.2117},
            "gcp:europe-west4": {"nodes": 2, "gpus_per_node": 1, "node_hourly_price": 0.2303},
        },
    }


@pytest.mark.parametrize(
    "document,expected",
    [
        ({"demand": {"eu": 5}, "quotas": {"aws:eu-central-1": 1, "azure:westeurope": 1, "gcp:europe-west4": 1}},
         ["error: {file}: the demand cannot be met:",
          "  - zone 'eu' needs 5 GPUs but the quotas of the zone's regions allow at most 3 GPUs (aws:eu-central-1: 1 node x "
          "1 GPU, azure:westeurope: 1 node x 1 GPU, gcp:europe-west4: 1 node x 1 GPU)"]),
        ({"demand": {"eu": "twelve"}},
         ["error: {file}: demand.eu: 'twelve' is not a number of GPUs >= 0"]),
        ({"demand": {"eu": 1}, "quotas": {"aws:eu-central-1": -2}},
         ["error: {file}: quotas.aws:eu-central-1: -2 is not a whole number of nodes >= 0"]),
        ("demand: {eu: [", ["error: {file}: not valid YAML or JSON"]),
    ],
    ids=["quota-infeasible", "bad-demand-value", "bad-quota", "not-yaml"],
)
def test_place_refuses_bad_or_infeasible_demand_with_exit_2(tmp_path, capsys, document, expected):
    demand_file = write(tmp_path, "demand.yaml", document)
    assert main(["place", "dev", "--demand", demand_file]) == EXIT_INVALID
    captured = capsys.readouterr()
    for line in expected:
        assert line.format(file=demand_file) in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_place_with_one_region_per_zone_names_the_zone_that_n_plus_1_cannot_serve(tmp_path, capsys):
    platform = stack_platform_config("dev")
    platform["residency_zones"] = {"eu": ["eu-central-1"]}
    platform.pop("models")  # replication does not matter here
    config = write(tmp_path, "Pulumi.one.yaml", {"config": {"multicloud-inference:platform": platform}})
    demand_file = write(tmp_path, "demand.json", json.dumps({"demand": {"eu": 2}, "redundancy": "n+1"}))
    assert main(["place", "one", "--config-file", config, "--demand", demand_file]) == EXIT_INVALID
    assert ("zone 'eu' needs 2 GPUs with n+1 but the zone has too few regions for n+1: aws:eu-central-1 is its only "
            "region") in capsys.readouterr().err


def test_place_names_a_missing_price_with_its_shape_and_region(tmp_path, capsys):
    platform = stack_platform_config("dev")
    platform["clouds"]["aws"]["regions"].append("ap-south-1")
    platform.pop("models")  # replication does not matter here
    config = write(tmp_path, "Pulumi.mumbai.yaml", {"config": {"multicloud-inference:platform": platform}})
    demand_file = write(tmp_path, "demand.yaml", {"demand": {"default": 1}})
    assert main(["place", "mumbai", "--config-file", config, "--demand", demand_file]) == EXIT_INVALID
    assert "error: no price for node shape g4dn.xlarge in aws:ap-south-1: add a row to" in capsys.readouterr().err


def test_place_requires_a_demand_file_that_exists(tmp_path, capsys):
    assert main(["place", "dev", "--demand", str(tmp_path / "nope.yaml")]) == EXIT_INVALID
    assert f"error: {tmp_path / 'nope.yaml'}: no such demand file" in capsys.readouterr().err


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new), "no line may be added or removed by these edits"
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_apply_writes_min_nodes_per_region_and_leaves_every_other_line_of_prod_intact(tmp_path, capsys):
    original = (REPO_ROOT / "Pulumi.prod.yaml").read_text()
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(original)
    demand_file = write(tmp_path, "demand.yaml", {"demand": {"eu": 12, "default": 8}, "quotas": {"aws:eu-central-1": 8},
                                                   "redundancy": "n+1"})
    out = tmp_path / "placement.json"
    argv = ["place", "prod", "--config-file", str(config), "--demand", demand_file, "--apply", "--json", str(out)]
    assert main(argv) == EXIT_OK
    nodes = {k: v["nodes"] for k, v in json.loads(out.read_text())["regions"].items()}
    edited = config.read_text()
    changes = changed_lines(original, edited)
    assert changes and all("{name: " in before or before.endswith("]") for before, _ in changes)
    assert "# inside the EU zone: EU regions' cross-cloud traffic stays in the EU" in edited
    assert "# Azure has no L4: its regions serve from T4 nodes" in edited
    assert ("          - {name: westeurope, gpu: {type: T4}}", f"          - {{name: westeurope, gpu: {{type: T4, min_nodes: "
            f"{nodes['azure:westeurope']}}}}}") in changes
    settings = load_settings(yaml.safe_load(edited)["config"]["multicloud-inference:platform"])
    for cloud, spec in settings.regions():
        gpu = settings.gpu_for(spec)
        assert gpu.min_nodes == nodes[f"{cloud}:{spec.name}"] <= gpu.max_nodes
        assert gpu.type == ("T4" if cloud == "azure" else "L4")
    assert "Applied to" in capsys.readouterr().out


def test_apply_raises_max_nodes_where_the_placement_needs_more_and_touches_nothing_else(tmp_path, capsys):
    original = (REPO_ROOT / "Pulumi.dev.yaml").read_text()
    config = tmp_path / "Pulumi.dev.yaml"
    config.write_text(original)
    demand_file = write(tmp_path, "demand.yaml", {"demand": {"eu": 9}})
    assert main(["place", "dev", "--config-file", str(config), "--demand", demand_file, "--apply"]) == EXIT_OK
    # All nine on the cheapest EU region (Azure T4 spot); the others keep the stack-wide min of 0.
    assert changed_lines(original, config.read_text()) == [
        ("        regions: [westeurope]", "        regions: [{name: westeurope, gpu: {min_nodes: 9, max_nodes: 9}}]"),
    ]
    assert f"Applied to {config}: azure:westeurope gpu.min_nodes=9, gpu.max_nodes=9" in capsys.readouterr().out
