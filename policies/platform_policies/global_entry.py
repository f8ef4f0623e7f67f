"""Global entry (Route 53): a residency zone's clients are answered only from the zone's regions,
through every alias, CNAME and failover a record can take; health checks probe readiness.

The answer to a query follows Route 53's rules: a geolocation record matches the client's
country, else its continent, else the default (`*`); a matched record that can become unhealthy
(a health check, or an alias evaluating its target's health) falls back to the next less specific
one. So a zone's clients reach every record matching a location of the zone's geography, plus the
fallbacks of those that can fail. From each, every record or resource it leads to must be in one
of the zone's regions: a record's addresses are attributed to the resources they come from (the
engine's property dependencies: an Elastic IP, a public IP, an address), an alias or CNAME to the
records of that name. Whatever cannot be attributed is a violation (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .definitions import ConfigKey, PolicyDefinition
from .locations import LOCATION, RESIDENCY_ZONES, allowed_regions, region_of
from .model import Resource, Stack, get_path, is_unknown, items

RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ZONE = "aws:route53/zone:Zone"

# Route 53's own country -> continent association ("Values specific for geolocation records",
# awsdocs/amazon-route53-docs@e241bb3): geolocation falls back to *this* continent.
ROUTE53_CONTINENTS = {
    "AF": "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ "
          "NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW",
    "AN": "AQ GS TF",
    "AS": "AE AF AM AZ BD BH BN BT CC CN GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP "
          "OM PH PK PS QA SA SG SY TH TJ TM TW UZ VN YE",
    "EU": "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD "
          "ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM TR UA VA XK",
    "NA": "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX "
          "TC TT US VC VG VI",
    "OC": "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TL TO TV UM VU WF WS",
    "SA": "AR BO BR CL CO EC FK GF GY PE PY SR UY VE",
}
CONTINENT_OF = {country: continent for continent, countries in ROUTE53_CONTINENTS.items() for country in countries.split()}


def _geography_semantics(value: Mapping[str, Any]) -> Iterable[str]:
    zones = sorted(value)
    for zone in zones:
        for continent in value[zone].get("continents", []):
            if continent not in ROUTE53_CONTINENTS:
                yield f".{zone}.continents: {continent!r} is not a Route 53 continent code"
        for country in value[zone].get("countries", []):
            if country not in CONTINENT_OF:
                yield f".{zone}.countries: {country!r} is not a country Route 53 geolocation knows"
    for i, zone in enumerate(zones):
        for other in zones[i + 1:]:
            a, b = value[zone], value[other]
            shared = set(a.get("continents", [])) & set(b.get("continents", []))
            shared |= set(a.get("countries", [])) & set(b.get("countries", []))
            shared |= {c for c in a.get("countries", []) if CONTINENT_OF.get(c) in b.get("continents", [])}
            shared |= {c for c in b.get("countries", []) if CONTINENT_OF.get(c) in a.get("continents", [])}
            if shared:
                yield f": zones {zone} and {other} both claim {', '.join(sorted(shared))}"


RESIDENCY_GEOGRAPHIES = ConfigKey(
    "residencyGeographies",
    {
        "type": "object",
        "description": "Per residency zone, where its clients are: Route 53 continent codes and ISO country codes.",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "continents": {"type": "array", "items": {"type": "string", "minLength": 2}},
                "countries": {"type": "array", "items": {"type": "string", "minLength": 2}},
            },
            "additionalProperties": False,
        },
        "default": {"eu": {"continents": ["EU"], "countries": ["NO", "IS", "LI"]}},
    },
    _geography_semantics,
)

READINESS_PATH = ConfigKey(
    "readinessPath",
    {"type": "string", "minLength": 1, "description": "The path a regional health check must probe.",
     "default": "/v2/health/ready"},
)


def _name(value: str) -> str:
    return value.strip().lower().rstrip(".")


@dataclass(frozen=True)
class Client:
    country: str | None
    continent: str | None

    def __str__(self) -> str:
        return f"country {self.country}" if self.country else f"continent {self.continent}"


def _clients(geography: Mapping[str, Any]) -> list[Client]:
    """Every location of a zone's clients a record can match: each country it names, each
    continent, and each country Route 53 puts in one of its continents."""
    continents = set(geography.get("continents", []))
    countries = set(geography.get("countries", [])) | {c for c, cont in CONTINENT_OF.items() if cont in continents}
    found = [Client(c, CONTINENT_OF.get(c)) for c in sorted(countries)]
    return found + [Client(None, c) for c in sorted(continents)]


class _Records:
    """The stack's Route 53 records by name, and where each leads."""

    def __init__(self, stack: Stack):
        self.stack = stack
        zone_names = {z.urn: z.get("name") for z in stack.of_type(ZONE)}
        self.by_name: dict[str, list[Resource]] = {}
        for record in stack.of_type(RECORD):
            name = record.get("name")
            if isinstance(name, str):
                self.by_name.setdefault(self.fqdn(record, name, zone_names), []).append(record)

    def fqdn(self, record: Resource, name: str, zone_names: Mapping[str, Any]) -> str:
        """Route 53 takes names relative to the zone as well: qualify them when the zone is known."""
        name = _name(name)
        for urn in record.property_dependencies.get("zoneId", ()):
            zone = zone_names.get(urn)
            if isinstance(zone, str) and not name.endswith(_name(zone)):
                return f"{name}.{_name(zone)}"
        return name

    def leaves(self, record: Resource, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any, str]]:
        """(path, region or UNKNOWN or None, what) for everything `record` can answer with."""
        step = _describe(record)
        if step in path:
            return
        path = (*path, step)
        aliases = items(record.get("aliases"))
        if is_unknown(aliases):
            yield path, None, "its alias target is unknown at preview"
            return
        if aliases:
            yield from self._follow(record, "aliases", get_path(aliases[0], "name"), path)
            return
        values = items(record.get("records"))
        if record.get("type") == "CNAME" and not is_unknown(values):
            for value in values:
                yield from self._follow(record, "records", value, path)
            return
        yield from self._attributed(record, "records", values, path)

    def _follow(self, record: Resource, prop: str, target: Any, path: tuple[str, ...]):
        if isinstance(target, str) and _name(target) in self.by_name:
            for next_record in self.by_name[_name(target)]:
                yield from self.leaves(next_record, path)
            return
        shown = target if isinstance(target, str) else "a value unknown at preview"
        yield from self._attributed(record, prop, target, (*path, f"{prop} {shown}"))

    def _attributed(self, record: Resource, prop: str, value: Any, path: tuple[str, ...]):
        sources = [r for r in self.stack.property_dependencies(record, prop) if r.cloud in LOCATION]
        if not sources:
            shown = "unknown at preview" if is_unknown(value) else repr(value)
            yield path, None, f"{prop} ({shown}) comes from no resource of this stack whose region is known"
            return
        for source in sources:
            yield path, region_of(source), source.name


