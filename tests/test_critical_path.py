"""The critical path of a first `pulumi up` (planning/critical_path.py) and its verb."""

from __future__ import annotations

import copy
import json

import pytest

from offline.__main__ import EXIT_INVALID, EXIT_OK, main
from planning.critical_path import (
    CriticalPathError,
    Duration,
    Durations,
    build_graph,
    chains,
    load_durations,
    longest_chain,
    report,
)

TABLE = Durations(
    types={f"test:index:T{m}": Duration(float(m), "hand", "2025-09-01") for m in (1, 2, 3, 4, 5, 6)},
    default=Duration(0.5, "hand", "2025-09-01"),
    sources={"hand": "made up for the test"},
)


def res(name, minutes=None, custom=True, parent=None, dependencies=(), provider=None, property_dependencies=None, type_=None):
    return {
        "urn": f"urn:{name}", "type": type_ or (f"test:index:T{minutes}" if custom else "test:index:Component"),
        "name": name, "custom": custom, "parent": f"urn:{parent}" if parent else None,
        "provider": f"urn:{provider}" if provider else None,
        "dependencies": [f"urn:{d}" for d in dependencies],
        "property_dependencies": {k: [f"urn:{d}" for d in v] for k, v in (property_dependencies or {}).items()},
    }


# A small hand-made graph:
#   C1 (component): A (2 min), B (3 min, takes an input from A)
#   C2 (component, registered with depends_on=C1): D (5 min, provider P) and D's child E (1 min)
#   C3 (component): G (4 min) with its own custom child H (6 min); F (1 min) depends on C3
#   P: a provider (0 min); K (6 min): depends on nothing
HAND = [
    res("P", type_="pulumi:providers:test"),
    res("C1", custom=False),
    res("A", 2, parent="C1"),
    res("B", 3, parent="C1", dependencies=["A"], property_dependencies={"input": ["A"]}),
    res("C2", custom=False, dependencies=["C1"]),
    res("D", 5, parent="C2", provider="P"),
    res("E", 1, parent="D"),
    res("C3", custom=False),
    res("G", 4, parent="C3"),
    res("H", 6, parent="G"),
    res("F", 1, dependencies=["C3"]),
    res("K", 6),
]


def names(chain):
    return [s.name for s in chain.steps]


def test_the_graph_follows_how_the_sdk_and_engine_schedule():
    graph = build_graph(HAND, TABLE)
    waits = {graph.steps[u].name: sorted(graph.steps[w].name for w in ws) for u, ws in graph.waits_for.items()}
    assert set(waits) == {"P", "A", "B", "D", "E", "G", "H", "F", "K"}  # components are not steps
    assert waits["B"] == ["A"]
    assert waits["D"] == ["A", "B", "P"]  # its component parent waited for C1, i.e. C1's custom children
    assert waits["E"] == ["D"]  # a custom parent: the child registers once the parent exists
    assert waits["F"] == ["G"]  # a component dependency is its custom descendants, not below a custom one
    assert waits["H"] == ["G"]
    assert graph.steps["urn:P"].minutes == 0


def test_real_prerequisites_are_only_what_the_inputs_need():
    graph = build_graph(HAND, TABLE, data_only=True)
    assert sorted(graph.steps[w].name for w in graph.waits_for["urn:D"]) == ["P"]
    assert sorted(graph.steps[w].name for w in graph.waits_for["urn:B"]) == ["A"]
    assert graph.waits_for["urn:F"] == frozenset()


def test_the_longest_chain_and_the_next_two_avoiding_earlier_bottlenecks():
    graph = build_graph(HAND, TABLE)
    found = chains(graph)
    assert [(names(c), c.minutes, c.bottleneck.name) for c in found] == [
        (["A", "B", "D", "E"], 11.0, "D"),  # 2 + 3 + 5 + 1: D waited for C1's children through C2
        (["G", "H"], 10.0, "H"),
        (["K"], 6.0, "K"),
    ]
    assert names(longest_chain(graph, ending_at="urn:F")) == ["G", "F"]


def test_a_cycle_is_refused():
    looped = [res("X", 1, dependencies=["Y"]), res("Y", 2, dependencies=["X"])]
    with pytest.raises(CriticalPathError, match=r"the dependency graph has a cycle among: X, Y"):
        chains(build_graph(looped, TABLE))


def test_types_without_a_row_take_the_default_and_are_named():
    result = report({"stack": "t", "resources": [res("Z", type_="test:index:Unknown"), res("A", 2)]}, TABLE)
    assert result["defaulted_types"] == ["test:index:Unknown"] and result["default_minutes"] == 0.5
    assert result["minutes"] == 2.0


