"""Azure landing zone: resource group, VNet with subnets and a NAT gateway, a Key Vault (RBAC,
purge protection, firewalled) holding a rotating key, and a storage account encrypted with that key
through a user-assigned identity (no public network access, no public blob access, TLS 1.2, no
shared keys), reached through a private endpoint in the region's VNet.

Two Azure behaviours shape the order of creation:

* Writes to one VNet are serialised by Azure; concurrent ones fail with AnotherOperationInProgress.
  `VnetWrites` makes every writer of a VNet (its subnets here, the AKS API server subnet, the
  storage private endpoint, the hub's VPN gateway and the peerings) wait for the previous one.
* A role assignment takes effect only after it propagates (minutes, not seconds): the storage
  account's identity is granted on the key first, and the account waits `KEY_GRANT_PROPAGATION`
  after the grant (pulumi/pulumi#16893, Azure/bicep#16601: depending on the grant alone fails the
  first `pulumi up` with KeyVaultAuthenticationFailure).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_time
from pulumi_azure_native import authorization, keyvault, managedidentity, network, privatedns, resources, storage

from components.landing_zone import LandingZoneArgs, protected
from components.naming import compact_name
from planning.addressing import azure_subnets

# Built-in role: lets the storage account wrap and unwrap its data keys with the vault key.
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"

KEY_GRANT_PROPAGATION = "120s"
"""How long the storage account waits after its identity is granted on the key. Key Vault RBAC
usually propagates within a minute; if Azure is slower, the first `pulumi up` fails on the account
alone and the next one completes it."""

BLOB_PRIVATE_DNS_ZONE = "privatelink.blob.core.windows.net"
"""The zone Azure resolves `<account>.blob.core.windows.net` through once it has a private endpoint."""


class VnetWrites:
    """The writes to one VNet, in the order they were declared: each writer waits for the previous
    one, so Azure never sees two at once. Writers in other components (the AKS API server subnet,
    the mesh's gateway and peerings) join the same queue through the landing zone."""

    def __init__(self, vnet: pulumi.Resource):
        self.last: pulumi.Resource = vnet

    def options(self, opts: pulumi.ResourceOptions, *also: VnetWrites) -> pulumi.ResourceOptions:
        """`opts` plus waiting for the last write to this VNet (and to the VNets in `also`, for a
        write that touches several, like a peering)."""
        return pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[queue.last for queue in (self, *also)])
        )

    def took(self, resource: pulumi.Resource, *also: VnetWrites) -> pulumi.Resource:
        """Record `resource` as the latest write to this VNet (and to those in `also`)."""
        for queue in (self, *also):
            queue.last = resource
        return resource


