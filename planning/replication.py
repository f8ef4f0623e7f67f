"""Model replication: which bucket copies to which, and how, so that a model uploaded once to its
zone's source reaches every region allowed to hold it, and never a region that is not.

Pure planning; `components/replication/` renders the edges. The rules:

* **Groups.** Every residency zone is a group, and so are the regions outside every zone (the
  group `default`). Each group has one source region (`models.sources`). No edge joins two groups.
* **One cross-cloud copy per destination cloud per group.** For each other cloud present in the
  group, the source copies to one *entry* region of that cloud; the entry fans out natively to the
  cloud's other regions of the group. The source's own cloud fans out from the source itself.
* **The entry region** of a cloud in a group is the cloud's hub when the hub is in the group, else
  the cloud's first region of the group in config order. So adding a region (appended to its
  cloud's `regions`, as the address plan also expects) never moves an entry: it only adds the one
  edge into the new region. (Only changing a hub, or inserting a region before a cloud's first
  region of a group whose hub lies elsewhere, re-plans that cloud's fan-out.)
* **Fan-out is a star from the entry**, never a chain: S3 does not replicate objects that are
  themselves replicas, and the plan does not rely on Azure passing replicated blobs on either.
  Every region is at most two hops from its source.
* **Mechanisms, native where one exists** (`mechanism`): S3 replication between S3 buckets; object
  replication between Azure accounts; Storage Transfer Service into GCS from GCS, S3 or Azure Blob;
  a scheduled sync job in the destination region's cluster into S3 or Azure Blob from another cloud.
  Azure object replication copies one source account to at most two destination accounts; an
  entry's third and later Azure destinations are filled by a sync job instead (`AZURE_FAN_OUT`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Protocol

from planning.regions import CLOUDS, Cloud

Mechanism = Literal["s3-replication", "azure-object-replication", "storage-transfer", "sync-job"]
MECHANISMS: tuple[Mechanism, ...] = ("s3-replication", "azure-object-replication", "storage-transfer", "sync-job")

DEFAULT_GROUP = "default"
"""The `models.sources` key of the regions outside every residency zone."""

NATIVE: dict[Cloud, Mechanism] = {
    "aws": "s3-replication",
    "azure": "azure-object-replication",
    "gcp": "storage-transfer",
}
"""How a cloud copies between its own regions."""

AZURE_FAN_OUT = 2
"""Azure object replication: one source account replicates to at most two destination accounts."""
FAN_OUT: dict[Cloud, int | None] = {"aws": None, "azure": AZURE_FAN_OUT, "gcp": None}

SYNC_SCHEDULE = "*/15 * * * *"
"""When each sync job runs (cron, UTC): a new model reaches an S3 or Azure entry within ~15 minutes
plus the copy time."""
TRANSFER_INTERVAL_SECONDS = 3600
"""How often each Storage Transfer job runs; one hour is the service's shortest interval."""


def mechanism(source: Cloud, destination: Cloud) -> Mechanism:
    """The mechanism that copies from a bucket in `source` into one in `destination`."""
    if destination == "gcp":
        return "storage-transfer"  # into GCS from GCS, S3 or Azure Blob
    if source == destination:
        return NATIVE[destination]
    return "sync-job"  # into S3 or Azure Blob from another cloud: no managed service exists


class RegionLike(Protocol):
    @property
    def key(self) -> str: ...
    cloud: Cloud
    residency_zone: str | None
    is_hub: bool


@dataclass(frozen=True)
class Edge:
    source: str
    """`cloud:region` whose bucket is read."""
    destination: str
    """`cloud:region` whose bucket is written (with that region's key)."""
    mechanism: Mechanism
    group: str
    """The residency zone both ends lie in, or `default` (both outside every zone)."""

    @property
    def source_cloud(self) -> Cloud:
        return self.source.split(":", 1)[0]  # type: ignore[return-value]

    @property
    def destination_cloud(self) -> Cloud:
        return self.destination.split(":", 1)[0]  # type: ignore[return-value]

    @property
    def cross_cloud(self) -> bool:
        return self.source_cloud != self.destination_cloud

    def output(self) -> dict[str, str]:
        """The stack output's shape: `{from, to, mechanism}` with `cloud:region` ends."""
        return {"from": self.source, "to": self.destination, "mechanism": self.mechanism}


