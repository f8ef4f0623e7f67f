"""Explicit providers, one place: default providers are disabled in every stack, so every
resource names the provider (and thereby the account, subscription or project) it goes to."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_aws import provider as aws_provider
from pulumi_azure_native import provider as azure_provider
from pulumi_gcp import provider as gcp_provider

from settings import Settings


@dataclass
class CloudProviders:
    aws: dict[str, pulumi.ProviderResource] = field(default_factory=dict)
    """One AWS provider per region: the region is then visible to policies on the provider."""
    azure: pulumi.ProviderResource | None = None
    gcp: pulumi.ProviderResource | None = None

    @classmethod
    def create(cls, settings: Settings, parent: pulumi.Resource) -> CloudProviders:
        opts = pulumi.ResourceOptions(parent=parent)
        providers = cls()
        if settings.clouds.aws:
            for region in settings.clouds.aws.regions:
                providers.aws[region.name] = aws_provider.Provider(
                    f"aws-{region.name}", region=region.name, opts=opts
                )
        if azure := settings.clouds.azure:
            providers.azure = azure_provider.Provider(
                "azure",
                subscription_id=azure.subscription_id,
                tenant_id=azure.tenant_id,
                location=azure.hub,
                opts=opts,
            )
        if gcp := settings.clouds.gcp:
            providers.gcp = gcp_provider.Provider(
                "gcp", project=gcp.project, region=gcp.hub, opts=opts
            )
        return providers
