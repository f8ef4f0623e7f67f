"""How long a first `pulumi up` of a plan takes, and which chain of resources decides it.

Pure, over the plan JSON. The graph follows how Pulumi really schedules: the engine creates a
resource once the SDK registers it, and the SDK registers it only after

- every resource its inputs come from (property dependencies) and every `depends_on` is created:
  the plan's `dependencies`. A dependency on a (local) component means all of its custom
  descendants, not below a custom resource, exactly as the SDK expands it (`_add_dependency`);
- its provider is created (the SDK awaits the provider reference: URN and id);
- its parent's URN resolves: a custom parent resolves when it is created; a component resolves
  when it is registered, which is after *its* own dependencies, so a child also waits for what its
  component ancestors waited for. A component itself takes no time: it completes as its children
  register and is not a step of any chain.

Each custom resource takes the typical minutes of its type (`planning/data/creation_minutes.yaml`).
`chains` gives the longest chain and the next ones, each of the later chains avoiding the
bottleneck (slowest resource) of every earlier one, so the three are distinct long poles.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DURATIONS_PATH = Path(__file__).resolve().parent / "data" / "creation_minutes.yaml"
PROVIDER_PREFIX = "pulumi:providers:"


class CriticalPathError(Exception):
    """The plan's graph has a cycle (the engine would refuse it too)."""


@dataclass(frozen=True)
class Duration:
    minutes: float
    source: str
    date: str
    note: str = ""


