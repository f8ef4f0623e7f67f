"""The cross-cloud VPN mesh as data: BGP ASNs, tunnels between cloud hubs, and their inside /30s.

Pure functions over the configured clouds; `components/mesh/` turns a `MeshPlan` into resources and
`settings.py` reports `mesh_config_problems` with the other config errors.

Shape (DESIGN.md section 5): between every pair of configured clouds, HA VPN between the hubs.
Each cloud brings two redundant "devices" and each carries half of the pair's tunnels:

* AWS: two VPN connections (one per peer device, i.e. per customer gateway), two tunnels each;
* GCP: the two interfaces of the HA VPN gateway;
* Azure: the two instances of the active-active VPN gateway (one public IP each).

So tunnel `i` of a pair with `n` tunnels runs on device `i * 2 // n` of both sides, in slot
`i % (n // 2)` of that device (for AWS: tunnel1/tunnel2 of the VPN connection). Tunnel counts depend
on the pair only, never on how many regions a cloud has.

Inside addresses: every tunnel gets its own /30 in 169.254.0.0/16 (BGP runs over it). AWS insists on
the first host of the /30 and refuses seven reserved /30s; Azure only accepts custom BGP (APIPA)
addresses in 169.254.21.0-169.254.22.255, so every tunnel that ends on Azure comes from there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from planning.regions import AWS_REGION_SLOTS, CLOUDS, SLOTS_PER_CLOUD, Cloud

IPv4Network = ipaddress.IPv4Network
IPv4Address = ipaddress.IPv4Address
Pair = tuple[Cloud, Cloud]

# --- BGP ASNs -----------------------------------------------------------------------------------

PRIVATE_ASN_RANGES: tuple[tuple[int, int], ...] = ((64512, 65534), (4200000000, 4294967294))
"""RFC 6996 private ASNs minus 65535; exactly what GCP Cloud Router and AWS Transit Gateway accept."""

HUB_ASN_RANGES: dict[Cloud, tuple[tuple[int, int], ...]] = {
    "aws": PRIVATE_ASN_RANGES,
    "gcp": PRIVATE_ASN_RANGES,
    # Azure VPN gateways: 16-bit private ASNs only (the conservative choice: 32-bit support is
    # recent and not on every gateway generation), and 65515-65520 belong to Azure itself.
    "azure": ((64512, 65514), (65521, 65534)),
}

RESERVED_ASNS: dict[Cloud, dict[int, str]] = {
    "aws": {
        7224: "reserved by AWS in all regions",
        9059: "reserved by AWS in eu-west-1",
        10124: "reserved by AWS in ap-northeast-1",
        17943: "reserved by AWS in ap-southeast-1",
    },
    "azure": {
        65515: "Azure's own default VPN gateway ASN",
        65517: "reserved by Azure",
        65518: "reserved by Azure",
        65519: "reserved by Azure",
        65520: "reserved by Azure",
        8074: "reserved by Azure (Microsoft public ASN)",
        8075: "reserved by Azure (Microsoft public ASN)",
        12076: "reserved by Azure (ExpressRoute)",
    },
    "gcp": {},
}

DEFAULT_HUB_ASNS: dict[Cloud, int] = {"aws": 64512, "azure": 65100, "gcp": 65200}
"""64512 is also the Transit Gateway's own default, so an existing AWS hub keeps its ASN."""

SPOKE_TRANSIT_ASN_BASE = 4200000000
"""Non-hub AWS Transit Gateways take 32-bit private ASNs from here: AWS recommends a unique ASN per
peered transit gateway, and this range never meets the 16-bit hub defaults. A spoke's ASN is the
base plus its region's fixed slot (planning/regions.py), so adding, removing or reordering other
regions never changes it (a Transit Gateway's ASN cannot change without replacing it)."""
SPOKE_TRANSIT_ASNS = (SPOKE_TRANSIT_ASN_BASE, SPOKE_TRANSIT_ASN_BASE + SLOTS_PER_CLOUD - 1)


