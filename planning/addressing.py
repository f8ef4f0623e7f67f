"""The address plan: which CIDR each region gets, and how a region's CIDR is cut into subnets.

The supernet is split into four equal cloud blocks (AWS, Azure, GCP, and one spare for future
clouds or shared services). Inside its cloud's block, a region without an explicit CIDR takes the
first free block of `region_prefix_length`, in the order the cloud lists its regions, skipping every
explicitly given CIDR. Consequences a user can rely on:

* appending a region (to any cloud) never changes the CIDR of an existing region;
* another cloud's regions never move when one cloud changes;
* removing or reordering a region *can* move the automatic CIDRs listed after it, so pin a region's
  CIDR in config (the preview prints them) before removing one that precedes others.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from planning.regions import Cloud

IPv4Network = ipaddress.IPv4Network

CLOUD_BLOCK_INDEX: dict[Cloud, int] = {"aws": 0, "azure": 1, "gcp": 2}
"""Which quarter of the supernet each cloud allocates from (the fourth is kept spare)."""

MIN_REGION_PREFIX = 12
MAX_REGION_PREFIX = 20
"""A region must hold its subnets: Azure's /27 GatewaySubnet and /28 API server subnet share a
sixteenth of the region."""
GATEWAY_SUBNET_PREFIX = 27
AKS_API_SERVER_PREFIX = 28


class AddressPlanError(ValueError):
    """A region could not be given a CIDR; `key` is the region's cloud-qualified name."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class RegionRequest:
    cloud: Cloud
    region: str
    cidr: IPv4Network | None = None


def cloud_block(supernet: IPv4Network, cloud: Cloud) -> IPv4Network:
    return list(supernet.subnets(prefixlen_diff=2))[CLOUD_BLOCK_INDEX[cloud]]


def plan_region_cidrs(
    supernet: IPv4Network,
    requests: Sequence[RegionRequest],
    region_prefix_length: int,
) -> dict[tuple[Cloud, str], IPv4Network]:
    """Give every requested region a CIDR: its own when given, else the next free block.

    Explicit CIDRs are taken as they are (the settings model has already refused overlaps and
    CIDRs outside the supernet). Raises AddressPlanError when a cloud's block is full.
    """
    explicit = [r.cidr for r in requests if r.cidr is not None]
    taken: list[IPv4Network] = list(explicit)
    plan: dict[tuple[Cloud, str], IPv4Network] = {}
    for request in requests:
        if request.cidr is not None:
            plan[(request.cloud, request.region)] = request.cidr
            continue
        block = cloud_block(supernet, request.cloud)
        if region_prefix_length < block.prefixlen:
            raise AddressPlanError(
                f"{request.cloud}:{request.region}",
                f"region_prefix_length /{region_prefix_length} is larger than the {request.cloud} "
                f"block {block} (a quarter of the supernet); use a larger supernet or a longer prefix",
            )
        free = _first_free(block.subnets(new_prefix=region_prefix_length), taken)
        if free is None:
            raise AddressPlanError(
                f"{request.cloud}:{request.region}",
                f"no free /{region_prefix_length} left in the {request.cloud} block {block}; "
                "use a larger supernet, a longer region_prefix_length, or give this region a cidr",
            )
        taken.append(free)
        plan[(request.cloud, request.region)] = free
    return plan


def _first_free(candidates: Iterable[IPv4Network], taken: list[IPv4Network]) -> IPv4Network | None:
    for candidate in candidates:
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    return None


@dataclass(frozen=True)
class Subnet:
    name: str
    cidr: IPv4Network
    zone: str | None = None


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


def aws_subnets(cidr: IPv4Network, zones: Sequence[str]) -> RegionSubnets:
    """Private subnets (nodes, pods with the VPC CNI) take a quarter each, one per zone, up to
    three; the fourth quarter holds small public subnets that only carry the NAT gateways."""
    if not 2 <= len(zones) <= 3:
        raise ValueError(f"an AWS region needs 2 or 3 zones, got {len(zones)}")
    quarters = _quarters(cidr)
    public = list(quarters[3].subnets(new_prefix=cidr.prefixlen + 6))
    subnets = [Subnet(f"private-{z[-1]}", quarters[i], z) for i, z in enumerate(zones)]
    subnets += [Subnet(f"public-{z[-1]}", public[i], z) for i, z in enumerate(zones)]
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
