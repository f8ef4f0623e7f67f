"""The mesh plan as data: ASNs, tunnels and inside /30s, for any set of clouds and regions."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from planning.mesh import (
    AWS_RESERVED_INSIDE,
    AZURE_APIPA,
    DEFAULT_HUB_ASNS,
    DEFAULT_PAIR_BLOCKS,
    LINK_LOCAL,
    PAIR_TUNNELS,
    PRIVATE_ASN_RANGES,
    RESERVED_ASNS,
    MeshPlanError,
    asn_problem,
    inside_cidr_problem,
    pair_key,
    pairs_of,
    plan_mesh,
)
from planning.regions import AWS_REGIONS, CLOUDS

N = ipaddress.IPv4Network
cloud_sets = st.sets(st.sampled_from(CLOUDS), min_size=1).map(lambda s: [c for c in CLOUDS if c in s])
aws_region_lists = st.lists(st.sampled_from(sorted(AWS_REGIONS)), min_size=1, max_size=8, unique=True)
ALL_RESERVED = {asn for reserved in RESERVED_ASNS.values() for asn in reserved}
# Deterministic (same examples every run) and without a per-example deadline: CI machines vary.
property_test = hypothesis_settings(derandomize=True, deadline=None, max_examples=100)
VALID_INSIDE = {
    pair: [
        cidr
        for block in (AZURE_APIPA if "azure" in pair else (N("169.254.0.0/16"),))
        for cidr in block.subnets(new_prefix=30)
        if inside_cidr_problem(pair, cidr) is None
    ]
    for pair in PAIR_TUNNELS
}


def private_asn(cloud: str):
    low = st.integers(64512, 65534)
    high = st.integers(4200000000, 4294967294)
    return (st.one_of(low, high) if cloud != "azure" else low).filter(lambda a: asn_problem(cloud, a) is None)


def _plan(clouds, aws_regions, **overrides):
    return plan_mesh(clouds, aws_regions if "aws" in clouds else (), aws_regions[0] if "aws" in clouds else None, **overrides)


@property_test
@given(cloud_sets, aws_region_lists)
def test_every_pair_of_clouds_gets_its_fixed_tunnel_count(clouds, aws_regions):
    plan = _plan(clouds, aws_regions)
    assert [link.pair for link in plan.links] == pairs_of(clouds)
    assert len(plan.links) == len(clouds) * (len(clouds) - 1) // 2
    for link in plan.links:
        assert len(link.tunnels) == PAIR_TUNNELS[link.pair]


@property_test
@given(cloud_sets, aws_region_lists, aws_region_lists)
def test_tunnels_do_not_depend_on_the_number_of_regions(clouds, few, many):
    assert _plan(clouds, few).links == _plan(clouds, many).links


@property_test
@given(cloud_sets, aws_region_lists)
def test_asns_are_private_distinct_and_accepted_by_every_cloud(clouds, aws_regions):
    plan = _plan(clouds, aws_regions)
    hub_asns = list(plan.hub_asns.values())
    assert len(set(hub_asns)) == len(hub_asns)
    for cloud, asn in plan.hub_asns.items():
        assert asn_problem(cloud, asn) is None
        assert any(low <= asn <= high for low, high in PRIVATE_ASN_RANGES)
        assert asn not in ALL_RESERVED
    if "aws" in clouds:
        assert set(plan.transit_asns) == set(aws_regions)
        assert plan.transit_asns[aws_regions[0]] == plan.hub_asns["aws"]
        transit = list(plan.transit_asns.values())
        assert len(set(transit)) == len(transit), "every peered Transit Gateway gets its own ASN"
        others = {a for c, a in plan.hub_asns.items() if c != "aws"}
        assert not others & set(transit)
        assert all(any(low <= a <= high for low, high in PRIVATE_ASN_RANGES) for a in transit)


def _check_tunnels(plan):
    cidrs = [t.inside_cidr for link in plan.links for t in link.tunnels]
    for i, a in enumerate(cidrs):
        for b in cidrs[i + 1 :]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
    for link in plan.links:
        for tunnel in link.tunnels:
            cidr = tunnel.inside_cidr
            assert cidr.prefixlen == 30 and cidr.subnet_of(LINK_LOCAL)
            hosts = list(cidr.hosts())
            if "aws" in link.pair:
                assert cidr not in AWS_RESERVED_INSIDE
                assert tunnel.end("aws").address == hosts[0], "AWS takes the first host"
                assert tunnel.far_end("aws").address == hosts[1]
            if "azure" in link.pair:
                assert any(cidr.subnet_of(block) for block in AZURE_APIPA)
                assert tunnel.end("azure").address == hosts[1]
            if link.pair == ("azure", "gcp"):
                assert tunnel.end("gcp").address == hosts[0]
        for cloud in link.pair:
            # Two HA devices per cloud, each carrying half of the tunnels in distinct slots.
            per_device = Counter(t.end(cloud).device for t in link.tunnels)
            assert per_device == {0: len(link.tunnels) // 2, 1: len(link.tunnels) // 2}
            slots = {(t.end(cloud).device, t.end(cloud).slot) for t in link.tunnels}
            assert len(slots) == len(link.tunnels)
        if "aws" in link.pair:
            # Each AWS VPN connection goes to one peer device: both its tunnels share that device.
            for device in (0, 1):
                far = {t.far_end("aws").device for t in link.on_device("aws", device)}
                assert len(far) == 1


@property_test
@given(cloud_sets, aws_region_lists)
def test_inside_cidrs_are_distinct_valid_and_split_first_host_to_aws(clouds, aws_regions):
    _check_tunnels(_plan(clouds, aws_regions))


@property_test
@given(st.data())
def test_asn_overrides_are_taken_as_given(data):
    clouds = data.draw(cloud_sets)
    asns = {}
    for cloud in clouds:
        if data.draw(st.booleans()):
            asns[cloud] = data.draw(private_asn(cloud).filter(lambda a: a not in asns.values()))
    defaults_left = {DEFAULT_HUB_ASNS[c] for c in clouds if c not in asns}
    if defaults_left & set(asns.values()):
        with pytest.raises(MeshPlanError, match="already the"):
            _plan(clouds, ["us-east-1"], asns=asns)
        return
    plan = _plan(clouds, ["us-east-1", "eu-west-1"], asns=asns)
    assert {c: plan.hub_asns[c] for c in asns} == asns
    assert len(set(plan.hub_asns.values())) == len(plan.hub_asns)


@property_test
@given(st.data())
def test_inside_cidr_overrides_are_taken_and_automatic_ones_avoid_them(data):
    pair = data.draw(st.sampled_from(sorted(PAIR_TUNNELS)))
    pool = VALID_INSIDE[pair]
    chosen = data.draw(st.lists(st.sampled_from(pool), min_size=PAIR_TUNNELS[pair], max_size=PAIR_TUNNELS[pair], unique=True))
    plan = _plan(list(CLOUDS), ["us-east-1"], tunnel_cidrs={pair_key(pair): chosen})
    link = next(link for link in plan.links if link.pair == pair)
    assert [t.inside_cidr for t in link.tunnels] == chosen
    _check_tunnels(plan)


@property_test
@given(aws_region_lists)
def test_adding_a_cloud_never_moves_existing_tunnels(aws_regions):
    for clouds in (["aws", "azure"], ["aws", "gcp"], ["azure", "gcp"]):
        before = {link.pair: link for link in _plan(clouds, aws_regions).links}
        after = {link.pair: link for link in _plan(list(CLOUDS), aws_regions).links}
        for pair, link in before.items():
            assert after[pair] == link


@pytest.mark.parametrize(
    ("cloud", "asn", "message"),
    [
        ("azure", 65515, "Azure's own default"),
        ("azure", 65518, "reserved by Azure"),
        ("aws", 7224, "reserved by AWS in all regions"),
        ("gcp", 12076, "reserved by Azure"),
        ("gcp", 64000, "not a private ASN"),
        ("gcp", 65535, "not a private ASN"),
        ("azure", 4200000001, "not a private ASN that a azure hub accepts"),
        ("aws", 4294967295, "not a private ASN"),
    ],
)
def test_bad_asns_are_refused_with_the_reason(cloud, asn, message):
    assert message in asn_problem(cloud, asn)
    with pytest.raises(MeshPlanError) as error:
        plan_mesh(list(CLOUDS), ["us-east-1"], "us-east-1", asns={cloud: asn})
    assert error.value.problems[0][0] == ("asns", cloud)


@pytest.mark.parametrize(
    ("pair", "cidr", "message"),
    [
        (("aws", "gcp"), "169.254.3.0/30", "reserved by AWS"),
        (("aws", "gcp"), "169.254.169.252/30", "reserved by AWS"),
        (("aws", "gcp"), "169.254.10.0/29", "must be a /30"),
        (("aws", "gcp"), "10.0.0.0/30", "outside 169.254.0.0/16"),
        (("aws", "azure"), "169.254.10.0/30", "outside Azure's custom BGP (APIPA) range"),
        (("azure", "gcp"), "169.254.23.0/30", "outside Azure's custom BGP (APIPA) range"),
    ],
)
def test_bad_inside_cidrs_are_refused_with_the_reason(pair, cidr, message):
    assert message in inside_cidr_problem(pair, N(cidr))


def test_inside_cidr_overrides_must_be_complete_distinct_and_for_configured_pairs():
    with pytest.raises(MeshPlanError) as error:
        plan_mesh(
            ["aws", "gcp"],
            ["us-east-1"],
            "us-east-1",
            tunnel_cidrs={
                "aws-gcp": [N("169.254.10.0/30"), N("169.254.10.0/30"), N("169.254.10.8/30")],
                "azure-gcp": [N("169.254.21.0/30"), N("169.254.21.4/30")],
            },
        )
    problems = dict((".".join(map(str, k)), m) for k, m in error.value.problems)
    assert "needs exactly 4 /30s, got 3" in problems["tunnel_cidrs.aws-gcp"]
    assert "overlaps 169.254.10.0/30 at network.tunnel_cidrs.aws-gcp.0" in problems["tunnel_cidrs.aws-gcp.1"]
    assert "needs both azure and gcp configured" in problems["tunnel_cidrs.azure-gcp"]


def test_a_single_cloud_has_no_links():
    for cloud in CLOUDS:
        assert plan_mesh([cloud], ["us-east-1", "eu-west-1"], "us-east-1").links == ()


@property_test
@given(st.sampled_from(sorted(PAIR_TUNNELS)))
def test_defaults_for_every_pair_are_the_documented_ones(pair):
    plan = plan_mesh(list(CLOUDS), ["us-east-1"], "us-east-1")
    link = next(link for link in plan.links if link.pair == pair)
    first = link.tunnels[0].inside_cidr
    assert first.subnet_of(DEFAULT_PAIR_BLOCKS[pair])
    assert plan.hub_asns == DEFAULT_HUB_ASNS


@property_test
@given(aws_region_lists, st.randoms())
def test_a_spoke_keeps_its_transit_asn_whatever_the_other_regions(aws_regions, random):
    """A Transit Gateway's ASN cannot change without replacing it: a spoke's depends on its own
    region only, not on which regions precede it."""
    hub, spokes = aws_regions[0], aws_regions[1:]
    shuffled = list(spokes)
    random.shuffle(shuffled)
    before = plan_mesh(["aws"], [hub, *spokes], hub).transit_asns
    after = plan_mesh(["aws"], [hub, *shuffled[: len(shuffled) // 2]], hub).transit_asns
    assert all(after[r] == before[r] for r in after)
    assert before[hub] == 64512


def test_spoke_transit_asns_are_reserved_from_hub_choices():
    assert asn_problem("aws", 4200000010) == (
        "ASN 4200000010 is reserved for the AWS spoke Transit Gateways (4200000000-4200000063)"
    )
    assert asn_problem("gcp", 4200000064) is None