def test_every_creation_time_row_names_its_source():
    durations = load_durations()
    assert len(durations.types) > 80
    for type_, row in durations.types.items():
        assert durations.sources[row.source], type_


def slowest_and_its_prerequisites(plan):
    """The slowest resource, and the longest chain that ends with it. Its prerequisites include the
    ordering that Azure imposes (one write at a time per VNet), which is as real as a data
    dependency: what the bound below catches is whatever is made to wait *after* it."""
    durations = load_durations()
    graph = build_graph(plan["resources"], durations)
    slowest = max(graph.steps.values(), key=lambda s: s.minutes)
    return slowest, longest_chain(graph, ending_at=slowest.urn)


def infrastructure(plan: dict) -> dict:
    """The plan without its Kubernetes objects: the cloud resources a first `pulumi up` creates."""
    return {**plan, "resources": [r for r in plan["resources"] if not r["type"].startswith("kubernetes:")]}


def test_prod_infrastructure_takes_its_slowest_resource_and_its_prerequisites_within_ten_percent(prod_plan):
    plan = infrastructure(prod_plan.plan)
    result = report(plan)
    slowest, real = slowest_and_its_prerequisites(plan)
    assert slowest.type == "azure-native:network:VirtualNetworkGateway"
    assert "lepton-mesh-azure-vpngw" in [s["name"] for s in result["chains"][0]["steps"]]
    assert real.minutes <= result["minutes"] <= 1.1 * real.minutes
    bottlenecks = [c["bottleneck"] for c in result["chains"]]
    assert len(result["chains"]) == 3 and len(set(bottlenecks)) == 3
    assert result["defaulted_types"] == []


def test_prod_rollout_follows_the_mesh_because_its_deployer_reaches_other_clouds_over_it(prod_plan):
    """With deployer.network, a cluster's Kubernetes objects wait for the network they are applied
    over: after the VPN gateway, the chain holds only the mesh's peerings, the registry's private
    endpoints and the rollout waves."""
    result = report(prod_plan.plan)
    steps = result["chains"][0]["steps"]
    names = [s["name"] for s in steps]
    after = steps[names.index("lepton-mesh-azure-vpngw") + 1:]
    assert after and all(
        s["type"].startswith("kubernetes:") or s["name"].startswith(("lepton-mesh-", "lepton-registry-endpoints-"))
        for s in after
    ), names
    assert result["minutes"] > report(infrastructure(prod_plan.plan))["minutes"]


def test_clusters_waiting_on_the_vpn_mesh_show_in_the_critical_path(prod_plan):
    """The review signal: make one AKS cluster wait for the VPN gateway and the chain, and the
    bound above, move."""
    plan = copy.deepcopy(infrastructure(prod_plan.plan))
    gateway = prod_plan.one("azure-native:network:VirtualNetworkGateway", "lepton-mesh-azure-vpngw")["urn"]
    cluster = next(r for r in plan["resources"] if r["name"] == "azure-northeurope"
                   and r["type"] == "azure-native:containerservice:ManagedCluster")
    cluster["dependencies"].append(gateway)
    result = report(plan)
    steps = [s["name"] for s in result["chains"][0]["steps"]]
    assert steps[steps.index("lepton-mesh-azure-vpngw") + 1:] == ["azure-northeurope", "azure-northeurope-gpu"]
    _, real = slowest_and_its_prerequisites(plan)
    assert result["minutes"] > 1.1 * real.minutes


def test_critical_path_verb_prints_and_writes_the_chains(tmp_path, capsys, prod_plan):
    plan_file, out = tmp_path / "plan.json", tmp_path / "chains.json"
    plan_file.write_text(json.dumps(prod_plan.plan))
    assert main(["critical-path", "prod", "--plan", str(plan_file), "--json", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert printed.startswith("Critical path of stack prod: about ")
    assert "1. " in printed and "bottleneck: lepton-mesh-azure-vpngw" in printed and "\n3. " in printed
    written = json.loads(out.read_text())
    assert written["stack"] == "prod" and len(written["chains"]) == 3
    first = written["chains"][0]["steps"]
    assert first[0]["start"] == 0 and first[-1]["finish"] == written["minutes"]


def test_critical_path_verb_refuses_a_file_that_is_not_a_plan(tmp_path, capsys):
    bad = tmp_path / "cost.json"
    bad.write_text(json.dumps({"regions": {}}))
    assert main(["critical-path", "prod", "--plan", str(bad)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert "cost.json: not a plan JSON (written by `python -m offline preview --json`) (missing resources)" in captured.err
    assert "Traceback" not in captured.err
