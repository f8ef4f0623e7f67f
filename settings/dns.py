"""Global entry settings: the DNS zone, the global hostname, health checks and client geographies.

```yaml
dns:
  zone: example.com                # required: the domain every name lives under
  hosted_zone_id: Z0123456789ABCDEFGHIJ   # optional: an existing public Route 53 zone for `zone`; default: create one
  name: infer                      # the global hostname: infer.example.com; regions: aws-eu-central-1.infer.example.com
  provider: route53                # the only provider built
  ttl: 60                          # seconds, on the records that carry addresses
  health_check: {interval: 30, failure_threshold: 3}
  geographies: {eu: {countries: [GF, RE]}}   # added to the built-in eu geography (continent EU, NO, IS, LI)
  acme: {email: platform@example.com, staging: false}
```

Without a `dns` section the platform has no public entry (every region serves inside its cluster).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from planning.geolocation import CONTINENTS, UNSUPPORTED_COUNTRIES, continent_of, country_continents
from planning.routing import DEFAULT_GEOGRAPHIES, Geography
from settings.base import PATTERN_HINTS, StrictModel, key_path

if TYPE_CHECKING:
    from settings.model import Settings

PROVIDERS = ("route53",)
DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
LABEL = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
HOSTED_ZONE_ID = r"^Z[A-Z0-9]{1,31}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ZONE_NAME = r"^[a-z][a-z0-9-]{0,30}$"
PATTERN_HINTS.update({
    DOMAIN: "a lower-case domain name such as example.com (no trailing dot)",
    LABEL: "one lower-case DNS label such as infer",
    HOSTED_ZONE_ID: "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ",
    EMAIL: "an e-mail address",
})


class HealthCheckSettings(StrictModel):
    interval: Literal[10, 30] = Field(30, description="Seconds between Route 53 checks from each checker region (10 costs more)")
    failure_threshold: int = Field(3, ge=1, le=10, description="Consecutive failures before a region is unhealthy")


class GeographySettings(StrictModel):
    continents: list[str] = Field(default_factory=list, description="Route 53 continent codes: AF AN AS EU NA OC SA")
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 country codes")


class AcmeSettings(StrictModel):
    email: str | None = Field(None, pattern=EMAIL, description="Let's Encrypt account contact (optional)")
    staging: bool = Field(False, description="Use Let's Encrypt's staging CA (untrusted certificates, higher limits)")


class DnsSettings(StrictModel):
    zone: str = Field(pattern=DOMAIN, max_length=200, description="The domain every name lives under, e.g. example.com")
    hosted_zone_id: str | None = Field(None, pattern=HOSTED_ZONE_ID, description="An existing public hosted zone for `zone`")
    name: str = Field("infer", pattern=LABEL, description="First label of the global hostname")
    provider: str = Field("route53", description="Global DNS load balancing: route53")
    ttl: int = Field(60, ge=5, le=3600, description="TTL in seconds of the records that carry addresses")
    health_check: HealthCheckSettings = HealthCheckSettings()
    geographies: dict[Annotated[str, Field(pattern=ZONE_NAME)], GeographySettings] = Field(
        default_factory=dict, description="Per residency zone: more continents and countries for its clients"
    )
    acme: AcmeSettings = AcmeSettings()

    @property
    def hostname(self) -> str:
        return f"{self.name}.{self.zone}"

    def geographies_for(self, zones: Mapping[str, list[str]]) -> dict[str, Geography]:
        """Each residency zone's client geography: the built-in one (if any) plus the configured."""
        found: dict[str, Geography] = {}
        for zone in zones:
            geography = DEFAULT_GEOGRAPHIES.get(zone, Geography())
            if zone in self.geographies:
                given = self.geographies[zone]
                geography = geography.union(Geography(frozenset(given.continents), frozenset(given.countries)))
            found[zone] = geography
        return found


def problems(settings: Settings) -> Iterator[str]:
    """Global entry problems; nothing here needs the address plan."""
    dns = settings.dns
    if dns is None:
        return
    if dns.provider not in PROVIDERS:
        yield (f"{key_path('dns', 'provider')}: {dns.provider!r} is not a supported DNS provider; use route53 "
               "(Cloud DNS geo-fencing and Azure Traffic Manager are not built)")
    zones = settings.residency_zones
    for zone, given in dns.geographies.items():
        if zone not in zones:
            known = ", ".join(sorted(zones)) or "none"
            yield f"{key_path('dns', 'geographies', zone)}: {zone!r} is not a residency zone (residency_zones: {known})"
            continue
        yield from _code_problems(zone, given)
    for zone, regions in zones.items():
        if not regions:
            yield (f"{key_path('residency_zones', zone)}: has no regions, so the global entry could not answer "
                   "its clients inside the zone")
    geographies = dns.geographies_for(zones)
    for zone, geography in geographies.items():
        if not geography.continents and not geography.countries:
            yield (f"{key_path('dns', 'geographies', zone)}: residency zone {zone!r} needs a client geography: "
                   "list its continents or countries, so its clients are answered only by its regions")
    yield from _overlap_problems(dns, geographies)


def _code_problems(zone: str, given: GeographySettings) -> Iterator[str]:
    for index, continent in enumerate(given.continents):
        if continent not in CONTINENTS:
            yield (f"{key_path('dns', 'geographies', zone, 'continents', index)}: {continent!r} is not a Route 53 "
                   f"continent code ({', '.join(CONTINENTS)})")
    for index, country in enumerate(given.countries):
        path = key_path("dns", "geographies", zone, "countries", index)
        if country in UNSUPPORTED_COUNTRIES:
            yield f"{path}: Route 53 has no location data for {country!r} and accepts no record for it"
        elif country not in country_continents():
            yield (f"{path}: {country!r} is not an ISO 3166-1 alpha-2 country code Route 53 knows "
                   "(planning/data/route53_countries.csv)")


def _overlap_problems(dns: DnsSettings, geographies: Mapping[str, Geography]) -> Iterator[str]:
    """Each configured continent or country claimed by another zone too: a client belongs to one zone."""
    for zone, given in dns.geographies.items():
        others = {z: g for z, g in geographies.items() if z != zone}
        if zone not in geographies:
            continue
        for index, continent in enumerate(given.continents):
            for other, geography in sorted(others.items()):
                if continent in geography.continents:
                    yield (f"{key_path('dns', 'geographies', zone, 'continents', index)}: continent {continent} is "
                           f"also in residency zone {other!r}'s geography; a client belongs to one zone")
                inside = sorted(c for c in geography.countries if continent_of(c) == continent)
                if inside:
                    yield (f"{key_path('dns', 'geographies', zone, 'continents', index)}: continent {continent} "
                           f"contains {', '.join(inside)} of residency zone {other!r}'s geography")
        for index, country in enumerate(given.countries):
            for other, geography in sorted(others.items()):
                if country in geography.countries:
                    yield (f"{key_path('dns', 'geographies', zone, 'countries', index)}: {country} is also in "
                           f"residency zone {other!r}'s geography; a client belongs to one zone")
                elif continent_of(country) in geography.continents:
                    yield (f"{key_path('dns', 'geographies', zone, 'countries', index)}: {country} lies in "
                           f"continent {continent_of(country)}, residency zone {other!r}'s geography")
