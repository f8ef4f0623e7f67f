"""The replication planner: edges that reach every region of a zone from its source, never leave the
zone, copy across clouds once per cloud, and only grow when a region is added."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.platform import plan_platform
from planning.regions import CLOUDS, KNOWN_REGIONS, region_key
from planning.replication import (
    AZURE_FAN_OUT,
    DEFAULT_GROUP,
    NATIVE,
    Edge,
    ReplicationPlan,
    mechanism,
    plan_replication,
)
from settings import load_settings
from tests.planview import stack_platform_config


@dataclass(frozen=True)
class Region:
    cloud: str
    name: str
    residency_zone: str | None
    is_hub: bool = False

    @property
    def key(self) -> str:
        return region_key(self.cloud, self.name)


def group(region: Region) -> str:
    return region.residency_zone or DEFAULT_GROUP


# --- the committed stacks ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod() -> ReplicationPlan:
    return plan_platform(load_settings(stack_platform_config("prod"))).replication


def test_prod_edges(prod):
    assert [(e.source, e.destination, e.mechanism) for e in prod.edges] == [
        # EU: from the source europe-west4 into each other cloud's EU hub, then native fan-out.
        ("gcp:europe-west4", "aws:eu-central-1", "sync-job"),
        ("aws:eu-central-1", "aws:eu-west-1", "s3-replication"),
        ("gcp:europe-west4", "azure:westeurope", "sync-job"),
        ("azure:westeurope", "azure:northeurope", "azure-object-replication"),
        ("gcp:europe-west4", "gcp:europe-west1", "storage-transfer"),
        # Outside every zone: from us-east-1; Azure's hub is in the EU, so eastus2 is the entry.
        ("aws:us-east-1", "azure:eastus2", "sync-job"),
        ("aws:us-east-1", "gcp:us-central1", "storage-transfer"),
    ]
    assert dict(prod.sources) == {"eu": "gcp:europe-west4", "default": "aws:us-east-1"}


def test_dev_gets_its_cross_cloud_copies_from_the_eu_source():
    plan = plan_platform(load_settings(stack_platform_config("dev"))).replication
    assert plan.output() == [
        {"from": "gcp:europe-west4", "to": "aws:eu-central-1", "mechanism": "sync-job"},
        {"from": "gcp:europe-west4", "to": "azure:westeurope", "mechanism": "sync-job"},
    ]


# --- mechanisms and entries ------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "destination", "expected"), [
    ("aws", "aws", "s3-replication"),
    ("azure", "azure", "azure-object-replication"),
    ("gcp", "gcp", "storage-transfer"),
    ("aws", "gcp", "storage-transfer"),
    ("azure", "gcp", "storage-transfer"),
    ("gcp", "aws", "sync-job"),
    ("azure", "aws", "sync-job"),
    ("gcp", "azure", "sync-job"),
    ("aws", "azure", "sync-job"),
])
def test_native_mechanisms_where_one_exists(source, destination, expected):
    assert mechanism(source, destination) == expected


def test_the_entry_is_the_hub_when_it_is_in_the_zone_else_the_first_listed_region():
    regions = [
        Region("gcp", "europe-west4", "eu", is_hub=True),
        Region("aws", "eu-west-1", "eu"), Region("aws", "eu-central-1", "eu", is_hub=True),
        Region("azure", "northeurope", "eu"), Region("azure", "westeurope", "eu"),
        Region("azure", "eastus2", None, is_hub=True),
    ]
    plan = plan_replication(regions, {"eu": "gcp:europe-west4", DEFAULT_GROUP: "azure:eastus2"})
    cross = [(e.source, e.destination) for e in plan.edges if e.cross_cloud]
    assert cross == [("gcp:europe-west4", "aws:eu-central-1"), ("gcp:europe-west4", "azure:northeurope")]


def test_azure_object_replication_reaches_two_accounts_then_a_sync_job_takes_over():
    regions = [Region("azure", name, "eu", is_hub=name == "westeurope")
               for name in ("westeurope", "northeurope", "francecentral", "swedencentral")]
    plan = plan_replication(regions, {"eu": "azure:westeurope"})
    assert [(e.destination, e.mechanism) for e in plan.edges] == [
        ("azure:northeurope", "azure-object-replication"),
        ("azure:francecentral", "azure-object-replication"),
        ("azure:swedencentral", "sync-job"),
    ]


def test_a_group_without_its_source_is_refused():
    with pytest.raises(ValueError, match="group 'eu' has regions"):
        plan_replication([Region("aws", "eu-central-1", "eu")], {})
    with pytest.raises(ValueError, match="'aws:us-east-1' of group 'eu' is not one of its regions"):
        plan_replication([Region("aws", "eu-central-1", "eu")], {"eu": "aws:us-east-1"})


# --- properties ----------------------------------------------------------------------------------

ZONES = ("eu", "us", None)


@st.composite
def platforms(draw) -> tuple[list[Region], dict[str, str]]:
    """Any clouds, 1-5 regions each spread over up to two zones and the outside, any hubs and sources."""
    regions: list[Region] = []
    for cloud in draw(st.lists(st.sampled_from(CLOUDS), min_size=1, max_size=3, unique=True)):
        names = draw(st.lists(st.sampled_from(sorted(KNOWN_REGIONS[cloud])), min_size=1, max_size=5, unique=True))
        zones = [draw(st.sampled_from(ZONES)) for _ in names]
        hub = draw(st.sampled_from(names))
        regions += [Region(cloud, n, z, n == hub) for n, z in zip(names, zones, strict=True)]
    order = sorted(regions, key=lambda r: CLOUDS.index(r.cloud))  # config order: cloud by cloud
    sources = {}
    for g in sorted({group(r) for r in order}):
        sources[g] = draw(st.sampled_from([r.key for r in order if group(r) == g]))
    return order, sources


def _walk_to_source(plan: ReplicationPlan, key: str) -> list[str]:
    path = [key]
    while (edge := plan.inbound(path[-1])) is not None:
        path.append(edge.source)
        assert len(path) <= 3, path
    return path


@settings(max_examples=150, deadline=None)
@given(platforms())
def test_every_region_receives_its_zone_models_once_and_nothing_leaves_a_zone(platform):
    regions, sources = platform
    plan = plan_replication(regions, sources)
    by_key = {r.key: r for r in regions}
    for edge in plan.edges:
        # No edge joins two zones, nor a zone and the outside.
        assert group(by_key[edge.source]) == group(by_key[edge.destination]) == edge.group
    inbound = Counter(e.destination for e in plan.edges)
    for region in regions:
        source = sources[group(region)]
        if region.key == source:
            assert inbound[region.key] == 0
        else:
            # Exactly one inbound edge, and the path back ends at the zone's own source.
            assert inbound[region.key] == 1
            assert _walk_to_source(plan, region.key)[-1] == source


@settings(max_examples=150, deadline=None)
@given(platforms())
def test_cross_cloud_copies_are_one_per_destination_cloud_per_zone_from_the_source(platform):
    regions, sources = platform
    plan = plan_replication(regions, sources)
    by_key = {r.key: r for r in regions}
    for g, source in sources.items():
        clouds = {r.cloud for r in regions if group(r) == g}
        cross = [e for e in plan.edges if e.group == g and e.cross_cloud]
        assert all(e.source == source for e in cross)
        assert sorted(e.destination_cloud for e in cross) == sorted(clouds - {by_key[source].cloud})
    for edge in plan.edges:
        if edge.cross_cloud:
            assert edge.mechanism == mechanism(edge.source_cloud, edge.destination_cloud)
        else:  # native inside a cloud, except past Azure's two destinations per account
            assert edge.mechanism in (NATIVE[edge.destination_cloud], "sync-job")
    fan_out = Counter(e.source for e in plan.edges if e.mechanism == "azure-object-replication")
    assert max(fan_out.values(), default=0) <= AZURE_FAN_OUT


@st.composite
def grown(draw) -> tuple[list[Region], dict[str, str], Region, list[Region]]:
    """A platform, and the same platform with one more region appended to its cloud's list."""
    regions, sources = draw(platforms())
    cloud = draw(st.sampled_from(CLOUDS))
    taken = {r.name for r in regions}
    name = draw(st.sampled_from(sorted(KNOWN_REGIONS[cloud] - taken)))
    new = Region(cloud, name, draw(st.sampled_from(ZONES)))
    last_of_cloud = max((i for i, r in enumerate(regions) if CLOUDS.index(r.cloud) <= CLOUDS.index(cloud)), default=-1)
    bigger = regions[: last_of_cloud + 1] + [new] + regions[last_of_cloud + 1:]
    return regions, sources, new, bigger


@settings(max_examples=150, deadline=None)
@given(grown())
def test_adding_a_region_only_adds_edges_into_that_region(case):
    regions, sources, new, bigger = case
    before = set(plan_replication(regions, sources).edges)
    # A region in a group that had none becomes that group's source.
    after_sources = {**sources, group(new): sources.get(group(new), new.key)}
    after = set(plan_replication(bigger, after_sources).edges)
    assert before <= after
    assert all(edge.destination == new.key for edge in after - before)
    assert len(after - before) == (0 if after_sources[group(new)] == new.key else 1)


def test_the_output_names_both_ends_and_the_mechanism():
    edge = Edge("gcp:europe-west4", "aws:eu-central-1", "sync-job", "eu")
    assert edge.output() == {"from": "gcp:europe-west4", "to": "aws:eu-central-1", "mechanism": "sync-job"}
