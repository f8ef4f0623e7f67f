"""Data residency (GDPR): zone members stay in their zone's regions, and so does data copied out
of a zone. Both fail closed: what cannot be verified at preview is a violation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .definitions import PolicyDefinition
from .locations import (
    LOCATION,
    RESIDENCY_ZONES,
    ZONE_NAME_PATTERNS,
    allowed_regions,
    is_located,
    normalize_region,
    region_of,
    zone_of_region,
    zones_of,
)
from .model import UNKNOWN, Resource, Stack, get_path, is_unknown

CONFIG = (RESIDENCY_ZONES, ZONE_NAME_PATTERNS)


def _listed(regions: set[str], shown: int = 8) -> str:
    """The allowed regions, shortened: the default zone lists every EU/EEA region of three clouds."""
    names = sorted(regions)
    more = f" and {len(names) - shown} more in the policy pack config" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def check_location(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_located(resource):
        return
    zones = zones_of(resource, config)
    if is_unknown(zones):
        yield "its tags/labels are unknown at preview, so its residency zone cannot be verified (fail closed)"
        return
    region = region_of(resource)
    for zone in sorted(zones):
        allowed = allowed_regions(zone, config)
        if allowed is None:
            yield f"it declares residency zone '{zone}', which the policy pack config does not define"
        elif is_unknown(region):
            yield f"it belongs to residency zone '{zone}' but its region is unknown at preview (fail closed)"
        elif region is None:
            yield f"it belongs to residency zone '{zone}' but neither it nor its provider sets a region"
        elif region not in allowed:
            yield f"it belongs to residency zone '{zone}' but is located in {region}; allowed: {_listed(allowed)}"


# --- replication and transfers -------------------------------------------------------------

# Data stores a transfer can read or write, with the property that holds the store's own name.
STORES = {
    "aws:s3/bucket:Bucket": "bucket",
    "azure-native:storage:StorageAccount": "accountName",
    "gcp:storage/bucket:Bucket": "name",
}


@dataclass(frozen=True)
class Transfer:
    sources: tuple[str, ...]  # property paths naming the source store; () = the resource itself
    targets: tuple[str, ...]  # property paths naming target stores ('*' walks a list)


TRANSFERS = {
    # The deprecated inline form on the bucket itself, still accepted by pulumi-aws v7.
    "aws:s3/bucket:Bucket": Transfer((), ("replicationConfiguration.rules.*.destination.bucket",)),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": Transfer(
        ("bucket",), ("rules.*.destination.bucket",)
    ),
    "azure-native:storage:ObjectReplicationPolicy": Transfer(("sourceAccount",), ("destinationAccount",)),
    "gcp:storage/transferJob:TransferJob": Transfer(
        (
            "transferSpec.gcsDataSource.bucketName",
            "transferSpec.awsS3DataSource.bucketName",
            "transferSpec.azureBlobStorageDataSource.storageAccount",
            "replicationSpec.gcsDataSource.bucketName",
        ),
        ("transferSpec.gcsDataSink.bucketName", "replicationSpec.gcsDataSink.bucketName"),
    ),
}


def _values_at(value: Any, path: str) -> list[Any]:
    head, _, rest = path.partition(".*.")
    value = get_path(value, head)
    if not rest:
        return [] if value is None else [value]
    if is_unknown(value):
        return [UNKNOWN]
    return [v for item in (value or []) for v in _values_at(item, rest)]


def _store_name(value: str) -> str:
    # Accept a bare name, an ARN (arn:aws:s3:::name), a resource id (.../storageAccounts/name).
    return value.rsplit(":::", 1)[-1].rstrip("/").rsplit("/", 1)[-1]


def _resolve(stack: Stack, resource: Resource, path: str) -> tuple[list[Resource], list[str]]:
    """Stores a property path refers to. Values unknown at preview (ids/ARNs of new resources)
    are followed through the engine's property dependencies instead."""
    deps = stack.property_dependencies(resource, path.split(".", 1)[0], *STORES)
    stores: list[Resource] = []
    problems: list[str] = []
    for value in _values_at(resource.props, path):
        if not is_unknown(value):
            name = _store_name(str(value))
            named = [s for s in stack.of_type(*STORES) if s.get(STORES[s.type]) == name]
            # A store whose name the engine does not know yet (auto-named) may be the one meant.
            unnamed = [s for s in deps if not isinstance(s.get(STORES[s.type]), str)]
            if named or unnamed:
                stores += named or unnamed
            else:
                problems.append(f"{path} = {value!r} is not a data store of this stack, so its region cannot be verified")
        elif deps:
            stores += deps
        else:
            problems.append(f"{path} is unknown at preview and depends on no data store of this stack")
    return stores, problems


