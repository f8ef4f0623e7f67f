"""The address plan: which CIDR each region gets, and how a region's CIDR is cut into subnets.

The supernet is split into four equal cloud blocks (AWS, Azure, GCP, and one spare for pins and
future clouds or shared services). Each cloud block holds `SLOTS_PER_CLOUD` equal slots, and every
catalog region owns one of them for good (`planning/regions.py`, append-only numbers). A region
without an explicit CIDR takes the start of its own slot. So an automatic range depends on nothing
but the supernet, the cloud and the region's name: adding, removing, reordering or pinning any
other region never moves it. The price is size: a slot is 1/256 of the supernet (a /19 of a /11).

A pinned CIDR is taken as it is; one that overlaps another configured region's range (pinned or
automatic) is refused naming both regions. Pins inside the spare block never collide with any
automatic range, present or future.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from planning.regions import REGION_SLOTS, SLOTS_PER_CLOUD, Cloud, region_key, zone_label

IPv4Network = ipaddress.IPv4Network

CLOUD_BLOCK_INDEX: dict[Cloud, int] = {"aws": 0, "azure": 1, "gcp": 2}
"""Which quarter of the supernet each cloud allocates from (the fourth is kept spare)."""
SPARE_BLOCK_INDEX = 3
SLOT_BITS = SLOTS_PER_CLOUD.bit_length() - 1

MIN_REGION_PREFIX = 12
MAX_REGION_PREFIX = 20
"""A region must hold its subnets: Azure's /27 GatewaySubnet and /28 API server subnet share a
sixteenth of the region."""
GATEWAY_SUBNET_PREFIX = 27
AKS_API_SERVER_PREFIX = 28
NODE_POD_PREFIX = 24
"""Pod addresses per node: AKS overlay and GKE (110 pods per node) both give each node a /24."""


class AddressProblem(NamedTuple):
    """Why an address plan cannot be made. `key` is the settings key at fault: `supernet`,
    `region_prefix_length`, or `cidr` of request number `index`."""

    key: str
    message: str
    index: int | None = None


class AddressPlanError(ValueError):
    def __init__(self, problems: list[AddressProblem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class RegionRequest:
    cloud: Cloud
    region: str
    cidr: IPv4Network | None = None


def cloud_block(supernet: IPv4Network, cloud: Cloud) -> IPv4Network:
    return _quarter(supernet, CLOUD_BLOCK_INDEX[cloud])


def spare_block(supernet: IPv4Network) -> IPv4Network:
    """The quarter no automatic range uses: where pins can never collide with a future region."""
    return _quarter(supernet, SPARE_BLOCK_INDEX)


def _quarter(supernet: IPv4Network, index: int) -> IPv4Network:
    size = supernet.num_addresses // 4
    return IPv4Network((int(supernet.network_address) + index * size, supernet.prefixlen + 2))


def slot_prefix(supernet: IPv4Network) -> int:
    """The prefix length of one region slot: 2 bits for the cloud, `SLOT_BITS` for the region."""
    return supernet.prefixlen + 2 + SLOT_BITS


def region_slot(supernet: IPv4Network, cloud: Cloud, region: str) -> IPv4Network:
    """The block only `region` may ever use automatically."""
    block, prefix = cloud_block(supernet, cloud), slot_prefix(supernet)
    size = 1 << (32 - prefix)
    return IPv4Network((int(block.network_address) + REGION_SLOTS[cloud][region] * size, prefix))


def automatic_cidr(supernet: IPv4Network, cloud: Cloud, region: str, prefix: int | None = None) -> IPv4Network:
    """A region's CIDR when it is not pinned: the first /`prefix` of its slot (the whole slot by
    default). A function of the supernet, the cloud and the region only."""
    slot = region_slot(supernet, cloud, region)
    return slot if prefix is None else IPv4Network((slot.network_address, prefix))


def address_problems(
    supernet: IPv4Network, requests: Sequence[RegionRequest], region_prefix_length: int | None = None
) -> list[AddressProblem]:
    """Everything that keeps `requests` from having an address plan, each naming its regions."""
    prefix = slot_prefix(supernet)
    if not MIN_REGION_PREFIX <= prefix <= MAX_REGION_PREFIX:
        need = "larger" if prefix > MAX_REGION_PREFIX else "smaller"
        return [AddressProblem(
            "supernet",
            f"{supernet} gives each region a /{prefix} slot ({SLOTS_PER_CLOUD} slots in each cloud's quarter); "
            f"a region needs /{MIN_REGION_PREFIX} to /{MAX_REGION_PREFIX}, so use a {need} supernet "
            f"(/{MAX_REGION_PREFIX - 2 - SLOT_BITS} to /{MIN_REGION_PREFIX - 2 - SLOT_BITS})",
        )]
    if region_prefix_length is not None and region_prefix_length < prefix:
        return [AddressProblem(
            "region_prefix_length",
            f"{region_prefix_length} asks for /{region_prefix_length} regions, larger than the /{prefix} slot each "
            f"region owns in supernet {supernet}; use {prefix} or more, or a larger supernet",
        )]
    problems: list[AddressProblem] = []
    ranges = _ranges(supernet, requests, region_prefix_length)
    for index, request in enumerate(requests):
        if request.cidr is None:
            continue
        own = region_key(request.cloud, request.region)
        if not request.cidr.subnet_of(supernet):
            problems.append(AddressProblem("cidr", f"{own}'s pin {request.cidr} is outside the supernet {supernet}", index))
            continue
        for other_index, (other, cidr, pinned) in enumerate(ranges):
            if other_index == index or not request.cidr.overlaps(cidr):
                continue
            if pinned and other_index > index:
                continue  # reported once, on the later of two pins
            kind = "pin" if pinned else "automatic range"
            spare = spare_block(supernet)
            hint = (f"elsewhere in the spare block {spare}, clear of the other pins" if cidr.subnet_of(spare)
                    else f"elsewhere, for example in the spare block {spare}, which no automatic range uses")
            message = f"{own}'s pin {request.cidr} overlaps {other}'s {kind} {cidr}; pin it {hint}"
            problems.append(AddressProblem("cidr", message, index))
    return problems


def _ranges(
    supernet: IPv4Network, requests: Sequence[RegionRequest], prefix: int | None
) -> list[tuple[str, IPv4Network, bool]]:
    return [
        (
            region_key(r.cloud, r.region),
            r.cidr if r.cidr is not None else automatic_cidr(supernet, r.cloud, r.region, prefix),
            r.cidr is not None,
        )
        for r in requests
    ]


def plan_region_cidrs(
    supernet: IPv4Network, requests: Sequence[RegionRequest], region_prefix_length: int | None = None
) -> dict[tuple[Cloud, str], IPv4Network]:
    """Every requested region's CIDR: its pin when given, else its automatic range. Raises
    AddressPlanError listing every problem when they cannot all coexist."""
    problems = address_problems(supernet, requests, region_prefix_length)
    if problems:
        raise AddressPlanError(problems)
    ranges = _ranges(supernet, requests, region_prefix_length)
    return {(r.cloud, r.region): cidr for r, (_, cidr, _) in zip(requests, ranges, strict=True)}


def node_capacity(cloud: Cloud, cidr: IPv4Network) -> int | None:
    """How many cluster nodes the region's pod range can address (None where pods take VPC
    addresses from the node subnets, as the EKS VPC CNI does)."""
    pods = {"azure": azure_subnets, "gcp": gcp_subnets}.get(cloud)
    if pods is None:
        return None
    return 1 << (NODE_POD_PREFIX - pods(cidr).pod_cidr.prefixlen)


@dataclass(frozen=True)
class Subnet:
    name: str
    cidr: IPv4Network
    zone: str | None = None
    """AWS: the zone ID (`use1-az1`); None where a subnet spans the region's zones."""


