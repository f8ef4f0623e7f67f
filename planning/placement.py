"""GPU capacity at the lowest cost that residency and the loss of one region allow.

Exactly the model of issue 14, so results can be checked independently:

- decision: integer GPU nodes `n_r >= 0` per configured region `r`; a node has `g_r` GPUs (the
  region's `gpus_per_node`) and costs `p_r` per hour (catalogue price of the region's GPU node
  shape, spot if the region's config says spot); capacity `c_r = g_r * n_r`;
- demand in GPUs: `D_z` per residency zone `z`, `D_default` for clients outside every zone;
- residency: for every zone `z`, `sum(c_r for r in z) >= D_z`, and
  `sum(c_r for all r) >= sum(D_z) + D_default` (zones are disjoint, so this is exactly "zone demand
  served only in its zone, default demand anywhere");
- quotas: optional maximum nodes per region;
- redundancy `n+1`: the inequalities above hold again with any single region removed (one copy per
  region);
- objective: minimise `sum(p_r * n_r)`, solved by scipy's `milp` (HiGHS).

Because every constraint is a lower bound on capacity with non-negative coefficients, the model is
feasible exactly when every region at its quota (unbounded where it has none) satisfies it;
`infeasibility` uses that to name the zone that cannot be served and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planning.platform import PlatformPlan
from planning.prices import Catalogue, PriceError, node_shape

DEFAULT = "default"
REDUNDANCY = ("none", "n+1")
DEMAND_KEYS = ("demand", "quotas", "redundancy")


@dataclass(frozen=True)
class Site:
    """A configured region as the model sees it."""

    key: str
    """`cloud:region`."""
    zone: str | None
    gpus_per_node: int
    node_hourly_price: float


@dataclass(frozen=True)
class Demand:
    zones: Mapping[str, float]
    """GPUs demanded per residency zone (every zone of the stack; 0 where the file names none)."""
    default: float
    quotas: Mapping[str, int]
    """Maximum nodes per region key; a region not listed is unbounded."""
    redundancy: str = "none"


@dataclass(frozen=True)
class Constraint:
    """`sum(g_r * n_r for r in regions) >= gpus`: one residency inequality (of one scenario)."""

    zone: str
    """The zone it protects, or `default` for the all-demand inequality."""
    lost: str | None
    """The region removed in this n+1 copy, or None."""
    regions: tuple[str, ...]
    gpus: float


@dataclass(frozen=True)
class Placement:
    nodes: Mapping[str, int]
    hourly_cost: float
    sites: tuple[Site, ...]

    def to_json(self) -> dict[str, Any]:
        """The documented output: every configured region, zero nodes included."""
        return {
            "status": "optimal",
            "hourly_cost": self.hourly_cost,
            "regions": {
                s.key: {"nodes": self.nodes[s.key], "gpus_per_node": s.gpus_per_node, "node_hourly_price": s.node_hourly_price}
                for s in self.sites
            },
        }


class DemandError(Exception):
    """A malformed demand file; `problems` name each bad key and its value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid demand:\n" + "\n".join(f"  - {p}" for p in problems))


