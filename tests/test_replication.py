"""Model replication under the mock engine: every edge of the plan has its resources, each identity
can read its source, write its destination and use those two keys and nothing else, every hop
writes with the destination region's key, and nothing copies across a residency zone."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from offline.__main__ import EXIT_INVALID, EXIT_VIOLATIONS, main
from offline.engine import Recording, run_program
from offline.plan import REPO_ROOT
from planning.replication import DESTINATION_ANNOTATION, SOURCE_ANNOTATION, sync_subject
from tests.planview import PlanView, stack_platform_config

BUCKET = {"aws": "aws:s3/bucket:Bucket", "azure": "azure-native:storage:StorageAccount", "gcp": "gcp:storage/bucket:Bucket"}
KEY = {"aws": ("aws:kms/key:Key", "key"), "azure": ("azure-native:keyvault:Key", "key"),
       "gcp": ("gcp:kms/cryptoKey:CryptoKey", "models")}
CONTAINER = "azure-native:storage:BlobContainer"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CRON_JOB = "kubernetes:batch/v1:CronJob"
STS_AGENT = "serviceAccount:project-100000000001@storage-transfer-service.iam.gserviceaccount.com"
BLOB_READER, BLOB_CONTRIBUTOR = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
PROD_SOURCES = {"eu": "gcp:europe-west4", "default": "aws:us-east-1"}
PROD_ZONE = {"aws:eu-central-1": "eu", "aws:eu-west-1": "eu", "azure:westeurope": "eu", "azure:northeurope": "eu",
             "gcp:europe-west4": "eu", "gcp:europe-west1": "eu",
             "aws:us-east-1": "default", "azure:eastus2": "default", "gcp:us-central1": "default"}


def slug(key: str) -> str:
    return key.replace(":", "-")


def store(plan: PlanView, key: str) -> dict:
    return plan.one(BUCKET[key.split(":")[0]], f"{slug(key)}-models")


def key_of(plan: PlanView, key: str) -> dict:
    type_, suffix = KEY[key.split(":")[0]]
    return plan.one(type_, f"{slug(key)}-{suffix}")


def deps(resource: dict, prop: str) -> set[str]:
    return set(resource["property_dependencies"].get(prop, []))


def edges(plan: PlanView) -> list[dict]:
    return plan.plan["outputs"]["model_replication"]


def below(plan: PlanView, type_: str, name: str) -> list[dict]:
    component = plan.one(f"multicloud-inference:index:{type_}", name)
    return plan.children(component["urn"])


# --- the plan's edges, as the stack outputs them ----------------------------------------------------


def test_prod_every_region_but_the_sources_has_one_inbound_edge_from_its_own_zone(prod_plan):
    found = edges(prod_plan)
    inbound = {e["to"]: e for e in found}
    assert len(inbound) == len(found), "one inbound edge per region"
    assert set(inbound) == set(PROD_ZONE) - set(PROD_SOURCES.values())
    for destination, edge in inbound.items():
        zone = PROD_ZONE[destination]
        assert PROD_ZONE[edge["from"]] == zone, edge
        # From the zone's source, or from a region that the source itself feeds.
        assert edge["from"] == PROD_SOURCES[zone] or inbound[edge["from"]]["from"] == PROD_SOURCES[zone], edge
    assert sum(1 for e in found if e["from"].split(":")[0] != e["to"].split(":")[0]) == 4  # 2 per zone


def test_dev_gets_its_cross_cloud_edges_from_the_eu_source(dev_plan):
    assert edges(dev_plan) == [
        {"from": "gcp:europe-west4", "to": "aws:eu-central-1", "mechanism": "sync-job"},
        {"from": "gcp:europe-west4", "to": "azure:westeurope", "mechanism": "sync-job"},
    ]
    assert len(dev_plan.of_type(CRON_JOB)) == 2


def test_every_edge_is_built(prod_plan):
    components = {
        "s3-replication": lambda e: ("S3Replication", f"{slug(e['from'])}-s3-replication"),
        "azure-object-replication": lambda e: ("ObjectReplication", f"{slug(e['from'])}-to-{slug(e['to'])}-object-replication"),
        "storage-transfer": lambda e: ("StorageTransfer", f"{slug(e['from'])}-to-{slug(e['to'])}-transfer"),
        "sync-job": lambda e: ("ModelSync", f"{slug(e['from'])}-to-{slug(e['to'])}-sync"),
    }
    built = {r["name"] for r in prod_plan.resources if r["type"].startswith("multicloud-inference:index:")
             and r["type"].rsplit(":", 1)[1] in {"S3Replication", "ObjectReplication", "StorageTransfer", "ModelSync"}}
    expected = {components[e["mechanism"]](e)[1] for e in edges(prod_plan)}
    assert built == expected
    for edge in edges(prod_plan):
        type_, name = components[edge["mechanism"]](edge)
        # Each reads the source's store and writes the destination's.
        urns = {d for r in below(prod_plan, type_, name) for d in r["dependencies"]}
        assert store(prod_plan, edge["from"])["urn"] in urns or edge["mechanism"] == "azure-object-replication"
        assert store(prod_plan, edge["to"])["urn"] in urns


# --- S3 -> S3 ---------------------------------------------------------------------------------------


def test_s3_replication_re_encrypts_with_the_destination_key_and_replicates_deletes(prod_plan):
    config = prod_plan.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "aws-eu-central-1-s3-replication")
    assert config["region"] == "eu-central-1"
    assert deps(config, "bucket") == {store(prod_plan, "aws:eu-central-1")["urn"]}
    assert deps(config, "rules") == {store(prod_plan, "aws:eu-west-1")["urn"], key_of(prod_plan, "aws:eu-west-1")["urn"]}
    (rule,) = config["inputs"]["rules"]
    assert rule["status"] == "Enabled" and rule["priority"] == 1 and rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    assert rule["destination"]["bucket"].startswith("arn:aws:s3:::aws-eu-west-1-models")
    assert rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"].startswith("arn:aws:kms:eu-west-1:")
    for key in ("aws:eu-central-1", "aws:eu-west-1"):  # versioning is on at both ends first
        versioning = prod_plan.one("aws:s3/bucketVersioning:BucketVersioning", f"{slug(key)}-models")
        assert prod_plan.depends_on(config["urn"], versioning["urn"]), key


def test_the_s3_replication_role_reads_the_source_and_writes_the_destination_only(prod_plan):
    (role,) = [r for r in below(prod_plan, "S3Replication", "aws-eu-central-1-s3-replication") if r["type"] == ROLE]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:s3:::aws-eu-central-1-models")
    policy = prod_plan.one(ROLE_POLICY, "aws-eu-central-1-s3-replication-role")
    assert deps(policy, "policy") == {
        store(prod_plan, k)["urn"] for k in ("aws:eu-central-1", "aws:eu-west-1")
    } | {key_of(prod_plan, k)["urn"] for k in ("aws:eu-central-1", "aws:eu-west-1")}
    statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    assert statements["DecryptWithSourceKey"]["Action"] == "kms:Decrypt"
    assert statements["DecryptWithSourceKey"]["Resource"].startswith("arn:aws:kms:eu-central-1:")
    assert statements["EncryptWithDestinationKey0"]["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]
    assert statements["EncryptWithDestinationKey0"]["Resource"].startswith("arn:aws:kms:eu-west-1:")
    assert statements["ReplicateToDestinations"]["Resource"] == [
        f"arn:aws:s3:::{store(prod_plan, 'aws:eu-west-1')['name']}-{_suffix(prod_plan, 'aws:eu-west-1')}/*"
    ]
    assert all(s["Effect"] == "Allow" and "*" not in json.dumps(s["Action"]) for s in statements.values())


def _suffix(plan: PlanView, key: str) -> str:
    """The mock's generated bucket name suffix, read back from the region's model store URL."""
    return plan.plan["outputs"]["regions"][key]["model_store_url"].rsplit("-", 1)[1]


# --- Azure -> Azure ---------------------------------------------------------------------------------


def test_object_replication_creates_the_destination_policy_first_then_the_source_with_its_ids(prod_plan):
    name = "azure-westeurope-to-azure-northeurope-object-replication"
    destination = prod_plan.one("azure-native:storage:ObjectReplicationPolicy", f"{name}-destination")
    source = prod_plan.one("azure-native:storage:ObjectReplicationPolicy", f"{name}-source")
    north, west = store(prod_plan, "azure:northeurope"), store(prod_plan, "azure:westeurope")
    assert destination["inputs"]["objectReplicationPolicyId"] == "default"
    assert destination["inputs"]["accountName"] == north["inputs"]["accountName"]
    assert source["inputs"]["accountName"] == west["inputs"]["accountName"]
    for policy in (destination, source):
        assert policy["inputs"]["sourceAccount"].endswith(f"/{west['inputs']['accountName']}")
        assert policy["inputs"]["destinationAccount"].endswith(f"/{north['inputs']['accountName']}")
        for key in ("azure:westeurope", "azure:northeurope"):  # versioning and change feed first
            blob_service = prod_plan.one("azure-native:storage:BlobServiceProperties", f"{slug(key)}-models")
            assert prod_plan.depends_on(policy["urn"], blob_service["urn"])
            assert blob_service["inputs"]["isVersioningEnabled"] is True
            assert blob_service["inputs"]["changeFeed"]["enabled"] is True
    assert deps(source, "objectReplicationPolicyId") == {destination["urn"]}
    assert deps(source, "rules") >= {destination["urn"]}
    (rule,) = source["inputs"]["rules"]
    assert rule["ruleId"] and rule["sourceContainer"] == rule["destinationContainer"] == "models"


# --- into GCS ---------------------------------------------------------------------------------------


def _agent_grants(plan: PlanView, name: str) -> set[tuple[str, str]]:
    grants = [r for r in below(plan, "StorageTransfer", name) if r["type"] == BUCKET_MEMBER]
    assert all(r["inputs"]["member"] == STS_AGENT for r in grants)
    return {(r["inputs"]["bucket"], r["inputs"]["role"]) for r in grants}


def test_a_gcs_transfer_gives_the_agent_bucket_roles_only_and_writes_with_the_sink_key(prod_plan):
    name = "gcp-europe-west4-to-gcp-europe-west1-transfer"
    job = prod_plan.one("gcp:storage/transferJob:TransferJob", name)
    spec = job["inputs"]["transferSpec"]
    source, sink = store(prod_plan, "gcp:europe-west4"), store(prod_plan, "gcp:europe-west1")
    source_name = f"{source['name']}-{_suffix(prod_plan, 'gcp:europe-west4')}"
    sink_name = f"{sink['name']}-{_suffix(prod_plan, 'gcp:europe-west1')}"
    assert spec["gcsDataSource"] == {"bucketName": source_name} and spec["gcsDataSink"] == {"bucketName": sink_name}
    assert spec["transferOptions"] == {"overwriteWhen": "DIFFERENT", "deleteObjectsUniqueInSink": True,
                                       "metadataOptions": {"kmsKey": "KMS_KEY_DESTINATION_BUCKET_DEFAULT"}}
    assert job["inputs"]["schedule"]["repeatInterval"] == "3600s"
    assert _agent_grants(prod_plan, name) == {
        (sink_name, "roles/storage.legacyBucketWriter"), (sink_name, "roles/storage.objectViewer"),
        (source_name, "roles/storage.objectViewer"), (source_name, "roles/storage.legacyBucketReader"),
    }
    grants = [r["urn"] for r in below(prod_plan, "StorageTransfer", name) if r["type"] == BUCKET_MEMBER]
    assert all(prod_plan.depends_on(job["urn"], g) for g in grants)
    # The buckets' keys are used by the Cloud Storage service agent, never by the transfer agent.
    assert not [r for r in prod_plan.of_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
                if "storage-transfer" in str(r["inputs"].get("member"))]
    assert "encryption" in sink["inputs"] and deps(sink, "encryption") == {key_of(prod_plan, "gcp:europe-west1")["urn"]}


def test_an_s3_transfer_reads_through_a_role_that_trusts_only_the_transfer_agent(prod_plan):
    name = "aws-us-east-1-to-gcp-us-central1-transfer"
    job = prod_plan.one("gcp:storage/transferJob:TransferJob", name)
    (role,) = [r for r in below(prod_plan, "StorageTransfer", name) if r["type"] == ROLE]
    source = job["inputs"]["transferSpec"]["awsS3DataSource"]
    assert source["roleArn"].endswith(f":role/{role['inputs']['name']}")
    assert source["bucketName"] == f"aws-us-east-1-models-{_suffix(prod_plan, 'aws:us-east-1')}"
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"},
                      "Action": "sts:AssumeRoleWithWebIdentity",
                      "Condition": {"StringEquals": {"accounts.google.com:sub": "100000000000000000001"}}}]
    policy = prod_plan.one(ROLE_POLICY, f"{name}-reader")
    assert deps(policy, "policy") == {store(prod_plan, "aws:us-east-1")["urn"], key_of(prod_plan, "aws:us-east-1")["urn"]}
    actions = {a for s in json.loads(policy["inputs"]["policy"])["Statement"] for a in _list(s["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "kms:Decrypt"}
    sink = f"gcp-us-central1-models-{_suffix(prod_plan, 'gcp:us-central1')}"
    assert _agent_grants(prod_plan, name) == {(sink, "roles/storage.legacyBucketWriter"), (sink, "roles/storage.objectViewer")}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


# --- into S3 or Azure from another cloud: the sync jobs ---------------------------------------------


def _cluster_provider(plan: PlanView, key: str) -> str:
    return plan.one("pulumi:providers:kubernetes", f"{slug(key)}-k8s")["urn"]


SYNC_EDGES = [("gcp:europe-west4", "aws:eu-central-1"), ("gcp:europe-west4", "azure:westeurope"),
              ("aws:us-east-1", "azure:eastus2")]


@pytest.mark.parametrize(("source", "destination"), SYNC_EDGES)
def test_a_sync_job_runs_hardened_in_the_destination_cluster_from_the_platform_image(prod_plan, source, destination):
    name = f"{slug(source)}-to-{slug(destination)}-sync"
    job = prod_plan.one(CRON_JOB, f"{name}-cronjob")
    assert job["provider"] == _cluster_provider(prod_plan, destination)
    metadata = job["inputs"]["metadata"]
    assert metadata["namespace"] == "model-sync"
    assert metadata["annotations"] == {SOURCE_ANNOTATION: source, DESTINATION_ANNOTATION: destination}
    assert job["inputs"]["spec"]["concurrencyPolicy"] == "Forbid"
    pod = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == prod_plan.plan["outputs"]["regions"][destination]["image"]
    assert container["command"] == ["/usr/local/bin/rclone"] and container["args"][0] == "sync"
    assert pod["nodeSelector"] == {"multicloud-inference/pool": "system"}
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "model-sync"
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    namespace = prod_plan.one("kubernetes:core/v1:Namespace", f"{name}-namespace")
    assert namespace["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # Nothing secret anywhere in the job: no secret refs, no secret values.
    assert "secret" not in json.dumps(pod).lower().replace("/var/run/secrets/", "")
    # Every grant of both sides exists before the first run.
    grants = [r["urn"] for r in below(prod_plan, "ModelSync", name)
              if r["cloud"] in ("aws", "azure", "gcp") and r["type"] != "azure-native:managedidentity:UserAssignedIdentity"]
    assert grants and all(prod_plan.depends_on(job["urn"], g) for g in grants)


def test_sync_into_s3_writes_with_the_destination_key_under_eks_pod_identity(prod_plan):
    name = "gcp-europe-west4-to-aws-eu-central-1-sync"
    association = prod_plan.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", f"{name}-writer")
    assert (association["inputs"]["namespace"], association["inputs"]["serviceAccount"]) == ("model-sync", "model-sync")
    assert deps(association, "clusterName") == {prod_plan.one("aws:eks/cluster:Cluster", "aws-eu-central-1")["urn"]}
    policy = prod_plan.one(ROLE_POLICY, f"{name}-writer")
    assert deps(policy, "policy") == {store(prod_plan, "aws:eu-central-1")["urn"], key_of(prod_plan, "aws:eu-central-1")["urn"]}
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    key_statement = next(s for s in statements if s["Resource"].startswith("arn:aws:kms"))
    assert key_statement["Resource"].startswith("arn:aws:kms:eu-central-1:")
    assert key_statement["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}}
    job = prod_plan.one(CRON_JOB, f"{name}-cronjob")
    writer_remote = job["inputs"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][2]
    assert ",server_side_encryption=aws:kms,sse_kms_key_id=\"arn:aws:kms:eu-central-1:" in writer_remote
    assert writer_remote.startswith(":s3,provider=AWS,env_auth=true,region=eu-central-1,")


@pytest.mark.parametrize(("destination", "cluster"), [
    ("aws:eu-central-1", "aws:eks/cluster:Cluster"), ("azure:westeurope", "azure-native:containerservice:ManagedCluster"),
])
def test_gcs_is_read_through_a_pool_that_trusts_the_destination_clusters_issuer_for_the_job_only(
        prod_plan, destination, cluster):
    name = f"gcp-europe-west4-to-{slug(destination)}-sync"
    provider = prod_plan.one("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", f"{name}-issuer")
    assert deps(provider, "oidc") >= {prod_plan.one(cluster, slug(destination))["urn"]}
    assert provider["inputs"]["oidc"]["issuerUri"].startswith("https://oidc.")
    assert provider["inputs"]["attributeCondition"] == f"assertion.sub == '{sync_subject()}'"
    federation = prod_plan.one("gcp:serviceaccount/iAMMember:IAMMember", f"{name}-reader-federation")
    assert federation["inputs"]["role"] == "roles/iam.workloadIdentityUser"
    assert federation["inputs"]["member"].endswith(f"/subject/{sync_subject()}")
    (viewer,) = [r for r in below(prod_plan, "ModelSync", name) if r["type"] == BUCKET_MEMBER]
    assert viewer["inputs"]["role"] == "roles/storage.objectViewer"
    assert deps(viewer, "bucket") == {store(prod_plan, "gcp:europe-west4")["urn"]}
    config = prod_plan.one("kubernetes:core/v1:ConfigMap", f"{name}-config")
    credentials = json.loads(config["inputs"]["data"]["gcp-credentials.json"])
    assert credentials["type"] == "external_account"
    assert credentials["credential_source"] == {"file": "/var/run/secrets/model-sync/gcp-token", "format": {"type": "text"}}
    assert "private_key" not in credentials


def test_sync_into_azure_writes_as_a_federated_identity_with_contributor_on_the_container_only(prod_plan):
    name = "gcp-europe-west4-to-azure-westeurope-sync"
    credential = prod_plan.one("azure-native:managedidentity:FederatedIdentityCredential", f"{name}-writer")
    assert credential["inputs"]["subject"] == sync_subject()
    assert credential["inputs"]["issuer"].startswith("https://oidc.prod-aks.azure.com/")
    aks = prod_plan.one("azure-native:containerservice:ManagedCluster", "azure-westeurope")
    assert deps(credential, "issuer") == {aks["urn"]}
    (assignment,) = [r for r in below(prod_plan, "ModelSync", name) if r["type"] == ROLE_ASSIGNMENT]
    assert assignment["inputs"]["roleDefinitionId"].endswith(BLOB_CONTRIBUTOR)
    assert deps(assignment, "scope") == {prod_plan.one(CONTAINER, "azure-westeurope-models")["urn"]}
    account = prod_plan.one("kubernetes:core/v1:ServiceAccount", f"{name}-service-account")
    assert "azure.workload.identity/client-id" in account["inputs"]["metadata"]["annotations"]


def test_s3_is_read_from_aks_through_an_oidc_provider_for_that_cluster_and_the_job_only(prod_plan):
    name = "aws-us-east-1-to-azure-eastus2-sync"
    oidc = prod_plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider", f"{name}-issuer")
    assert deps(oidc, "url") == {prod_plan.one("azure-native:containerservice:ManagedCluster", "azure-eastus2")["urn"]}
    assert oidc["inputs"]["clientIdLists"] == ["sts.amazonaws.com"]
    role = prod_plan.one(ROLE, f"{name}-reader")
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    issuer = oidc["inputs"]["url"].removeprefix("https://").rstrip("/")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {"StringEquals": {f"{issuer}:sub": sync_subject(), f"{issuer}:aud": "sts.amazonaws.com"}}
    policy = prod_plan.one(ROLE_POLICY, f"{name}-reader")
    assert deps(policy, "policy") == {store(prod_plan, "aws:us-east-1")["urn"], key_of(prod_plan, "aws:us-east-1")["urn"]}
    # The only Azure grant is the writer's, on the destination container: reading S3 needs none.
    (assignment,) = [r for r in below(prod_plan, "ModelSync", name) if r["type"] == ROLE_ASSIGNMENT]
    assert assignment["inputs"]["roleDefinitionId"].endswith(BLOB_CONTRIBUTOR)
    assert deps(assignment, "scope") == {prod_plan.one(CONTAINER, "azure-eastus2-models")["urn"]}


def _components(plan: PlanView) -> dict[str, set[str]]:
    """Each replication component's name -> the regions at the ends of its edges."""
    suffix = {"azure-object-replication": "object-replication", "storage-transfer": "transfer", "sync-job": "sync"}
    ends: dict[str, set[str]] = {}
    for edge in edges(plan):
        if edge["mechanism"] == "s3-replication":
            name = f"{slug(edge['from'])}-s3-replication"
        else:
            name = f"{slug(edge['from'])}-to-{slug(edge['to'])}-{suffix[edge['mechanism']]}"
        ends.setdefault(name, set()).update((edge["from"], edge["to"]))
    return ends


