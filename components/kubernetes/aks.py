"""AKS in one Azure region: user-assigned control-plane identity, Entra ID auth with Azure RBAC and
no local accounts, etcd secrets encrypted by the region's Key Vault key (KMS, private vault mode),
API server VNet integration (private, or limited to the allow-list), Azure CNI overlay with the
landing zone's pod and service CIDRs, a system pool and a GPU user pool, and a workload identity
that may read the region's model container and nothing else."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import yaml
from pulumi_azure_native import authorization, containerservice, keyvault, managedidentity, network

from components.kubernetes.common import ClusterArgs, exec_kubeconfig, kubernetes_provider
from components.landing_zone.azure import AzureLandingZone
from planning.addressing import RegionSubnets
from planning.clusters import NodePoolPlan, dns_service_ip, inference_subject

# Built-in roles (ids are the same in every tenant).
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693265a4f9e"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The Entra application every AKS cluster's API accepts tokens for (the same in every tenant)."""


def kubelogin_kubeconfig(returned: str, login: str, tenant_id: str) -> str:
    """An exec kubeconfig for kubelogin from the cluster's user credentials. Those carry
    `--login devicecode` (pulumi-azure-native#2399), which waits for a person at a browser: never
    usable by `pulumi up`. Only the server and its CA are kept; the login is `azurecli` (your az
    session) or `workloadidentity` (a federated token, in CI)."""
    document = yaml.safe_load(returned)
    cluster = document["clusters"][0]["cluster"]
    name = document["clusters"][0]["name"]
    return exec_kubeconfig(
        name,
        cluster["server"],
        cluster["certificate-authority-data"],
        "kubelogin",
        ["get-token", "--login", login, "--server-id", AKS_AAD_SERVER_ID, "--environment", "AzurePublicCloud",
         "--tenant-id", tenant_id],
    )


@dataclass(frozen=True, kw_only=True)
class AksClusterArgs(ClusterArgs):
    landing_zone: AzureLandingZone
    subnets: RegionSubnets
    """The landing zone's address plan: pod and service CIDRs, and room for the API server subnet."""
    subscription_id: str
    tenant_id: str


