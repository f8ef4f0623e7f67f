"""The platform settings model: name, clouds and regions, GPUs, Kubernetes, network.

`load_settings` validates everything before a single resource is declared. Every problem is
reported together, each naming its key path (`multicloud-inference:platform.clouds.aws.regions[1].cidr`)
and what is allowed, so a user fixes a config in one pass.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, StrictBool, StrictInt, ValidationError, field_validator

from planning.addressing import (
    MAX_REGION_PREFIX,
    MIN_REGION_PREFIX,
    RegionRequest,
    address_problems,
    node_capacity,
    plan_region_cidrs,
)
from planning.gpu import GPU_CATALOG, GPU_TYPES, placement_error
from planning.mesh import PAIR_KEYS, mesh_config_problems
from planning.regions import AWS_DEFAULT_ZONES, AWS_ZONE_IDS, CLOUD_TITLES, CLOUDS, KNOWN_REGIONS, Cloud, region_key
from settings import autoscaling as autoscaling_settings
from settings import dns as dns_settings
from settings import models as models_settings
from settings import serving as serving_settings
from settings.autoscaling import AutoscalingSettings
from settings.base import (
    KEY_ROOT,
    LABEL_PATTERN,
    NAME_PATTERN,
    Cidr,
    ConfigError,
    StrictModel,
    describe,
    key_path,
    show,
    unknown_config_keys,
)
from settings.dns import DnsSettings
from settings.models import ModelSettings
from settings.prices import PriceSettings
from settings.prices import problems as price_problems
from settings.serving import DeployerSettings, ImageSettings, RolloutSettings, ServingSettings

IPv4Network = ipaddress.IPv4Network
MESH_PAIR_KEYS = tuple(PAIR_KEYS)


class GpuRequest(StrictModel):
    """min_nodes <= max_nodes is checked with the other semantic problems, naming the key that
    set each bound (stack-wide or a region's override)."""

    type: Literal[GPU_TYPES]  # type: ignore[valid-type]
    gpus_per_node: StrictInt = Field(1, ge=1, le=8)
    min_nodes: StrictInt = Field(0, ge=0)
    max_nodes: StrictInt = Field(2, ge=1)
    spot: StrictBool = False


class GpuOverride(StrictModel):
    """Per-region changes to the stack-wide GPU request; unset keys keep the stack-wide value."""

    type: Literal[GPU_TYPES] | None = None  # type: ignore[valid-type]
    gpus_per_node: StrictInt | None = Field(None, ge=1, le=8)
    min_nodes: StrictInt | None = Field(None, ge=0)
    max_nodes: StrictInt | None = Field(None, ge=1)
    spot: StrictBool | None = None


class RegionSpec(StrictModel):
    name: str
    cidr: Cidr | None = None
    zones: StrictInt | None = Field(
        None, ge=2, le=3, description=f"AWS only: availability zones for the region's subnets (default {AWS_DEFAULT_ZONES})"
    )
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
    api_allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Public CIDRs allowed to reach each cluster's API; empty keeps the API private",
    )
    system_nodes: StrictInt = Field(2, ge=1, le=10)
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = Field(
        "REGULAR", description="GKE release channel; EKS and AKS pin `version` instead"
    )


class NetworkSettings(StrictModel):
    asns: dict[Cloud, StrictInt] = Field(default_factory=dict, description="BGP ASN override per cloud hub")
    # --- VPN mesh (issue 3; planning/mesh.py holds the rules) ---
    tunnel_cidrs: dict[Literal[MESH_PAIR_KEYS], list[Cidr]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Inside /30 per tunnel of a cloud pair (aws-gcp: 4, aws-azure: 4, azure-gcp: 2)"
    )


class Settings(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    owner: str = Field(pattern=LABEL_PATTERN)
    supernet: Cidr = IPv4Network("10.64.0.0/11")
    region_prefix_length: StrictInt | None = Field(
        None,
        ge=MIN_REGION_PREFIX,
        le=MAX_REGION_PREFIX,
        description="Size of the automatic region CIDRs; default: the whole slot each region owns",
    )
    residency_zones: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")], list[str]] = Field(
        default_factory=dict
    )
    protect: StrictBool = False
    clouds: Clouds
    gpu: GpuRequest
    kubernetes: KubernetesSettings = KubernetesSettings()
    network: NetworkSettings = NetworkSettings()
    image: ImageSettings = ImageSettings()
    serving: ServingSettings = ServingSettings()
    rollout: RolloutSettings = RolloutSettings()
    deployer: DeployerSettings = DeployerSettings()
    prices: PriceSettings = PriceSettings()
    autoscaling: AutoscalingSettings = AutoscalingSettings()
    models: ModelSettings | None = None
    """Absent: no replication (each region's bucket is filled by hand); present: every zone needs a source."""
    dns: DnsSettings | None = None
    """The global entry (public endpoints, certificates, global DNS); absent: no public entry."""

    # Filled by load_settings once the semantic checks pass; not a config key.
    _region_cidrs: dict[str, IPv4Network] = PrivateAttr(default_factory=dict)

    @property
    def region_cidrs(self) -> dict[str, IPv4Network]:
        """Every region's CIDR, keyed `cloud:region` (automatic or pinned)."""
        return self._region_cidrs

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