@dataclass(frozen=True)
class ReplicationPlan:
    sources: Mapping[str, str]
    """Group (zone name or `default`) -> its source region key."""
    edges: tuple[Edge, ...]
    """Per group (zones in config order, then `default`), per cloud: the cross-cloud copy into the
    cloud's entry region, then the entry's fan-out in config order."""

    def inbound(self, key: str) -> Edge | None:
        return next((e for e in self.edges if e.destination == key), None)

    def outbound(self, key: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.source == key)

    def of_mechanism(self, mechanism: Mechanism) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.mechanism == mechanism)

    def output(self) -> list[dict[str, str]]:
        return [edge.output() for edge in self.edges]


def group_of(zone: str | None) -> str:
    return DEFAULT_GROUP if zone is None else zone


def entry_region(members: Iterable[RegionLike]) -> RegionLike:
    """A cloud's entry region in a group: its hub when the hub is in the group, else its first
    region of the group in config order. `members` are that cloud's regions of the group, in order."""
    members = list(members)
    return next((r for r in members if r.is_hub), members[0])


def plan_replication(regions: Iterable[RegionLike], sources: Mapping[str, str]) -> ReplicationPlan:
    """The replication edges for `regions` (in config order) and each group's source region key.

    Raises ValueError when a group with regions has no source, or a source is not a region of its
    group (the settings report both first, naming the key)."""
    groups: dict[str, list[RegionLike]] = {}
    for region in regions:
        groups.setdefault(group_of(region.residency_zone), []).append(region)
    # Zones first (in the order regions name them), the regions outside every zone last.
    order = [g for g in groups if g != DEFAULT_GROUP] + ([DEFAULT_GROUP] if DEFAULT_GROUP in groups else [])
    edges: list[Edge] = []
    for group in order:
        members = groups[group]
        by_key = {r.key: r for r in members}
        if group not in sources:
            raise ValueError(f"group {group!r} has regions {list(by_key)} but no source")
        source = by_key.get(sources[group])
        if source is None:
            raise ValueError(f"source {sources[group]!r} of group {group!r} is not one of its regions {list(by_key)}")
        for cloud in CLOUDS:
            of_cloud = [r for r in members if r.cloud == cloud]
            if not of_cloud:
                continue
            entry = source if cloud == source.cloud else entry_region(of_cloud)
            if entry is not source:
                edges.append(Edge(source.key, entry.key, mechanism(source.cloud, cloud), group))
            limit = FAN_OUT[cloud]
            for index, region in enumerate(r for r in of_cloud if r is not entry):
                native = limit is None or index < limit
                edges.append(Edge(entry.key, region.key, NATIVE[cloud] if native else "sync-job", group))
    return ReplicationPlan(sources=MappingProxyType(dict(sources)), edges=tuple(edges))


# --- the sync job's identity and the labels the residency policy reads ------------------------------

SYNC_NAMESPACE = "model-sync"
SYNC_SERVICE_ACCOUNT = "model-sync"
"""The Kubernetes service account of the sync jobs: the one subject every federated credential trusts."""
SYNC_COMPONENT_LABEL = ("app.kubernetes.io/component", "model-replication")
SOURCE_ANNOTATION = "multicloud-inference/replication-source"
DESTINATION_ANNOTATION = "multicloud-inference/replication-destination"
"""`cloud:region` of each end, on every sync CronJob: what the residency policy judges."""


def sync_subject() -> str:
    """The OIDC subject (`sub`) of the sync jobs' service account tokens, in any cluster."""
    return f"system:serviceaccount:{SYNC_NAMESPACE}:{SYNC_SERVICE_ACCOUNT}"
