"""planning.routing: the global entry's record tree, evaluated the way Route 53 evaluates it.

The properties run over random platforms (regions in random clouds, zones and AWS latency
Regions), random zone geographies and every health state Hypothesis cares to try."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from planning.geolocation import CONTINENTS, continent_of, country_continents, latency_region
from planning.regions import AWS_REGIONS, AZURE_REGIONS, GCP_REGIONS, region_key
from planning.routing import (
    DEFAULT_ANSWER,
    DEFAULT_GEOGRAPHIES,
    Client,
    Geography,
    RoutedRegion,
    geography_overlaps,
    plan_routing,
)

COUNTRIES = sorted(country_continents())
ZONES = ("eu", "ch", "apac", "us")


# --- strategies ---------------------------------------------------------------------------------

@st.composite
def routed_regions(draw, zones=ZONES, min_size=1, max_size=8):
    catalog = ([("aws", r) for r in sorted(AWS_REGIONS)] + [("azure", r) for r in sorted(AZURE_REGIONS)]
               + [("gcp", r) for r in sorted(GCP_REGIONS)])
    picked = draw(st.lists(st.sampled_from(catalog), min_size=min_size, max_size=max_size, unique=True))
    return [
        RoutedRegion(region_key(cloud, name), draw(st.sampled_from((None, *zones))), latency_region(cloud, name))
        for cloud, name in picked
    ]


@st.composite
def geographies_for(draw, zones):
    """Non-overlapping geographies, one per zone: continents dealt out to at most one zone each,
    then countries outside every other zone's continents."""
    owner = {c: draw(st.sampled_from((None, *zones))) for c in sorted(CONTINENTS)} if zones else {}
    geographies = {zone: Geography(frozenset(c for c, z in owner.items() if z == zone)) for zone in zones}
    taken: set[str] = set()
    for zone in zones:
        foreign = {c for c, z in owner.items() if z not in (None, zone)}
        candidates = [c for c in COUNTRIES if continent_of(c) not in foreign and c not in taken]
        minimum = 0 if geographies[zone].continents else 1
        assume(len(candidates) >= minimum)
        countries = set(draw(st.lists(st.sampled_from(candidates), min_size=minimum, max_size=4, unique=True))
                        if candidates else [])
        taken |= countries
        geographies[zone] = geographies[zone].union(Geography(countries=frozenset(countries)))
    return geographies


@st.composite
def platforms(draw):
    regions = draw(routed_regions())
    zones = sorted({r.zone for r in regions} - {None})
    return regions, draw(geographies_for(zones))


clients = st.one_of(
    st.sampled_from(COUNTRIES).map(Client.in_country),
    st.builds(Client, continent=st.sampled_from(sorted(CONTINENTS))),
    st.just(Client()),
)


def health(regions):
    return st.sets(st.sampled_from([r.key for r in regions])) if regions else st.just(set())


# --- properties ----------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(data=st.data(), platform=platforms(), client=clients)
def test_a_zones_client_is_never_answered_outside_the_zone_whatever_the_health(data, platform, client):
    regions, geographies = platform
    plan = plan_routing(regions, "example.com", "infer", geographies)
    zone = plan.zone_of(client)
    healthy = data.draw(health(regions))
    answers = plan.answers(client, healthy)
    assert answers <= plan.allowed_for(client)
    if zone is not None:
        assert answers and {r.zone for r in regions if r.key in answers} == {zone}


@settings(max_examples=100, deadline=None)
@given(data=st.data(), platform=platforms(), client=clients)
def test_every_client_is_answered_by_a_healthy_allowed_region_while_one_is_up(data, platform, client):
    regions, geographies = platform
    plan = plan_routing(regions, "example.com", "infer", geographies)
    healthy = data.draw(health(regions))
    allowed = plan.allowed_for(client)
    answers = plan.answers(client, healthy)
    if allowed & healthy:
        assert answers and answers <= allowed & healthy
    else:
        # Fail closed: the allowed regions' own (failing) addresses, never anyone else's.
        assert answers == allowed


