"""The global entry: which regions may answer a client, and the Route 53 records that make it so.

One hostname (`infer.example.com`) answers every client with its nearest healthy region, except
that a residency zone's clients (by Route 53 geolocation: its continents and countries) are
answered only by that zone's regions, whatever the regions' health. `plan_routing` computes the
record tree; `RoutingPlan.answers` evaluates that very tree the way Route 53 does, so the
properties the tests check hold for the records the program creates, not for a separate model.

The record tree (`name` = the global hostname):

    name                         geolocation, one record per zone continent / zone country,
                                 alias -> zone-<zone>.route.<name>, EvaluateTargetHealth off;
                                 default ("*") alias -> nearest.route.<name>, same
    zone-<zone>.route.<name>     latency, one record per AWS latency Region of the zone's regions,
    nearest.route.<name>         alias -> <aws-region>.<set>, EvaluateTargetHealth on
    <aws-region>.<set>           weighted (equal), one record per region measured at that AWS
                                 Region: the region's public addresses, behind its health check
    <cloud>-<region>.<name>      simple: the region's public addresses (its own endpoint)

Why this shape (Route 53 rules, docs "How Amazon Route 53 chooses records when health checking
is configured" and "Values specific for geolocation records"):

- A geolocation record that is unhealthy falls back to the continent record, then the default
  record. The default answers outside the zone, so no zone record may ever be unhealthy: they
  alias without EvaluateTargetHealth and carry no health check. Health is evaluated below them,
  inside the zone's own set only.
- Route 53 allows one latency record per AWS Region in a set, and measures latency only to AWS
  Regions; several platform regions near one AWS Region share a weighted bucket behind it.
- An alias with EvaluateTargetHealth is unhealthy when no record of its target is, so latency
  moves on to the next-nearest bucket. When no record of a set is healthy, Route 53 answers as if
  all were: a zone whose regions are all down still answers with its own (failing) regions, never
  with another zone's. That is the fail-closed outage behaviour the README describes.
- Without residency zones the hostname itself is the latency set: latency records only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from planning.geolocation import continent_of

DEFAULT_ANSWER = "default"
"""Key of the answer for clients outside every residency zone in `RoutingPlan.allowed`."""

ROUTE_LABEL = "route"
NEAREST_SET = "nearest"


@dataclass(frozen=True)
class Geography:
    """Where a residency zone's clients are: Route 53 continent codes and ISO country codes."""

    continents: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "continents", frozenset(self.continents))
        object.__setattr__(self, "countries", frozenset(self.countries))

    def union(self, other: Geography) -> Geography:
        return Geography(self.continents | other.continents, self.countries | other.countries)


DEFAULT_GEOGRAPHIES: Mapping[str, Geography] = MappingProxyType({
    # Europe (Route 53's EU continent) plus the EEA countries outside the European Union. Route 53
    # already puts NO, IS and LI in Europe; naming them keeps them in the zone should it not.
    "eu": Geography(frozenset({"EU"}), frozenset({"NO", "IS", "LI"})),
})
"""Client geographies of residency zones known by name; config adds to them."""


@dataclass(frozen=True)
class Client:
    """Where Route 53 places a DNS query (resolver or EDNS client subnet address): a country (whose
    continent Route 53 knows), only a continent, or nowhere (unknown location)."""

    country: str | None = None
    continent: str | None = None

    @classmethod
    def in_country(cls, country: str) -> Client:
        return cls(country, continent_of(country))

    @property
    def effective_continent(self) -> str | None:
        return self.continent or (continent_of(self.country) if self.country else None)


@dataclass(frozen=True)
class RoutedRegion:
    key: str
    """`cloud:region`."""
    zone: str | None
    latency_region: str
    """The AWS Region Route 53 measures latency to for this region."""


@dataclass(frozen=True)
class Location:
    """A geolocation record's location; neither set is the default location (`*`)."""

    continent: str | None = None
    country: str | None = None

    @property
    def is_default(self) -> bool:
        return self.continent is None and self.country is None

    def __str__(self) -> str:
        if self.country:
            return f"country {self.country}"
        return f"continent {self.continent}" if self.continent else "default (*)"


Policy = Literal["simple", "geolocation", "latency", "weighted"]


@dataclass(frozen=True)
class DnsRecord:
    """One Route 53 record (type A). Either an alias to another name of the zone, or the public
    addresses of one platform region (`region`), with that region's health check if `health_checked`."""

    name: str
    set_id: str | None = None
    geolocation: Location | None = None
    latency_region: str | None = None
    weighted: bool = False
    alias: str | None = None
    evaluate_target_health: bool = False
    region: str | None = None
    health_checked: bool = False

    @property
    def policy(self) -> Policy:
        if self.geolocation is not None:
            return "geolocation"
        if self.latency_region is not None:
            return "latency"
        return "weighted" if self.weighted else "simple"


