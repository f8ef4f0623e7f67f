"""EKS in one AWS region: private API endpoint, secrets encrypted with the region's KMS key, managed
node groups (system, and GPU on the AL2023 NVIDIA AMI), core add-ons, and an EKS Pod Identity role
that lets the inference service account read the region's model bucket and nothing else.

EKS does not scale managed node groups by itself: the Cluster Autoscaler that components/autoscaling
deploys does, between each group's min and max size."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_aws import eks, iam
from pulumi_aws.get_caller_identity import get_caller_identity_output

from components.kubernetes.common import ClusterArgs, exec_kubeconfig, kubernetes_provider
from components.landing_zone.aws import AwsLandingZone
from planning.autoscaling import autoscaler_node_labels
from planning.clusters import INFERENCE_NAMESPACE, INFERENCE_SERVICE_ACCOUNT, NodePoolPlan

MANAGED_POLICY = "arn:aws:iam::aws:policy/"
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
AMI_TYPES = {False: "AL2023_x86_64_STANDARD", True: "AL2023_x86_64_NVIDIA"}
"""By whether the pool has GPUs: the NVIDIA AMI brings the driver and container toolkit."""
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE"}
# The CNI and kube-proxy must run before nodes turn Ready; CoreDNS needs nodes to run on.
NODE_ADDONS = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
WORKLOAD_ADDONS = ("coredns",)


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs(ClusterArgs):
    landing_zone: AwsLandingZone


def _assume_role(service: str, *actions: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}],
        }
    )


def bucket_read_policy(bucket_arn: str, key_arn: str) -> str:
    """Read the model bucket, and decrypt with its key: nothing else, nowhere else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ListModels", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
                {"Sid": "ReadModels", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"},
                {"Sid": "DecryptModels", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn},
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    cluster: eks.Cluster
    gpu_pool: eks.NodeGroup
    kubeconfig: pulumi.Output[str]
    kubernetes: pulumi.ProviderResource
    kubernetes_ready: list[pulumi.Resource]
    """What every Kubernetes object in this cluster waits for (the deployer's access)."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:EksCluster", name, None, opts)
        lz = args.landing_zone
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        tags = args.tags
        # IAM is global: a residency-zone tag would claim a location the role does not have.
        iam_tags = {k: v for k, v in tags.items() if k != "residency-zone"}

        cluster_role, cluster_policies = self._role(f"{name}-cluster", "eks.amazonaws.com", CLUSTER_POLICIES, iam_tags, child)
        node_role, node_policies = self._role(f"{name}-nodes", "ec2.amazonaws.com", NODE_POLICIES, iam_tags, child)
        subnet_ids = [s.id for s in lz.private_subnets]
        access = args.access
        public = access.endpoint == "public"
        self.cluster = eks.Cluster(
            name,
            role_arn=cluster_role.arn,
            version=args.kubernetes_version,
            vpc_config={
                "subnet_ids": subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": public,
                **({"public_access_cidrs": [str(c) for c in access.public_cidrs]} if public else {}),
            },
            encryption_config={"provider": {"key_arn": lz.key.arn}, "resources": ["secrets"]},
            # Access entries only (no aws-auth ConfigMap). The deployer's admin entry is explicit
            # below: an implicit creator entry would follow whoever happened to create the cluster.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False},
            # Add-ons are managed below, so EKS must not install unmanaged copies first.
            bootstrap_self_managed_addons=False,
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=cluster_policies)),
        )
        self.node_security_group_id = self.cluster.vpc_config.cluster_security_group_id
        node_addons = [self._addon(name, addon, tags, child) for addon in NODE_ADDONS]
        pools = {
            pool.name: self._node_group(name, pool, node_role, subnet_ids, tags, child, [*node_addons, *node_policies])
            for pool in (args.plan.system, args.plan.gpu)
        }
        self.gpu_pool = pools["gpu"]
        for addon in WORKLOAD_ADDONS:
            self._addon(name, addon, tags, child, depends_on=[pools["system"]])

        inference_role = iam.Role(
            f"{name}-inference",
            assume_role_policy=_assume_role("pods.eks.amazonaws.com", "sts:AssumeRole", "sts:TagSession"),
            tags=iam_tags,
            opts=child,
        )
        iam.RolePolicy(
            f"{name}-inference-models",
            role=inference_role.id,
            policy=pulumi.Output.all(lz.bucket.arn, lz.key.arn).apply(lambda a: bucket_read_policy(*a)),
            opts=child,
        )
        self.inference_identity = inference_role
        eks.PodIdentityAssociation(
            f"{name}-inference",
            cluster_name=self.cluster.name,
            namespace=INFERENCE_NAMESPACE,
            service_account=INFERENCE_SERVICE_ACCOUNT,
            role_arn=inference_role.arn,
            tags=tags,
            opts=child,
        )

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.data).apply(
                lambda a: exec_kubeconfig(
                    a[0], a[1], a[2], "aws", ["eks", "get-token", "--cluster-name", a[0], "--region", args.region]
                )
            )
        )
        self.kubernetes = kubernetes_provider(name, self.kubeconfig, self)
        self.kubernetes_ready = [self._deployer_admin(name, args, child)]
        self.register_outputs({"cluster_name": self.cluster.name, "kubeconfig": self.kubeconfig})

    def _deployer_admin(self, name: str, args: EksClusterArgs, opts) -> eks.AccessPolicyAssociation:
        """Cluster admin for the deployer, before any Kubernetes object: the configured role, else the
        IAM role behind the caller's session (an access entry names a role, not an STS session)."""
        principal = args.deployer.aws_principal_arn
        if principal is None:
            invoke = pulumi.InvokeOutputOptions(parent=self, provider=args.provider)
            caller = get_caller_identity_output(opts=invoke)
            principal = iam.get_session_context_output(arn=caller.arn, opts=invoke).issuer_arn
        entry = eks.AccessEntry(
            f"{name}-deployer", cluster_name=self.cluster.name, principal_arn=principal, type="STANDARD",
            tags=args.tags, opts=opts,
        )
        return eks.AccessPolicyAssociation(
            f"{name}-deployer-admin",
            cluster_name=self.cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=CLUSTER_ADMIN_POLICY,
            access_scope={"type": "cluster"},
            opts=opts,
        )

    def _role(self, name, service, policies, tags, opts) -> tuple[iam.Role, list[iam.RolePolicyAttachment]]:
        role = iam.Role(name, assume_role_policy=_assume_role(service, "sts:AssumeRole"), tags=tags, opts=opts)
        return role, [
            iam.RolePolicyAttachment(f"{name}-{policy}", role=role.name, policy_arn=MANAGED_POLICY + policy, opts=opts)
            for policy in policies
        ]

    def _addon(self, name, addon, tags, opts, depends_on=()) -> eks.Addon:
        return eks.Addon(
            f"{name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )

    def _node_group(self, name, pool: NodePoolPlan, role, subnet_ids, tags, opts, depends_on) -> eks.NodeGroup:
        return eks.NodeGroup(
            f"{name}-{pool.name}",
            cluster_name=self.cluster.name,
            node_role_arn=role.arn,
            subnet_ids=subnet_ids,
            ami_type=AMI_TYPES[pool.gpus_per_node > 0],
            instance_types=[pool.machine_type],
            capacity_type="SPOT" if pool.spot else "ON_DEMAND",
            disk_size=100 if pool.gpus_per_node else 50,
            scaling_config={"min_size": pool.min_nodes, "max_size": pool.max_nodes, "desired_size": pool.min_nodes},
            # GPU nodes also carry the Cluster Autoscaler's GPU label (planning/autoscaling.py).
            labels={**pool.labels, **autoscaler_node_labels("aws", pool)},
            taints=[{"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]} for t in pool.taints],
            tags=tags,
            # The Cluster Autoscaler owns the desired size once the pool exists.
            opts=pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(depends_on=depends_on, ignore_changes=["scalingConfig.desiredSize"]),
            ),
        )
