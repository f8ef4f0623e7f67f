"""Run the Pulumi program in-process under `pulumi.runtime.set_mocks`, recording what it registers.

The recording monitor sees each registration exactly as the engine would: type, name, parent,
provider, inputs (engine property names, secrets still marked), dependencies and protect. The mocks
return plausible computed outputs (ids, ARNs, names) so that downstream inputs are the values a real
deployment would wire, not silently None.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from offline.lean import lean_runtime

SECRET = "[secret]"
UNKNOWN = "[unknown]"
ACCOUNT_ID = "123456789012"


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    custom_timeouts: dict[str, str] | None = None


@dataclass
class Recording:
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def engine_value(value: Any) -> Any:
    """An engine-serialized value as plan JSON: secrets and unknowns become markers, resource
    references their URN, integral floats integers (the wire has only doubles)."""
    if isinstance(value, dict):
        sig = value.get(rpc._special_sig_key)
        if sig == rpc._special_secret_sig:
            return SECRET
        if sig == rpc._special_resource_sig:
            return value.get("urn")
        if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
            return "[asset]"
        if sig == rpc._special_output_value_sig:
            if value.get("secret"):
                return SECRET
            return engine_value(value["value"]) if "value" in value else UNKNOWN
        return {k: engine_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_value(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _provider_urn(reference: str) -> str | None:
    return reference.rsplit("::", 1)[0] if reference else None


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mock: mocks.Mocks, recording: Recording):
        super().__init__(mock)
        self.recording = recording

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine qualifies a child's type with its parent's whole type chain (the stack
        # excepted); the stock mock keeps only the last link, which would hide nesting.
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type.startswith("pulumi:providers:"):
            self.mocks.inputs_by_urn[response.urn] = engine_value(json_format.MessageToDict(request.object))
        if request.type != "pulumi:pulumi:Stack":
            self.recording.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent or None,
                    provider=_provider_urn(request.provider),
                    inputs=engine_value(json_format.MessageToDict(request.object)),
                    dependencies=sorted(set(request.dependencies)),
                    property_dependencies={
                        prop: sorted(deps.urns) for prop, deps in sorted(request.propertyDependencies.items())
                    },
                    protect=bool(request.protect),
                    custom_timeouts=_timeouts(request),
                )
            )
        return response


def _timeouts(request) -> dict[str, str] | None:
    timeouts = {op: getattr(request.customTimeouts, op) for op in ("create", "update", "delete")}
    return {op: value for op, value in timeouts.items() if value} or None


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


AKS_USER_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster:
    server: https://aks-dns.hcp.westeurope.azmk8s.io:443
    certificate-authority-data: LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t
users:
- name: clusterUser_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
contexts:
- name: aks
  context: {cluster: aks, user: clusterUser_aks}
current-context: aks
"""

# The input naming an azure-native resource itself, where it is not `<typeName>Name` (the other
# `...Name` inputs name its parents: a container's `accountName` is its storage account).
AZURE_NAME_INPUTS = {"BlobContainer": "containerName", "StorageAccount": "accountName"}


def _public_ip(name: str) -> str:
    """A stable documentation address (TEST-NET-3) standing in for a cloud-assigned public IP."""
    return f"203.0.113.{int(_digest(name, 4), 16) % 254 + 1}"


