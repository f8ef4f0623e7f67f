"""Where a resource is, and which residency zone it belongs to, read the way the engine has it.

Region: AWS (pulumi-aws v7) per-resource `region` input, else the provider's `region`; Azure
`location`; GCP `location` or `region`, else the provider's `region`. Names are normalized
(GCS/KMS locations may be upper-case, Azure accepts display names, GCP zones become regions).
Zone membership: a `residency-zone` tag/label, or a configured resource-name pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .definitions import ConfigKey
from .model import UNKNOWN, Resource, get_path, is_unknown, json_object, matches_any

ZONE_TAG = "residency-zone"


@dataclass(frozen=True)
class CloudLocation:
    own: tuple[str, ...]        # resource properties holding its location, first set wins
    provider: tuple[str, ...]   # provider properties used when the resource has none
    # Types with no location of their own: global services, or children that live where their
    # parent lives (the parent is checked). Globs.
    unlocated: tuple[str, ...]


LOCATION = {
    "aws": CloudLocation(
        own=("region",),
        provider=("region",),
        unlocated=("aws:iam/*", "aws:route53/*", "aws:cloudfront/*", "aws:organizations/*"),
    ),
    "azure": CloudLocation(
        own=("location",),
        provider=(),
        unlocated=(
            "azure-native:authorization:*",
            "azure-native:keyvault:Key", "azure-native:keyvault:Secret",
            "azure-native:storage:BlobContainer", "azure-native:storage:ObjectReplicationPolicy",
            "azure-native:containerservice:AgentPool",
            "azure-native:network:SecurityRule", "azure-native:network:Subnet",
            "azure-native:network:VirtualNetworkPeering",
        ),
    ),
    "gcp": CloudLocation(
        own=("location", "region"),
        provider=("region",),
        unlocated=(
            "gcp:compute/network:Network", "gcp:compute/firewall:Firewall", "gcp:compute/route:Route",
            "gcp:compute/externalVpnGateway:ExternalVpnGateway",
            "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/cryptoKeyIAM*",
            "gcp:storage/transferJob:TransferJob", "gcp:storage/bucketIAM*",
            "gcp:projects/*", "gcp:serviceaccount/*", "gcp:dns/*",
        ),
    ),
}

# Where tags/labels live, by cloud, with per-type exceptions; provider-level defaults merge in.
TAG_PROPERTY = {"aws": "tags", "azure": "tags", "gcp": "labels"}
TAG_PROPERTY_BY_TYPE = {"gcp:container/cluster:Cluster": "resourceLabels"}
PROVIDER_DEFAULT_TAGS = {"aws": "defaultTags.tags", "gcp": "defaultLabels"}

_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$")


def normalize_region(value: str) -> str:
    region = value.strip().lower().replace(" ", "")
    zonal = _GCP_ZONE.match(region)
    return zonal.group(1) if zonal else region


def is_located(resource: Resource) -> bool:
    spec = LOCATION.get(resource.cloud or "")
    return spec is not None and not matches_any(resource.type, spec.unlocated)


def region_of(resource: Resource) -> Any:
    """The normalized region, UNKNOWN if unknown at preview, None if nowhere to be found."""
    spec = LOCATION[resource.cloud or ""]
    for prop in spec.own:
        value = resource.get(prop)
        if value is not None:
            return value if is_unknown(value) else normalize_region(str(value))
    if resource.provider is not None:
        for prop in spec.provider:
            value = json_object(resource.provider.props.get(prop))
            if value is not None:
                return value if is_unknown(value) else normalize_region(str(value))
    return None


def tags_of(resource: Resource) -> Any:
    """Tags/labels including provider defaults; UNKNOWN if any part is unknown at preview."""
    cloud = resource.cloud or ""
    prop = TAG_PROPERTY_BY_TYPE.get(resource.type, TAG_PROPERTY.get(cloud))
    if prop is None:
        return {}
    merged: dict[str, Any] = {}
    default_path = PROVIDER_DEFAULT_TAGS.get(cloud)
    if default_path and resource.provider is not None:
        head, _, rest = default_path.partition(".")
        defaults = json_object(resource.provider.props.get(head))
        defaults = get_path(defaults, rest) if rest else defaults
        if is_unknown(defaults):
            return UNKNOWN
        merged.update(defaults or {})
    own = resource.get(prop)
    if is_unknown(own):
        return UNKNOWN
    merged.update(own or {})
    return merged


def _zone_semantics(zones: Mapping[str, list[str]]) -> Iterable[str]:
    seen: dict[str, str] = {}
    for zone, regions in zones.items():
        for region in regions:
            key = normalize_region(region)
            if key in seen and seen[key] != zone:
                yield f".{zone}: region {region} is already in zone {seen[key]}"
            seen[key] = zone


# Every region of each cloud that lies in a member state of the EU or the EEA (EU + Iceland,
# Liechtenstein, Norway): the territory the GDPR applies to, and the pack's default zone `eu`.
# Deliberately absent: the UK (eu-west-2, uksouth, ukwest, europe-west2) and Switzerland
# (eu-central-2, switzerlandnorth, switzerlandwest, europe-west6), outside the EEA (they hold
# adequacy decisions, which a security team may choose to accept by configuring its own zones).
# A stack narrows this to the regions it declares (`python -m offline policy-config STACK`).
# Append a region when a cloud opens one in the EEA; names are each cloud's own.
EU_EEA_REGIONS: dict[str, tuple[str, ...]] = {
    # Source: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
    # (checked 2026-11); eusc-de-east-1 is the AWS European Sovereign Cloud (Brandenburg, 2026-01).
    "aws": (
        "eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2",
        "eusc-de-east-1",
    ),
    # Source: https://learn.microsoft.com/azure/reliability/regions-list, geography Europe
    # (checked 2026-11); swedensouth and norwaywest are access-restricted but EEA all the same.
    "azure": (
        "westeurope", "northeurope", "francecentral", "francesouth", "germanywestcentral",
        "germanynorth", "swedencentral", "swedensouth", "norwayeast", "norwaywest", "polandcentral",
        "italynorth", "spaincentral", "austriaeast", "belgiumcentral",
    ),
    # Source: https://cloud.google.com/about/locations (checked 2026-11); `eu` is the Cloud
    # Storage multi-region "data centers within member states of the European Union", `eur4` the
    # Finland + Netherlands dual-region.
    "gcp": (
        "europe-west1", "europe-west3", "europe-west4", "europe-west8", "europe-west9",
        "europe-west10", "europe-west12", "europe-north1", "europe-north2", "europe-central2",
        "europe-southwest1", "eu", "eur4",
    ),
}

RESIDENCY_ZONES = ConfigKey(
    "residencyZones",
    {
        "type": "object",
        "description": "Allowed regions per residency zone (each cloud's own region names).",
        "additionalProperties": {
            "type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
        },
        "default": {"eu": [region for regions in EU_EEA_REGIONS.values() for region in regions]},
    },
    _zone_semantics,
)

ZONE_NAME_PATTERNS = ConfigKey(
    "zoneNamePatterns",
    {
        "type": "object",
        "description": "Resource-name globs that put a resource in a zone even without the residency-zone tag.",
        "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "default": {},
    },
)


def zones_of(resource: Resource, config: Mapping[str, Any]) -> Any:
    """Zones the resource is declared to belong to (tag/label or name pattern); UNKNOWN if its
    tags are unknown at preview and no name pattern already decides it."""
    zones = {z for z, pats in config["zoneNamePatterns"].items() if matches_any(resource.name, pats)}
    tags = tags_of(resource)
    if is_unknown(tags):
        return zones or UNKNOWN
    tagged = tags.get(ZONE_TAG)
    if is_unknown(tagged):
        return zones or UNKNOWN
    if tagged:
        zones.add(str(tagged))
    return zones


def zone_of_region(region: str, config: Mapping[str, Any]) -> str | None:
    for zone, regions in config["residencyZones"].items():
        if region in {normalize_region(r) for r in regions}:
            return zone
    return None


def allowed_regions(zone: str, config: Mapping[str, Any]) -> set[str] | None:
    regions = config["residencyZones"].get(zone)
    return None if regions is None else {normalize_region(r) for r in regions}
