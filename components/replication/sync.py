"""A scheduled sync job into S3 or Azure Blob from another cloud, where no managed service copies.

The job is a CronJob in the destination region's cluster, in its own namespace (`model-sync`,
restricted Pod Security), on the system pool. It runs `rclone sync` from the platform's own
inference image (pinned by digest, from the platform's registries, non-root 10001, which ships
rclone), hardened like the Triton pods: read-only root filesystem, no capabilities, no service
account token of its own. Nothing in it is secret and no key is stored anywhere: each side
authenticates with short-lived tokens.

* **Writing** (the destination, `WRITERS`): the cluster's own workload identity. EKS: an IAM role
  through EKS Pod Identity that may list, read, write and delete in the destination bucket and use
  the destination key through S3 only; rclone asks for SSE-KMS with that key on every object. AKS:
  a user-assigned identity federated with the cluster's OIDC issuer, `Storage Blob Data
  Contributor` on the destination container; the account encrypts with the region's key.
* **Reading** (the source, `READERS`) through federation with the *destination cluster's* OIDC
  issuer. GCS: a workload identity pool whose provider trusts that issuer for the job's service
  account only, and a service account (viewer on the source bucket) it may impersonate. S3: an IAM
  OIDC provider for the issuer and a role for the job's subject that reads the source bucket and
  decrypts with the source key through S3 only. Azure Blob: a user-assigned identity with a
  federated credential for the job's subject, reader on the source container (into another Azure
  account, the writer identity itself is given the read).

Reading a GCS or Azure source needs no key grant: the source service decrypts with its own key.
The CronJob is annotated with both ends (`cloud:region`), which the residency policy judges.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import eks, iam
from pulumi_azure_native import authorization
from pulumi_gcp import iam as gcp_iam
from pulumi_gcp import serviceaccount, storage
from pulumi_kubernetes.batch.v1 import CronJob
from pulumi_kubernetes.core.v1 import ConfigMap, Namespace, ServiceAccount
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from components.kubernetes.common import kubernetes_options
from components.naming import compact_name
from components.replication.common import (
    AZURE_TOKEN_AUDIENCE,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    End,
    azure_role,
    federated_container_access,
    global_tags,
    iam_document,
    issuer_path,
    s3_reader,
)
from components.serving.triton import container_security, pod_security
from planning.clusters import POOL_LABEL
from planning.regions import Cloud
from planning.replication import (
    DESTINATION_ANNOTATION,
    SOURCE_ANNOTATION,
    SYNC_COMPONENT_LABEL,
    SYNC_NAMESPACE,
    SYNC_SCHEDULE,
    SYNC_SERVICE_ACCOUNT,
    sync_subject,
)
from planning.serving import SCRATCH_DIR

RCLONE = "/usr/local/bin/rclone"
LABELS = {"app.kubernetes.io/name": "model-sync", SYNC_COMPONENT_LABEL[0]: SYNC_COMPONENT_LABEL[1]}
TOKENS_DIR = "/var/run/secrets/model-sync"
"""Projected service account tokens, one per federated audience."""
FILES_DIR = "/etc/model-sync"
"""Non-secret client configuration (the GCP external-account credential file)."""
AWS_STS_AUDIENCE = "sts.amazonaws.com"
SYNC_HOURS = 6
"""A run that takes longer is stopped (a first copy of large models may need a few runs)."""


@dataclass(frozen=True)
class SyncContext:
    stack: str
    tenant_id: str | None
    subscription_id: str | None
    gcp_project: str | None
    gcp_project_number: pulumi.Output[str] | None


@dataclass
class PodAccess:
    """What one side of the copy contributes to the sync pod: an rclone remote and how it signs in."""

    remote: pulumi.Output[str]
    env: list[dict] = field(default_factory=list)
    tokens: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Projected service account tokens: file name under TOKENS_DIR -> audience."""
    files: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Non-secret files under FILES_DIR (a ConfigMap)."""
    account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    ready: list[pulumi.Resource] = field(default_factory=list)
    """The grants the job waits for."""
    identity: Any = None
    """The writer's own cloud identity, when a reader of the same cloud can reuse it."""


def _rclone_value(value: str) -> str:
    """An rclone connection-string parameter value, quoted (ARNs contain colons)."""
    return f'"{value}"'


# --- writing: the destination cluster's own workload identity -------------------------------------


def _pod_identity_trust() -> str:
    return iam_document({
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        # EKS Pod Identity tags the session with the pod's namespace and service account.
        "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": SYNC_NAMESPACE,
                                       "aws:RequestTag/kubernetes-service-account": SYNC_SERVICE_ACCOUNT}},
    })


