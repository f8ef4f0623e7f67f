"""The platform's container registries: where the image is pushed once and every region pulls from.

One builder per cloud (`REGISTRIES`), each returning the same three things: per region, the repository
its nodes pull from and what a pull grant names; the push targets with their credentials; and where
the build cache lives. Tags are immutable wherever the registry supports it, and deployments always
name an image by digest.

* AWS: an ECR repository in every AWS region (KMS with the region's key, immutable tags, scan on
  push). EKS node roles pull through the managed `AmazonEC2ContainerRegistryPullOnly` policy.
* Azure: one Premium registry in the hub region, geo-replicated to every other Azure region, admin
  user off; nodes pull through a private endpoint in their own VNet (`privatelink.azurecr.io`), so the
  public endpoint only admits the deployer, and is off when the deployer sits in an Azure network.
  ACR has no registry-wide tag immutability: the build never reuses a tag (tags are context digests).
* GCP: an Artifact Registry Docker repository per region (the region's CMEK, immutable tags);
  Artifact Registry has no cross-region replication, so the build pushes to each.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ecr
from pulumi_azure_native import containerregistry, network, privatedns
from pulumi_gcp import artifactregistry, kms, organizations, projects

from components.context import region_tags
from components.landing_zone.azure import global_tags
from components.naming import acr_name
from planning.platform import PlatformPlan
from planning.regions import Cloud

IMAGE_NAME = "inference"
CACHE_TAG = "buildcache"
KEEP_IMAGES = 50
"""Tagged images each repository keeps: the rollback window (`image.digest` of an earlier build)."""
UNTAGGED_DAYS = 14

ECR_LIFECYCLE = json.dumps({"rules": [
    {"rulePriority": 1, "description": "untagged manifests (superseded cache, attestations)",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                   "countNumber": UNTAGGED_DAYS},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": f"keep the {KEEP_IMAGES} most recent builds for rollback",
     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": KEEP_IMAGES},
     "action": {"type": "expire"}},
]})

ACR_PRIVATE_ZONE = "privatelink.azurecr.io"
ARTIFACT_REGISTRY_AGENT = "artifactregistry.googleapis.com"


@dataclass(frozen=True)
class RegionRegistry:
    """Where one region's nodes pull the platform's image from."""

    repository: pulumi.Output[str]
    """The image's repository, without tag or digest: `<registry host>/<path>/inference`."""
    pull_scope: pulumi.Input[str] | None
    """What the region's node identity is granted pull on (ACR id, Artifact Registry repository);
    None where the node role's managed policy already allows it (ECR)."""


@dataclass(frozen=True)
class PushTarget:
    repository: pulumi.Output[str]
    credentials: dict | None
    """docker-build `registries` entry; None: the deploying host's Docker login (ACR, see README)."""


@dataclass(frozen=True)
class PrivateRegistry:
    """A registry that nodes reach through private endpoints (ACR): what `RegistryEndpoints` needs."""

    registry: containerregistry.Registry
    dns_zone: privatedns.PrivateZone
    replicas: list[containerregistry.Replication]


@dataclass
class CloudRegistries:
    regions: dict[str, RegionRegistry] = field(default_factory=dict)
    push: list[PushTarget] = field(default_factory=list)
    cache: pulumi.Output[str] | None = None
    """A repository for the build cache, whose tag is rewritten on every build (never deployed)."""
    private: PrivateRegistry | None = None


@dataclass(frozen=True)
class RegistryContext:
    name: str
    platform: str
    stack: str

    @property
    def namespace(self) -> str:
        """Repository namespace: stacks sharing an account or project never share a repository."""
        return f"{self.platform}-{self.stack}"
    settings: object
    plan: PlatformPlan
    landing_zones: dict
    providers: object
    builder_ranges: list[pulumi.Input[str]]
    """Public addresses the image build pushes from (the deployer's egress)."""
    parent: pulumi.Resource

    def tags(self, region: str) -> dict[str, str]:
        return region_tags(self.settings, self.stack, region)

    def global_tags(self) -> dict[str, str]:
        return global_tags(self.tags("global"))

    def options(self, provider, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=provider, **extra)

    def invoke(self, provider) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(parent=self.parent, provider=provider)


