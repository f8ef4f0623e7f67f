"""How `pulumi up` reaches each cluster's Kubernetes API, decided per cluster before anything exists.

Whatever applies Kubernetes objects (the deploy runner) must either sit inside the platform's
network and use each cluster's private endpoint over the mesh, or sit outside and be admitted by
each cluster's public endpoint allow-list. `plan_access` decides which, per cluster, and what the
cluster must then allow; a config where some cluster cannot be reached is refused with the fix.

Paths inside the network (DESIGN.md §8a):

* EKS: with the public endpoint off, the endpoint's public DNS name resolves to private addresses
  in the cluster's VPC, reached over Transit Gateway peering and the VPN mesh; the cluster security
  group admits the peer regions on 443 (`PeerIngress`).
* AKS (API server VNet integration): the API server has an address in the VNet's `apiserver`
  subnet; outside that VNet its private name only resolves with the public-FQDN option on.
* GKE (Private Service Connect): the private endpoint is an address in the region's node subnet,
  announced over the mesh by the hub's Cloud Router; callers outside the cluster's region need
  global access, and master authorized networks must list the deployer's range.
* Azure VNet peering is not transitive: a spoke VNet cannot reach another spoke through the hub, so
  a deployer in an Azure spoke region cannot reach the other Azure spokes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from planning.regions import CLOUD_TITLES, CLOUDS, Cloud

IPv4Network = ipaddress.IPv4Network

INSIDE = {"aws": "VPC", "azure": "VNet", "gcp": "VPC"}
CLOUD_ORDER = list(CLOUDS)
JOINS = {"aws": "Transit Gateway peering", "azure": "VNet peering", "gcp": "the global VPC"}


class RegionRef(Protocol):
    cloud: Cloud
    name: str
    key: str
    is_hub: bool
    cidr: IPv4Network


@dataclass(frozen=True)
class Deployer:
    network: str | None = None
    """`cloud:region` whose network the deploy runner sits in (private endpoints over the mesh)."""
    egress_cidrs: tuple[IPv4Network, ...] = ()
    """The runner's public egress ranges, when it sits outside the network."""


@dataclass(frozen=True)
class ClusterAccess:
    """One cluster's API as the deployer uses it, and what the cluster must allow for that."""

    region: str
    endpoint: Literal["private", "public"]
    public_cidrs: tuple[IPv4Network, ...]
    """The public endpoint's allow-list; empty means the cluster has no public endpoint."""
    private_sources: tuple[IPv4Network, ...]
    """Ranges that call the private endpoint from outside the cluster's own network."""
    global_access: bool
    """GKE: the private endpoint answers callers from other regions (the deployer's, the VPN's)."""
    public_fqdn: bool
    """AKS: a public DNS name resolving to the private API address, for callers outside the VNet."""
    route: tuple[str, ...]
    """How the deployer's requests travel, hop by hop, for people to read."""
    waits_for: tuple[str, ...] = ()
    """What must exist before the deployer's first request can arrive: `mesh-hub:<cloud>` (the
    cloud's hub, peerings and routes), `mesh-link:<pair>` (the VPN between two clouds) and
    `peer-ingress` (the rules admitting other regions). Without these the first apply to a cluster
    elsewhere would race the network it travels over."""


@dataclass(frozen=True)
class AccessProblem:
    key: str
    """The `deployer` key (or `kubernetes` key) at fault."""
    message: str


def _route(source: RegionRef, target: RegionRef, hubs: Mapping[Cloud, str]) -> tuple[tuple[str, ...] | None, str]:
    """Hops from the deployer's region to a cluster's region, or None and why not."""
    def hub(cloud: Cloud) -> str:
        return f"{cloud}:{hubs[cloud]}"

    if source.key == target.key:
        return (source.key, f"inside its {INSIDE[source.cloud]}"), ""
    if source.cloud == target.cloud:
        if source.is_hub or target.is_hub or source.cloud == "gcp":
            return (source.key, JOINS[source.cloud], target.key), ""
        if source.cloud == "azure":
            return None, (
                "Azure VNet peering is not transitive, so one spoke VNet cannot reach another through the "
                f"hub; run the deployer in the Azure hub ({hub('azure')}) or in another cloud"
            )
        return (source.key, JOINS[source.cloud], hub(source.cloud), JOINS[source.cloud], target.key), ""
    hops = [source.key]
    if not source.is_hub:
        hops += [JOINS[source.cloud], hub(source.cloud)]
    hops.append(f"HA VPN {CLOUD_TITLES[source.cloud]}-{CLOUD_TITLES[target.cloud]}")
    if not target.is_hub:
        hops += [hub(target.cloud), JOINS[target.cloud]]
    return (*hops, target.key), ""


