"""The address plan: non-overlapping, inside the supernet, and stable when regions are appended."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from planning.addressing import (
    AddressPlanError,
    RegionRequest,
    aws_subnets,
    azure_subnets,
    cloud_block,
    gcp_subnets,
    plan_region_cidrs,
)
from planning.regions import CLOUDS, KNOWN_REGIONS

SUPERNET = ipaddress.IPv4Network("10.64.0.0/11")

requests_strategy = st.lists(
    st.sampled_from(CLOUDS).flatmap(
        lambda cloud: st.builds(RegionRequest, st.just(cloud), st.sampled_from(sorted(KNOWN_REGIONS[cloud])))
    ),
    max_size=12,
    unique_by=lambda r: (r.cloud, r.region),
)


def _fits(requests, prefix=16) -> bool:
    per_cloud = {c: sum(1 for r in requests if r.cloud == c) for c in CLOUDS}
    return all(n <= 2 ** (prefix - SUPERNET.prefixlen - 2) for n in per_cloud.values())


@given(requests_strategy, st.integers(16, 20))
def test_regions_never_overlap_and_stay_in_their_cloud_block(requests, prefix):
    if not _fits(requests, prefix):
        with pytest.raises(AddressPlanError):
            plan_region_cidrs(SUPERNET, requests, prefix)
        return
    plan = plan_region_cidrs(SUPERNET, requests, prefix)
    cidrs = list(plan.values())
    for i, a in enumerate(cidrs):
        assert a.prefixlen == prefix
        for b in cidrs[i + 1 :]:
            assert not a.overlaps(b)
    for (cloud, _), cidr in plan.items():
        assert cidr.subnet_of(cloud_block(SUPERNET, cloud))


@hypothesis_settings(max_examples=200)
@given(requests_strategy, requests_strategy)
def test_appending_regions_never_moves_existing_ones(existing, added):
    added = [r for r in added if (r.cloud, r.region) not in {(e.cloud, e.region) for e in existing}]
    if not _fits(existing + added):
        return
    before = plan_region_cidrs(SUPERNET, existing, 16)
    after = plan_region_cidrs(SUPERNET, existing + added, 16)
    assert {k: after[k] for k in before} == before


@given(requests_strategy, st.data())
def test_explicit_cidrs_are_kept_and_skipped_by_automatic_ones(requests, data):
    if not requests or not _fits(requests):
        return
    pinned_index = data.draw(st.integers(0, len(requests) - 1))
    pinned = requests[pinned_index]
    explicit = ipaddress.IPv4Network(f"10.{64 + data.draw(st.integers(0, 23))}.0.0/16")
    requests = [
        RegionRequest(r.cloud, r.region, explicit) if i == pinned_index else r for i, r in enumerate(requests)
    ]
    plan = plan_region_cidrs(SUPERNET, requests, 16)
    assert plan[(pinned.cloud, pinned.region)] == explicit
    others = [c for k, c in plan.items() if k != (pinned.cloud, pinned.region)]
    assert not any(c.overlaps(explicit) for c in others)


def test_a_full_cloud_block_names_the_region_that_did_not_fit():
    regions = sorted(KNOWN_REGIONS["gcp"])[:9]
    with pytest.raises(AddressPlanError) as raised:
        plan_region_cidrs(SUPERNET, [RegionRequest("gcp", r) for r in regions], 16)
    assert raised.value.key == f"gcp:{regions[8]}"
    assert "no free /16 left in the gcp block 10.80.0.0/13" in str(raised.value)


@pytest.mark.parametrize("prefix", [12, 16, 20])
@pytest.mark.parametrize("zones", [["a", "b"], ["a", "b", "c"]])
def test_aws_subnets_fit_their_region(prefix, zones):
    region = ipaddress.IPv4Network(f"10.64.0.0/{prefix}")
    plan = aws_subnets(region, [f"eu-central-1{z}" for z in zones])
    assert len(plan.named("private-")) == len(plan.named("public-")) == len(zones)
    _assert_disjoint_inside(region, [s.cidr for s in plan.subnets])


@pytest.mark.parametrize("prefix", range(12, 21))
def test_azure_vnet_and_overlay_pods_split_the_region(prefix):
    region = ipaddress.IPv4Network(f"10.64.0.0/{prefix}")
    plan = azure_subnets(region)
    for outside in (plan.pod_cidr, plan.service_cidr):
        assert not plan.address_space.overlaps(outside), "AKS needs pods and services outside the VNet"
    assert all(s.cidr.subnet_of(plan.address_space) for s in plan.subnets)
    assert plan.subnet("GatewaySubnet").cidr.prefixlen == 27
    assert plan.subnet("apiserver").cidr.prefixlen == 28
    _assert_disjoint_inside(region, [s.cidr for s in plan.subnets] + [plan.pod_cidr, plan.service_cidr])


@pytest.mark.parametrize("prefix", [12, 16, 20])
def test_gcp_ranges_are_disjoint(prefix):
    region = ipaddress.IPv4Network(f"10.80.0.0/{prefix}")
    plan = gcp_subnets(region)
    _assert_disjoint_inside(region, [plan.subnet("nodes").cidr, plan.pod_cidr, plan.service_cidr])


def _assert_disjoint_inside(region, cidrs):
    for i, a in enumerate(cidrs):
        assert a.subnet_of(region), a
        for b in cidrs[i + 1 :]:
            assert not a.overlaps(b), (a, b)