def _describe(record: Resource) -> str:
    name, set_id = record.get("name"), record.get("setIdentifier")
    return f"{name}" + (f" [{set_id}]" if isinstance(set_id, str) else "")


def _location(record: Resource) -> Any:
    """('country', code) / ('continent', code) / ('default', '*') / UNKNOWN / None (not geolocation)."""
    policies = items(record.get("geolocationRoutingPolicies"))
    if is_unknown(policies):
        return policies
    if not policies:
        return None
    policy = policies[0]
    for key in ("subdivision", "country", "continent"):
        value = get_path(policy, key)
        if is_unknown(value):
            return value
        if value:
            if key == "subdivision":
                return ("country", get_path(policy, "country") or "US")
            return ("default", "*") if value == "*" else (key, value)
    return ("default", "*")


def _may_fail(record: Resource) -> bool:
    """Whether Route 53 may find the record unhealthy and fall back to a less specific one."""
    if record.get("healthCheckId") is not None:
        return True
    aliases = items(record.get("aliases"))
    if is_unknown(aliases):
        return True
    return any(get_path(a, "evaluateTargetHealth") is not False for a in aliases)


def _chain(group: list[tuple[Resource, Any]], client: Client) -> list[Resource]:
    """The records a client of this location may be answered from, most specific first."""
    chain = [r for r, loc in group if client.country and loc == ("country", client.country)]
    chain += [r for r, loc in group if client.continent and loc == ("continent", client.continent)]
    return chain + [r for r, loc in group if loc == ("default", "*")]