class Infeasible(Exception):
    """No placement meets the demand; `problems` name each zone that cannot be served and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("demand cannot be met:\n" + "\n".join(f"  - {p}" for p in problems))


def sites(plan: PlatformPlan, catalogue: Catalogue) -> list[Site]:
    """One site per configured region, priced from the catalogue; PriceError lists every gap."""
    found, problems = [], []
    for region in plan.regions.values():
        gpu = region.cluster.gpu
        shape = node_shape(region.cloud, gpu.machine_type, gpu.accelerator, gpu.gpus_per_node)
        try:
            price = catalogue.node(region.cloud, region.name, shape, gpu.spot).price
        except PriceError as error:
            problems.extend(error.problems)
            continue
        found.append(Site(region.key, region.residency_zone, gpu.gpus_per_node, round(price, 6)))
    if problems:
        raise PriceError(problems)
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_demand(raw: Any, zones: Iterable[str], region_keys: Iterable[str]) -> Demand:
    """Validate a demand document (`{demand: {eu: 12, default: 8}, quotas: {...}, redundancy: n+1}`)
    against the stack's zones and regions; DemandError names every bad key and its value."""
    zones, region_keys = list(zones), list(region_keys)
    if not isinstance(raw, Mapping):
        raise DemandError([f"expected a mapping with keys {', '.join(DEMAND_KEYS)}, got {raw!r}"])
    problems = [f"{key}: is not a known key (known: {', '.join(DEMAND_KEYS)})" for key in raw if key not in DEMAND_KEYS]

    demand: dict[str, float] = dict.fromkeys(zones, 0)
    default = 0.0
    given = raw.get("demand")
    if given is None:
        problems.append("demand: is required (GPUs per residency zone and `default`)")
    elif not isinstance(given, Mapping):
        problems.append(f"demand: {given!r} is not a mapping of zone to GPUs")
    else:
        for zone, gpus in given.items():
            if zone != DEFAULT and zone not in zones:
                known = ", ".join([*zones, DEFAULT])
                problems.append(f"demand.{zone}: {zone!r} is not a residency zone of this stack nor default (known: {known})")
            elif not _number(gpus) or gpus < 0:
                problems.append(f"demand.{zone}: {gpus!r} is not a number of GPUs >= 0")
            elif zone == DEFAULT:
                default = gpus
            else:
                demand[zone] = gpus

    quotas: dict[str, int] = {}
    given = raw.get("quotas", {})
    if not isinstance(given, Mapping):
        problems.append(f"quotas: {given!r} is not a mapping of region (cloud:region) to maximum nodes")
    else:
        for key, nodes in given.items():
            if key not in region_keys:
                problems.append(f"quotas.{key}: {key!r} is not a region of this stack (known: {', '.join(region_keys)})")
            elif isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 0:
                problems.append(f"quotas.{key}: {nodes!r} is not a whole number of nodes >= 0")
            else:
                quotas[key] = nodes

    redundancy = raw.get("redundancy", "none")
    if redundancy not in REDUNDANCY:
        problems.append(f"redundancy: {redundancy!r} is not one of {', '.join(REDUNDANCY)}")
    if problems:
        raise DemandError(problems)
    return Demand(demand, default, quotas, redundancy)


def constraints(sites_: list[Site], demand: Demand) -> list[Constraint]:
    """The model's residency inequalities: one set, and with n+1 one more copy per lost region."""
    scenarios: list[str | None] = [None]
    if demand.redundancy == "n+1":
        scenarios += [s.key for s in sites_]
    rows = []
    total = sum(demand.zones.values()) + demand.default
    for lost in scenarios:
        kept = [s for s in sites_ if s.key != lost]
        for zone, gpus in demand.zones.items():
            rows.append(Constraint(zone, lost, tuple(s.key for s in kept if s.zone == zone), gpus))
        rows.append(Constraint(DEFAULT, lost, tuple(s.key for s in kept), total))
    return rows


def _capacity_at_quota(regions: Iterable[str], by_key: Mapping[str, Site], quotas: Mapping[str, int]) -> float:
    return sum(by_key[k].gpus_per_node * quotas.get(k, math.inf) for k in regions)


def infeasibility(sites_: list[Site], demand: Demand) -> list[str]:
    """Why no placement meets `demand` (empty when one does): per zone, the binding reason."""
    by_key = {s.key: s for s in sites_}
    worst: dict[str, tuple[float, Constraint]] = {}
    for row in constraints(sites_, demand):
        capacity = _capacity_at_quota(row.regions, by_key, demand.quotas)
        if capacity < row.gpus and (row.zone not in worst or capacity < worst[row.zone][0]):
            worst[row.zone] = (capacity, row)
    return [_explain(row, capacity, sites_, demand) for capacity, row in (worst[z] for z in sorted(worst, key=_zone_order))]


