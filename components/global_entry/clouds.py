"""Everything about a region's public endpoint that differs by cloud, as one table (`CLOUD_ENTRY`).

The endpoint is the same in every cluster (Envoy Gateway behind a `LoadBalancer` Service, TLS from
cert-manager); per cloud only these differ:

- load balancer: AWS an NLB (EKS's cloud controller, `aws-load-balancer-type: nlb`); Azure the
  Standard Load Balancer (AKS's cloud provider); GCP an external passthrough Network Load Balancer,
  backend-service based (`cloud.google.com/l4-rbs`);
- static address: AWS an Elastic IP per public subnet (`aws-load-balancer-eip-allocations`); Azure a
  Standard static public IP in the landing zone's resource group (`azure-pip-name`); GCP a regional
  external address (`loadBalancerIP`);
- grants and firewall: Azure only: the cluster's control-plane identity may join the IP, and the
  nodes' NSG admits 443 to it (EKS's controller opens the node security group, GKE creates its rule);
- OIDC issuer trusted by AWS IAM for DNS-01: the EKS / AKS cluster's issuer; GKE's
  `container.googleapis.com/v1/projects/<p>/locations/<r>/clusters/<c>`.

The README's "Global entry" section has the same rows as a table.

Addresses are allocated before the Service exists, so DNS records never wait for a load balancer
and never change when one is recreated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2
from pulumi_azure_native import authorization, network
from pulumi_gcp import compute

from planning.platform import RegionPlan
from planning.regions import Cloud

HTTPS_PORT = 443
AZURE_ENTRY_PRIORITY = 200
"""Before the mesh's peer rules (300+) and its deny (4000); only the entry address and port."""
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


@dataclass(frozen=True)
class EntryContext:
    """What a cloud row needs to build a region's public address."""

    name: str
    region: RegionPlan
    tags: dict[str, str]
    landing_zone: pulumi.ComponentResource
    cluster: pulumi.ComponentResource
    provider: pulumi.ProviderResource
    parent: pulumi.Resource
    subscription_id: str | None = None
    project: str | None = None

    @property
    def opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.parent, provider=self.provider)


@dataclass(frozen=True)
class PublicAddress:
    """A region's static public addresses and how the load balancer Service takes them."""

    ips: list[pulumi.Output[str]]
    annotations: dict[str, pulumi.Input[str]]
    load_balancer_ip: pulumi.Input[str] | None = None
    ready: list[pulumi.Resource] = field(default_factory=list)
    """Grants and firewall rules the load balancer needs before the Service asks for it."""


@dataclass(frozen=True)
class CloudEntry:
    address: Callable[[EntryContext], PublicAddress]
    oidc_issuer: Callable[[EntryContext], pulumi.Input[str]]
    """Issuer of the cluster's service account tokens: AWS IAM trusts it for DNS-01 challenges."""


def _aws_address(ctx: EntryContext) -> PublicAddress:
    eips = [
        ec2.Eip(f"{ctx.name}-{subnet.zone[-1]}", domain="vpc",
                tags={**ctx.tags, "Name": f"{ctx.name}-{subnet.zone[-1]}"}, opts=ctx.opts)
        for subnet in ctx.region.subnets.named("public-")
    ]
    allocations = pulumi.Output.all(*[e.allocation_id for e in eips]).apply(",".join)
    return PublicAddress(
        ips=[e.public_ip for e in eips],
        annotations={
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            # One Elastic IP per subnet mapping: the NLB takes one public subnet per zone.
            "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": allocations,
            "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
        },
    )


def _azure_address(ctx: EntryContext) -> PublicAddress:
    lz = ctx.landing_zone
    ip = network.PublicIPAddress(
        ctx.name,
        resource_group_name=lz.resource_group.name,
        location=ctx.region.name,
        sku={"name": "Standard", "tier": "Regional"},
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        tags=ctx.tags,
        opts=ctx.opts,
    )
    # AKS attaches an IP outside its node resource group only with the right to join it.
    grant = authorization.RoleAssignment(
        f"{ctx.name}-join",
        scope=ip.id,
        principal_id=ctx.cluster.control_plane_identity.principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.concat(
            "/subscriptions/", ctx.subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/",
            NETWORK_CONTRIBUTOR,
        ),
        opts=ctx.opts,
    )
    # Floating IP: packets reach the nodes addressed to the public IP, which the nodes' NSG must admit.
    rule = network.SecurityRule(
        f"{ctx.name}-https",
        resource_group_name=lz.resource_group.name,
        network_security_group_name=lz.nodes_nsg.name,
        security_rule_name="allow-global-entry-https",
        direction="Inbound",
        access="Allow",
        priority=AZURE_ENTRY_PRIORITY,
        protocol="Tcp",
        source_address_prefix="Internet",
        source_port_range="*",
        destination_address_prefix=ip.ip_address,
        destination_port_range=str(HTTPS_PORT),
        description="The region's public inference endpoint (TLS)",
        opts=ctx.opts,
    )
    return PublicAddress(
        ips=[ip.ip_address],
        annotations={
            "service.beta.kubernetes.io/azure-pip-name": ip.name,
            "service.beta.kubernetes.io/azure-load-balancer-resource-group": lz.resource_group.name,
        },
        ready=[grant, rule],
    )


def _gcp_address(ctx: EntryContext) -> PublicAddress:
    address = compute.Address(
        ctx.name,
        region=ctx.region.name,
        address_type="EXTERNAL",
        network_tier="PREMIUM",
        description="The region's public inference endpoint",
        labels=ctx.tags,
        opts=ctx.opts,
    )
    return PublicAddress(
        ips=[address.address],
        annotations={"cloud.google.com/l4-rbs": "enabled"},
        load_balancer_ip=address.address,
    )


def _eks_issuer(ctx: EntryContext) -> pulumi.Output[str]:
    return ctx.cluster.cluster.identities.apply(lambda identities: identities[0].oidcs[0].issuer)


def _aks_issuer(ctx: EntryContext) -> pulumi.Output[str]:
    return ctx.cluster.cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url)


def _gke_issuer(ctx: EntryContext) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "https://container.googleapis.com/v1/projects/", ctx.project, "/locations/", ctx.region.name,
        "/clusters/", ctx.cluster.cluster.name,
    )


CLOUD_ENTRY: dict[Cloud, CloudEntry] = {
    "aws": CloudEntry(_aws_address, _eks_issuer),
    "azure": CloudEntry(_azure_address, _aks_issuer),
    "gcp": CloudEntry(_gcp_address, _gke_issuer),
}