def check_answers(stack: Stack, config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    records = _Records(stack)
    for _, group in sorted(records.by_name.items()):
        located = [(r, _location(r)) for r in group]
        for record, location in located:
            if is_unknown(location):
                yield record.urn, "its geolocation is unknown at preview, so the clients it serves cannot be verified"
        geo = [(r, loc) for r, loc in located if loc is not None and not is_unknown(loc)]
        if not geo:
            continue
        for zone, geography in sorted(config["residencyGeographies"].items()):
            allowed = allowed_regions(zone, config)
            if allowed is None:
                yield group[0].urn, f"residency zone '{zone}' has a geography but no regions in residencyZones"
                continue
            for entry, clients, fallbacks in _entries(geo, _clients(geography)):
                who = f"serves residency zone '{zone}' clients ({_shown(clients)})"
                for target in [entry, *fallbacks]:
                    how = "" if target.urn == entry.urn else (
                        f"can fail over (it is health-evaluated) to {_describe(target)}, which ")
                    yield from ((entry.urn, f"{who} but {how}{m}") for m in _outside(records, target, allowed))


def _entries(geo, clients: list[Client]) -> list[tuple[Resource, list[Client], list[Resource]]]:
    """The first record each client location matches, with those locations and the less specific
    records it can fall back to."""
    found: dict[str, tuple[Resource, list[Client], list[Resource]]] = {}
    for client in clients:
        chain = _chain(geo, client)
        if not chain:
            continue  # no record and no default: the zone's clients get no answer at all
        _, matched, fallbacks = found.setdefault(chain[0].urn, (chain[0], [], []))
        matched.append(client)
        for previous, fallback in zip(chain, chain[1:], strict=False):
            if not _may_fail(previous):
                break
            if all(fallback.urn != f.urn for f in fallbacks):
                fallbacks.append(fallback)
    return list(found.values())


def _shown(clients: list[Client]) -> str:
    shown = ", ".join(str(c) for c in clients[:3])
    return shown + (f" and {len(clients) - 3} more" if len(clients) > 3 else "")


def _outside(records: _Records, target: Resource, allowed: set[str]) -> Iterator[str]:
    """One message per region outside the zone (and per unattributable answer) `target` leads to."""
    outside: dict[str, list[str]] = {}
    for path, region, what in records.leaves(target):
        route = " -> ".join(path)
        if region is None or is_unknown(region):
            yield f"answers through {route}, where {what} (fail closed)"
        elif region not in allowed:
            outside.setdefault(region, []).append(f"{what} via {route}")
    if outside:
        listed = "; ".join(f"{region} ({found[0]})" for region, found in sorted(outside.items()))
        yield f"answers from outside the zone: {listed}; allowed: {', '.join(sorted(allowed))}"


def check_health_check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    kind = resource.get("type")
    if is_unknown(kind) or kind in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"):
        return
    path = resource.get("resourcePath")
    expected = config["readinessPath"]
    if not str(kind).startswith("HTTP"):
        yield f"it checks {kind}, not the readiness path {expected} over HTTP(S)"
    elif not is_unknown(path) and path != expected:
        yield f"it probes {path!r}, not the readiness path {expected}"


POLICIES = (
    PolicyDefinition(
        name="aws-route53-record-answers-in-residency-zone",
        description=("A Route 53 record serving a residency zone's geography answers, through every alias, CNAME "
                     "and failover, only from that zone's regions."),
        severity="critical",
        frameworks=("GDPR",),
        enforcement="mandatory",
        resource_types=(RECORD,),
        scope="stack",
        check=check_answers,
        config=(RESIDENCY_ZONES, RESIDENCY_GEOGRAPHIES),
        fail_closed=True,
    ),
    PolicyDefinition(
        name="aws-route53-healthcheck-readiness-path",
        description="A Route 53 health check probes the inference endpoint's readiness path over HTTP(S).",
        severity="medium",
        frameworks=("AWS Well-Architected",),
        enforcement="advisory",
        resource_types=(HEALTH_CHECK,),
        check=check_health_check,
        config=(READINESS_PATH,),
    ),
)