def current_key_version(lz: AzureLandingZone, provider: pulumi.ProviderResource, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The key's *current* version, read on every run. AKS KMS takes a versioned key id only, and
    Key Vault rotates the key yearly: reading it here (not the version the key was created with)
    makes the first `pulumi up` after a rotation move the cluster to the new version. AKS keeps the
    previous version for decryption until the next rotation, which is why key versions live three
    years (landing zone); re-encrypt secrets after the update (README, "Key rotation")."""
    return keyvault.get_key_output(
        resource_group_name=lz.resource_group.name,
        vault_name=lz.vault.name,
        key_name=lz.key.name,
        # Wait for the key itself: before it exists there is no version to read.
        opts=pulumi.InvokeOutputOptions(provider=provider, parent=parent, depends_on=[lz.key]),
    ).key_uri_with_version


class AksCluster(pulumi.ComponentResource):
    cluster: containerservice.ManagedCluster
    gpu_pool: containerservice.AgentPool
    kubeconfig: pulumi.Output[str]
    kubernetes: pulumi.ProviderResource
    kubernetes_ready: list[pulumi.Resource]
    """What every Kubernetes object in this cluster waits for (the deployer's access)."""

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:AksCluster", name, None, opts)
        lz, subnets = args.landing_zone, args.subnets
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        rg, location, tags = lz.resource_group.name, args.region, args.tags

        def grant(suffix: str, role: str, scope, principal_id, principal_type="ServicePrincipal") -> authorization.RoleAssignment:
            return authorization.RoleAssignment(
                f"{name}-{suffix}",
                scope=scope,
                principal_id=principal_id,
                principal_type=principal_type,
                role_definition_id=pulumi.Output.concat(
                    "/subscriptions/", args.subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
                ),
                opts=child,
            )

        # KMS needs a user-assigned identity: a system-assigned one would only exist after the
        # cluster, yet must hold the key permissions before it.
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane", resource_group_name=rg, location=location, tags=tags, opts=child
        )
        self.control_plane_identity = identity
        """Acts on the cluster's Azure resources (load balancers, public IPs): grant it what it manages."""
        api_subnet = lz.vnet_writes.took(network.Subnet(
            f"{name}-apiserver",
            resource_group_name=rg,
            virtual_network_name=lz.vnet.name,
            subnet_name="aks-apiserver",
            address_prefix=str(subnets.subnet("apiserver").cidr),
            delegations=[{"name": "aks", "service_name": "Microsoft.ContainerService/managedClusters"}],
            # Azure refuses concurrent writes to one VNet: wait for the VNet's previous writer.
            opts=lz.vnet_writes.options(child),
        ))
        # The nodes' (kubelet) identity exists before the cluster, so its registry pull grant is in
        # place before any node pulls the platform's image.
        kubelet = managedidentity.UserAssignedIdentity(
            f"{name}-kubelet", resource_group_name=rg, location=location, tags=tags, opts=child
        )
        prerequisites = [
            grant("kms-crypto", KEY_VAULT_CRYPTO_USER, lz.vault.id, identity.principal_id),
            # Private vault mode: AKS creates the private endpoint to the vault itself.
            grant("kms-vault", KEY_VAULT_CONTRIBUTOR, lz.vault.id, identity.principal_id),
            grant("network", NETWORK_CONTRIBUTOR, lz.vnet.id, identity.principal_id),
            # The control plane assigns the kubelet identity to the node scale sets.
            grant("kubelet-operator", MANAGED_IDENTITY_OPERATOR, kubelet.id, identity.principal_id),
            grant("kubelet-pull", ACR_PULL, args.registry.pull_scope, kubelet.principal_id),
        ]
        access = args.access
        public = access.endpoint == "public"
        self.cluster = containerservice.ManagedCluster(
            name,
            resource_group_name=rg,
            location=location,
            dns_prefix=name,
            kubernetes_version=args.kubernetes_version,
            sku={"name": "Base", "tier": "Standard"},
            identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
            identity_profile={
                "kubeletidentity": {
                    "resource_id": kubelet.id, "client_id": kubelet.client_id, "object_id": kubelet.principal_id
                }
            },
            aad_profile={"managed": True, "enable_azure_rbac": True},
            disable_local_accounts=True,
            auto_upgrade_profile={"upgrade_channel": "patch", "node_os_upgrade_channel": "NodeImage"},
            agent_pool_profiles=[
                {**self._pool(args.plan.system, lz, args.kubernetes_version, tags), "mode": "System"}
            ],
            network_profile={
                "network_plugin": "azure",
                "network_plugin_mode": "overlay",
                "network_dataplane": "cilium",
                "network_policy": "cilium",
                "pod_cidr": str(subnets.pod_cidr),
                "service_cidr": str(subnets.service_cidr),
                "dns_service_ip": dns_service_ip(subnets.service_cidr),
                "outbound_type": "userAssignedNATGateway",
            },
            api_server_access_profile={
                "enable_vnet_integration": True,
                "subnet_id": api_subnet.id,
                "enable_private_cluster": not public,
                # A deployer outside this VNet resolves the private API through a public name.
                "enable_private_cluster_public_fqdn": access.public_fqdn,
                **({"authorized_ip_ranges": [str(c) for c in access.public_cidrs]} if public else {}),
            },
            oidc_issuer_profile={"enabled": True},
            security_profile={
                "workload_identity": {"enabled": True},
                # The vault's firewall denies public access, so KMS runs in private mode, which
                # AKS supports through API server VNet integration.
                "azure_key_vault_kms": {
                    "enabled": True,
                    "key_id": current_key_version(lz, args.provider, self),
                    "key_vault_network_access": "Private",
                    "key_vault_resource_id": lz.vault.id,
                },
            },
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=prerequisites)),
        )
        gpu = args.plan.gpu
        self.gpu_pool = containerservice.AgentPool(
            f"{name}-{gpu.name}",
            resource_group_name=rg,
            resource_name_=self.cluster.name,
            agent_pool_name=gpu.name,
            mode="User",
            **self._pool(gpu, lz, args.kubernetes_version, tags, with_name=False),
            # AKS installs the NVIDIA driver on GPU sizes; the platform deploys the device plugin.
            gpu_profile={"driver": "Install"},
            **(
                {"scale_set_priority": "Spot", "scale_set_eviction_policy": "Delete", "spot_max_price": -1}
                if gpu.spot
                else {}
            ),
            # The cluster autoscaler owns the node count once the pool exists.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["count"])),
        )

        deployer = args.deployer
        principal = deployer.azure_principal_id or authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(provider=args.provider, parent=self)
        ).object_id
        # Without it the first Kubernetes request of `pulumi up` is refused (403).
        self.kubernetes_ready = [
            grant("deployer-admin", AKS_RBAC_CLUSTER_ADMIN, self.cluster.id, principal, deployer.azure_principal_type)
        ]

        inference = managedidentity.UserAssignedIdentity(
            f"{name}-inference", resource_group_name=rg, location=location, tags=tags, opts=child
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-inference",
            resource_group_name=rg,
            resource_name_=inference.name,
            federated_identity_credential_resource_name="inference-ksa",
            issuer=self.cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url),
            subject=inference_subject(),
            audiences=["api://AzureADTokenExchange"],
            opts=child,
        )
        grant("inference-models", STORAGE_BLOB_DATA_READER, lz.container.id, inference.principal_id)
        self.inference_identity = inference

        # With local accounts off, the kubeconfig authenticates through kubelogin (Entra ID).
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg,
            resource_name=self.cluster.name,
            format="exec",
            server_fqdn="public" if access.public_fqdn else None,
            opts=pulumi.InvokeOutputOptions(provider=args.provider, parent=self),
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda k: kubelogin_kubeconfig(base64.b64decode(k[0].value).decode(), deployer.azure_login, args.tenant_id)
            )
        )
        self.kubernetes = kubernetes_provider(name, self.kubeconfig, self)
        self.register_outputs({"cluster_name": self.cluster.name, "kubeconfig": self.kubeconfig})

    @staticmethod
    def _pool(pool: NodePoolPlan, lz: AzureLandingZone, version: str, tags, with_name: bool = True) -> dict:
        return {
            **({"name": pool.name} if with_name else {}),
            "vm_size": pool.machine_type,
            "os_type": "Linux",
            "type": "VirtualMachineScaleSets",
            "orchestrator_version": version,
            "vnet_subnet_id": lz.subnets["nodes"].id,
            "enable_auto_scaling": True,
            "count": pool.min_nodes,
            "min_count": pool.min_nodes,
            "max_count": pool.max_nodes,
            "node_labels": pool.labels,
            "node_taints": [str(t) for t in pool.taints],
            "tags": tags,
        }