def _in_ranges(asn: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(low <= asn <= high for low, high in ranges)


def _describe_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return " or ".join(f"{low}-{high}" for low, high in ranges)


def asn_problem(cloud: Cloud, asn: int) -> str | None:
    """Why `asn` cannot be `cloud`'s hub ASN, or None when it can."""
    for reserved in RESERVED_ASNS.values():
        if asn in reserved:
            return f"ASN {asn} is {reserved[asn]}; every cloud of the mesh must accept it"
    ranges = HUB_ASN_RANGES[cloud]
    if not _in_ranges(asn, ranges):
        return f"ASN {asn} is not a private ASN that a {cloud} hub accepts ({_describe_ranges(ranges)})"
    if _in_ranges(asn, [SPOKE_TRANSIT_ASNS]):
        return f"ASN {asn} is reserved for the AWS spoke Transit Gateways ({_describe_ranges([SPOKE_TRANSIT_ASNS])})"
    return None


# --- tunnels and their inside CIDRs ------------------------------------------------------------

LINK_LOCAL = IPv4Network("169.254.0.0/16")
AWS_RESERVED_INSIDE: tuple[IPv4Network, ...] = tuple(
    IPv4Network(f"169.254.{third}.0/30") for third in range(6)
) + (IPv4Network("169.254.169.252/30"),)
"""AWS refuses these as tunnel inside CIDRs (the last one holds the instance metadata address)."""

AZURE_APIPA: tuple[IPv4Network, ...] = (IPv4Network("169.254.21.0/24"), IPv4Network("169.254.22.0/24"))
"""The only addresses an Azure VPN gateway takes as custom BGP (APIPA) peering addresses."""

DEFAULT_PAIR_BLOCKS: dict[tuple[str, str], IPv4Network] = {
    ("aws", "azure"): IPv4Network("169.254.21.0/24"),
    ("azure", "gcp"): IPv4Network("169.254.22.0/24"),
    ("aws", "gcp"): IPv4Network("169.254.10.0/24"),
}
"""Where each pair's automatic /30s come from: a block per pair, so adding or removing a cloud never
moves another pair's tunnels (that would rebuild them). Azure pairs split Azure's APIPA range; the
AWS-GCP block stays clear of the reserved /30s and of Azure's range."""

PAIR_TUNNELS: dict[Pair, int] = {("aws", "azure"): 4, ("aws", "gcp"): 4, ("azure", "gcp"): 2}
"""AWS pairs: 2 VPN connections x 2 tunnels. Azure-GCP: one tunnel per Azure instance / GCP interface."""

FIRST_HOST_ORDER: tuple[Cloud, ...] = ("aws", "gcp", "azure")
"""Which end of a /30 takes its first host: AWS must (it always takes the first); between GCP and
Azure the choice is free and GCP takes it, so the rule is one ordering, not a case per pair."""

TUNNEL_PREFIX = 30


def pair_key(pair: Pair) -> str:
    return f"{pair[0]}-{pair[1]}"


PAIR_KEYS: dict[str, Pair] = {pair_key(p): p for p in PAIR_TUNNELS}


def pairs_of(clouds: Iterable[Cloud]) -> list[Pair]:
    """Every pair of the configured clouds, in the canonical (aws, azure, gcp) order."""
    ordered = [c for c in CLOUDS if c in set(clouds)]
    return list(combinations(ordered, 2))


def inside_pool(pair: Pair) -> tuple[IPv4Network, ...]:
    """Where a pair's inside /30s may come from."""
    return AZURE_APIPA if "azure" in pair else (LINK_LOCAL,)


def _default_pool(pair: Pair) -> tuple[IPv4Network, ...]:
    return (DEFAULT_PAIR_BLOCKS[pair],)


def inside_cidr_problem(pair: Pair, cidr: IPv4Network) -> str | None:
    """Why `cidr` cannot carry one of `pair`'s tunnels (on its own, not counting overlaps)."""
    if cidr.prefixlen != TUNNEL_PREFIX:
        return f"{cidr} must be a /{TUNNEL_PREFIX} (BGP needs exactly two hosts)"
    if not cidr.subnet_of(LINK_LOCAL):
        return f"{cidr} is outside {LINK_LOCAL}; tunnel inside addresses are link-local"
    if "aws" in pair and cidr in AWS_RESERVED_INSIDE:
        return f"{cidr} is reserved by AWS (169.254.0.0/30-169.254.5.0/30 and 169.254.169.252/30)"
    pool = inside_pool(pair)
    if not any(cidr.subnet_of(p) for p in pool):
        return (
            f"{cidr} is outside Azure's custom BGP (APIPA) range 169.254.21.0-169.254.22.255, "
            "which every tunnel ending on Azure must use"
        )
    return None


@dataclass(frozen=True)
class TunnelEnd:
    cloud: Cloud
    device: int
    """Which of the cloud's two HA devices (AWS VPN connection, GCP interface, Azure instance)."""
    slot: int
    """The tunnel's position on that device (AWS: 0 is tunnel1, 1 is tunnel2)."""
    address: IPv4Address
    """This end's BGP address inside the tunnel."""


@dataclass(frozen=True)
class TunnelPlan:
    pair: Pair
    index: int
    inside_cidr: IPv4Network
    ends: tuple[TunnelEnd, TunnelEnd]
    """Ordered as the pair is."""

    def end(self, cloud: Cloud) -> TunnelEnd:
        return next(e for e in self.ends if e.cloud == cloud)

    def far_end(self, cloud: Cloud) -> TunnelEnd:
        return next(e for e in self.ends if e.cloud != cloud)


@dataclass(frozen=True)
class LinkPlan:
    pair: Pair
    tunnels: tuple[TunnelPlan, ...]

    @property
    def key(self) -> str:
        return pair_key(self.pair)

    def peer_of(self, cloud: Cloud) -> Cloud:
        return self.pair[1] if self.pair[0] == cloud else self.pair[0]

    def on_device(self, cloud: Cloud, device: int) -> list[TunnelPlan]:
        return [t for t in self.tunnels if t.end(cloud).device == device]


@dataclass(frozen=True)
class MeshPlan:
    hub_asns: dict[Cloud, int]
    transit_asns: dict[str, int]
    """AWS region -> its Transit Gateway's ASN (the hub region's is the AWS hub ASN)."""
    links: tuple[LinkPlan, ...]

    def links_of(self, cloud: Cloud) -> list[LinkPlan]:
        return [link for link in self.links if cloud in link.pair]


class MeshPlanError(ValueError):
    """A mesh override is unusable; `problems` pairs key paths (below `network`) with messages."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]):
        self.problems = problems
        super().__init__("; ".join(f"network.{'.'.join(map(str, k))}: {m}" for k, m in problems))


def device_of(index: int, tunnels: int) -> int:
    return index * 2 // tunnels


def slot_of(index: int, tunnels: int) -> int:
    return index % (tunnels // 2)


def _tunnel(pair: Pair, index: int, cidr: IPv4Network) -> TunnelPlan:
    count = PAIR_TUNNELS[pair]
    first, second = sorted(pair, key=FIRST_HOST_ORDER.index)
    hosts = list(cidr.hosts())
    address = {first: hosts[0], second: hosts[1]}
    ends = tuple(
        TunnelEnd(c, device_of(index, count), slot_of(index, count), address[c]) for c in pair
    )
    return TunnelPlan(pair, index, cidr, ends)  # type: ignore[arg-type]


def mesh_config_problems(
    clouds: Sequence[Cloud],
    asns: Mapping[Cloud, int],
    tunnel_cidrs: Mapping[str, Sequence[IPv4Network]],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every problem with the mesh overrides, each with its key path below `network`."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for cloud, asn in asns.items():
        if problem := asn_problem(cloud, asn):
            problems.append((("asns", cloud), problem))
    hub_asns = {**{c: DEFAULT_HUB_ASNS[c] for c in clouds}, **asns}
    seen: dict[int, Cloud] = {}
    for cloud in clouds:
        asn = hub_asns[cloud]
        if asn in seen:
            problems.append(
                (("asns", cloud), f"ASN {asn} is already the {seen[asn]} hub's; every hub needs its own ASN")
            )
        seen.setdefault(asn, cloud)

    configured_pairs = set(pairs_of(clouds))
    taken: list[tuple[tuple[str | int, ...], IPv4Network]] = []
    for key, cidrs in tunnel_cidrs.items():
        pair = PAIR_KEYS.get(key)
        if pair is None:
            problems.append((("tunnel_cidrs", key), f"unknown cloud pair {key!r}; use one of {', '.join(PAIR_KEYS)}"))
            continue
        if pair not in configured_pairs:
            problems.append((("tunnel_cidrs", key), f"{key} needs both {pair[0]} and {pair[1]} configured under clouds"))
            continue
        if len(cidrs) != PAIR_TUNNELS[pair]:
            problems.append(
                (("tunnel_cidrs", key), f"{key} has {PAIR_TUNNELS[pair]} tunnels, so it needs exactly "
                 f"{PAIR_TUNNELS[pair]} /30s, got {len(cidrs)}")
            )
        for index, cidr in enumerate(cidrs):
            path: tuple[str | int, ...] = ("tunnel_cidrs", key, index)
            if problem := inside_cidr_problem(pair, cidr):
                problems.append((path, problem))
            for other_path, other in taken:
                if cidr.overlaps(other):
                    where = "network." + ".".join(str(p) for p in other_path)
                    problems.append((path, f"{cidr} overlaps {other} at {where}"))
            taken.append((path, cidr))
    return problems


def plan_mesh(
    clouds: Sequence[Cloud],
    aws_regions: Sequence[str] = (),
    aws_hub: str | None = None,
    asns: Mapping[Cloud, int] | None = None,
    tunnel_cidrs: Mapping[str, Sequence[IPv4Network]] | None = None,
) -> MeshPlan:
    """The mesh for the configured `clouds`: hub ASNs, AWS Transit Gateway ASNs, and every tunnel.

    Deterministic. Overrides win; automatic /30s come from the pair's own block, skipping any
    override, so adding a cloud never moves an existing pair's tunnels. Raises MeshPlanError on
    bad overrides.
    """
    asns, tunnel_cidrs = dict(asns or {}), dict(tunnel_cidrs or {})
    problems = mesh_config_problems(clouds, asns, tunnel_cidrs)
    if problems:
        raise MeshPlanError(problems)
    hub_asns = {c: asns.get(c, DEFAULT_HUB_ASNS[c]) for c in CLOUDS if c in clouds}

    transit_asns: dict[str, int] = {}
    if "aws" in hub_asns:
        for region in aws_regions:
            hub = region == aws_hub
            transit_asns[region] = hub_asns["aws"] if hub else SPOKE_TRANSIT_ASN_BASE + AWS_REGION_SLOTS[region]

    pairs = pairs_of(clouds)
    taken = [c for cidrs in tunnel_cidrs.values() for c in cidrs]
    links = []
    for pair in pairs:
        given = list(tunnel_cidrs.get(pair_key(pair), []))
        cidrs = given or _allocate(pair, PAIR_TUNNELS[pair], taken)
        taken += [] if given else cidrs
        links.append(LinkPlan(pair, tuple(_tunnel(pair, i, c) for i, c in enumerate(cidrs))))
    return MeshPlan(hub_asns, transit_asns, tuple(links))


def _allocate(pair: Pair, count: int, taken: list[IPv4Network]) -> list[IPv4Network]:
    found: list[IPv4Network] = []
    for block in _default_pool(pair):
        for candidate in block.subnets(new_prefix=TUNNEL_PREFIX):
            if len(found) == count:
                return found
            if inside_cidr_problem(pair, candidate) is None and not any(candidate.overlaps(t) for t in taken + found):
                found.append(candidate)
    if len(found) < count:
        raise MeshPlanError([(("tunnel_cidrs", pair_key(pair)), "no free /30 left for this pair's tunnels")])
    return found


# --- what other regions may reach ---------------------------------------------------------------


@dataclass(frozen=True)
class PeerPort:
    protocol: str
    """'tcp' or 'icmp'."""
    ports: tuple[int, int] | None
    why: str


PEER_INGRESS: tuple[PeerPort, ...] = (
    PeerPort("tcp", (443, 443), "HTTPS: Kubernetes API and registry private endpoints, model and control traffic"),
    PeerPort("tcp", (8000, 8002), "Triton: 8000 HTTP and 8001 gRPC inference, 8002 Prometheus metrics"),
    PeerPort("icmp", None, "path-MTU discovery (fragmentation needed) through tunnels with a smaller MTU"),
)
"""The only traffic a region admits from the platform's other regions; nothing from anywhere else."""

AWS_ICMP_FRAGMENTATION_NEEDED = (3, 4)
"""ICMP type 3 (unreachable) code 4 (fragmentation needed): the one ICMP message PMTUD needs. AWS
security groups can narrow ICMP to it; Azure NSGs and GCP firewalls only match the protocol."""


def peer_sources(region_cidrs: Mapping[str, IPv4Network], own: str) -> list[IPv4Network]:
    """Every other region's CIDR (`region_cidrs` keyed `cloud:region`), in a stable order."""
    return sorted((cidr for key, cidr in region_cidrs.items() if key != own), key=lambda c: (int(c.network_address), c.prefixlen))