def test_every_replication_identity_touches_only_the_buckets_and_keys_of_its_edge(prod_plan):
    owner = {store(prod_plan, k)["urn"]: k for k in PROD_ZONE}
    owner |= {key_of(prod_plan, k)["urn"]: k for k in PROD_ZONE}
    owner |= {prod_plan.one(CONTAINER, f"{slug(k)}-models")["urn"]: k for k in PROD_ZONE if k.startswith("azure:")}
    checked = 0
    for name, ends in _components(prod_plan).items():
        (component,) = [r for r in prod_plan.resources if not r["custom"] and r["name"] == name]
        for grant in prod_plan.children(component["urn"]):
            if grant["type"] in (ROLE_POLICY, BUCKET_MEMBER, ROLE_ASSIGNMENT):
                touched = {owner[u] for u in grant["dependencies"] if u in owner}
                assert touched and touched <= ends, (grant["name"], touched, ends)
                checked += 1
    assert checked == 14  # every role policy, bucket grant and role assignment of the prod edges


# --- the policy pack on a broken plan, and bad config -----------------------------------------------


def test_a_replication_rule_into_a_bucket_outside_the_zone_fails_offline_check(prod_plan, tmp_path, capsys):
    plan = json.loads(json.dumps(prod_plan.plan))
    config = next(r for r in plan["resources"] if r["name"] == "aws-eu-central-1-s3-replication" and r["custom"])
    us_bucket = store(prod_plan, "aws:us-east-1")
    west_bucket = store(prod_plan, "aws:eu-west-1")
    # The rule now names us-east-1's bucket, as a program wired to that bucket would record it.
    us_arn = f"arn:aws:s3:::aws-us-east-1-models-{_suffix(prod_plan, 'aws:us-east-1')}"
    config["inputs"]["rules"][0]["destination"]["bucket"] = us_arn
    config["property_dependencies"]["rules"] = [
        us_bucket["urn"] if u == west_bucket["urn"] else u for u in config["property_dependencies"]["rules"]
    ]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(plan))
    assert main(["check", str(path)]) == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert "[mandatory] aws-s3-bucketreplication-in-residency-zone" in out
    assert f"  {config['urn']}\n    - copies zone 'eu' data to aws-us-east-1-models in us-east-1" in out


BAD_MODELS = {"eu": "aws:us-east-1"}


def test_bad_models_config_exits_2_naming_key_and_value_with_nothing_registered(tmp_path, capsys):
    platform = stack_platform_config("dev")
    platform["models"]["sources"] = BAD_MODELS
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    assert main(["preview", "variant", "--config-file", str(path)]) == EXIT_INVALID
    captured = capsys.readouterr()
    assert "multicloud-inference:platform.models.sources.eu: 'aws:us-east-1' is not a configured region" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    # The program itself: a RunError with the same line, and not one resource declared.
    recording = Recording()
    with pytest.raises(pulumi.RunError, match=r"models\.sources\.eu: 'aws:us-east-1'"):
        run_program(REPO_ROOT / "__main__.py", "multicloud-inference", "dev",
                    {"multicloud-inference:platform": json.dumps(platform)}, recording)
    assert recording.registrations == []