def _zones_of_store(store: Resource, config: Mapping[str, Any]) -> Any:
    declared, region = zones_of(store, config), region_of(store)
    if is_unknown(declared) and (is_unknown(region) or region is None):
        return UNKNOWN
    zones = set() if is_unknown(declared) else set(declared)
    if isinstance(region, str) and (zone := zone_of_region(region, config)):
        zones.add(zone)
    return zones


def check_transfers(stack: Stack, config: Mapping[str, Any], types: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for transfer_resource in stack.of_type(*types):
        spec = TRANSFERS[transfer_resource.type]
        targets, target_problems = [], []
        for path in spec.targets:
            found, problems = _resolve(stack, transfer_resource, path)
            targets += found
            target_problems += problems
        if not targets and not target_problems:
            continue  # e.g. a bucket without inline replication
        sources, problems = [transfer_resource], []
        if spec.sources:
            sources = []
            for path in spec.sources:
                found, found_problems = _resolve(stack, transfer_resource, path)
                sources += found
                problems += found_problems
        urn = transfer_resource.urn
        for problem in problems:
            yield urn, f"the source zone cannot be verified (fail closed): {problem}"
        zones: set[str] = set()
        for source in sources:
            source_zones = _zones_of_store(source, config)
            if is_unknown(source_zones):
                yield urn, f"the zone of source {source.name} is unknown at preview (fail closed)"
            else:
                zones |= source_zones
        for zone in sorted(zones):
            allowed = allowed_regions(zone, config)
            if allowed is None:
                yield urn, f"its source declares residency zone '{zone}', which the policy pack config does not define"
                continue
            for problem in target_problems:
                yield urn, f"copies zone '{zone}' data to a target that cannot be verified (fail closed): {problem}"
            for target in targets:
                region = region_of(target)
                if is_unknown(region) or region is None:
                    yield urn, f"copies zone '{zone}' data to {target.name}, whose region is not known at preview (fail closed)"
                elif region not in allowed:
                    yield urn, f"copies zone '{zone}' data to {target.name} in {region}; allowed: {_listed(allowed)}"


# --- sync jobs: copies no cloud service makes, run as CronJobs in a destination cluster ----------------

SYNC_JOB = "kubernetes:batch/v1:CronJob"
# What marks a CronJob as a model replication job, and the annotations naming its two ends as
# `cloud:region` (the program writes the same keys: planning/replication.py).
REPLICATION_LABEL = ("app.kubernetes.io/component", "model-replication")
SOURCE_ANNOTATION = "multicloud-inference/replication-source"
DESTINATION_ANNOTATION = "multicloud-inference/replication-destination"


def _metadata_map(metadata: Any, field: str) -> Any:
    # Label and annotation keys contain dots, so they are read from the mapping, not by path.
    value = get_path(metadata, field)
    return {} if value is None else value


def _region_of_end(value: Any) -> str | None:
    cloud, sep, region = str(value).partition(":")
    return normalize_region(region) if sep and cloud and region else None


def check_sync_job(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    metadata = resource.get("metadata")
    labels, annotations = _metadata_map(metadata, "labels"), _metadata_map(metadata, "annotations")
    if is_unknown(labels) or is_unknown(annotations):
        yield ("its labels or annotations are unknown at preview, so whether it copies data across zones "
               "cannot be verified (fail closed)")
        return
    key, value = REPLICATION_LABEL
    if labels.get(key) != value and SOURCE_ANNOTATION not in annotations and DESTINATION_ANNOTATION not in annotations:
        return  # not a replication job
    ends: dict[str, str] = {}
    for end, annotation in (("source", SOURCE_ANNOTATION), ("destination", DESTINATION_ANNOTATION)):
        found = annotations.get(annotation)
        if is_unknown(found):
            yield f"its {end} ({annotation}) is unknown at preview (fail closed)"
        elif found is None:
            yield f"it is a model replication job but does not name its {end} in {annotation} (fail closed)"
        elif (region := _region_of_end(found)) is None:
            yield f"its {end} {found!r} ({annotation}) is not cloud:region (fail closed)"
        else:
            ends[end] = region
    if len(ends) != 2:
        return
    zone = zone_of_region(ends["source"], config)
    if zone is None:
        return  # the source lies outside every zone
    allowed = allowed_regions(zone, config) or set()
    if ends["destination"] not in allowed:
        yield (
            f"copies zone '{zone}' data from {annotations[SOURCE_ANNOTATION]} to {annotations[DESTINATION_ANNOTATION]}, "
            f"outside the zone; allowed: {', '.join(sorted(allowed))}"
        )


def _location_policy(cloud: str, label: str) -> PolicyDefinition:
    return PolicyDefinition(
        name=f"{cloud}-any-resource-in-residency-zone",
        description=f"Any {label} resource that belongs to a residency zone is located only in that zone's regions.",
        severity="critical",
        frameworks=("GDPR",),
        enforcement="mandatory",
        resource_types=(f"{'azure-native' if cloud == 'azure' else cloud}:*",),
        exclude_types=LOCATION[cloud].unlocated,
        check=check_location,
        config=CONFIG,
        fail_closed=True,
    )


def _transfer_policy(name: str, description: str, types: tuple[str, ...]) -> PolicyDefinition:
    return PolicyDefinition(
        name=name,
        description=description,
        severity="critical",
        frameworks=("GDPR",),
        enforcement="mandatory",
        resource_types=types,
        scope="stack",
        check=lambda stack, config: check_transfers(stack, config, types),
        config=CONFIG,
        fail_closed=True,
    )


POLICIES = (
    _location_policy("aws", "AWS"),
    _location_policy("azure", "Azure"),
    _location_policy("gcp", "GCP"),
    _transfer_policy(
        "aws-s3-bucketreplication-in-residency-zone",
        "S3 replication from a bucket in a residency zone targets only buckets in that zone's regions.",
        ("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "aws:s3/bucket:Bucket"),
    ),
    _transfer_policy(
        "azure-storage-objectreplicationpolicy-in-residency-zone",
        "Azure object replication from a storage account in a residency zone targets only accounts in that zone's regions.",
        ("azure-native:storage:ObjectReplicationPolicy",),
    ),
    _transfer_policy(
        "gcp-storage-transferjob-in-residency-zone",
        "A Storage Transfer job reading a bucket in a residency zone writes only to buckets in that zone's regions.",
        ("gcp:storage/transferJob:TransferJob",),
    ),
    PolicyDefinition(
        name="kubernetes-batch-cronjob-replication-in-residency-zone",
        description="A model sync job whose source region is in a residency zone writes only to that zone's regions "
        "(its source and destination annotations, cloud:region).",
        severity="critical",
        frameworks=("GDPR",),
        enforcement="mandatory",
        resource_types=(SYNC_JOB,),
        check=check_sync_job,
        config=CONFIG,
        fail_closed=True,
    ),
)