@dataclass(frozen=True)
class RoutingPlan:
    hostname: str
    """The one global name clients use, e.g. `infer.example.com`."""
    endpoints: Mapping[str, str]
    """Per region key: the region's own hostname, e.g. `aws-eu-central-1.infer.example.com`."""
    regions: tuple[RoutedRegion, ...]
    geographies: Mapping[str, Geography]
    """Per residency zone with regions: its clients' geography."""
    records: tuple[DnsRecord, ...]
    _by_name: Mapping[str, tuple[DnsRecord, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, list[DnsRecord]] = {}
        for record in self.records:
            by_name.setdefault(record.name, []).append(record)
        object.__setattr__(self, "_by_name", MappingProxyType({k: tuple(v) for k, v in by_name.items()}))

    # --- what is allowed ------------------------------------------------------------------------

    @property
    def allowed(self) -> Mapping[str, tuple[str, ...]]:
        """Which regions may answer: per residency zone its regions, and `default` (clients outside
        every zone, or of unknown location) every region."""
        answers = {zone: tuple(r.key for r in self.regions if r.zone == zone) for zone in sorted(self.geographies)}
        answers[DEFAULT_ANSWER] = tuple(r.key for r in self.regions)
        return MappingProxyType(answers)

    def zone_of(self, client: Client) -> str | None:
        """The residency zone whose client this is: a zone listing its country first (as Route 53
        prefers a country record), else a zone listing its continent."""
        if client.country:
            for zone, geography in sorted(self.geographies.items()):
                if client.country in geography.countries:
                    return zone
        continent = client.effective_continent
        for zone, geography in sorted(self.geographies.items()):
            if continent in geography.continents:
                return zone
        return None

    def allowed_for(self, client: Client) -> frozenset[str]:
        zone = self.zone_of(client)
        return frozenset(self.allowed[zone if zone is not None else DEFAULT_ANSWER])

    # --- what Route 53 answers --------------------------------------------------------------------

    def group(self, name: str) -> tuple[DnsRecord, ...]:
        return self._by_name.get(name, ())

    def answers(self, client: Client, healthy: Iterable[str]) -> frozenset[str]:
        """The regions Route 53 may answer `client` with when exactly the regions in `healthy` pass
        their health checks (which one depends on measured latency and weights)."""
        return _Resolver(self, client, frozenset(healthy)).resolve(self.hostname)

    def reachable(self, name: str) -> frozenset[str]:
        """Every region a name can ever answer with, through any alias, whatever the health."""
        found: set[str] = set()
        for record in self.group(name):
            found |= self.reachable(record.alias) if record.alias else {record.region}
        return frozenset(found)

    # --- the preview's `global_entry` table ------------------------------------------------------

    def table(self) -> dict:
        return {
            "hostname": self.hostname,
            "endpoints": dict(self.endpoints),
            "allowed": {zone: list(keys) for zone, keys in self.allowed.items()},
            "geographies": {
                zone: {"continents": sorted(g.continents), "countries": sorted(g.countries)}
                for zone, g in sorted(self.geographies.items())
            },
        }


class _Resolver:
    """Route 53's record selection with health checking, over a plan's records."""

    def __init__(self, plan: RoutingPlan, client: Client, healthy: frozenset[str]):
        self.plan, self.client, self.healthy = plan, client, healthy

    def resolve(self, name: str) -> frozenset[str]:
        group = self.plan.group(name)
        if not group:
            return frozenset()
        policy = group[0].policy
        if policy == "simple":
            return self.values(group[0])
        if policy == "geolocation":
            chain = self.geolocation_chain(group)
            if not chain:
                return frozenset()  # no default record: "no answer"
            # Falls back to less specific records while unhealthy; if all are, the most specific.
            chosen = next((r for r in chain if self.is_healthy(r)), chain[0])
            return self.values(chosen)
        # Latency and weighted: any healthy record may be chosen; if none is, all are considered.
        pool = [r for r in group if self.is_healthy(r)] or list(group)
        return frozenset().union(*(self.values(r) for r in pool))

    def geolocation_chain(self, group: Sequence[DnsRecord]) -> list[DnsRecord]:
        country, continent = self.client.country, self.client.effective_continent
        chain = [r for r in group if country and r.geolocation.country == country]
        chain += [r for r in group if continent and r.geolocation.continent == continent]
        return chain + [r for r in group if r.geolocation.is_default]

    def is_healthy(self, record: DnsRecord) -> bool:
        if record.alias is not None:
            if not record.evaluate_target_health:
                return True
            return any(self.is_healthy(r) for r in self.plan.group(record.alias))
        return not record.health_checked or record.region in self.healthy

    def values(self, record: DnsRecord) -> frozenset[str]:
        return self.resolve(record.alias) if record.alias is not None else frozenset({record.region})


# --- the planner ------------------------------------------------------------------------------


def endpoint_label(key: str) -> str:
    """`aws:eu-central-1` -> `aws-eu-central-1`, the first label of the region's hostname."""
    return key.replace(":", "-")


def zone_set_name(zone: str, hostname: str) -> str:
    return f"zone-{zone}.{ROUTE_LABEL}.{hostname}"


def nearest_set_name(hostname: str) -> str:
    return f"{NEAREST_SET}.{ROUTE_LABEL}.{hostname}"


def plan_routing(
    regions: Sequence[RoutedRegion], domain: str, name: str, geographies: Mapping[str, Geography]
) -> RoutingPlan:
    """The record tree for `regions` under `<name>.<domain>`. `geographies` gives each residency
    zone's clients; a zone listed there without regions is a config error (ValueError): its clients
    could not be answered inside it."""
    hostname = f"{name}.{domain}" if name else domain
    zoned = {zone: geography for zone, geography in geographies.items()
             if any(r.zone == zone for r in regions)}
    empty = sorted(set(geographies) - set(zoned))
    if empty:
        raise ValueError(f"residency zone(s) {', '.join(empty)} have a client geography but no regions")
    endpoints = {r.key: f"{endpoint_label(r.key)}.{hostname}" for r in regions}
    records = [DnsRecord(endpoints[r.key], region=r.key) for r in regions]
    if zoned:
        nearest = nearest_set_name(hostname)
        records += _latency_set(nearest, regions)
        for zone, geography in sorted(zoned.items()):
            target = zone_set_name(zone, hostname)
            records += _latency_set(target, [r for r in regions if r.zone == zone])
            locations = [Location(continent=c) for c in sorted(geography.continents)]
            locations += [Location(country=c) for c in sorted(geography.countries)]
            records += [
                DnsRecord(hostname, set_id=_geolocation_id(zone, loc), geolocation=loc, alias=target,
                          evaluate_target_health=False)
                for loc in locations
            ]
        records.append(DnsRecord(hostname, set_id="default", geolocation=Location(), alias=nearest,
                                 evaluate_target_health=False))
    else:
        records += _latency_set(hostname, regions)
    return RoutingPlan(hostname, MappingProxyType(endpoints), tuple(regions), MappingProxyType(dict(zoned)),
                       tuple(records))


def _geolocation_id(zone: str, location: Location) -> str:
    # Continent and country codes overlap (AF, AS, NA, SA), so the kind is part of the id.
    kind, code = ("continent", location.continent) if location.continent else ("country", location.country)
    return f"{zone}-{kind}-{code.lower()}"


def _latency_set(name: str, regions: Sequence[RoutedRegion]) -> list[DnsRecord]:
    buckets: dict[str, list[RoutedRegion]] = {}
    for region in regions:
        buckets.setdefault(region.latency_region, []).append(region)
    records: list[DnsRecord] = []
    for latency_region, members in buckets.items():
        bucket = f"{latency_region}.{name}"
        records.append(DnsRecord(name, set_id=latency_region, latency_region=latency_region, alias=bucket,
                                 evaluate_target_health=True))
        records += [DnsRecord(bucket, set_id=m.key, weighted=True, region=m.key, health_checked=True) for m in members]
    return records


def geography_overlaps(geographies: Mapping[str, Geography]) -> list[str]:
    """Descriptions of locations two zones both claim: the same continent, the same country, or a
    country one zone names inside a continent another zone names (Route 53 would split that
    continent's clients between the zones)."""
    found: list[str] = []
    zones = sorted(geographies)
    for i, zone in enumerate(zones):
        for other in zones[i + 1:]:
            a, b = geographies[zone], geographies[other]
            found += [f"continent {c} is in zones {zone} and {other}" for c in sorted(a.continents & b.continents)]
            found += [f"country {c} is in zones {zone} and {other}" for c in sorted(a.countries & b.countries)]
            for first, second, x, y in ((a, b, zone, other), (b, a, other, zone)):
                found += [
                    f"country {c} of zone {x} lies in continent {continent_of(c)} of zone {y}"
                    for c in sorted(first.countries) if continent_of(c) in second.continents
                ]
    return found