def global_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags for a global resource (a private DNS zone): located in no region, so in no residency zone."""
    return {k: v for k, v in tags.items() if k != "residency-zone"}


@dataclass(frozen=True, kw_only=True)
class AzureLandingZoneArgs(LandingZoneArgs):
    subscription_id: str
    tenant_id: str
    stack: str


class AzureLandingZone(pulumi.ComponentResource):
    resource_group: resources.ResourceGroup
    vnet: network.VirtualNetwork
    vnet_writes: VnetWrites
    """Every later writer of this VNet (other components too) goes through this queue."""
    subnets: dict[str, network.Subnet]
    vault: keyvault.Vault
    key: keyvault.Key
    storage_account: storage.StorageAccount
    blob_endpoint: network.PrivateEndpoint

    def __init__(self, name: str, args: AzureLandingZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:AzureLandingZone", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags, location = args.tags, args.region
        plan = azure_subnets(args.cidr)

        self.resource_group = resources.ResourceGroup(f"{name}-rg", location=location, tags=tags, opts=child)
        rg_name = self.resource_group.name

        nat_ip = network.PublicIPAddress(
            f"{name}-nat",
            resource_group_name=rg_name,
            location=location,
            sku={"name": "Standard"},
            public_ip_allocation_method="Static",
            tags=tags,
            opts=child,
        )
        self.egress_ips = [nat_ip.ip_address]
        """The region's public egress address (its NAT gateway): what allow-lists elsewhere admit."""
        nat = network.NatGateway(
            f"{name}-nat",
            resource_group_name=rg_name,
            location=location,
            sku={"name": "Standard"},
            public_ip_addresses=[{"id": nat_ip.id}],
            tags=tags,
            opts=child,
        )
        self.nodes_nsg = network.NetworkSecurityGroup(
            f"{name}-nodes", resource_group_name=rg_name, location=location, tags=tags, opts=child
        )
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=rg_name,
            location=location,
            address_space={"address_prefixes": [str(plan.address_space)]},
            tags=tags,
            # Subnets are separate resources below; without this the VNet would delete them.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["subnets"])),
        )
        self.vnet_writes = VnetWrites(self.vnet)
        subnet_options = {
            "nodes": {"nat_gateway": {"id": nat.id}, "network_security_group": {"id": self.nodes_nsg.id}},
            "endpoints": {"private_endpoint_network_policies": "Enabled"},
            "GatewaySubnet": {},
        }
        # The API server subnet is delegated to AKS, so the cluster component owns it.
        owned = ["nodes", "endpoints"] + (["GatewaySubnet"] if args.is_hub else [])
        self.subnets = {}
        for subnet in map(plan.subnet, owned):
            self.subnets[subnet.name] = self.vnet_writes.took(network.Subnet(
                f"{name}-{subnet.name.lower()}",
                resource_group_name=rg_name,
                virtual_network_name=self.vnet.name,
                subnet_name=subnet.name,
                address_prefix=str(subnet.cidr),
                **subnet_options[subnet.name],
                opts=self.vnet_writes.options(child),
            ))

        self.vault = keyvault.Vault(
            f"{name}-kv",
            vault_name=compact_name("kv", args.stack, location, limit=24),
            resource_group_name=rg_name,
            location=location,
            properties={
                "tenant_id": args.tenant_id,
                "sku": {"family": "A", "name": "premium"},
                "enable_rbac_authorization": True,
                "enable_purge_protection": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": 90,
                # Key operations by Pulumi go through ARM, which the vault firewall does not gate;
                # data-plane access stays limited to trusted Azure services (storage CMK).
                "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
            },
            tags=tags,
            opts=protected(args, self, provider=args.provider),
        )
        self.key = keyvault.Key(
            f"{name}-key",
            resource_group_name=rg_name,
            vault_name=self.vault.name,
            key_name="models",
            properties={
                "kty": "RSA-HSM",
                "key_size": 3072,
                "key_ops": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                # Yearly rotation; each version lives three years, because AKS KMS keeps decrypting
                # with the previous version until the next rotation (see AksCluster).
                "rotation_policy": {
                    "attributes": {"expiry_time": "P3Y"},
                    "lifetime_actions": [
                        {"action": {"type": "rotate"}, "trigger": {"time_after_create": "P365D"}},
                        {"action": {"type": "notify"}, "trigger": {"time_before_expiry": "P30D"}},
                    ],
                },
            },
            tags=tags,
            opts=protected(args, self, provider=args.provider),
        )

        # The account's identity may use this key, and only this key, before the account exists.
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-storage", resource_group_name=rg_name, location=location, tags=tags, opts=child
        )
        key_access = authorization.RoleAssignment(
            f"{name}-storage-key",
            scope=self.key.id,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.concat(
                "/subscriptions/",
                args.subscription_id,
                "/providers/Microsoft.Authorization/roleDefinitions/",
                KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            ),
            opts=child,
        )
        # Default providers are disabled, so even the local time provider is explicit.
        time = pulumiverse_time.Provider(f"{name}-time", opts=pulumi.ResourceOptions(parent=self))
        key_access_propagated = pulumiverse_time.Sleep(
            f"{name}-storage-key",
            create_duration=KEY_GRANT_PROPAGATION,
            # A new grant (new identity or key) waits again.
            triggers={"grant": key_access.id},
            opts=pulumi.ResourceOptions(parent=self, provider=time, depends_on=[key_access]),
        )
        self.storage_account = storage.StorageAccount(
            f"{name}-models",
            account_name=compact_name("models", args.stack, location, limit=24),
            resource_group_name=rg_name,
            location=location,
            kind="StorageV2",
            # Zone-redundant inside the region; geo-redundant SKUs would copy data to a paired
            # region that residency rules have not approved.
            sku={"name": "Standard_ZRS"},
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            # Data-plane access only through the private endpoint below. Management-plane
            # operations (containers, blob service properties, role assignments) go through ARM
            # and keep working.
            public_network_access="Disabled",
            network_rule_set={"default_action": "Deny", "bypass": "AzureServices"},
            identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
            encryption={
                "key_source": "Microsoft.Keyvault",
                # No key version: the account follows the key's yearly rotation by itself.
                "key_vault_properties": {"key_name": self.key.name, "key_vault_uri": self.vault.properties.vault_uri},
                "encryption_identity": {"encryption_user_assigned_identity": identity.id},
                "require_infrastructure_encryption": True,
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            tags=tags,
            opts=protected(args, self, provider=args.provider, depends_on=[key_access_propagated]),
        )
        # Object replication needs versioning on both accounts and the change feed on the source.
        self.blob_service = storage.BlobServiceProperties(
            f"{name}-models",
            account_name=self.storage_account.name,
            resource_group_name=rg_name,
            blob_services_name="default",
            is_versioning_enabled=True,
            change_feed={"enabled": True, "retention_in_days": 7},
            delete_retention_policy={"enabled": True, "days": 30},
            container_delete_retention_policy={"enabled": True, "days": 30},
            opts=child,
        )
        self.container = storage.BlobContainer(
            f"{name}-models",
            account_name=self.storage_account.name,
            resource_group_name=rg_name,
            container_name="models",
            public_access="None",
            opts=child,
        )
        self.blob_endpoint = self._private_blob_endpoint(name, args, child)
        self.model_store_url = pulumi.Output.concat(
            "https://", self.storage_account.name, ".blob.core.windows.net/", self.container.name
        )
        """Where this region's inference pods read models (the image's MODEL_STORE_URL); inside the
        VNet the name resolves to the private endpoint."""
        self.register_outputs({"vnet_id": self.vnet.id, "key_id": self.key.id, "model_store_url": self.model_store_url})

    def _private_blob_endpoint(
        self, name: str, args: AzureLandingZoneArgs, child: pulumi.ResourceOptions
    ) -> network.PrivateEndpoint:
        """The account's blob service as an address in the endpoints subnet, and the private DNS
        zone (linked to this VNet) that makes the account's own name resolve to it."""
        rg_name = self.resource_group.name
        zone = privatedns.PrivateZone(
            f"{name}-blob-dns",
            resource_group_name=rg_name,
            private_zone_name=BLOB_PRIVATE_DNS_ZONE,
            location="global",
            tags=global_tags(args.tags),
            opts=child,
        )
        privatedns.VirtualNetworkLink(
            f"{name}-blob-dns",
            resource_group_name=rg_name,
            private_zone_name=zone.name,
            virtual_network={"id": self.vnet.id},
            registration_enabled=False,
            # Storage accounts this zone has no record for (another region's, a partner's) still
            # resolve through public DNS instead of failing.
            resolution_policy="NxDomainRedirect",
            location="global",
            tags=global_tags(args.tags),
            opts=child,
        )
        endpoint = self.vnet_writes.took(network.PrivateEndpoint(
            f"{name}-models-blob",
            resource_group_name=rg_name,
            location=args.region,
            subnet={"id": self.subnets["endpoints"].id},
            private_link_service_connections=[
                {"name": "blob", "private_link_service_id": self.storage_account.id, "group_ids": ["blob"]}
            ],
            tags=args.tags,
            # It adds an interface to the endpoints subnet: a write to the VNet like any other.
            opts=self.vnet_writes.options(child),
        ))
        network.PrivateDnsZoneGroup(
            f"{name}-models-blob",
            resource_group_name=rg_name,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="blob",
            private_dns_zone_configs=[{"name": "blob", "private_dns_zone_id": zone.id}],
            opts=child,
        )
        return endpoint