def zone_clients(geography: Geography):
    countries = sorted(geography.countries) + [c for c in COUNTRIES if continent_of(c) in geography.continents]
    return st.one_of(
        *([st.sampled_from(countries).map(Client.in_country)] if countries else []),
        *([st.builds(Client, continent=st.sampled_from(sorted(geography.continents)))] if geography.continents else []),
    )


@settings(max_examples=100, deadline=None)
@given(data=st.data(), platform=platforms())
def test_adding_a_region_never_changes_the_answers_for_other_zones_clients(data, platform):
    regions, geographies = platform
    taken = {r.key for r in regions}
    (added,) = data.draw(routed_regions(zones=(*geographies, "new"), max_size=1).filter(lambda rs: rs[0].key not in taken))
    others = sorted(set(geographies) - {added.zone})
    assume(others)
    extended = dict(geographies)
    if added.zone == "new":
        # A new zone comes with its own geography: a country nobody else claims.
        claimed = {c for g in geographies.values() for c in g.countries}
        continents = {c for g in geographies.values() for c in g.continents}
        free = [c for c in COUNTRIES if c not in claimed and continent_of(c) not in continents]
        assume(free)
        extended["new"] = Geography(countries=frozenset({data.draw(st.sampled_from(free))}))
    zone = data.draw(st.sampled_from(others))
    client = data.draw(zone_clients(geographies[zone]))
    before = plan_routing(regions, "example.com", "infer", geographies)
    after = plan_routing([*regions, added], "example.com", "infer", extended)
    assert before.zone_of(client) == after.zone_of(client) == zone
    healthy = data.draw(health(regions))
    for added_up in (False, True):
        assert after.answers(client, healthy | ({added.key} if added_up else set())) == before.answers(client, healthy)


@settings(max_examples=100, deadline=None)
@given(platform=platforms())
def test_every_name_a_zone_geography_record_reaches_stays_in_the_zone(platform):
    regions, geographies = platform
    plan = plan_routing(regions, "example.com", "infer", geographies)
    entry = plan.group(plan.hostname)
    if not geographies:
        assert {r.policy for r in entry} == {"latency"}
        return
    for record in entry:
        location = record.geolocation
        zone = next((z for z, g in geographies.items()
                     if location.continent in g.continents or location.country in g.countries), None)
        reached = plan.reachable(record.alias)
        if zone is not None:
            assert {r.zone for r in regions if r.key in reached} == {zone}
            assert record.evaluate_target_health is False, "a zone record must never fall back"
        else:
            assert location.is_default and reached == {r.key for r in regions}


# --- examples -------------------------------------------------------------------------------------

PROD = [
    RoutedRegion("aws:us-east-1", None, "us-east-1"),
    RoutedRegion("aws:eu-central-1", "eu", "eu-central-1"),
    RoutedRegion("azure:westeurope", "eu", "eu-central-1"),
    RoutedRegion("gcp:europe-west1", "eu", "eu-west-3"),
    RoutedRegion("gcp:us-central1", None, "us-east-2"),
]


@pytest.fixture
def prod():
    return plan_routing(PROD, "example.com", "infer", DEFAULT_GEOGRAPHIES)


def test_names_follow_the_hostname(prod):
    assert prod.hostname == "infer.example.com"
    assert prod.endpoints["aws:eu-central-1"] == "aws-eu-central-1.infer.example.com"
    assert prod.allowed == {"eu": ("aws:eu-central-1", "azure:westeurope", "gcp:europe-west1"),
                            DEFAULT_ANSWER: tuple(r.key for r in PROD)}


def test_eu_geography_records_alias_the_eu_set_and_the_default_the_nearest_set(prod):
    entry = {r.set_id: r for r in prod.group("infer.example.com")}
    assert set(entry) == {"eu-continent-eu", "eu-country-no", "eu-country-is", "eu-country-li", "default"}
    assert {r.alias for k, r in entry.items() if k != "default"} == {"zone-eu.route.infer.example.com"}
    assert entry["default"].alias == "nearest.route.infer.example.com" and entry["default"].geolocation.is_default
    assert not any(r.evaluate_target_health or r.health_checked for r in entry.values())