def s3_write_policy(bucket_arn: str, key_arn: str, region: str) -> str:
    """Mirror into one bucket (list, compare, write, delete) with its key, through S3 only."""
    return iam_document(
        {"Sid": "ListDestination", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "WriteDestination", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
         "Resource": f"{bucket_arn}/*"},
        # Multipart uploads of SSE-KMS objects also decrypt their data keys.
        {"Sid": "EncryptWithDestinationKey", "Effect": "Allow",
         "Action": ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"], "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
    )


def _s3_writer(parent: pulumi.Resource, name: str, dst: End, ctx: SyncContext, issuer: pulumi.Output[str]) -> PodAccess:
    lz = dst.landing_zone
    opts = pulumi.ResourceOptions(parent=parent, provider=dst.provider)
    role = iam.Role(
        f"{name}-writer",
        name=compact_name("syncwrite", ctx.stack, dst.key, limit=64),
        assume_role_policy=_pod_identity_trust(),
        tags=global_tags(dst.tags),
        opts=opts,
    )
    policy = iam.RolePolicy(
        f"{name}-writer",
        role=role.id,
        policy=pulumi.Output.all(lz.bucket.arn, lz.key.arn).apply(lambda a: s3_write_policy(a[0], a[1], dst.name)),
        opts=opts,
    )
    association = eks.PodIdentityAssociation(
        f"{name}-writer",
        cluster_name=dst.cluster.cluster.name,
        namespace=SYNC_NAMESPACE,
        service_account=SYNC_SERVICE_ACCOUNT,
        role_arn=role.arn,
        tags=dst.tags,
        opts=opts,
    )
    remote = pulumi.Output.concat(
        ":s3,provider=AWS,env_auth=true,region=", dst.name,
        # The role may not create or inspect buckets; every object is SSE-KMS with the region's key.
        ",no_check_bucket=true,server_side_encryption=aws:kms,sse_kms_key_id=",
        lz.key.arn.apply(_rclone_value), ":", lz.bucket.bucket,
    )
    return PodAccess(remote, ready=[policy, association], identity=role)


def _blob_writer(parent: pulumi.Resource, name: str, dst: End, ctx: SyncContext, issuer: pulumi.Output[str]) -> PodAccess:
    lz = dst.landing_zone
    access = federated_container_access(
        parent, f"{name}-writer", dst, role=azure_role(ctx.subscription_id or "", STORAGE_BLOB_DATA_CONTRIBUTOR),
        credential="model-sync", issuer=issuer, subject=sync_subject(),
    )
    remote = pulumi.Output.concat(":azureblob,account=", lz.storage_account.name, ",env_auth=true:", lz.container.name)
    # The AKS workload identity webhook injects the client id, tenant and token for this identity.
    return PodAccess(
        remote,
        account_annotations={"azure.workload.identity/client-id": access.identity.client_id},
        pod_labels={"azure.workload.identity/use": "true"},
        ready=access.ready,
        identity=access.identity,
    )


# --- reading: federation with the destination cluster's issuer ------------------------------------


def _gcs_reader(parent, name: str, src: End, dst: End, ctx: SyncContext, issuer, writer: PodAccess) -> PodAccess:
    project, number = ctx.gcp_project, ctx.gcp_project_number
    opts = pulumi.ResourceOptions(parent=parent, provider=src.provider)
    pool_id = compact_name("sync", ctx.stack, dst.key, limit=32)
    provider_id = "cluster"
    pool = gcp_iam.WorkloadIdentityPool(
        f"{name}-pool",
        workload_identity_pool_id=pool_id,
        project=project,
        description=f"The model sync job of the {dst.key} cluster",
        opts=opts,
    )
    pool_path = pulumi.Output.concat(
        "projects/", number, "/locations/global/workloadIdentityPools/", pool.workload_identity_pool_id
    )
    audience = pulumi.Output.concat("https://iam.googleapis.com/", pool_path, "/providers/", provider_id)
    trust = gcp_iam.WorkloadIdentityPoolProvider(
        f"{name}-issuer",
        workload_identity_pool_id=pool.workload_identity_pool_id,
        workload_identity_pool_provider_id=provider_id,
        project=project,
        oidc={"issuer_uri": issuer, "allowed_audiences": [audience]},
        attribute_mapping={"google.subject": "assertion.sub"},
        # Only the sync job's service account, not every pod of that cluster.
        attribute_condition=f"assertion.sub == '{sync_subject()}'",
        opts=opts,
    )
    account = serviceaccount.Account(
        f"{name}-reader",
        account_id=compact_name("sync", ctx.stack, dst.key, limit=30),
        display_name=f"Model sync into {dst.key}",
        project=project,
        opts=opts,
    )
    impersonation = serviceaccount.IAMMember(
        f"{name}-reader-federation",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=pulumi.Output.concat("principal://iam.googleapis.com/", pool_path, "/subject/", sync_subject()),
        opts=opts,
    )
    viewer = storage.BucketIAMMember(
        f"{name}-reader",
        bucket=src.landing_zone.bucket.name,
        role="roles/storage.objectViewer",
        member=pulumi.Output.concat("serviceAccount:", account.email),
        opts=opts,
    )
    credentials = pulumi.Output.all(pool_path, account.email).apply(lambda a: json.dumps({
        "type": "external_account",
        "audience": f"//iam.googleapis.com/{a[0]}/providers/{provider_id}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "service_account_impersonation_url":
            f"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/{a[1]}:generateAccessToken",
        "credential_source": {"file": f"{TOKENS_DIR}/gcp-token", "format": {"type": "text"}},
    }, sort_keys=True))
    return PodAccess(
        pulumi.Output.concat(":gcs,env_auth=true,bucket_policy_only=true:", src.landing_zone.bucket.name),
        env=[{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": f"{FILES_DIR}/gcp-credentials.json"}],
        tokens={"gcp-token": audience},
        files={"gcp-credentials.json": credentials},
        ready=[trust, impersonation, viewer],
    )


def web_identity_trust(provider_arn: str, issuer: str) -> str:
    path = issuer_path(issuer)
    return iam_document({
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{path}:sub": sync_subject(), f"{path}:aud": AWS_STS_AUDIENCE}},
    })


def _s3_reader(parent, name: str, src: End, dst: End, ctx: SyncContext, issuer, writer: PodAccess) -> PodAccess:
    lz = src.landing_zone
    opts = pulumi.ResourceOptions(parent=parent, provider=src.provider)
    oidc = iam.OpenIdConnectProvider(
        f"{name}-issuer", url=issuer, client_id_lists=[AWS_STS_AUDIENCE], tags=global_tags(dst.tags), opts=opts
    )
    role, policy = s3_reader(
        parent, f"{name}-reader", src, role_name=compact_name("syncread", ctx.stack, dst.key, limit=64),
        trust=pulumi.Output.all(oidc.arn, issuer).apply(lambda a: web_identity_trust(*a)),
    )
    return PodAccess(
        pulumi.Output.concat(":s3,provider=AWS,env_auth=true,region=", src.name, ":", lz.bucket.bucket),
        env=[
            {"name": "AWS_ROLE_ARN", "value": role.arn},
            {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": f"{TOKENS_DIR}/aws-token"},
            {"name": "AWS_ROLE_SESSION_NAME", "value": "model-sync"},
            {"name": "AWS_REGION", "value": src.name},
        ],
        tokens={"aws-token": AWS_STS_AUDIENCE},
        ready=[policy],
    )


def _blob_reader(parent, name: str, src: End, dst: End, ctx: SyncContext, issuer, writer: PodAccess) -> PodAccess:
    lz = src.landing_zone
    opts = pulumi.ResourceOptions(parent=parent, provider=src.provider)
    remote = pulumi.Output.concat(":azureblob,account=", lz.storage_account.name, ",env_auth=true:", lz.container.name)
    role = azure_role(ctx.subscription_id or "", STORAGE_BLOB_DATA_READER)
    if dst.region.cloud == "azure":
        # Into another Azure account: one Entra identity in the pod, so the writer also reads.
        reader = authorization.RoleAssignment(
            f"{name}-reader", scope=lz.container.id, principal_id=writer.identity.principal_id,
            principal_type="ServicePrincipal", role_definition_id=role, opts=opts,
        )
        return PodAccess(remote, ready=[reader])
    access = federated_container_access(
        parent, f"{name}-reader", src, role=role, credential="model-sync", issuer=issuer, subject=sync_subject()
    )
    return PodAccess(
        remote,
        env=[
            {"name": "AZURE_CLIENT_ID", "value": access.identity.client_id},
            {"name": "AZURE_TENANT_ID", "value": ctx.tenant_id},
            {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": f"{TOKENS_DIR}/azure-token"},
        ],
        tokens={"azure-token": AZURE_TOKEN_AUDIENCE},
        ready=access.ready,
    )


Writer = Callable[[pulumi.Resource, str, End, SyncContext, pulumi.Output[str]], PodAccess]
Reader = Callable[[pulumi.Resource, str, End, End, SyncContext, pulumi.Output[str], PodAccess], PodAccess]

WRITERS: dict[Cloud, Writer] = {"aws": _s3_writer, "azure": _blob_writer}
"""Into S3 or Azure Blob; GCS destinations use Storage Transfer Service instead."""
READERS: dict[Cloud, Reader] = {"gcp": _gcs_reader, "aws": _s3_reader, "azure": _blob_reader}
ISSUERS: dict[Cloud, Callable[[Any], pulumi.Output[str]]] = {
    "aws": lambda cluster: cluster.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer),
    "azure": lambda cluster: cluster.cluster.oidc_issuer_profile.apply(lambda profile: profile.issuer_url),
}
"""The destination cluster's OIDC issuer: what the source cloud's federation trusts."""


# --- the job --------------------------------------------------------------------------------------


class ModelSync(pulumi.ComponentResource):
    namespace: Namespace
    cron_job: CronJob

    def __init__(self, name: str, source: End, destination: End, image: pulumi.Input[str], ctx: SyncContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:ModelSync", name, None, opts)
        cluster = destination.cluster
        issuer = ISSUERS[destination.region.cloud](cluster)
        writer = WRITERS[destination.region.cloud](self, name, destination, ctx, issuer)
        reader = READERS[source.region.cloud](self, name, source, destination, ctx, issuer, writer)
        k8s = kubernetes_options(cluster, self)

        self.namespace = Namespace(
            f"{name}-namespace",
            metadata={"name": SYNC_NAMESPACE, "labels": {
                **LABELS,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            }},
            opts=k8s,
        )
        ns = self.namespace.metadata.name
        account = ServiceAccount(
            f"{name}-service-account",
            metadata={"name": SYNC_SERVICE_ACCOUNT, "namespace": ns, "labels": LABELS,
                      "annotations": {**writer.account_annotations, **reader.account_annotations}},
            automount_service_account_token=False,
            opts=k8s,
        )
        NetworkPolicy(
            f"{name}-network-policy",
            metadata={"name": "model-sync", "namespace": ns, "labels": LABELS},
            # The job only calls out (to the storage APIs); nothing may call it.
            spec={"pod_selector": {"match_labels": LABELS}, "policy_types": ["Ingress"]},
            opts=k8s,
        )
        files = {**writer.files, **reader.files}
        volumes = [{"name": "scratch", "empty_dir": {"size_limit": "1Gi"}}]
        mounts = [{"name": "scratch", "mount_path": SCRATCH_DIR}]
        ready = [*writer.ready, *reader.ready]
        if files:
            config = ConfigMap(
                f"{name}-config",
                metadata={"name": "model-sync", "namespace": ns, "labels": LABELS},
                data=files,
                opts=k8s,
            )
            ready.append(config)
            volumes.append({"name": "config", "config_map": {"name": config.metadata.name}})
            mounts.append({"name": "config", "mount_path": FILES_DIR, "read_only": True})
        tokens = {**writer.tokens, **reader.tokens}
        if tokens:
            volumes.append({"name": "tokens", "projected": {"sources": [
                {"service_account_token": {"audience": audience, "expiration_seconds": 3600, "path": path}}
                for path, audience in tokens.items()
            ]}})
            mounts.append({"name": "tokens", "mount_path": TOKENS_DIR, "read_only": True})

        container = {
            "name": "rclone",
            "image": image,
            "command": [RCLONE],
            "args": [
                "sync", reader.remote, writer.remote,
                "--retries", "3", "--low-level-retries", "10", "--transfers", "8",
                "--stats", "1m", "--stats-one-line", "--stats-log-level", "NOTICE",
            ],
            # rclone keeps its (empty) config and caches under $HOME.
            "env": [{"name": "HOME", "value": SCRATCH_DIR}, *writer.env, *reader.env],
            "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                          "limits": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"}},
            "security_context": container_security(),
            "volume_mounts": mounts,
        }
        pod = {
            "service_account_name": account.metadata.name,
            # Tokens come from the projected volume (and the clouds' webhooks), never the default one.
            "automount_service_account_token": False,
            "enable_service_links": False,
            "restart_policy": "Never",
            "security_context": pod_security(),
            "node_selector": {POOL_LABEL: "system"},
            "containers": [container],
            "volumes": volumes,
        }
        self.cron_job = CronJob(
            f"{name}-cronjob",
            metadata={
                "name": "model-sync",
                "namespace": ns,
                "labels": LABELS,
                "annotations": {SOURCE_ANNOTATION: source.key, DESTINATION_ANNOTATION: destination.key},
            },
            spec={
                "schedule": SYNC_SCHEDULE,
                "time_zone": "Etc/UTC",
                "concurrency_policy": "Forbid",
                "starting_deadline_seconds": 600,
                "successful_jobs_history_limit": 1,
                "failed_jobs_history_limit": 3,
                "job_template": {
                    "metadata": {"labels": LABELS},
                    "spec": {
                        "backoff_limit": 2,
                        "active_deadline_seconds": SYNC_HOURS * 3600,
                        "ttl_seconds_after_finished": 86400,
                        "template": {"metadata": {"labels": {**LABELS, **writer.pod_labels}}, "spec": pod},
                    },
                },
            },
            # The first run must find every grant in place.
            opts=kubernetes_options(cluster, self, depends_on=[account, *ready]),
        )
        self.register_outputs({"namespace": ns, "source": source.key, "destination": destination.key})
