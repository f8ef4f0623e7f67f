"""The address plan: a fixed slot per catalog region, so no region's range ever moves because of
another region; pins that collide are refused naming both regions; subnets fit their region."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from planning.addressing import (
    AddressPlanError,
    RegionRequest,
    address_problems,
    automatic_cidr,
    aws_subnets,
    azure_subnets,
    cloud_block,
    gcp_subnets,
    node_capacity,
    plan_region_cidrs,
    region_slot,
    spare_block,
)
from planning.regions import (
    AWS_ZONE_IDS,
    CLOUDS,
    EKS_UNSUPPORTED_ZONE_IDS,
    KNOWN_REGIONS,
    REGION_SLOTS,
    SLOTS_PER_CLOUD,
    aws_zone_ids,
)
from settings import load_settings
from tests.planview import stack_platform_config

N = ipaddress.IPv4Network
SUPERNET = N("10.64.0.0/11")
CATALOG = [(cloud, region) for cloud in CLOUDS for region in sorted(KNOWN_REGIONS[cloud])]
property_test = hypothesis_settings(derandomize=True, deadline=None, max_examples=300)


# --- the catalog's slots ----------------------------------------------------------------------


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_catalog_region_owns_a_distinct_slot_in_range(cloud):
    slots = list(REGION_SLOTS[cloud].values())
    assert len(set(slots)) == len(slots), "two regions share a slot"
    assert all(0 <= s < SLOTS_PER_CLOUD for s in slots)
    assert set(REGION_SLOTS[cloud]) == KNOWN_REGIONS[cloud]


@pytest.mark.parametrize("supernet", [N("10.64.0.0/11"), N("10.0.0.0/8"), N("172.16.0.0/12")])
def test_automatic_ranges_of_the_whole_catalog_are_disjoint_and_inside_their_cloud_block(supernet):
    ranges = {(c, r): automatic_cidr(supernet, c, r) for c, r in CATALOG}
    ordered = sorted(ranges.values())
    assert all(not a.overlaps(b) for a, b in zip(ordered, ordered[1:], strict=False))
    for (cloud, region), cidr in ranges.items():
        assert cidr.subnet_of(cloud_block(supernet, cloud)), (cloud, region)
        assert not cidr.overlaps(spare_block(supernet))
        assert cidr.prefixlen == supernet.prefixlen + 8


# The committed stacks' ranges: a renumbered slot or a changed slot size fails here first.
COMMITTED_CIDRS = {
    "dev": {"aws:eu-central-1": "10.65.0.0/19", "azure:westeurope": "10.73.192.0/19", "gcp:europe-west4": "10.82.0.0/19"},
    "prod": {
        "aws:us-east-1": "10.64.0.0/19", "aws:eu-central-1": "10.65.0.0/19", "aws:eu-west-1": "10.65.64.0/19",
        "azure:westeurope": "10.73.192.0/19", "azure:northeurope": "10.73.160.0/19", "azure:eastus2": "10.72.32.0/19",
        "gcp:europe-west4": "10.82.0.0/19", "gcp:europe-west1": "10.81.160.0/19", "gcp:us-central1": "10.80.0.0/19",
    },
}


@pytest.mark.parametrize("stack", COMMITTED_CIDRS)
def test_committed_stacks_keep_their_ranges(stack):
    cidrs = load_settings(stack_platform_config(stack)).region_cidrs
    assert {k: str(v) for k, v in cidrs.items()} == COMMITTED_CIDRS[stack]


def test_a_region_takes_its_own_slot_whoever_else_is_configured():
    alone = plan_region_cidrs(SUPERNET, [RegionRequest("azure", "westeurope")])
    crowded = plan_region_cidrs(
        SUPERNET,
        [RegionRequest("azure", r) for r in ("eastus", "northeurope", "swedencentral")]
        + [RegionRequest("azure", "westeurope"), RegionRequest("aws", "us-east-1", N("10.88.0.0/16"))],
    )
    assert alone[("azure", "westeurope")] == crowded[("azure", "westeurope")] == N("10.73.192.0/19")
    assert region_slot(SUPERNET, "azure", "westeurope") == N("10.73.192.0/19")


def test_region_prefix_length_shrinks_a_region_inside_its_slot():
    plan = plan_region_cidrs(SUPERNET, [RegionRequest("gcp", "us-central1"), RegionRequest("gcp", "us-east1")], 20)
    assert plan == {("gcp", "us-central1"): N("10.80.0.0/20"), ("gcp", "us-east1"): N("10.80.32.0/20")}


# --- the property: addresses never move ---------------------------------------------------------

pins = st.integers(16, 20).flatmap(
    lambda prefix: st.integers(0, 2 ** (prefix - SUPERNET.prefixlen) - 1).map(
        lambda i: N((int(SUPERNET.network_address) + i * 2 ** (32 - prefix), prefix))
    )
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(CATALOG), st.integers(0, 12)),
        st.tuples(st.just("pin"), st.integers(0, 12), pins),
        # A pin over another configured region's range: must be refused, naming both.
        st.tuples(st.just("pin_over"), st.integers(0, 12), st.integers(0, 12), st.integers(16, 20)),
        st.tuples(st.just("unpin"), st.integers(0, 12)),
        st.tuples(st.just("remove"), st.integers(0, 12)),
        st.tuples(st.just("move"), st.integers(0, 12), st.integers(0, 12)),
    ),
    min_size=1,
    max_size=25,
)


def _apply(config: list[RegionRequest], operation) -> list[RegionRequest]:
    config = list(config)
    kind, *args = operation
    if kind == "add":
        (cloud, region), at = args
        if all((r.cloud, r.region) != (cloud, region) for r in config):
            config.insert(min(at, len(config)), RegionRequest(cloud, region))
    elif config:
        index = args[0] % len(config)
        request = config[index]
        if kind == "pin":
            config[index] = RegionRequest(request.cloud, request.region, args[1])
        elif kind == "pin_over":
            other = config[args[1] % len(config)]
            target = other.cidr or automatic_cidr(SUPERNET, other.cloud, other.region)
            pin = target.supernet(new_prefix=min(args[2], target.prefixlen))
            config[index] = RegionRequest(request.cloud, request.region, pin)
        elif kind == "unpin":
            config[index] = RegionRequest(request.cloud, request.region)
        elif kind == "remove":
            del config[index]
        else:
            config.insert(args[1] % len(config), config.pop(index))
    return config


@property_test
@given(operations)
def test_every_region_that_keeps_its_config_keeps_its_cidr(ops):
    """Over any sequence of adds (anywhere in the list), pins, unpins, removals and reorderings,
    a region's CIDR depends on its own config only; a config whose pins collide is refused naming
    both regions, and every accepted plan is free of overlaps."""
    config: list[RegionRequest] = []
    seen: dict[RegionRequest, N] = {}
    for operation in ops:
        config = _apply(config, operation)
        problems = address_problems(SUPERNET, config)
        if problems:
            for problem in problems:
                named = [r for r in config if f"{r.cloud}:{r.region}'s " in problem.message]
                assert len(named) == 2, problem.message
                assert config[problem.index].cidr is not None, "only a pin is ever at fault"
            continue
        plan = plan_region_cidrs(SUPERNET, config)
        for request in config:
            cidr = plan[(request.cloud, request.region)]
            assert seen.setdefault(request, cidr) == cidr, f"{request} moved"
        ranges = sorted(plan.values())
        assert all(not a.overlaps(b) for a, b in zip(ranges, ranges[1:], strict=False))


# --- refusals, word for word ----------------------------------------------------------------------


def test_a_pin_on_another_regions_automatic_range_names_both_regions():
    requests = [RegionRequest("aws", "us-east-1"), RegionRequest("azure", "westeurope", N("10.64.0.0/16"))]
    assert address_problems(SUPERNET, requests) == [
        (
            "cidr",
            "azure:westeurope's pin 10.64.0.0/16 overlaps aws:us-east-1's automatic range 10.64.0.0/19; pin it "
            "elsewhere, for example in the spare block 10.88.0.0/13, which no automatic range uses",
            1,
        )
    ]
    with pytest.raises(AddressPlanError):
        plan_region_cidrs(SUPERNET, requests)


def test_two_pins_that_overlap_are_reported_once_on_the_later_one():
    requests = [
        RegionRequest("gcp", "us-central1", N("10.88.0.0/16")),
        RegionRequest("gcp", "us-east1"),
        RegionRequest("aws", "us-east-1", N("10.88.128.0/17")),
    ]
    assert [(p.index, p.message) for p in address_problems(SUPERNET, requests)] == [
        (2, "aws:us-east-1's pin 10.88.128.0/17 overlaps gcp:us-central1's pin 10.88.0.0/16; pin it elsewhere "
            "in the spare block 10.88.0.0/13, clear of the other pins")
    ]


def test_a_pin_over_an_unconfigured_regions_slot_is_fine_until_that_region_is_added():
    pinned = RegionRequest("azure", "westeurope", N("10.64.0.0/18"))  # covers us-east-1 and us-east-2
    assert address_problems(SUPERNET, [pinned]) == []
    problems = address_problems(SUPERNET, [pinned, RegionRequest("aws", "us-east-2")])
    assert [p.message.split(";")[0] for p in problems] == [
        "azure:westeurope's pin 10.64.0.0/18 overlaps aws:us-east-2's automatic range 10.64.32.0/19"
    ]


def test_a_supernet_too_small_for_a_slot_per_region_is_refused():
    assert address_problems(N("10.64.0.0/13"), [RegionRequest("aws", "us-east-1")]) == [
        ("supernet", "10.64.0.0/13 gives each region a /21 slot (64 slots in each cloud's quarter); a region needs "
                     "/12 to /20, so use a larger supernet (/12 to /4)", None)
    ]


def test_a_region_prefix_larger_than_a_slot_is_refused():
    assert address_problems(SUPERNET, [RegionRequest("aws", "us-east-1")], 16) == [
        ("region_prefix_length", "16 asks for /16 regions, larger than the /19 slot each region owns in supernet "
                                 "10.64.0.0/11; use 19 or more, or a larger supernet", None)
    ]


def test_a_pin_outside_the_supernet_is_refused():
    problems = address_problems(SUPERNET, [RegionRequest("aws", "us-east-1", N("172.16.0.0/16"))])
    assert [p.message for p in problems] == ["aws:us-east-1's pin 172.16.0.0/16 is outside the supernet 10.64.0.0/11"]


# --- AWS zones by zone ID ---------------------------------------------------------------------------


def test_every_aws_catalog_region_has_eks_capable_zone_ids():
    assert set(AWS_ZONE_IDS) == KNOWN_REGIONS["aws"]
    for region, zones in AWS_ZONE_IDS.items():
        assert len(zones) >= 2 and len(set(zones)) == len(zones), region
        assert not EKS_UNSUPPORTED_ZONE_IDS & set(zones), region
        prefix = zones[0].split("-")[0]
        assert all(z.split("-")[0] == prefix and z.split("-")[1].startswith("az") for z in zones), region


def test_zone_choice_is_fixed_and_skips_zones_eks_cannot_use():
    assert aws_zone_ids("us-east-1", 3) == ("use1-az1", "use1-az2", "use1-az4")
    assert aws_zone_ids("ca-central-1", 3) == ("cac1-az1", "cac1-az2", "cac1-az4")
    assert aws_zone_ids("us-west-1", 2) == ("usw1-az1", "usw1-az3")
    with pytest.raises(ValueError, match="us-west-1 offers 2 usable zones"):
        aws_zone_ids("us-west-1", 3)


# --- inside a region ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [12, 16, 19, 20])
@pytest.mark.parametrize("zones", [2, 3])
def test_aws_subnets_fit_their_region_and_are_named_by_zone_id(prefix, zones):
    region = N(f"10.64.0.0/{prefix}")
    plan = aws_subnets(region, aws_zone_ids("us-east-1", zones))
    assert [s.name for s in plan.named("private-")] == ["private-az1", "private-az2", "private-az4"][:zones]
    assert [s.zone for s in plan.named("public-")] == ["use1-az1", "use1-az2", "use1-az4"][:zones]
    _assert_disjoint_inside(region, [s.cidr for s in plan.subnets])


def test_adding_a_third_zone_moves_no_existing_subnet():
    two = aws_subnets(N("10.64.0.0/19"), aws_zone_ids("eu-central-1", 2))
    three = aws_subnets(N("10.64.0.0/19"), aws_zone_ids("eu-central-1", 3))
    assert set(two.subnets) < set(three.subnets)


@pytest.mark.parametrize("prefix", range(12, 21))
def test_azure_vnet_and_overlay_pods_split_the_region(prefix):
    region = N(f"10.64.0.0/{prefix}")
    plan = azure_subnets(region)
    for outside in (plan.pod_cidr, plan.service_cidr):
        assert not plan.address_space.overlaps(outside), "AKS needs pods and services outside the VNet"
    assert all(s.cidr.subnet_of(plan.address_space) for s in plan.subnets)
    assert plan.subnet("GatewaySubnet").cidr.prefixlen == 27
    assert plan.subnet("apiserver").cidr.prefixlen == 28
    _assert_disjoint_inside(region, [s.cidr for s in plan.subnets] + [plan.pod_cidr, plan.service_cidr])


@pytest.mark.parametrize("prefix", [12, 16, 19, 20])
def test_gcp_ranges_are_disjoint(prefix):
    region = N(f"10.80.0.0/{prefix}")
    plan = gcp_subnets(region)
    _assert_disjoint_inside(region, [plan.subnet("nodes").cidr, plan.pod_cidr, plan.service_cidr])


def test_node_capacity_is_a_pod_slash_24_per_node():
    assert node_capacity("azure", N("10.72.0.0/19")) == node_capacity("gcp", N("10.80.0.0/19")) == 16
    assert node_capacity("gcp", N("10.80.0.0/16")) == 128
    assert node_capacity("aws", N("10.64.0.0/19")) is None


def _assert_disjoint_inside(region, cidrs):
    for i, a in enumerate(cidrs):
        assert a.subnet_of(region), a
        for b in cidrs[i + 1 :]:
            assert not a.overlaps(b), (a, b)