def _path_prerequisites(source: RegionRef, target: RegionRef) -> tuple[str, ...]:
    clouds = sorted({source.cloud, target.cloud}, key=CLOUD_ORDER.index)
    needed = [] if source.cloud == target.cloud == "gcp" else [f"mesh-hub:{c}" for c in clouds]
    if len(clouds) == 2:
        needed.append(f"mesh-link:{clouds[0]}-{clouds[1]}")
    return (*needed, "peer-ingress")


def plan_access(
    regions: Sequence[RegionRef],
    hubs: Mapping[Cloud, str],
    api_allowed_cidrs: Sequence[IPv4Network],
    deployer: Deployer,
) -> tuple[dict[str, ClusterAccess], list[AccessProblem]]:
    """Per cluster (keyed `cloud:region`): how the deployer reaches its API. Problems name the
    cluster and the fix; with any problem the access plan must not be used."""
    problems: list[AccessProblem] = []
    access: dict[str, ClusterAccess] = {}
    allowed = tuple(api_allowed_cidrs)
    if deployer.network and deployer.egress_cidrs:
        return {}, [AccessProblem("deployer", "set either network (a runner inside the platform's network) or "
                                  "egress_cidrs (a runner outside it), not both")]
    if deployer.network:
        source = next((r for r in regions if r.key == deployer.network), None)
        if source is None:
            keys = ", ".join(r.key for r in regions)
            message = f"{deployer.network!r} is not a configured region; choose one of {keys}"
            return {}, [AccessProblem("deployer.network", message)]
        if allowed:
            problems.append(AccessProblem(
                "kubernetes.api_allowed_cidrs",
                f"{[str(c) for c in allowed]} gives every cluster a public endpoint, and from outside a cluster's "
                f"network its API name then resolves to that public endpoint, so the deployer in {source.key} would "
                "leave through its NAT instead of the mesh; with deployer.network, keep the APIs private (remove it)",
            ))
        for target in regions:
            route, why = _route(source, target, hubs)
            if route is None:
                message = f"cluster {target.key} is unreachable from {source.key}: {why}"
                problems.append(AccessProblem("deployer.network", message))
                continue
            elsewhere = target.key != source.key
            access[target.key] = ClusterAccess(
                waits_for=_path_prerequisites(source, target) if elsewhere else (),
                region=target.key,
                endpoint="private",
                public_cidrs=(),
                private_sources=(source.cidr,) if elsewhere else (),
                global_access=target.cloud == "gcp" and elsewhere,
                public_fqdn=target.cloud == "azure" and elsewhere,
                route=route,
            )
        return access, problems
    if not deployer.egress_cidrs:
        return {}, [AccessProblem(
            "deployer",
            "say how `pulumi up` reaches the clusters' APIs: network: <cloud:region> (a runner inside the "
            "platform's network, private endpoints over the mesh) or egress_cidrs: [...] (a runner outside, "
            "admitted by kubernetes.api_allowed_cidrs)",
        )]
    refused = [c for c in deployer.egress_cidrs if not any(c.subnet_of(a) for a in allowed)]
    for target in regions:
        if not allowed:
            problems.append(AccessProblem(
                "deployer.egress_cidrs",
                f"cluster {target.key} has a private API (kubernetes.api_allowed_cidrs is empty), which a deployer "
                "outside the network cannot reach; add the deployer's egress CIDRs to kubernetes.api_allowed_cidrs, "
                "or run it inside the network (deployer.network)",
            ))
        elif refused:
            problems.append(AccessProblem(
                "deployer.egress_cidrs",
                f"cluster {target.key} would refuse the deployer: its API admits only kubernetes.api_allowed_cidrs "
                f"{[str(c) for c in allowed]}, which does not contain {', '.join(map(str, refused))}; add them there, "
                "or run the deployer inside the network (deployer.network)",
            ))
        else:
            access[target.key] = ClusterAccess(
                region=target.key, endpoint="public", public_cidrs=allowed, private_sources=(),
                global_access=False, public_fqdn=False,
                route=("deployer (egress " + ", ".join(map(str, deployer.egress_cidrs)) + ")", "internet",
                       f"public endpoint of {target.key}"),
            )
    return access, problems