def _host(url: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(url).apply(lambda u: u.split("://")[-1].split("/")[0])


def _ecr(ctx: RegistryContext) -> CloudRegistries:
    found = CloudRegistries()
    for region in ctx.plan.of_cloud("aws"):
        lz, provider = ctx.landing_zones[region.key], ctx.providers.aws[region.name]
        repo = ecr.Repository(
            f"{ctx.name}-{region.cloud}-{region.name}",
            name=f"{ctx.namespace}/{IMAGE_NAME}",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": lz.key.arn}],
            force_delete=False,
            tags=ctx.tags(region.name),
            opts=ctx.options(provider),
        )
        ecr.LifecyclePolicy(f"{ctx.name}-{region.cloud}-{region.name}", repository=repo.name, policy=ECR_LIFECYCLE,
                            opts=ctx.options(provider))
        token = ecr.get_authorization_token_output(registry_id=repo.registry_id, opts=ctx.invoke(provider))
        found.regions[region.key] = RegionRegistry(repo.repository_url, None)
        found.push.append(PushTarget(repo.repository_url, {
            "address": _host(repo.repository_url), "username": token.user_name,
            "password": pulumi.Output.secret(token.password),
        }))
        if region.is_hub:
            cache = ecr.Repository(
                f"{ctx.name}-build-cache",
                name=f"{ctx.namespace}/build-cache",
                # The cache tag is rewritten by every build; nothing is ever deployed from here.
                image_tag_mutability="MUTABLE",
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": lz.key.arn}],
                force_delete=True,
                tags=ctx.tags(region.name),
                opts=ctx.options(provider),
            )
            found.cache = cache.repository_url
    return found


def _acr(ctx: RegistryContext) -> CloudRegistries:
    found = CloudRegistries()
    regions = list(ctx.plan.of_cloud("azure"))
    hub = next(r for r in regions if r.is_hub)
    hub_lz, provider = ctx.landing_zones[hub.key], ctx.providers.azure
    deployer_inside = (ctx.plan.deployer_region or "").startswith("azure:")
    registry = containerregistry.Registry(
        f"{ctx.name}-acr",
        registry_name=acr_name(ctx.platform, ctx.stack),
        resource_group_name=hub_lz.resource_group.name,
        location=hub.name,
        sku={"name": "Premium"},
        admin_user_enabled=False,
        anonymous_pull_enabled=False,
        # Pulls go through private endpoints; the public endpoint admits only the image build, and
        # is off when the build runs inside an Azure network (it then pushes privately too).
        public_network_access="Disabled" if deployer_inside else "Enabled",
        network_rule_set={
            "default_action": "Deny",
            "ip_rules": [{"i_p_address_or_range": address, "action": "Allow"} for address in ctx.builder_ranges],
        },
        network_rule_bypass_options="AzureServices",
        data_endpoint_enabled=True,
        zone_redundancy="Enabled",
        policies={"retention_policy": {"days": UNTAGGED_DAYS, "status": "enabled"}},
        tags=ctx.tags(hub.name),
        opts=ctx.options(provider),
    )
    replicas = [
        containerregistry.Replication(
            f"{ctx.name}-acr-{region.name}",
            registry_name=registry.name,
            resource_group_name=hub_lz.resource_group.name,
            location=region.name,
            region_endpoint_enabled=True,
            zone_redundancy="Enabled",
            tags=ctx.tags(region.name),
            opts=ctx.options(provider),
        )
        for region in regions
        if not region.is_hub
    ]
    zone = privatedns.PrivateZone(
        f"{ctx.name}-acr-dns",
        private_zone_name=ACR_PRIVATE_ZONE,
        resource_group_name=hub_lz.resource_group.name,
        location="global",
        tags=ctx.global_tags(),
        opts=ctx.options(provider),
    )
    repository = pulumi.Output.concat(registry.login_server, f"/{ctx.namespace}/{IMAGE_NAME}")
    for region in regions:
        privatedns.VirtualNetworkLink(
            f"{ctx.name}-acr-{region.name}",
            private_zone_name=zone.name,
            resource_group_name=hub_lz.resource_group.name,
            location="global",
            virtual_network={"id": ctx.landing_zones[region.key].vnet.id},
            registration_enabled=False,
            tags=ctx.global_tags(),
            opts=ctx.options(provider),
        )
        found.regions[region.key] = RegionRegistry(repository, registry.id)
    found.push.append(PushTarget(repository, None))
    found.cache = pulumi.Output.concat(registry.login_server, f"/{ctx.namespace}/build-cache")
    found.private = PrivateRegistry(registry, zone, replicas)
    return found


def _artifact_registry(ctx: RegistryContext) -> CloudRegistries:
    found = CloudRegistries()
    provider, project = ctx.providers.gcp, ctx.settings.clouds.gcp.project
    # The service agent encrypts the repositories with each region's key; this creates it if the
    # project has not yet, and names it.
    agent = projects.ServiceIdentity(f"{ctx.name}-ar-agent", project=project, service=ARTIFACT_REGISTRY_AGENT,
                                     opts=ctx.options(provider))
    token = organizations.get_client_config_output(opts=ctx.invoke(provider)).access_token
    for region in ctx.plan.of_cloud("gcp"):
        lz, prefix = ctx.landing_zones[region.key], f"{ctx.name}-{region.cloud}-{region.name}"
        key_access = kms.CryptoKeyIAMMember(
            f"{prefix}-key",
            crypto_key_id=lz.crypto_key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=pulumi.Output.concat("serviceAccount:", agent.email),
            opts=ctx.options(provider),
        )
        repo = artifactregistry.Repository(
            prefix,
            project=project,
            location=region.name,
            repository_id=ctx.namespace,
            format="DOCKER",
            kms_key_name=lz.crypto_key.id,
            docker_config={"immutable_tags": True},
            cleanup_policies=[
                {"id": "keep-recent", "action": "KEEP", "most_recent_versions": {"keep_count": KEEP_IMAGES}},
                {"id": "drop-untagged", "action": "DELETE",
                 "condition": {"tag_state": "UNTAGGED", "older_than": f"{UNTAGGED_DAYS * 86400}s"}},
            ],
            labels=ctx.tags(region.name),
            opts=ctx.options(provider, depends_on=[key_access]),
        )
        repository = pulumi.Output.concat(region.name, "-docker.pkg.dev/", project, "/", repo.repository_id, f"/{IMAGE_NAME}")
        found.regions[region.key] = RegionRegistry(repository, repo.name)
        found.push.append(PushTarget(repository, {
            "address": f"{region.name}-docker.pkg.dev", "username": "oauth2accesstoken",
            "password": pulumi.Output.secret(token),
        }))
        if region.is_hub:
            cache = artifactregistry.Repository(
                f"{ctx.name}-build-cache",
                project=project,
                location=region.name,
                repository_id=f"{ctx.namespace}-build-cache",
                format="DOCKER",
                kms_key_name=lz.crypto_key.id,
                # The cache tag is rewritten by every build; nothing is ever deployed from here.
                docker_config={"immutable_tags": False},
                labels=ctx.tags(region.name),
                opts=ctx.options(provider, depends_on=[key_access]),
            )
            found.cache = pulumi.Output.concat(region.name, "-docker.pkg.dev/", project, "/", cache.repository_id, "/cache")
    return found


REGISTRIES: dict[Cloud, Callable[[RegistryContext], CloudRegistries]] = {
    "aws": _ecr,
    "azure": _acr,
    "gcp": _artifact_registry,
}
"""In build-cache preference order: the first configured cloud's hub keeps the cache."""


class Registries(pulumi.ComponentResource):
    """Every configured cloud's registries: `regions[key]` is where that region pulls from."""

    regions: dict[str, RegionRegistry]
    push: list[PushTarget]
    cache: pulumi.Output[str] | None
    private: PrivateRegistry | None

    def __init__(self, name: str, context: dict, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:Registries", name, None, opts)
        ctx = RegistryContext(name=name, parent=self, **context)
        self.regions, self.push, self.cache, self.private = {}, [], None, None
        for cloud, builder in REGISTRIES.items():
            if not any(True for _ in ctx.plan.of_cloud(cloud)):
                continue
            found = builder(ctx)
            self.regions.update(found.regions)
            self.push += found.push
            self.cache = self.cache or found.cache
            self.private = self.private or found.private
        self.register_outputs({"repositories": {key: r.repository for key, r in self.regions.items()}})


@dataclass(frozen=True, kw_only=True)
class RegistryEndpointsArgs:
    private: PrivateRegistry
    regions: list  # the Azure regions' plans
    landing_zones: dict
    provider: pulumi.ProviderResource
    tags: Callable[[str], dict[str, str]]


class RegistryEndpoints(pulumi.ComponentResource):
    """A private endpoint to the registry in every Azure region's VNet, so nodes pull privately.

    Declared after the VPN mesh on purpose: an endpoint is a write to its VNet, and Azure's writes
    to one VNet are serialised (`VnetWrites`), so declared earlier it would queue ahead of the hub's
    VPN gateway, the first deployment's longest step. Each region's Triton waits for its own."""

    ready: dict[str, list[pulumi.Resource]]

    def __init__(self, name: str, args: RegistryEndpointsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:RegistryEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.ready = {}
        for region in args.regions:
            lz, prefix = args.landing_zones[region.key], f"{name}-{region.name}"
            # After every replica: the endpoint gets an address for each regional data endpoint.
            endpoint = lz.vnet_writes.took(network.PrivateEndpoint(
                prefix,
                resource_group_name=lz.resource_group.name,
                location=region.name,
                subnet={"id": lz.subnets["endpoints"].id},
                private_link_service_connections=[
                    {"name": "registry", "private_link_service_id": args.private.registry.id, "group_ids": ["registry"]}
                ],
                tags=args.tags(region.name),
                opts=lz.vnet_writes.options(pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(depends_on=args.private.replicas))),
            ))
            records = network.PrivateDnsZoneGroup(
                prefix,
                resource_group_name=lz.resource_group.name,
                private_endpoint_name=endpoint.name,
                private_dns_zone_group_name="registry",
                private_dns_zone_configs=[{"name": "registry", "private_dns_zone_id": args.private.dns_zone.id}],
                opts=child,
            )
            self.ready[region.key] = [endpoint, records]
        self.register_outputs({})
