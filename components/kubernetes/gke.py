"""GKE in one GCP region, in the shared VPC's regional subnetwork: private nodes, workload identity,
etcd (application-layer secrets) encryption with the region's Cloud KMS key, a release channel, a
least-privileged node service account, a system pool and a GPU pool whose driver GKE installs, and a
Google service account that the inference KSA may impersonate to read the region's bucket only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import artifactregistry, container, kms, organizations, projects, serviceaccount, storage

from components.kubernetes.common import ClusterArgs, exec_kubeconfig, kubernetes_provider
from components.landing_zone.gcp import GcpLandingZone, GcpNetwork
from components.naming import compact_name
from planning.clusters import INFERENCE_NAMESPACE, INFERENCE_SERVICE_ACCOUNT, NodePoolPlan

NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)
"""All a node needs: the minimum role GKE requires of a node service account (logging, monitoring;
GKE docs, "Configure GKE node service accounts"), which new projects no longer grant implicitly.
Images come from registries that grant their readers separately."""
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE"}


@dataclass(frozen=True, kw_only=True)
class GkeClusterArgs(ClusterArgs):
    landing_zone: GcpLandingZone
    network: GcpNetwork
    project: str
    stack: str
    """Stack-unique prefix for service account ids (project-wide names)."""
    release_channel: str = "REGULAR"
    protect: bool = False


class GkeCluster(pulumi.ComponentResource):
    cluster: container.Cluster
    gpu_pool: container.NodePool
    kubeconfig: pulumi.Output[str]
    kubernetes: pulumi.ProviderResource
    kubernetes_ready: list[pulumi.Resource]
    """What every Kubernetes object in this cluster waits for (the deployer's access)."""

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:GkeCluster", name, None, opts)
        lz, network = args.landing_zone, args.network
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        invoke = pulumi.InvokeOutputOptions(provider=args.provider, parent=self)
        labels, workload_pool = args.tags, f"{args.project}.svc.id.goog"

        nodes_account = serviceaccount.Account(
            f"{name}-nodes",
            account_id=compact_name("gkenodes", args.stack, args.region, limit=30),
            display_name=f"GKE nodes {args.region}",
            opts=child,
        )
        nodes_member = pulumi.Output.concat("serviceAccount:", nodes_account.email)
        node_roles = [
            projects.IAMMember(
                f"{name}-nodes-{role.split('.')[-1]}", project=args.project, role=role, member=nodes_member, opts=child
            )
            for role in NODE_ROLES
        ]
        # The GKE service agent encrypts and decrypts etcd secrets with the region's key.
        project_number = organizations.get_project_output(project_id=args.project, opts=invoke).number
        key_access = kms.CryptoKeyIAMMember(
            f"{name}-gke-agent",
            crypto_key_id=lz.crypto_key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=pulumi.Output.concat(
                "serviceAccount:service-", project_number, "@container-engine-robot.iam.gserviceaccount.com"
            ),
            opts=child,
        )
        access = args.access
        public = access.endpoint == "public"
        authorized = [*access.public_cidrs, *access.private_sources]
        self.cluster = container.Cluster(
            name,
            location=args.region,
            network=network.network.id,
            subnetwork=lz.subnetwork.id,
            ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
            networking_mode="VPC_NATIVE",
            min_master_version=args.kubernetes_version,
            release_channel={"channel": args.release_channel},
            # Private Service Connect (no master CIDR): the private endpoint is an address in the
            # node subnet, which the hub's Cloud Router announces over the mesh.
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": not public,
                # Callers from other regions (the deployer's, anything arriving over the VPN).
                "master_global_access_config": {"enabled": access.global_access},
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": str(c), "display_name": str(c)} for c in authorized],
                "gcp_public_cidrs_access_enabled": False,
            },
            workload_identity_config={"workload_pool": workload_pool},
            database_encryption={"state": "ENCRYPTED", "key_name": lz.crypto_key.id},
            enable_shielded_nodes=True,
            datapath_provider="ADVANCED_DATAPATH",
            # Node pools are separate resources; the default pool only exists during creation,
            # and even then runs as the least-privileged account.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config={"service_account": nodes_account.email, "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
            deletion_protection=args.protect,
            resource_labels=labels,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[key_access, *node_roles])),
        )
        # Nodes pull the platform's image from this region's Artifact Registry repository only.
        artifactregistry.RepositoryIamMember(
            f"{name}-nodes-pull",
            project=args.project,
            location=args.region,
            repository=args.registry.pull_scope,
            role="roles/artifactregistry.reader",
            member=nodes_member,
            opts=child,
        )
        system = self._node_pool(name, args.plan.system, nodes_account, labels, child)
        self.gpu_pool = self._node_pool(name, args.plan.gpu, nodes_account, labels, child)

        inference = serviceaccount.Account(
            f"{name}-inference",
            account_id=compact_name("infer", args.stack, args.region, limit=30),
            display_name=f"Inference pods {args.region}",
            opts=child,
        )
        serviceaccount.IAMMember(
            f"{name}-inference-ksa",
            service_account_id=inference.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{workload_pool}[{INFERENCE_NAMESPACE}/{INFERENCE_SERVICE_ACCOUNT}]",
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.cluster])),
        )
        self.inference_identity = inference
        # Reads go through GCS, whose service agent already holds the key: no KMS grant needed here.
        storage.BucketIAMMember(
            f"{name}-inference-models",
            bucket=lz.bucket.name,
            role="roles/storage.objectViewer",
            member=pulumi.Output.concat("serviceAccount:", inference.email),
            opts=child,
        )

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self._endpoint(public), self.cluster.master_auth.cluster_ca_certificate).apply(
                lambda a: exec_kubeconfig(a[0], f"https://{a[1]}", a[2], "gke-gcloud-auth-plugin", [])
            )
        )
        self.kubernetes = kubernetes_provider(name, self.kubeconfig, self)
        self.kubernetes_ready = []
        # GKE runs the NVIDIA device plugin itself on nodes with accelerators.
        self.register_outputs({"cluster_name": self.cluster.name, "kubeconfig": self.kubeconfig, "system_pool": system.name})

    def _endpoint(self, public: bool) -> pulumi.Output[str]:
        """The API address the deployer uses: the private endpoint unless the cluster is public."""
        if public:
            return self.cluster.endpoint
        return self.cluster.private_cluster_config.apply(lambda c: c.private_endpoint)

    def _node_pool(self, name, pool: NodePoolPlan, account: serviceaccount.Account, labels, opts) -> container.NodePool:
        accelerators = (
            [
                {
                    "type": pool.accelerator,
                    "count": pool.gpus_per_node,
                    "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"},
                }
            ]
            if pool.accelerator
            else []
        )
        return container.NodePool(
            f"{name}-{pool.name}",
            cluster=self.cluster.id,
            location=self.cluster.location,
            # Totals, not per-zone counts: the pool spans the region's zones.
            autoscaling={
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                "location_policy": "ANY",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            node_config={
                "machine_type": pool.machine_type,
                "service_account": account.email,
                "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                "spot": pool.spot,
                "labels": pool.labels,
                "taints": [{"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]} for t in pool.taints],
                "guest_accelerators": accelerators,
                "workload_metadata_config": {"mode": "GKE_METADATA"},
                "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                "resource_labels": labels,
            },
            opts=opts,
        )