# Outputs that consumers read but that the cloud computes, per type; everything else a resource
# outputs is its inputs. Keep this table to what the program actually reads.
def _computed(type_: str, name: str, inputs: dict[str, Any], provider_inputs: dict[str, Any]) -> dict[str, Any]:
    physical = inputs.get("name") or f"{name}-{_digest(name, 7)}"
    if type_.startswith("aws:"):
        service = type_.split(":")[1].split("/")[0]
        region = inputs.get("region") or provider_inputs.get("region", "us-east-1")
        arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{type_.rsplit(':', 1)[1].lower()}/{physical}"
        extra = {
            "aws:s3/bucket:Bucket": {"bucket": physical, "arn": f"arn:aws:s3:::{physical}"},
            "aws:kms/key:Key": {"keyId": _digest(name, 32)},
            # The mesh wires these from one cloud into another.
            "aws:ec2transitgateway/transitGateway:TransitGateway": {
                "associationDefaultRouteTableId": f"tgw-rtb-{_digest(name, 17)}",
                "propagationDefaultRouteTableId": f"tgw-rtb-{_digest(name, 17)}",
            },
            "aws:ec2/vpnConnection:VpnConnection": {
                "tunnel1Address": _public_ip(name + "/1"),
                "tunnel2Address": _public_ip(name + "/2"),
                "transitGatewayAttachmentId": f"tgw-attach-{_digest(name, 17)}",
            },
            # What the kubeconfig and the IAM wiring read.
            "aws:iam/role:Role": {"name": physical},
            "aws:ecr/repository:Repository": {
                "registryId": ACCOUNT_ID,
                "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{physical}",
            },
            "aws:ec2/eip:Eip": {"allocationId": f"eipalloc-{_digest(name, 17)}", "publicIp": _public_ip(name)},
            # The Cluster Autoscaler's node-template tags go on the group's Auto Scaling group.
            "aws:eks/nodeGroup:NodeGroup": {
                "resources": [{"autoscalingGroups": [{"name": f"eks-{physical}-{_digest(name, 8)}"}]}],
            },
            # The global entry wires records, health checks and certificate issuers to the zone.
            "aws:route53/zone:Zone": {
                "zoneId": f"Z{_digest(name, 20).upper()}",
                "nameServers": [f"ns-{n}.awsdns-{n:02}.{tld}" for n, tld in ((1, "com"), (2, "net"), (3, "org"), (4, "co.uk"))],
            },
            "aws:eks/cluster:Cluster": {
                "name": physical,
                "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{_digest(name, 17)}"},
                "endpoint": f"https://{_digest(name, 32).upper()}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t"},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{_digest(name, 32)}"}]}],
            },
        }.get(type_, {})
        return {"arn": arn, **extra}
    if type_.startswith("azure-native:"):
        kind = type_.rsplit(":", 1)[1]
        own_name_input = AZURE_NAME_INPUTS.get(kind, kind[0].lower() + kind[1:] + "Name")
        azure_name = inputs.get(own_name_input) or inputs.get("resourceName") or physical
        extra = {
            "azure-native:keyvault:Vault": {
                "properties": {**inputs.get("properties", {}), "vaultUri": f"https://{azure_name}.vault.azure.net/"}
            },
            "azure-native:network:PublicIPAddress": {"ipAddress": _public_ip(name)},
            "azure-native:managedidentity:UserAssignedIdentity": {
                "principalId": _digest(name + "p", 32), "clientId": _digest(name + "c", 32)
            },
            "azure-native:keyvault:Key": {
                "keyUriWithVersion": f"https://{inputs.get('vaultName')}.vault.azure.net/keys/{azure_name}/{_digest(name, 32)}"
            },
            "azure-native:containerservice:ManagedCluster": {
                "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://oidc.prod-aks.azure.com/{_digest(name, 36)}/"},
                "fqdn": f"{name}-{_digest(name, 8)}.hcp.{inputs.get('location')}.azmk8s.io",
            },
            "azure-native:containerregistry:Registry": {"loginServer": f"{azure_name}.azurecr.io"},
            # Object replication: Azure assigns the policy id and rule ids on the destination account.
            "azure-native:storage:ObjectReplicationPolicy": {
                "policyId": _guid(name + "/policy"),
                "rules": [{**rule, "ruleId": rule.get("ruleId") or _guid(f"{name}/rule/{i}")}
                          for i, rule in enumerate(inputs.get("rules") or [])],
            },
        }.get(type_, {})
        identity = inputs.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Inputs list the identity ids; the API answers with a map keyed by id.
            extra["identity"] = {**identity, "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]}}
        return {"name": azure_name, **extra}
    if type_.startswith("gcp:"):
        extra = {
            "gcp:container/cluster:Cluster": {
                "endpoint": _public_ip(name),
                # Private Service Connect: the private endpoint is an address in the node subnet.
                "privateClusterConfig": {**inputs.get("privateClusterConfig", {}),
                                         "privateEndpoint": f"10.{int(_digest(name, 2), 16) % 256}.0.2"},
                "masterAuth": {"clusterCaCertificate": "LS0tLS1CRUdJTi1DRVJUSUZJQ0FURS0tLS0t"},
            },
            "gcp:compute/haVpnGateway:HaVpnGateway": {
                "vpnInterfaces": [{"id": i, "ipAddress": _public_ip(f"{name}/{i}")} for i in (0, 1)]
            },
            "gcp:projects/serviceIdentity:ServiceIdentity": {
                "email": f"service-100000000001@gcp-sa-{inputs.get('service', '').split('.')[0]}.iam.gserviceaccount.com"
            },
            "gcp:compute/address:Address": {"address": _public_ip(name)},
            "gcp:serviceaccount/account:Account": {
                "email": f"{inputs.get('accountId')}@{provider_inputs.get('project', 'project')}.iam.gserviceaccount.com"
            },
        }.get(type_, {})
        return {"name": physical, "selfLink": f"https://www.googleapis.com/compute/v1/{physical}", **extra}
    if type_ == "docker-build:index:Image":
        digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
        return {"digest": digest, "ref": f"{(inputs.get('tags') or ['image'])[0]}@{digest}"}
    if type_ == "random:index/randomPassword:RandomPassword":
        return {"result": _digest(name, 48)}
    return {}


def _guid(text: str) -> str:
    digest = _digest(text, 32)
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def _resource_id(type_: str, name: str, inputs: dict[str, Any]) -> str:
    if type_.startswith("azure-native:"):
        # Unique per resource, and ending with the resource's own Azure name, as a real id does
        # (policies read a storage account's name from the id that names it).
        kind = type_.rsplit(":", 1)[1]
        own = inputs.get(AZURE_NAME_INPUTS.get(kind, kind[0].lower() + kind[1:] + "Name"))
        suffix = f"/{own}" if isinstance(own, str) else ""
        return f"/subscriptions/00000000-0000-0000-0000-000000000000/mock/{kind}/{name}{suffix}"
    return f"{name}-id"


def _current_key_version(args: dict[str, Any]) -> dict[str, Any]:
    """A Key Vault key's current version, as after a rotation: not the version it was created with."""
    vault, key = args.get("vaultName"), args.get("keyName")
    return {"keyUriWithVersion": f"https://{vault}.vault.azure.net/keys/{key}/{_digest(f'{vault}/{key}/rotated', 32)}"}


# Invoke results by token: a dict, or a function of the invoke's arguments.
INVOKES: dict[str, dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]] = {
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
        "emailAddress": "service-100000000001@gs-project-accounts.iam.gserviceaccount.com",
    },
    "gcp:organizations/getProject:getProject": {"number": "100000000001"},
    "azure-native:authorization:getClientConfig": {
        "clientId": "00000000-0000-0000-0000-00000000c11e",
        "objectId": "00000000-0000-0000-0000-0000000000d1",
        "subscriptionId": "00000000-0000-0000-0000-000000000000",
        "tenantId": "00000000-0000-0000-0000-000000000000",
    },
    "azure-native:keyvault:getKey": _current_key_version,
    # What AKS really returns for an Entra ID cluster: a kubelogin exec user with `devicecode`
    # (pulumi-azure-native#2399). The program must keep only the server and its CA.
    "azure-native:containerservice:listManagedClusterUserCredentials": {
        "kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(AKS_USER_KUBECONFIG.encode()).decode()}],
    },
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session",
        "userId": "AROAEXAMPLE:session",
    },
    "aws:iam/getSessionContext:getSessionContext": {
        "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deployer/session",
        "issuerArn": f"arn:aws:iam::{ACCOUNT_ID}:role/deployer",
        "issuerName": "deployer",
    },
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": {
        "userName": "AWS", "password": "ecr-token", "authorizationToken": "QVdTOmVjci10b2tlbg==",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com",
    },
    "gcp:organizations/getClientConfig:getClientConfig": {"accessToken": "ya29.offline", "project": "project"},
    "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": {
        "email": "project-100000000001@storage-transfer-service.iam.gserviceaccount.com",
        "member": "serviceAccount:project-100000000001@storage-transfer-service.iam.gserviceaccount.com",
        "subjectId": "100000000000000000001",
    },
}


