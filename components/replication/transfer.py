"""Storage Transfer Service jobs: into a GCS bucket from GCS, S3 or Azure Blob.

The project's transfer service agent does the copying, and it gets exactly what a scheduled copy
needs, on the two buckets of its job and nowhere else:

* the sink bucket: `roles/storage.legacyBucketWriter` (bucket metadata, list, create, delete objects)
  and `roles/storage.objectViewer` (compare existing objects, so unchanged models are skipped);
* a GCS source: `roles/storage.objectViewer` and `roles/storage.legacyBucketReader` (bucket metadata);
* an S3 source: an IAM role that trusts Google's identity for the agent's subject id
  (`accounts.google.com:sub`), reading the bucket and decrypting with its key only through S3;
* an Azure source: a user-assigned identity with a federated credential for the same subject
  (`https://accounts.google.com`), reading the source container only.

No KMS grant goes to the agent: GCS encrypts and decrypts with each bucket's key through the Cloud
Storage service agent, which each landing zone already allows on its own key. Written objects take
the sink bucket's default key, the destination region's (`KMS_KEY_DESTINATION_BUCKET_DEFAULT`).

Jobs run on a schedule (every `TRANSFER_INTERVAL_SECONDS`); event-driven jobs would also need a
Pub/Sub topic, bucket notifications and subscriber grants per source. A job mirrors: objects
deleted at the source are deleted in the sink (`deleteObjectsUniqueInSink`; the sink is versioned,
so a deletion stays recoverable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import storage

from components.naming import compact_name
from components.replication.common import (
    STORAGE_BLOB_DATA_READER,
    End,
    azure_role,
    federated_container_access,
    iam_document,
    s3_reader,
)
from planning.regions import Cloud
from planning.replication import TRANSFER_INTERVAL_SECONDS

GOOGLE_ISSUER = "https://accounts.google.com"
SINK_ROLES = ("roles/storage.legacyBucketWriter", "roles/storage.objectViewer")
GCS_SOURCE_ROLES = ("roles/storage.objectViewer", "roles/storage.legacyBucketReader")
FIRST_RUN = {"year": 2025, "month": 1, "day": 1}
"""A fixed start date in the past: the job runs from its creation, and the plan stays reproducible."""


@dataclass(frozen=True)
class TransferContext:
    """What every job in the project shares: the project and its transfer service agent."""

    project: str
    agent_email: pulumi.Output[str]
    agent_subject_id: pulumi.Output[str]
    stack: str
    tenant_id: str | None = None
    subscription_id: str | None = None

    @property
    def agent_member(self) -> pulumi.Output[str]:
        return pulumi.Output.concat("serviceAccount:", self.agent_email)


@dataclass
class TransferSource:
    spec: dict
    """The `transfer_spec` entry naming the source."""
    grants: list[pulumi.Resource] = field(default_factory=list)
    """What the job waits for: the agent's access to the source."""
    options: dict = field(default_factory=dict)
    """Extra `transfer_options` that only this kind of source accepts."""


def _gcs_source(parent: pulumi.Resource, name: str, source: End, ctx: TransferContext) -> TransferSource:
    grants = [
        storage.BucketIAMMember(
            f"{name}-source-{role.split('.')[-1]}",
            bucket=source.landing_zone.bucket.name,
            role=role,
            member=ctx.agent_member,
            opts=pulumi.ResourceOptions(parent=parent, provider=source.provider),
        )
        for role in GCS_SOURCE_ROLES
    ]
    return TransferSource(
        {"gcs_data_source": {"bucket_name": source.landing_zone.bucket.name}},
        grants,
        # Between GCS buckets the job could keep the source's key: write with the sink's instead.
        {"metadata_options": {"kms_key": "KMS_KEY_DESTINATION_BUCKET_DEFAULT"}},
    )


def google_trust(subject_id: str) -> str:
    """An IAM trust policy for one Google identity (the transfer agent) through accounts.google.com."""
    return iam_document({
        "Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"accounts.google.com:sub": subject_id}},
    })


def _s3_source(parent: pulumi.Resource, name: str, source: End, ctx: TransferContext) -> TransferSource:
    role, policy = s3_reader(
        parent, f"{name}-reader", source, role_name=compact_name("ststransfer", ctx.stack, source.key, limit=64),
        trust=ctx.agent_subject_id.apply(google_trust),
    )
    bucket = source.landing_zone.bucket.bucket
    return TransferSource({"aws_s3_data_source": {"bucket_name": bucket, "role_arn": role.arn}}, [policy])


def _azure_source(parent: pulumi.Resource, name: str, source: End, ctx: TransferContext) -> TransferSource:
    lz = source.landing_zone
    access = federated_container_access(
        parent, f"{name}-reader", source, role=azure_role(ctx.subscription_id or "", STORAGE_BLOB_DATA_READER),
        credential="storage-transfer", issuer=GOOGLE_ISSUER, subject=ctx.agent_subject_id,
    )
    return TransferSource(
        {"azure_blob_storage_data_source": {
            "storage_account": lz.storage_account.name,
            "container": lz.container.name,
            "federated_identity_config": {"client_id": access.identity.client_id, "tenant_id": ctx.tenant_id},
        }},
        access.ready,
    )


TRANSFER_SOURCES: dict[Cloud, Callable[[pulumi.Resource, str, End, TransferContext], TransferSource]] = {
    "gcp": _gcs_source,
    "aws": _s3_source,
    "azure": _azure_source,
}


class StorageTransfer(pulumi.ComponentResource):
    job: storage.TransferJob

    def __init__(self, name: str, source: End, destination: End, ctx: TransferContext,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:StorageTransfer", name, None, opts)
        sink = destination.landing_zone.bucket
        child = pulumi.ResourceOptions(parent=self, provider=destination.provider)
        grants: list[pulumi.Resource] = [
            storage.BucketIAMMember(
                f"{name}-sink-{role.split('.')[-1]}", bucket=sink.name, role=role, member=ctx.agent_member, opts=child
            )
            for role in SINK_ROLES
        ]
        found = TRANSFER_SOURCES[source.region.cloud](self, name, source, ctx)
        self.job = storage.TransferJob(
            name,
            description=f"models {source.key} -> {destination.key}",
            project=ctx.project,
            transfer_spec={
                **found.spec,
                "gcs_data_sink": {"bucket_name": sink.name},
                "transfer_options": {
                    "overwrite_when": "DIFFERENT",
                    "delete_objects_unique_in_sink": True,
                    **found.options,
                },
            },
            schedule={"schedule_start_date": FIRST_RUN, "repeat_interval": f"{TRANSFER_INTERVAL_SECONDS}s"},
            logging_config={"log_actions": ["COPY", "DELETE"], "log_action_states": ["SUCCEEDED", "FAILED"]},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[*grants, *found.grants])),
        )
        self.register_outputs({"job": self.job.name})
