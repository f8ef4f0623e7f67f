"""Azure landing zone: resource group, VNet with subnets and a NAT gateway, a Key Vault (RBAC,
purge protection, firewalled) holding a rotating key, and a storage account encrypted with that key
through a user-assigned identity (no public blob access, TLS 1.2, no shared keys)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, keyvault, managedidentity, network, resources, storage

from components.landing_zone import LandingZoneArgs, protected
from components.naming import compact_name
from planning.addressing import azure_subnets

# Built-in role: lets the storage account wrap and unwrap its data keys with the vault key.
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"


@dataclass(frozen=True, kw_only=True)
class AzureLandingZoneArgs(LandingZoneArgs):
    subscription_id: str
    tenant_id: str
    stack: str


class AzureLandingZone(pulumi.ComponentResource):
    resource_group: resources.ResourceGroup
    vnet: network.VirtualNetwork
    subnets: dict[str, network.Subnet]
    vault: keyvault.Vault
    key: keyvault.Key
    storage_account: storage.StorageAccount

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
        subnet_options = {
            "nodes": {"nat_gateway": {"id": nat.id}, "network_security_group": {"id": self.nodes_nsg.id}},
            "endpoints": {"private_endpoint_network_policies": "Enabled"},
            "GatewaySubnet": {},
        }
        # The API server subnet is delegated to AKS, so the cluster component owns it.
        owned = ["nodes", "endpoints"] + (["GatewaySubnet"] if args.is_hub else [])
        self.subnets = {}
        for subnet in map(plan.subnet, owned):
            self.subnets[subnet.name] = network.Subnet(
                f"{name}-{subnet.name.lower()}",
                resource_group_name=rg_name,
                virtual_network_name=self.vnet.name,
                subnet_name=subnet.name,
                address_prefix=str(subnet.cidr),
                **subnet_options[subnet.name],
                opts=child,
            )

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
                "rotation_policy": {
                    "attributes": {"expiry_time": "P2Y"},
                    "lifetime_actions": [
                        {"action": {"type": "rotate"}, "trigger": {"time_after_create": "P365D"}},
                        {"action": {"type": "notify"}, "trigger": {"time_before_expiry": "P30D"}},
                    ],
                },
            },
            tags=tags,
            opts=protected(args, self, provider=args.provider),
        )

        identity = managedidentity.UserAssignedIdentity(
            f"{name}-storage", resource_group_name=rg_name, location=location, tags=tags, opts=child
        )
        key_access = authorization.RoleAssignment(
            f"{name}-storage-key",
            scope=self.vault.id,
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
            identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
            encryption={
                "key_source": "Microsoft.Keyvault",
                "key_vault_properties": {"key_name": self.key.name, "key_vault_uri": self.vault.properties.vault_uri},
                "encryption_identity": {"encryption_user_assigned_identity": identity.id},
                "require_infrastructure_encryption": True,
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            tags=tags,
            opts=protected(args, self, provider=args.provider, depends_on=[key_access]),
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
        self.model_store_url = pulumi.Output.concat(
            "https://", self.storage_account.name, ".blob.core.windows.net/", self.container.name
        )
        """Where this region's inference pods read models (the image's MODEL_STORE_URL)."""
        self.register_outputs({"vnet_id": self.vnet.id, "key_id": self.key.id, "model_store_url": self.model_store_url})
