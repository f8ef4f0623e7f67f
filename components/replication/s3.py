"""S3 replication: one replication configuration per source bucket, one rule per destination.

The role S3 assumes may read the source bucket's object versions for replication, replicate into
the destination buckets, decrypt with the source key and encrypt with each destination's key, each
only through S3 in that key's region. Replicas are re-encrypted with the destination region's key
(`replica_kms_key_id`); delete markers are replicated; both ends are versioned before the
configuration exists. Objects already in the bucket before the configuration need S3 Batch
Replication (README, "Model replication").
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
from pulumi_aws import iam, s3

from components.naming import compact_name
from components.replication.common import End, global_tags, iam_document


def _kms_condition(region: str, bucket_arn: str) -> dict:
    # With S3 Bucket Keys the encryption context is the bucket's ARN, without them the object's.
    return {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
    }


def replication_policy(source_region: str, destination_regions: Sequence[str], arns: Sequence[str]) -> str:
    """`arns`: source bucket, source key, then bucket and key of each destination, in order."""
    source_bucket, source_key, *rest = arns
    destinations = list(zip(destination_regions, rest[0::2], rest[1::2], strict=True))
    return iam_document(
        {"Sid": "ReadReplicationConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": source_bucket},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": f"{source_bucket}/*"},
        {"Sid": "ReplicateToDestinations", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [f"{bucket}/*" for _, bucket, _ in destinations]},
        {"Sid": "DecryptWithSourceKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key,
         "Condition": _kms_condition(source_region, source_bucket)},
        *(
            {"Sid": f"EncryptWithDestinationKey{i}", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
             "Resource": key, "Condition": _kms_condition(region, bucket)}
            for i, (region, bucket, key) in enumerate(destinations)
        ),
    )


def _trust(source_bucket_arn: str, account_id: str) -> str:
    return iam_document({
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
        # Only S3 replicating this very bucket may use the role (confused-deputy protection).
        "Condition": {"ArnLike": {"aws:SourceArn": source_bucket_arn},
                      "StringEquals": {"aws:SourceAccount": account_id}},
    })


class S3Replication(pulumi.ComponentResource):
    """One source bucket replicated to every destination bucket of its fan-out."""

    role: iam.Role
    configuration: s3.BucketReplicationConfig

    def __init__(self, name: str, source: End, destinations: Sequence[End], stack: str,
                 account_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:S3Replication", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=source.provider)
        src = source.landing_zone
        self.role = iam.Role(
            f"{name}-role",
            name=compact_name("s3repl", stack, source.key, limit=64),
            assume_role_policy=pulumi.Output.all(src.bucket.arn, account_id).apply(lambda a: _trust(*a)),
            tags=global_tags(source.tags),
            opts=child,
        )
        arns = [src.bucket.arn, src.key.arn]
        for destination in destinations:
            arns += [destination.landing_zone.bucket.arn, destination.landing_zone.key.arn]
        regions = [d.name for d in destinations]
        policy = iam.RolePolicy(
            f"{name}-role",
            role=self.role.id,
            policy=pulumi.Output.all(*arns).apply(lambda a: replication_policy(source.name, regions, a)),
            opts=child,
        )
        rules = [
            {
                "id": f"to-{destination.slug}",
                "priority": index + 1,
                "status": "Enabled",
                "filter": {"prefix": ""},
                "delete_marker_replication": {"status": "Enabled"},
                # The source objects are SSE-KMS encrypted: without this S3 skips them.
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {
                    "bucket": destination.landing_zone.bucket.arn,
                    "encryption_configuration": {"replica_kms_key_id": destination.landing_zone.key.arn},
                },
            }
            for index, destination in enumerate(destinations)
        ]
        versioning = [src.versioning, *(d.landing_zone.versioning for d in destinations)]
        self.configuration = s3.BucketReplicationConfig(
            name,
            bucket=src.bucket.id,
            role=self.role.arn,
            rules=rules,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[policy, *versioning])),
        )
        self.register_outputs({"role": self.role.arn})