def _zone_order(zone: str) -> tuple[bool, str]:
    return zone == DEFAULT, zone


def _explain(row: Constraint, capacity: float, sites_: list[Site], demand: Demand) -> str:
    zoned = row.zone != DEFAULT
    members = [s.key for s in sites_ if not zoned or s.zone == row.zone]
    what = f"zone {row.zone!r} needs {row.gpus:g} GPUs" if zoned else (
        f"default: all demand needs {row.gpus:g} GPUs ({_breakdown(demand)})"
    )
    owner = "the zone" if zoned else "the stack"
    if not members:
        return f"{what} but no configured region is in the zone"
    if row.lost is not None and not row.regions:
        return (
            f"{what} with n+1 but {owner} has too few regions for n+1: {members[0]} is its only region, "
            "so losing it leaves none (n+1 needs at least two)"
        )
    limits = ", ".join(f"{k}: {_count(demand.quotas[k], 'node')} x {_count(_site(sites_, k).gpus_per_node, 'GPU')}"
                       for k in row.regions)
    if row.lost is None:
        return f"{what} but the quotas of {owner}'s regions allow at most {capacity:g} GPUs ({limits})"
    return (
        f"{what} with n+1, but after losing {row.lost} the quotas of {owner}'s remaining regions allow at most "
        f"{capacity:g} GPUs ({limits})"
    )


def _count(n: float, noun: str) -> str:
    return f"{n:g} {noun}{'' if n == 1 else 's'}"


def _site(sites_: list[Site], key: str) -> Site:
    return next(s for s in sites_ if s.key == key)


def _breakdown(demand: Demand) -> str:
    parts = [f"{gpus:g} in {zone}" for zone, gpus in demand.zones.items() if gpus]
    return " + ".join([*parts, f"{demand.default:g} default"])


def solve(sites_: list[Site], demand: Demand) -> Placement:
    """The cheapest placement (scipy `milp`, HiGHS); Infeasible names each zone that cannot be served."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    problems = infeasibility(sites_, demand)
    if problems:
        raise Infeasible(problems)
    index = {s.key: i for i, s in enumerate(sites_)}
    rows = constraints(sites_, demand)
    matrix = np.zeros((len(rows), len(sites_)))
    for i, row in enumerate(rows):
        for key in row.regions:
            matrix[i, index[key]] = sites_[index[key]].gpus_per_node
    lower = np.array([row.gpus for row in rows], dtype=float)
    upper = np.array([demand.quotas.get(s.key, np.inf) for s in sites_], dtype=float)
    result = milp(
        c=np.array([s.node_hourly_price for s in sites_], dtype=float),
        constraints=[LinearConstraint(matrix, lower, np.inf)] if rows else [],
        integrality=np.ones(len(sites_)),
        bounds=Bounds(np.zeros(len(sites_)), upper),
    )
    if result.status != 0 or result.x is None:
        # The quota check above is exact, so this is a solver failure, not a modelling answer.
        raise RuntimeError(f"HiGHS did not find the optimum: {result.message}")
    nodes = {s.key: int(round(result.x[index[s.key]])) for s in sites_}
    cost = round(sum(s.node_hourly_price * nodes[s.key] for s in sites_), 6)
    return Placement(nodes, cost, tuple(sites_))


def satisfies(nodes: Mapping[str, int], sites_: list[Site], demand: Demand) -> bool:
    """Whether a placement meets every quota and every residency inequality of the model."""
    by_key = {s.key: s for s in sites_}
    if any(n < 0 or n > demand.quotas.get(k, math.inf) for k, n in nodes.items()):
        return False
    return all(
        sum(by_key[k].gpus_per_node * nodes[k] for k in row.regions) >= row.gpus for row in constraints(sites_, demand)
    )