def test_latency_records_name_aws_regions_once_per_set_and_share_buckets(prod):
    eu_set = prod.group("zone-eu.route.infer.example.com")
    assert sorted(r.latency_region for r in eu_set) == ["eu-central-1", "eu-west-3"]
    assert all(r.evaluate_target_health for r in eu_set)
    bucket = prod.group("eu-central-1.zone-eu.route.infer.example.com")
    assert [(r.region, r.weighted, r.health_checked) for r in bucket] == [
        ("aws:eu-central-1", True, True), ("azure:westeurope", True, True)]


@pytest.mark.parametrize("country,expected", [
    ("DE", {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west1"}),
    ("NO", {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west1"}),
    ("US", {r.key for r in PROD}),
    ("JP", {r.key for r in PROD}),
])
def test_answers_with_everything_healthy(prod, country, expected):
    assert prod.answers(Client.in_country(country), {r.key for r in PROD}) == expected


def test_a_regional_outage_moves_eu_clients_to_the_other_eu_regions_only(prod):
    healthy = {r.key for r in PROD} - {"aws:eu-central-1", "azure:westeurope"}
    assert prod.answers(Client.in_country("FR"), healthy) == {"gcp:europe-west1"}
    # Every EU region down: EU clients still get EU addresses (failing), never a US region.
    down = {"aws:us-east-1", "gcp:us-central1"}
    assert prod.answers(Client.in_country("FR"), down) == {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west1"}
    assert prod.answers(Client.in_country("US"), down) == down
    assert prod.answers(Client(continent="EU"), down) == {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west1"}


def test_clients_of_unknown_location_take_the_default_record(prod):
    assert prod.answers(Client(), {"aws:us-east-1"}) == {"aws:us-east-1"}


def test_without_residency_zones_the_hostname_is_a_latency_set():
    plan = plan_routing([RoutedRegion(r.key, None, r.latency_region) for r in PROD], "example.com", "infer", {})
    policies = {r.policy for r in plan.records}
    assert "geolocation" not in policies
    assert {r.policy for r in plan.group("infer.example.com")} == {"latency"}
    assert plan.allowed == {DEFAULT_ANSWER: tuple(r.key for r in PROD)}


def test_a_zone_geography_without_regions_is_refused():
    with pytest.raises(ValueError, match="ch have a client geography but no regions"):
        plan_routing(PROD, "example.com", "infer", {**DEFAULT_GEOGRAPHIES, "ch": Geography(countries={"CH"})})


def test_overlapping_geographies_are_described():
    eu, ch = DEFAULT_GEOGRAPHIES["eu"], Geography(frozenset({"EU"}), frozenset({"NO", "CH"}))
    assert geography_overlaps({"eu": eu, "ch": ch}) == [
        "continent EU is in zones ch and eu",
        "country NO is in zones ch and eu",
        "country CH of zone ch lies in continent EU of zone eu",
        "country NO of zone ch lies in continent EU of zone eu",
        "country IS of zone eu lies in continent EU of zone ch",
        "country LI of zone eu lies in continent EU of zone ch",
        "country NO of zone eu lies in continent EU of zone ch",
    ]


def test_route53_country_table_and_latency_regions_cover_the_catalogs():
    assert continent_of("DE") == "EU" and continent_of("NO") == "EU" and continent_of("US") == "NA"
    assert set(country_continents().values()) == set(CONTINENTS)
    for name in AZURE_REGIONS:
        assert latency_region("azure", name) in AWS_REGIONS
    for name in GCP_REGIONS:
        assert latency_region("gcp", name) in AWS_REGIONS
    assert latency_region("gcp", "europe-west4") == "eu-central-1"
