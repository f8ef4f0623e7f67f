"""The platform's front door: one hostname, answered by the nearest healthy region, a residency
zone's clients only by the zone's regions.

`GlobalEntry` renders the routing plan (`planning/routing.py`): the Route 53 hosted zone (or an
existing one), a public endpoint per region (`endpoint.py`, per-cloud rows in `clouds.py`), a
Route 53 health check per region on Triton's readiness path over HTTPS, and every record of the
plan's tree. Route 53 and IAM are global services, managed with the AWS hub region's provider and
tagged without a residency zone; the regions' addresses carry their region's tags.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
from pulumi_aws import provider as aws_provider
from pulumi_aws import route53

from components.global_entry.endpoint import RegionalEndpoint, RegionalEndpointArgs
from components.naming import common_tags
from components.providers import CloudProviders
from planning.platform import PlatformPlan
from planning.routing import DnsRecord, RoutingPlan, endpoint_label
from planning.serving import READY_PATH
from settings import Settings

HTTPS_PORT = 443


def renew_before_percentage(key: str) -> int:
    """20-33 % of a certificate's lifetime, fixed per region by its name (not its position, so
    adding a region changes no other): regions renew the shared global name on different days."""
    return 20 + int(hashlib.sha256(key.encode()).hexdigest(), 16) % 14


@dataclass(frozen=True, kw_only=True)
class GlobalEntryArgs:
    settings: Settings
    plan: PlatformPlan
    stack: str
    landing_zones: dict[str, pulumi.ComponentResource]
    clusters: dict[str, pulumi.ComponentResource]
    serving: dict[str, pulumi.ComponentResource]
    """Per region its TritonRegion: the namespace and Service the public routes lead to."""
    providers: CloudProviders
    region_tags: dict[str, dict[str, str]]


class GlobalEntry(pulumi.ComponentResource):
    endpoints: dict[str, RegionalEndpoint]
    health_checks: dict[str, route53.HealthCheck]
    records: list[route53.Record]

    def __init__(self, name: str, args: GlobalEntryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:GlobalEntry", name, None, opts)
        settings, routing = args.settings, args.plan.routing
        dns = settings.dns
        provider, aws_region = self._aws_provider(name, settings, args.providers)
        self._child = pulumi.ResourceOptions(parent=self, provider=provider)
        # Route 53 and IAM are global: no residency zone to claim.
        self.global_tags = common_tags(settings.name, args.stack, settings.owner, None)

        self.name_servers: pulumi.Output[list[str]] | None = None
        if dns.hosted_zone_id:
            self.zone_id: pulumi.Input[str] = dns.hosted_zone_id
        else:
            # Not protected (prod protects keys and buckets only): a deleted zone is recreated with new
            # name servers that must be delegated again. Keep a long-lived zone outside the stack and
            # name it with `hosted_zone_id`.
            zone = route53.Zone(
                f"{name}-zone",
                name=dns.zone,
                comment=f"{settings.name} {args.stack}: global inference entry",
                tags=self.global_tags,
                opts=self._child,
            )
            self.zone_id, self.name_servers = zone.zone_id, zone.name_servers

        self.endpoints = {}
        for key, region in args.plan.regions.items():
            self.endpoints[key] = RegionalEndpoint(f"{endpoint_label(key)}-entry", RegionalEndpointArgs(
                region=region,
                tags=args.region_tags[key],
                landing_zone=args.landing_zones[key],
                cluster=args.clusters[key],
                cloud_provider=args.providers.aws[region.name] if region.cloud == "aws"
                else getattr(args.providers, region.cloud),
                subscription_id=settings.clouds.azure.subscription_id if region.cloud == "azure" else None,
                project=settings.clouds.gcp.project if region.cloud == "gcp" else None,
                hostname=routing.endpoints[key],
                global_hostname=routing.hostname,
                serving=args.serving[key],
                hosted_zone_id=self.zone_id,
                dns_provider=provider,
                aws_region=aws_region,
                acme_staging=dns.acme.staging,
                acme_email=dns.acme.email,
                renew_before_percentage=renew_before_percentage(key),
                global_tags=self.global_tags,
            ), pulumi.ResourceOptions(parent=self))

        self.health_checks = {
            key: route53.HealthCheck(
                f"{endpoint_label(key)}-ready",
                type="HTTPS",
                fqdn=hostname,
                port=HTTPS_PORT,
                resource_path=READY_PATH,
                enable_sni=True,
                request_interval=dns.health_check.interval,
                failure_threshold=dns.health_check.failure_threshold,
                measure_latency=False,
                tags={**self.global_tags, "Name": f"{hostname} readiness"},
                opts=self._child,
            )
            for key, hostname in routing.endpoints.items()
        }
        self.records = self._records(name, routing, dns.ttl)
        self.table = pulumi.Output.from_input({
            **routing.table(),
            "endpoints": {key: {"hostname": routing.endpoints[key], "addresses": endpoint.address.ips}
                          for key, endpoint in self.endpoints.items()},
            "zone_id": self.zone_id,
            "name_servers": self.name_servers,
        })
        self.register_outputs({"global_entry": self.table})

    def _aws_provider(self, name: str, settings: Settings,
                      providers: CloudProviders) -> tuple[pulumi.ProviderResource, str]:
        """Route 53 and IAM are global: the AWS hub region's provider, or, in a stack without AWS
        regions, one of this component's own (the account of the ambient AWS credentials)."""
        if settings.clouds.aws is not None:
            return providers.aws[settings.clouds.aws.hub], settings.clouds.aws.hub
        region = "us-east-1"
        return aws_provider.Provider(f"{name}-aws", region=region, opts=pulumi.ResourceOptions(parent=self)), region

    def _records(self, name: str, routing: RoutingPlan, ttl: int) -> list[route53.Record]:
        """Every record of the plan, a name's alias targets before it (Route 53 refuses an alias
        to a name that does not exist yet)."""
        created: dict[str, list[route53.Record]] = {}

        def create(record_name: str) -> list[route53.Record]:
            if record_name not in created:
                created[record_name] = [self._record(name, routing, record, ttl, create(record.alias) if record.alias else [])
                                        for record in routing.group(record_name)]
            return created[record_name]

        for record in routing.records:
            create(record.name)
        return [r for group in created.values() for r in group]

    def _record(self, name: str, routing: RoutingPlan, record: DnsRecord, ttl: int,
                targets: list[route53.Record]) -> route53.Record:
        relative = "@" if record.name == routing.hostname else record.name.removesuffix(f".{routing.hostname}")
        # Set ids are region keys (`aws:eu-central-1`) or, for latency records, AWS Regions.
        set_id = f"aws:{record.set_id}" if record.latency_region else record.set_id
        suffix = f"-{set_id.replace(':', '-')}" if set_id else ""
        policy = {}
        if record.geolocation is not None:
            location = record.geolocation
            policy["geolocation_routing_policies"] = [
                {"continent": location.continent} if location.continent else {"country": location.country or "*"}
            ]
        elif record.latency_region is not None:
            policy["latency_routing_policies"] = [{"region": record.latency_region}]
        elif record.weighted:
            policy["weighted_routing_policies"] = [{"weight": 1}]
        if record.alias is not None:
            target = {"aliases": [{"name": record.alias, "zone_id": self.zone_id,
                                   "evaluate_target_health": record.evaluate_target_health}]}
        else:
            target = {"ttl": ttl, "records": self.endpoints[record.region].address.ips}
            if record.health_checked:
                target["health_check_id"] = self.health_checks[record.region].id
        return route53.Record(
            f"{name}-{relative}{suffix}",
            zone_id=self.zone_id,
            name=record.name,
            type="A",
            set_identifier=record.set_id,
            **policy,
            **target,
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=targets)),
        )
