"""Model replication: render the plan's edges (`planning/replication.py`) with each one's mechanism.

`MECHANISMS` maps a mechanism to what builds it; what differs per cloud inside a mechanism is a row
of that module's table (`transfer.TRANSFER_SOURCES`, `sync.WRITERS` / `sync.READERS`).

| mechanism | from -> to | what is built |
|---|---|---|
| `s3-replication` | S3 -> S3 | one replication configuration per source bucket (a rule per destination), its role |
| `azure-object-replication` | Azure -> Azure | the destination's policy, then the source's with its ids |
| `storage-transfer` | GCS, S3, Azure -> GCS | a scheduled transfer job, the transfer agent's grants |
| `sync-job` | another cloud -> S3, Azure | a CronJob in the destination cluster, its federated identities |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

import pulumi
from pulumi_aws.get_caller_identity import get_caller_identity_output
from pulumi_gcp import organizations
from pulumi_gcp import storage as gcp_storage

from components.replication.azure import ObjectReplication
from components.replication.common import ReplicationArgs, end
from components.replication.s3 import S3Replication
from components.replication.sync import ModelSync, SyncContext
from components.replication.transfer import StorageTransfer, TransferContext
from planning.replication import Edge, Mechanism

Built = dict[tuple[str, str], pulumi.ComponentResource]


class ModelReplication(pulumi.ComponentResource):
    edges: Built
    """Per (source key, destination key): the component that copies along that edge."""

    def __init__(self, name: str, args: ReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:ModelReplication", name, None, opts)
        self.args = args
        self.edges = {}
        plan = args.plan.replication
        for mechanism, builder in MECHANISMS.items():
            edges = plan.of_mechanism(mechanism)
            if edges:
                self.edges.update(builder(self, edges))
        self.register_outputs({"edges": plan.output()})

    # What several edges share is looked up once, and only when an edge needs it.

    def stack_name(self) -> str:
        return f"{self.args.settings.name}{self.args.stack}"

    def aws_account_id(self, provider: pulumi.ProviderResource) -> pulumi.Output[str]:
        if not hasattr(self, "_account_id"):
            invoke = pulumi.InvokeOutputOptions(parent=self, provider=provider)
            self._account_id = get_caller_identity_output(opts=invoke).account_id
        return self._account_id

    def gcp_project_number(self) -> pulumi.Output[str] | None:
        gcp = self.args.settings.clouds.gcp
        if gcp is None:
            return None
        if not hasattr(self, "_project_number"):
            invoke = pulumi.InvokeOutputOptions(parent=self, provider=self.args.providers.gcp)
            self._project_number = organizations.get_project_output(project_id=gcp.project, opts=invoke).number
        return self._project_number

    def azure_ids(self) -> tuple[str | None, str | None]:
        azure = self.args.settings.clouds.azure
        return (azure.tenant_id, azure.subscription_id) if azure else (None, None)

    def transfer_context(self) -> TransferContext:
        project = self.args.settings.clouds.gcp.project
        invoke = pulumi.InvokeOutputOptions(parent=self, provider=self.args.providers.gcp)
        agent = gcp_storage.get_transfer_project_service_account_output(project=project, opts=invoke)
        tenant, subscription = self.azure_ids()
        return TransferContext(project, agent.email, agent.subject_id, self.stack_name(), tenant, subscription)

    def sync_context(self) -> SyncContext:
        gcp = self.args.settings.clouds.gcp
        tenant, subscription = self.azure_ids()
        return SyncContext(self.stack_name(), tenant, subscription, gcp.project if gcp else None,
                           self.gcp_project_number())


def edge_name(edge: Edge, suffix: str) -> str:
    return f"{edge.source.replace(':', '-')}-to-{edge.destination.replace(':', '-')}-{suffix}"


def _s3(parent: ModelReplication, edges: Sequence[Edge]) -> Built:
    # One replication configuration per source bucket: S3 allows only one, with a rule per destination.
    built: Built = {}
    for source_key, group in groupby(sorted(edges, key=lambda e: e.source), key=lambda e: e.source):
        group = list(group)
        source = end(parent.args, source_key)
        component = S3Replication(
            f"{source.slug}-s3-replication", source, [end(parent.args, e.destination) for e in group],
            parent.stack_name(), parent.aws_account_id(source.provider), pulumi.ResourceOptions(parent=parent),
        )
        built.update({(e.source, e.destination): component for e in group})
    return built


def _azure(parent: ModelReplication, edges: Sequence[Edge]) -> Built:
    return {
        (e.source, e.destination): ObjectReplication(
            edge_name(e, "object-replication"), end(parent.args, e.source), end(parent.args, e.destination),
            pulumi.ResourceOptions(parent=parent),
        )
        for e in edges
    }


def _transfer(parent: ModelReplication, edges: Sequence[Edge]) -> Built:
    ctx = parent.transfer_context()
    return {
        (e.source, e.destination): StorageTransfer(
            edge_name(e, "transfer"), end(parent.args, e.source), end(parent.args, e.destination), ctx,
            pulumi.ResourceOptions(parent=parent),
        )
        for e in edges
    }


def _sync(parent: ModelReplication, edges: Sequence[Edge]) -> Built:
    ctx = parent.sync_context()
    return {
        (e.source, e.destination): ModelSync(
            edge_name(e, "sync"), end(parent.args, e.source), end(parent.args, e.destination),
            parent.args.images[e.destination], ctx, pulumi.ResourceOptions(parent=parent),
        )
        for e in edges
    }


MECHANISMS: dict[Mechanism, Callable[[ModelReplication, Sequence[Edge]], Built]] = {
    "s3-replication": _s3,
    "azure-object-replication": _azure,
    "storage-transfer": _transfer,
    "sync-job": _sync,
}

__all__ = ["MECHANISMS", "ModelReplication", "ReplicationArgs"]
