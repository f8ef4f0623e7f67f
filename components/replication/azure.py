"""Azure object replication between two storage accounts' `models` containers.

Azure's order: the policy on the destination account first, with the policy id `default` (Azure
then assigns the real id and the rule ids), then the same policy on the source account with the
returned policy id and rule ids. Versioning on both accounts and the change feed on the source are
set by the landing zones (`blob_service`); both policies wait for them. Accounts are named by
resource id, as Azure requires when cross-tenant replication is off. Replicas are written by the
destination account, so they are encrypted with the destination region's key. Object replication
does not replicate deletes (README, "Model replication").
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import storage

from components.replication.common import End

COPY_EXISTING = "1601-01-01T00:00:00Z"
"""`minCreationTime` that includes every blob already in the source container."""


def _rule_id(rule) -> str:
    # A typed output, or a plain mapping when it travels through Output.all.
    return rule["rule_id"] if isinstance(rule, dict) else rule.rule_id


class ObjectReplication(pulumi.ComponentResource):
    destination_policy: storage.ObjectReplicationPolicy
    source_policy: storage.ObjectReplicationPolicy

    def __init__(self, name: str, source: End, destination: End, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:ObjectReplication", name, None, opts)
        src, dst = source.landing_zone, destination.landing_zone
        prerequisites = [src.blob_service, dst.blob_service, src.container, dst.container]
        child = pulumi.ResourceOptions(parent=self, provider=source.provider, depends_on=prerequisites)
        self.destination_policy = storage.ObjectReplicationPolicy(
            f"{name}-destination",
            account_name=dst.storage_account.name,
            resource_group_name=dst.resource_group.name,
            object_replication_policy_id="default",
            source_account=src.storage_account.id,
            destination_account=dst.storage_account.id,
            rules=[{
                "source_container": src.container.name,
                "destination_container": dst.container.name,
                "filters": {"min_creation_time": COPY_EXISTING},
            }],
            opts=child,
        )
        # The source's policy repeats the destination's with the ids Azure assigned to it.
        rules = pulumi.Output.all(self.destination_policy.rules, src.container.name, dst.container.name).apply(
            lambda a: [
                {"rule_id": _rule_id(rule), "source_container": a[1], "destination_container": a[2],
                 "filters": {"min_creation_time": COPY_EXISTING}}
                for rule in a[0] or []
            ]
        )
        self.source_policy = storage.ObjectReplicationPolicy(
            f"{name}-source",
            account_name=src.storage_account.name,
            resource_group_name=src.resource_group.name,
            object_replication_policy_id=self.destination_policy.policy_id,
            source_account=src.storage_account.id,
            destination_account=dst.storage_account.id,
            rules=rules,
            opts=child,
        )
        self.register_outputs({"policy_id": self.destination_policy.policy_id})