@dataclass(frozen=True)
class RegionSubnets:
    """How one region's CIDR is used. `address_space` is what the cloud network itself holds."""

    address_space: IPv4Network
    subnets: tuple[Subnet, ...]
    pod_cidr: IPv4Network | None = None
    service_cidr: IPv4Network | None = None

    def subnet(self, name: str) -> Subnet:
        return next(s for s in self.subnets if s.name == name)

    def named(self, prefix: str) -> list[Subnet]:
        return [s for s in self.subnets if s.name.startswith(prefix)]


def _quarters(cidr: IPv4Network) -> list[IPv4Network]:
    return list(cidr.subnets(prefixlen_diff=2))


def aws_subnets(cidr: IPv4Network, zone_ids: Sequence[str]) -> RegionSubnets:
    """Private subnets (nodes, pods with the VPC CNI) take a quarter each, one per zone, up to
    three; the fourth quarter holds small public subnets that only carry the NAT gateways. Zones
    are zone IDs (`euc1-az1`), and subnets are named after them (`private-az1`): the n-th zone
    always gets the n-th quarter, so adding a third zone moves nothing."""
    if not 2 <= len(zone_ids) <= 3:
        raise ValueError(f"an AWS region needs 2 or 3 zones, got {len(zone_ids)}")
    quarters = _quarters(cidr)
    public = list(quarters[3].subnets(new_prefix=cidr.prefixlen + 6))
    subnets = [Subnet(f"private-{zone_label(z)}", quarters[i], z) for i, z in enumerate(zone_ids)]
    subnets += [Subnet(f"public-{zone_label(z)}", public[i], z) for i, z in enumerate(zone_ids)]
    return RegionSubnets(address_space=cidr, subnets=tuple(subnets))