def load_settings(raw: Any, config_keys: Iterable[str] = ()) -> Settings:
    """Validate the raw `platform` config object; raise ConfigError listing every problem.

    `config_keys` are the stack's config keys (namespaced, e.g. `multicloud-inference:platfrom`):
    a key of this project other than `platform` is read by nobody, so it is reported too.
    """
    problems = unknown_config_keys(config_keys)
    if raw is None:
        raise ConfigError(problems + [f"{KEY_ROOT}: is required (set it in Pulumi.<stack>.yaml; see Pulumi.dev.yaml)"])
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(problems + [describe(e, Settings) for e in error.errors()]) from None
    problems += _semantic_problems(settings)
    if problems:
        raise ConfigError(problems)
    requests = [RegionRequest(cloud, region.name, region.cidr) for cloud, region in settings.regions()]
    plan = plan_region_cidrs(settings.supernet, requests, settings.region_prefix_length)
    settings._region_cidrs = {region_key(*k): v for k, v in plan.items()}
    # Checks that need the address plan and the regions' plans.
    problems = list(serving_settings.problems(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def _semantic_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.gpu.min_nodes > settings.gpu.max_nodes:
        problems.append(
            f"{key_path('gpu', 'min_nodes')}: {settings.gpu.min_nodes} is more than max_nodes ({settings.gpu.max_nodes})"
        )
    problems += _region_problems(settings)
    if not any(True for _ in settings.clouds.configured()):
        problems.append(f"{key_path('clouds')}: {show({})} configures no cloud; configure at least one of aws, azure, gcp")
    problems += _residency_problems(settings)
    problems += _network_problems(settings)
    address = list(_address_problems(settings))
    problems += address
    if not address:
        problems += _capacity_problems(settings)
    return problems


def _region_problems(settings: Settings) -> Iterator[str]:
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
            yield from _zones_problems(cloud, index, region)
        for name, count in Counter(names).items():
            if count > 1:
                yield f"{key_path('clouds', cloud, 'regions')}: region {name!r} is listed {count} times"
        if spec.hub not in names:
            yield f"{key_path('clouds', cloud, 'hub')}: hub {spec.hub!r} must be one of this cloud's regions {names}"
        yield from _hub_residency_problems(settings, cloud, spec)
    yield from _gpu_problems(settings)


def _zones_problems(cloud: Cloud, index: int, region: RegionSpec) -> Iterator[str]:
    """`zones` places AWS subnets; AKS and GKE spread a region over its zones themselves."""
    if region.zones is None:
        return
    path = key_path("clouds", cloud, "regions", index, "zones")
    if cloud != "aws":
        yield (
            f"{path}: {region.zones} is not used by {CLOUD_TITLES[cloud]} regions; only AWS regions take zones "
            f"({CLOUD_TITLES[cloud]} spreads a region's cluster over its zones itself), so remove it"
        )
        return
    usable = AWS_ZONE_IDS.get(region.name)
    if usable is not None and region.zones > len(usable):
        yield (
            f"{path}: {region.zones} is more than the {len(usable)} zones {region.name} offers for EKS "
            f"({', '.join(usable)}); use {len(usable)}"
        )


def _gpu_key(cloud: Cloud, index: int, region: RegionSpec, field: str) -> str:
    """The key that set `field` of a region's GPU request: its override if any, else the stack's."""
    if region.gpu is not None and getattr(region.gpu, field) is not None:
        return key_path("clouds", cloud, "regions", index, "gpu", field)
    return key_path("gpu", field)


def _gpu_problems(settings: Settings) -> Iterator[str]:
    """Bounds and placement of every region's GPU request, each on the key that set the bad value;
    a stack-wide value that fails in several regions is reported once, naming them all."""
    placement: dict[tuple[str, str], list[str]] = {}
    for cloud, spec in settings.clouds.configured():
        for index, region in enumerate(spec.regions):
            gpu = settings.gpu_for(region)
            own = region.gpu if region.gpu is not None else GpuOverride()
            if (own.min_nodes is not None or own.max_nodes is not None) and gpu.min_nodes > gpu.max_nodes:
                if own.min_nodes is not None:
                    path, problem = _gpu_key(cloud, index, region, "min_nodes"), f"{gpu.min_nodes} is more than max_nodes"
                    yield f"{path}: {problem} ({gpu.max_nodes})"
                else:
                    path, problem = _gpu_key(cloud, index, region, "max_nodes"), f"{gpu.max_nodes} is less than min_nodes"
                    yield f"{path}: {problem} ({gpu.min_nodes})"
            error = placement_error(gpu.type, cloud, gpu.gpus_per_node, gpu.spot)
            if error:
                # The type when the cloud has none of it, else the count (no such machine, or spot only).
                field = "type" if GPU_CATALOG[gpu.type].get(cloud) is None else "gpus_per_node"
                placement.setdefault((_gpu_key(cloud, index, region, field), error), []).append(
                    region_key(cloud, region.name)
                )
    for (path, error), regions in placement.items():
        yield f"{path}: {error} (needed by {', '.join(regions)})"


def _residency_problems(settings: Settings) -> Iterator[str]:
    deployed = {region.name for _, region in settings.regions()}
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


def _network_problems(settings: Settings) -> Iterator[str]:
    for cloud, asn in settings.network.asns.items():
        if getattr(settings.clouds, cloud) is None:
            yield f"{key_path('network', 'asns', cloud)}: {asn} is set for {cloud}, which is not configured under clouds"
    # --- VPN mesh: ASNs and tunnel inside CIDRs, validated by the same rules the plan uses ---
    configured = [cloud for cloud, _ in settings.clouds.configured()]
    asns = {c: asn for c, asn in settings.network.asns.items() if c in configured}
    for path, problem in mesh_config_problems(configured, asns, settings.network.tunnel_cidrs):
        yield f"{key_path('network', *path)}: {problem}"
    yield from price_problems(settings)
    yield from autoscaling_settings.problems(settings)
    # --- model replication: one source per residency zone (settings/models.py) ---
    yield from models_settings.problems(settings)
    # --- global entry: DNS provider, zone geographies ---
    yield from dns_settings.problems(settings)


def _address_problems(settings: Settings) -> Iterator[str]:
    """The address plan's own rules (planning/addressing.py), each on the key at fault. Regions
    with unknown names (reported above) have no slot and are left out."""
    requests, paths = [], []
    for cloud, spec in settings.clouds.configured():
        for index, region in enumerate(spec.regions):
            if region.name in KNOWN_REGIONS[cloud]:
                requests.append(RegionRequest(cloud, region.name, region.cidr))
                paths.append(key_path("clouds", cloud, "regions", index, "cidr"))
    for problem in address_problems(settings.supernet, requests, settings.region_prefix_length):
        path = paths[problem.index] if problem.index is not None else key_path(problem.key)
        yield f"{path}: {problem.message}"


# Nodes a pool may add during a surge upgrade (AKS and GKE default to one per pool).
SURGE_NODES_PER_POOL = 1


def _capacity_problems(settings: Settings) -> Iterator[str]:
    """A cluster must not outgrow its region's pod range (AKS overlay and GKE give every node a /24).
    Reported once per key that sets the GPU bound, naming every region it does not fit."""
    known = [(c, r) for c, r in settings.regions() if r.name in KNOWN_REGIONS[c]]
    requests = [RegionRequest(cloud, region.name, region.cidr) for cloud, region in known]
    cidrs = plan_region_cidrs(settings.supernet, requests, settings.region_prefix_length)
    system = 2 * settings.kubernetes.system_nodes
    too_small: dict[tuple[str, int], list[str]] = {}
    for cloud, spec in settings.clouds.configured():
        for index, region in enumerate(spec.regions):
            cidr = cidrs.get((cloud, region.name))
            capacity = node_capacity(cloud, cidr) if cidr is not None else None
            gpu = settings.gpu_for(region)
            if capacity is not None and gpu.max_nodes + system + 2 * SURGE_NODES_PER_POOL > capacity:
                key = (_gpu_key(cloud, index, region, "max_nodes"), gpu.max_nodes)
                too_small.setdefault(key, []).append(f"{region_key(cloud, region.name)} ({cidr} holds {capacity})")
    for (path, max_nodes), regions in too_small.items():
        needed = max_nodes + system + 2 * SURGE_NODES_PER_POOL
        yield (
            f"{path}: {max_nodes} GPU nodes + {system} system nodes + {2 * SURGE_NODES_PER_POOL} upgrade surge nodes "
            f"= {needed} nodes, more than the pod range holds (a /24 per node) in {', '.join(regions)}; lower "
            "max_nodes or kubernetes.system_nodes, or pin a larger cidr for the region"
        )


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