@dataclass(frozen=True)
class Durations:
    types: Mapping[str, Duration]
    default: Duration
    sources: Mapping[str, str]

    def of(self, type_: str) -> tuple[Duration, bool]:
        """The duration of a type and whether it fell back to the default."""
        if type_.startswith(PROVIDER_PREFIX):
            return Duration(0.0, "local", self.default.date, "providers are configured locally"), False
        if type_ in self.types:
            return self.types[type_], False
        return self.default, True


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _duration(raw: Mapping[str, Any], sources: Mapping[str, str], where: str) -> Duration:
    if raw["source"] not in sources:
        raise ValueError(f"{where}: source {raw['source']!r} is not a key of `sources`")
    minutes = raw["minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes < 0:
        raise ValueError(f"{where}: minutes {minutes!r} is not a non-negative number")
    return Duration(float(minutes), raw["source"], _date(raw["date"]), raw.get("note", ""))


@lru_cache(maxsize=1)
def load_durations(path: Path = DURATIONS_PATH) -> Durations:
    document = yaml.safe_load(path.read_text())
    sources = dict(document["sources"])
    return Durations(
        types={t: _duration(raw, sources, f"types.{t}") for t, raw in document["types"].items()},
        default=_duration(document["default"], sources, "default"),
        sources=sources,
    )


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    minutes: float


@dataclass(frozen=True)
class Graph:
    steps: Mapping[str, Step]
    """Every custom resource (providers included), by URN."""
    waits_for: Mapping[str, frozenset[str]]
    """URN -> the custom resources it cannot start before."""
    defaulted: frozenset[str]
    """Types that took the default duration."""


def build_graph(resources: Iterable[Mapping[str, Any]], durations: Durations, data_only: bool = False) -> Graph:
    """The scheduling graph of a plan's resources. With `data_only`, only what a resource's inputs
    need (property dependencies and its provider): its real prerequisites, without `depends_on`
    and without what its parents wait for."""
    by_urn = {r["urn"]: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in by_urn.values():
        if r.get("parent"):
            children.setdefault(r["parent"], []).append(r["urn"])

    def expand(urn: str) -> set[str]:
        """A dependency as the SDK expands it: a custom resource is itself; a component is every
        custom descendant reached through components only."""
        found, frontier = set(), [urn]
        while frontier:
            current = frontier.pop()
            if current not in by_urn:
                continue  # the stack itself, or a resource outside the plan
            if by_urn[current]["custom"]:
                found.add(current)
            else:
                frontier.extend(children.get(current, []))
        return found

    def direct(r: Mapping[str, Any]) -> set[str]:
        if data_only:
            urns = {u for deps in r.get("property_dependencies", {}).values() for u in deps}
        else:
            urns = set(r.get("dependencies", []))
            urns.update(u for deps in r.get("property_dependencies", {}).values() for u in deps)
        return {d for u in urns for d in expand(u)}

    inherited: dict[str, set[str]] = {}

    def parent_waits(parent: str | None) -> set[str]:
        """What registering a child of `parent` waits for."""
        if data_only or not parent or parent not in by_urn:
            return set()
        if parent not in inherited:
            p = by_urn[parent]
            inherited[parent] = {parent} if p["custom"] else direct(p) | parent_waits(p.get("parent"))
        return inherited[parent]

    steps, waits, defaulted = {}, {}, set()
    for urn, r in by_urn.items():
        if not r["custom"]:
            continue
        duration, fallback = durations.of(r["type"])
        if fallback:
            defaulted.add(r["type"])
        steps[urn] = Step(urn, r["type"], r["name"], duration.minutes)
        wait = direct(r) | parent_waits(r.get("parent"))
        if r.get("provider") in by_urn:
            wait.add(r["provider"])
        wait.discard(urn)
        waits[urn] = frozenset(wait)
    return Graph(steps, waits, frozenset(defaulted))


def _order(graph: Graph) -> list[str]:
    """Topological order (a resource after everything it waits for), deterministic by URN."""
    remaining = {u: set(w) & graph.steps.keys() for u, w in graph.waits_for.items()}
    dependents: dict[str, list[str]] = {}
    for urn, waits in remaining.items():
        for w in waits:
            dependents.setdefault(w, []).append(urn)
    ready = sorted(u for u, w in remaining.items() if not w)
    order = []
    while ready:
        urn = ready.pop(0)
        order.append(urn)
        for d in sorted(dependents.get(urn, [])):
            remaining[d].discard(urn)
            if not remaining[d]:
                ready.append(d)
        ready.sort()
    if len(order) != len(remaining):
        stuck = sorted(graph.steps[u].name for u in remaining if u not in set(order))
        raise CriticalPathError(f"the dependency graph has a cycle among: {', '.join(stuck[:10])}")
    return order


@dataclass(frozen=True)
class Chain:
    steps: tuple[Step, ...]

    @property
    def minutes(self) -> float:
        return round(sum(s.minutes for s in self.steps), 4)

    @property
    def bottleneck(self) -> Step:
        return max(self.steps, key=lambda s: s.minutes)  # the first of equals, in chain order

    def to_json(self) -> dict[str, Any]:
        timeline, clock = [], 0.0
        for s in self.steps:
            timeline.append({"urn": s.urn, "type": s.type, "name": s.name, "minutes": s.minutes,
                             "start": round(clock, 4), "finish": round(clock + s.minutes, 4)})
            clock += s.minutes
        return {"minutes": self.minutes, "bottleneck": self.bottleneck.name, "steps": timeline}


def longest_chain(graph: Graph, excluded: frozenset[str] = frozenset(), ending_at: str | None = None) -> Chain:
    """The chain with the most minutes that uses none of `excluded` (optionally ending at a URN)."""
    finish: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    for urn in _order(graph):
        if urn in excluded:
            continue
        best, before = 0.0, None
        for w in sorted(graph.waits_for[urn]):
            if w in finish and finish[w] > best:
                best, before = finish[w], w
        finish[urn] = best + graph.steps[urn].minutes
        previous[urn] = before
    if not finish:
        return Chain(())
    end = ending_at if ending_at is not None else max(sorted(finish), key=lambda u: finish[u])
    path = []
    current: str | None = end
    while current is not None:
        path.append(graph.steps[current])
        current = previous[current]
    return Chain(tuple(reversed(path)))


def chains(graph: Graph, count: int = 3) -> list[Chain]:
    """The longest chain, then the longest chain avoiding each earlier chain's bottleneck."""
    found: list[Chain] = []
    excluded: set[str] = set()
    while len(found) < count:
        chain = longest_chain(graph, frozenset(excluded))
        if not chain.steps or chain.minutes == 0:
            break
        found.append(chain)
        excluded.add(chain.bottleneck.urn)
    return found


def report(plan: Mapping[str, Any], durations: Durations | None = None, count: int = 3) -> dict[str, Any]:
    """The critical-path JSON: the chains, the table's date and the types that took the default."""
    durations = durations or load_durations()
    graph = build_graph(plan["resources"], durations)
    found = chains(graph, count)
    return {
        "stack": plan.get("stack"),
        "minutes": found[0].minutes if found else 0.0,
        "durations_date": min(d.date for d in durations.types.values()),
        "chains": [c.to_json() for c in found],
        "defaulted_types": sorted(graph.defaulted),
        "default_minutes": durations.default.minutes,
    }


def render_text(result: Mapping[str, Any]) -> str:
    lines = [
        f"Critical path of stack {result['stack']}: about {result['minutes']:g} minutes for a first `pulumi up`",
        f"(typical creation minutes per type: planning/data/creation_minutes.yaml, as of {result['durations_date']})",
    ]
    for number, chain in enumerate(result["chains"], 1):
        title = "longest chain" if number == 1 else "next chain, avoiding the bottlenecks above"
        lines += ["", f"{number}. {chain['minutes']:g} min, {title}; bottleneck: {chain['bottleneck']}"]
        for step in chain["steps"]:
            lines.append(
                f"   {step['start']:>6.2f} -> {step['finish']:>6.2f}  {step['name']}  ({step['type']}, {step['minutes']:g} min)"
            )
    if result["defaulted_types"]:
        lines += ["", f"Types without a row (counted as {result['default_minutes']:g} min each; add them to the table):"]
        lines += [f"  {t}" for t in result["defaulted_types"]]
    return "\n".join(lines) + "\n"
