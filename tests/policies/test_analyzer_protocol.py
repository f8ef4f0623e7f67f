"""The pack on the real protocol: started the way the Pulumi CLI starts a Python policy pack
(`python -m pulumi.policy <engine> policies`, which runs policies/__main__.py; it prints the port of
its Analyzer gRPC service), then driven over gRPC with the dev stack's own resources.

The pack runs in a child process and is stopped at the end: `policies/__main__.py` itself is never
imported here (constructing the PolicyPack serves forever)."""

from __future__ import annotations

import copy
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import pytest
from engine_shapes import engine_inputs
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2
from pulumi_policy.version import VERSION as PULUMI_POLICY_VERSION

from offline.plan import REPO_ROOT
from platform_policies import PACK_NAME, POLICIES

S3 = "aws:s3/bucket:Bucket"
MANDATORY = analyzer_pb2.EnforcementLevel.Value("MANDATORY")


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(REPO_ROOT / "policies")],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        port = lines.get(timeout=120).strip()
        assert port.isdigit(), f"the pack printed {port!r}; stderr: {process.stderr.read() if process.poll() else ''}"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _struct(inputs) -> struct_pb2.Struct:
    return json_format.ParseDict(engine_inputs(inputs), struct_pb2.Struct())


def _provider(plan, entry) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = next((r for r in plan["resources"] if r["urn"] == entry["provider"]), None)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider["type"], properties=_struct(provider["inputs"]), urn=provider["urn"], name=provider["name"])


def analyze(stub, plan, entry) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    request = analyzer_pb2.AnalyzeRequest(
        type=entry["type"], properties=_struct(entry["inputs"]), urn=entry["urn"], name=entry["name"],
        options=analyzer_pb2.AnalyzerResourceOptions(protect=entry["protect"], parent=entry["parent"] or ""),
        provider=_provider(plan, entry),
    )
    return list(stub.Analyze(request, timeout=60).diagnostics)


def analyze_stack(stub, plan) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    resources = [
        analyzer_pb2.AnalyzerResource(
            type=r["type"], properties=_struct(r["inputs"]), urn=r["urn"], name=r["name"],
            options=analyzer_pb2.AnalyzerResourceOptions(protect=r["protect"], parent=r["parent"] or ""),
            provider=_provider(plan, r), parent=r["parent"] or "", dependencies=r["dependencies"],
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                  for k, v in r["property_dependencies"].items()},
        )
        for r in plan["resources"] if r["custom"]
    ]
    return list(stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=120).diagnostics)


def _zone_bucket(plan):
    return next(r for r in plan["resources"] if r["type"] == S3 and r["inputs"].get("tags", {}).get("residency-zone") == "eu")


def test_plugin_and_pack_info_list_every_policy(analyzer):
    assert analyzer.GetPluginInfo(empty_pb2.Empty(), timeout=30) == plugin_pb2.PluginInfo(version=PULUMI_POLICY_VERSION)
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME and info.supportsConfig
    listed = {p.name: p for p in info.policies}
    assert list(listed) == [d.name for d in POLICIES]
    for definition in POLICIES:
        policy = listed[definition.name]
        assert policy.description == definition.description
        assert analyzer_pb2.EnforcementLevel.Name(policy.enforcementLevel).lower() == definition.enforcement
        properties = json_format.MessageToDict(policy.configSchema.properties)
        assert set(properties) == {k.name for k in definition.config_keys}
    zones = json_format.MessageToDict(listed["aws-any-resource-in-residency-zone"].configSchema.properties)
    assert {"eu-west-3", "swedencentral", "europe-north1"} <= set(zones["residencyZones"]["default"]["eu"])


def test_analyze_reports_a_resource_outside_its_zone(analyzer, dev_plan):
    plan = copy.deepcopy(dev_plan.plan)
    bucket = _zone_bucket(plan)
    assert [d for d in analyze(analyzer, plan, bucket) if d.enforcementLevel == MANDATORY] == []
    bucket["inputs"]["region"] = "us-east-1"
    found = analyze(analyzer, plan, bucket)
    assert [(d.policyName, d.enforcementLevel, d.policyPackName) for d in found] == [
        ("aws-any-resource-in-residency-zone", MANDATORY, PACK_NAME)]
    assert "located in us-east-1" in found[0].message


def test_analyze_stack_over_the_dev_stack(analyzer, dev_plan):
    plan = copy.deepcopy(dev_plan.plan)
    assert [d.policyName for d in analyze_stack(analyzer, plan) if d.enforcementLevel == MANDATORY] == []
    bucket = _zone_bucket(plan)
    plan["resources"] = [r for r in plan["resources"] if not (
        r["type"] == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
        and bucket["urn"] in r["property_dependencies"].get("bucket", []))]
    found = [(d.policyName, d.urn) for d in analyze_stack(analyzer, plan) if d.enforcementLevel == MANDATORY]
    assert found == [("aws-s3-bucket-public-access-blocked", bucket["urn"])]


def test_configure_hands_the_pack_a_stacks_zones(analyzer, dev_plan):
    plan = copy.deepcopy(dev_plan.plan)
    bucket = _zone_bucket(plan)
    narrow = {"residencyZones": {"eu": ["westeurope"]}}  # the bucket's eu-central-1 is not in it
    policy_config = {"aws-any-resource-in-residency-zone": analyzer_pb2.PolicyConfig(
        enforcementLevel=MANDATORY, properties=json_format.ParseDict(narrow, struct_pb2.Struct()))}
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config), timeout=30)
    try:
        found = analyze(analyzer, plan, bucket)
        assert [d.policyName for d in found] == ["aws-any-resource-in-residency-zone"]
        assert "allowed: westeurope" in found[0].message
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}), timeout=30)