def azure_subnets(cidr: IPv4Network) -> RegionSubnets:
    """The VNet holds the first quarter of the region; the AKS overlay pods take the second half
    and the service range sits in the second quarter. AKS requires both to stay outside the VNet,
    and keeping them inside the region's block keeps the whole platform's routing one CIDR per
    region."""
    quarters = _quarters(cidr)
    vnet = quarters[0]
    nodes_half, rest = vnet.subnets(prefixlen_diff=1)
    endpoints_block, small_block = rest.subnets(prefixlen_diff=1)
    subnets = (
        Subnet("nodes", nodes_half),
        Subnet("endpoints", endpoints_block),
        # AKS API Server VNet Integration: a delegated /28 lets the KMS plugin reach the
        # firewalled Key Vault and keeps API traffic inside the VNet.
        Subnet("apiserver", next(small_block.subnets(new_prefix=AKS_API_SERVER_PREFIX))),
        # Azure requires this exact name for the VPN gateway's subnet, and /27 or larger for an
        # active-active gateway with BGP.
        Subnet("GatewaySubnet", list(small_block.subnets(new_prefix=GATEWAY_SUBNET_PREFIX))[-1]),
    )
    pods = list(cidr.subnets(prefixlen_diff=1))[1]
    service = next(quarters[1].subnets(new_prefix=cidr.prefixlen + 4))
    return RegionSubnets(address_space=vnet, subnets=subnets, pod_cidr=pods, service_cidr=service)


def gcp_subnets(cidr: IPv4Network) -> RegionSubnets:
    """One regional subnetwork for nodes, with the second half of the block as the GKE pod
    secondary range and a small services range."""
    first_half, pods = cidr.subnets(prefixlen_diff=1)
    nodes, services_block = first_half.subnets(prefixlen_diff=1)
    service = next(services_block.subnets(new_prefix=cidr.prefixlen + 4))
    return RegionSubnets(
        address_space=cidr, subnets=(Subnet("nodes", nodes),), pod_cidr=pods, service_cidr=service
    )