class PlatformMocks(mocks.Mocks):
    def __init__(self) -> None:
        self.inputs_by_urn: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict]:
        provider_inputs = self.inputs_by_urn.get(_provider_urn(args.provider or ""), {})
        state = {**args.inputs, **_computed(args.typ, args.name, args.inputs, provider_inputs)}
        return _resource_id(args.typ, args.name, args.inputs), state

    def call(self, args: mocks.MockCallArgs) -> dict:
        if args.token not in INVOKES:
            raise NotImplementedError(f"offline preview has no mock for invoke {args.token}; add it to INVOKES")
        result = INVOKES[args.token]
        return result(args.args) if callable(result) else result


def run_program(
    program: Path, project: str, stack: str, config: dict[str, str], recording: Recording | None = None
) -> Recording:
    """Run `program` (a Pulumi `__main__.py`) under the mock engine with `config` (fully qualified
    keys, values as the CLI passes them) and return everything it registered and exported.

    Each run gets a fresh context, so runs in one process never see each other's root stack or config.
    Pass `recording` to keep what was registered even when the program raises.
    """
    return contextvars.Context().run(_run, program, project, stack, config, recording or Recording())


def _run(program: Path, project: str, stack: str, config: dict[str, str], recording: Recording) -> Recording:
    mock = PlatformMocks()
    pulumi.runtime.set_mocks(mock, project=project, stack=stack, preview=False, monitor=RecordingMonitor(mock, recording))
    pulumi.runtime.set_all_config(config)
    root = pulumi.runtime.get_root_resource()
    with lean_runtime(_ensure_event_loop()):  # what the mock engine does not pay for: offline/lean.py
        _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
        for key, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            secret = _sync_await(output.is_secret())
            recording.outputs[key] = SECRET if secret else engine_value(_sync_await(output.future()))
    return recording
