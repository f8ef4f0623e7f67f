"""What Route 53 knows about where clients and regions are: its continents, the continent it puts
each country in, and the AWS Region it measures latency to for each platform region.

Both tables are data files under `planning/data/`, each row with its source and date:
`route53_countries.csv` is Route 53's own country -> continent list (geolocation records fall back
from a country to *this* continent, so residency decisions must use Route 53's list, not another
atlas); `latency_regions.csv` maps every Azure and GCP region of `planning/regions.py` to the
nearest AWS Region, because Route 53 latency records can only name AWS Regions.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from planning.regions import Cloud

DATA = Path(__file__).resolve().parent / "data"

CONTINENTS: Mapping[str, str] = MappingProxyType({
    "AF": "Africa", "AN": "Antarctica", "AS": "Asia", "EU": "Europe", "NA": "North America",
    "OC": "Oceania", "SA": "South America",
})
"""Route 53's continent codes (GeoLocation ContinentCode)."""

UNSUPPORTED_COUNTRIES = frozenset({"BV", "CX", "EH", "HM"})
"""ISO countries Route 53 refuses geolocation records for (it has no IP data for them)."""


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@cache
def country_continents() -> Mapping[str, str]:
    """ISO 3166-1 alpha-2 country -> the Route 53 continent code it belongs to."""
    return MappingProxyType({row["country"]: row["continent"] for row in _rows("route53_countries.csv")})


def continent_of(country: str) -> str | None:
    return country_continents().get(country)


@cache
def _latency_regions() -> Mapping[tuple[str, str], str]:
    return MappingProxyType({(row["cloud"], row["region"]): row["aws_latency_region"]
                             for row in _rows("latency_regions.csv")})


def latency_region(cloud: Cloud, region: str) -> str:
    """The AWS Region whose latency Route 53 measures for a platform region: itself on AWS, the
    nearest AWS Region elsewhere. KeyError for a region missing from the table."""
    if cloud == "aws":
        return region
    return _latency_regions()[(cloud, region)]
