"""The platform settings model: name, clouds and regions, GPUs, Kubernetes, network.

`load_settings` validates everything before a single resource is declared. Every problem is
reported together, each naming its key path (`multicloud-inference:platform.clouds.aws.regions[1].cidr`)
and what is allowed, so a user fixes a config in one pass.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from planning.addressing import (
    MAX_REGION_PREFIX,
    MIN_REGION_PREFIX,
    AddressPlanError,
    RegionRequest,
    plan_region_cidrs,
)
from planning.gpu import GPU_TYPES, placement_error
from planning.mesh import PAIR_KEYS, mesh_config_problems
from planning.regions import CLOUDS, KNOWN_REGIONS, Cloud, region_key
from settings.base import KEY_ROOT, LABEL_PATTERN, NAME_PATTERN, ConfigError, StrictModel, describe, key_path

IPv4Network = ipaddress.IPv4Network
MESH_PAIR_KEYS = tuple(PAIR_KEYS)


class GpuRequest(StrictModel):
    type: Literal[GPU_TYPES]  # type: ignore[valid-type]
    gpus_per_node: int = Field(1, ge=1, le=8)
    min_nodes: int = Field(0, ge=0)
    max_nodes: int = Field(2, ge=1)
    spot: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> GpuRequest:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes ({self.min_nodes}) must not exceed max_nodes ({self.max_nodes})")
        return self


class GpuOverride(StrictModel):
    """Per-region changes to the stack-wide GPU request; unset keys keep the stack-wide value."""

    type: Literal[GPU_TYPES] | None = None  # type: ignore[valid-type]
    gpus_per_node: int | None = Field(None, ge=1, le=8)
    min_nodes: int | None = Field(None, ge=0)
    max_nodes: int | None = Field(None, ge=1)
    spot: bool | None = None


class RegionSpec(StrictModel):
    name: str
    cidr: IPv4Network | None = None
    zones: int = Field(2, ge=2, le=3, description="AWS availability zones for the region's subnets")
    gpu: GpuOverride | None = None

    @field_validator("cidr")
    @classmethod
    def _cidr_size(cls, cidr: IPv4Network | None) -> IPv4Network | None:
        if cidr is not None and not MIN_REGION_PREFIX <= cidr.prefixlen <= MAX_REGION_PREFIX:
            raise ValueError(f"a region cidr must be /{MIN_REGION_PREFIX} to /{MAX_REGION_PREFIX}, got {cidr}")
        return cidr


def _region_from_string(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class CloudSpec(StrictModel):
    hub: str
    regions: list[RegionSpec] = Field(min_length=1)

    # A region is its name or an object; the JSON schema (`python -m offline schema`) says both.
    @field_validator("regions", mode="before", json_schema_input_type=list[str | RegionSpec])
    @classmethod
    def _names_as_regions(cls, value: Any) -> Any:
        return [_region_from_string(v) for v in value] if isinstance(value, list) else value


class AwsSpec(CloudSpec):
    pass


class AzureSpec(CloudSpec):
    subscription_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    tenant_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")


class GcpSpec(CloudSpec):
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")


class Clouds(StrictModel):
    aws: AwsSpec | None = None
    azure: AzureSpec | None = None
    gcp: GcpSpec | None = None

    def configured(self) -> Iterator[tuple[Cloud, CloudSpec]]:
        for cloud in CLOUDS:
            spec = getattr(self, cloud)
            if spec is not None:
                yield cloud, spec


class KubernetesSettings(StrictModel):
    version: str = Field("1.33", pattern=r"^1\.\d{2}$")
    api_allowed_cidrs: list[IPv4Network] = Field(
        default_factory=list,
        description="Public CIDRs allowed to reach each cluster's API; empty keeps the API private",
    )
    system_nodes: int = Field(2, ge=1, le=10)
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        "REGULAR", description="GKE release channel; EKS and AKS pin `version` instead"
    )


class NetworkSettings(StrictModel):
    asns: dict[Cloud, int] = Field(default_factory=dict, description="BGP ASN override per cloud hub")
    # --- VPN mesh (issue 3; planning/mesh.py holds the rules) ---
    tunnel_cidrs: dict[Literal[MESH_PAIR_KEYS], list[IPv4Network]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Inside /30 per tunnel of a cloud pair (aws-gcp: 4, aws-azure: 4, azure-gcp: 2)"
    )


class Settings(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    owner: str = Field(pattern=LABEL_PATTERN)
    supernet: IPv4Network = IPv4Network("10.64.0.0/11")
    region_prefix_length: int = Field(16, ge=MIN_REGION_PREFIX, le=MAX_REGION_PREFIX)
    residency_zones: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")], list[str]] = Field(
        default_factory=dict
    )
    protect: bool = False
    clouds: Clouds
    gpu: GpuRequest
    kubernetes: KubernetesSettings = KubernetesSettings()
    network: NetworkSettings = NetworkSettings()

    # Filled by load_settings once the semantic checks pass.
    region_cidrs: dict[str, IPv4Network] = Field(default_factory=dict, exclude=True)

    def regions(self) -> Iterator[tuple[Cloud, RegionSpec]]:
        for cloud, spec in self.clouds.configured():
            for region in spec.regions:
                yield cloud, region

    def residency_zone(self, region: str) -> str | None:
        return next((z for z, members in self.residency_zones.items() if region in members), None)

    def region_cidr(self, cloud: Cloud, region: str) -> IPv4Network:
        return self.region_cidrs[region_key(cloud, region)]

    def gpu_for(self, region: RegionSpec) -> GpuRequest:
        if region.gpu is None:
            return self.gpu
        return self.gpu.model_copy(update=region.gpu.model_dump(exclude_none=True))


def load_settings(raw: Any) -> Settings:
    """Validate the raw `platform` config object; raise ConfigError listing every problem."""
    if raw is None:
        raise ConfigError([f"{KEY_ROOT}: is required (set it in Pulumi.<stack>.yaml; see Pulumi.dev.yaml)"])
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError([describe(e) for e in error.errors()]) from None
    problems = list(_semantic_problems(settings))
    if problems:
        raise ConfigError(problems)
    requests = [
        RegionRequest(cloud, region.name, region.cidr) for cloud, region in settings.regions()
    ]
    try:
        plan = plan_region_cidrs(settings.supernet, requests, settings.region_prefix_length)
    except AddressPlanError as error:
        raise ConfigError([f"{KEY_ROOT}.clouds ({error.key}): {error}"]) from None
    return settings.model_copy(update={"region_cidrs": {region_key(*k): v for k, v in plan.items()}})


def _semantic_problems(settings: Settings) -> Iterator[str]:
    deployed: set[str] = set()
    for cloud, spec in settings.clouds.configured():
        known = KNOWN_REGIONS[cloud]
        names = [r.name for r in spec.regions]
        for index, region in enumerate(spec.regions):
            if region.name not in known:
                close = difflib.get_close_matches(region.name, known, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                yield (
                    f"{key_path('clouds', cloud, 'regions', index, 'name')}: unknown {cloud} region "
                    f"{region.name!r}{hint} (known regions are listed in planning/regions.py)"
                )
        for name, count in Counter(names).items():
            if count > 1:
                yield f"{key_path('clouds', cloud, 'regions')}: region {name!r} is listed {count} times"
        if spec.hub not in names:
            yield f"{key_path('clouds', cloud, 'hub')}: hub {spec.hub!r} must be one of this cloud's regions {names}"
        deployed.update(names)
        yield from _hub_residency_problems(settings, cloud, spec)
        for index, region in enumerate(spec.regions):
            gpu = settings.gpu_for(region)
            if region.gpu is not None and gpu.min_nodes > gpu.max_nodes:
                yield (
                    f"{key_path('clouds', cloud, 'regions', index, 'gpu')}: min_nodes ({gpu.min_nodes}) "
                    f"must not exceed max_nodes ({gpu.max_nodes})"
                )
            error = placement_error(gpu.type, cloud, gpu.gpus_per_node, gpu.spot)
            if error:
                where = (
                    key_path("clouds", cloud, "regions", index, "gpu")
                    if region.gpu and (region.gpu.type or region.gpu.gpus_per_node)
                    else key_path("gpu", "type")
                )
                yield f"{where}: {error} (needed by {region_key(cloud, region.name)})"

    if not any(True for _ in settings.clouds.configured()):
        yield f"{key_path('clouds')}: configure at least one of aws, azure, gcp"

    yield from _cidr_problems(settings)

    zones_of: dict[str, list[str]] = {}
    for zone, members in settings.residency_zones.items():
        for index, region in enumerate(members):
            zones_of.setdefault(region, []).append(zone)
            if region not in deployed:
                yield (
                    f"{key_path('residency_zones', zone, index)}: region {region!r} is not deployed by "
                    "any cloud; list only regions under clouds.*.regions"
                )
    for region, zones in zones_of.items():
        if len(zones) > 1:
            yield (
                f"{key_path('residency_zones')}: region {region!r} is in several zones {zones}; "
                "a region belongs to one zone at most"
            )

    for cloud in settings.network.asns:
        if getattr(settings.clouds, cloud) is None:
            yield f"{key_path('network', 'asns', cloud)}: {cloud} is not configured under clouds"
    # --- VPN mesh: ASNs and tunnel inside CIDRs, validated by the same rules the plan uses ---
    configured = [cloud for cloud, _ in settings.clouds.configured()]
    asns = {c: asn for c, asn in settings.network.asns.items() if c in configured}
    for path, problem in mesh_config_problems(configured, asns, settings.network.tunnel_cidrs):
        yield f"{key_path('network', *path)}: {problem}"


def _hub_residency_problems(settings: Settings, cloud: Cloud, spec: CloudSpec) -> Iterator[str]:
    """A cloud's traffic to the other clouds, and between its regions, transits its hub. When all of
    a cloud's zoned regions share one zone, a hub outside it would carry that zone's data abroad.
    (With regions in several zones no hub can satisfy all; the residency policies still apply.)"""
    if spec.hub not in {r.name for r in spec.regions}:
        return  # reported as such already
    zones = {settings.residency_zone(r.name) for r in spec.regions} - {None}
    if len(zones) == 1 and settings.residency_zone(spec.hub) not in zones:
        (zone,) = zones
        members = [r.name for r in spec.regions if settings.residency_zone(r.name) == zone]
        yield (
            f"{key_path('clouds', cloud, 'hub')}: hub {spec.hub!r} is outside residency zone {zone!r}, so "
            f"traffic of {members} would transit it; choose a hub among {members}"
        )


def _cidr_problems(settings: Settings) -> Iterator[str]:
    given: list[tuple[str, IPv4Network]] = []
    for cloud, spec in settings.clouds.configured():
        for index, region in enumerate(spec.regions):
            if region.cidr is None:
                continue
            path = key_path("clouds", cloud, "regions", index, "cidr")
            if not region.cidr.subnet_of(settings.supernet):
                yield f"{path}: {region.cidr} is outside the supernet {settings.supernet}"
            for other_path, other in given:
                if region.cidr.overlaps(other):
                    yield f"{path}: {region.cidr} overlaps {other} at {other_path}"
            given.append((path, region.cidr))
