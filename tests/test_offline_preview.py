"""The offline preview command: its exit codes, its report, and the plan JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from offline.__main__ import EXIT_INVALID, EXIT_OK, main
from offline.engine import SECRET, UNKNOWN, Recording, engine_value, run_program
from offline.plan import REPO_ROOT
from settings import ConfigError, load_settings
from tests.planview import stack_platform_config

RESOURCE_FIELDS = {
    "urn", "type", "name", "custom", "parent", "provider", "cloud", "region", "inputs",
    "dependencies", "property_dependencies", "protect", "custom_timeouts",
}


def write_config(tmp_path, platform) -> str:
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    return str(path)


def test_preview_of_dev_runs_as_a_module_and_prints_the_summary():
    result = subprocess.run(
        [sys.executable, "-m", "offline", "preview", "dev"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert "Stack multicloud-inference/dev:" in result.stdout
    for section in ("By cloud and region:", "By type:", "aws:kms/key:Key", "Policies ("):
        assert section in result.stdout


def test_plan_json_has_the_documented_shape(tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["preview", "prod", "--json", str(out)]) == EXIT_OK
    plan = json.loads(out.read_text())
    assert set(plan) == {"project", "stack", "resources", "outputs", "policies"}
    assert (plan["project"], plan["stack"]) == ("multicloud-inference", "prod")
    assert set(plan["policies"]) == {"pack", "violations"} and plan["policies"]["pack"]
    urns = {r["urn"] for r in plan["resources"]}
    for r in plan["resources"]:
        assert set(r) == RESOURCE_FIELDS, r["urn"]
        assert r["cloud"] in {"aws", "azure", "gcp", "kubernetes", "random", "docker", None}
        stack = "urn:pulumi:prod::multicloud-inference::pulumi:pulumi:Stack::multicloud-inference-prod"
        assert r["parent"] in urns | {None, stack}
        assert r["provider"] is None or r["provider"] in urns
        assert set(r["dependencies"]) <= urns
    assert plan["outputs"]["region_cidrs"]["aws:us-east-1"] == "10.64.0.0/19"


def test_plan_json_is_deterministic(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["preview", "dev", "--json", str(first)]) == EXIT_OK
    assert main(["preview", "dev", "--json", str(second)]) == EXIT_OK
    assert first.read_text() == second.read_text()


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda c: c["clouds"]["aws"]["regions"].__setitem__(0, {"name": "eu-central-1", "cidr": "10.88.0.0/14"})
            or c["clouds"]["gcp"]["regions"].__setitem__(0, {"name": "europe-west4", "cidr": "10.88.0.0/16"}),
            ["platform.clouds.gcp.regions[0].cidr: gcp:europe-west4's pin 10.88.0.0/16 overlaps aws:eu-central-1's "
             "pin 10.88.0.0/14"],
        ),
        (
            lambda c: c["clouds"]["azure"]["regions"].append("westeuropa"),
            ["platform.clouds.azure.regions[1].name: unknown azure region 'westeuropa'; did you mean westeurope"],
        ),
    ],
    ids=["overlapping-cidrs", "unknown-region"],
)
def test_invalid_config_exits_2_naming_the_keys_without_a_traceback(tmp_path, capsys, mutate, expected):
    platform = stack_platform_config("dev")
    mutate(platform)
    assert main(["preview", "variant", "--config-file", write_config(tmp_path, platform)]) == EXIT_INVALID
    captured = capsys.readouterr()
    for text in expected:
        assert text in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_a_misspelt_config_key_exits_2_naming_the_key_meant(tmp_path, capsys):
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platfrom": stack_platform_config("dev")}}))
    assert main(["preview", "variant", "--config-file", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "multicloud-inference:platfrom: unknown key 'platfrom'; did you mean 'platform'?" in err
    assert "Traceback" not in err


def test_missing_stack_file_exits_2(capsys):
    assert main(["preview", "nosuchstack"]) == EXIT_INVALID
    assert "Pulumi.nosuchstack.yaml: no such stack file" in capsys.readouterr().err


def test_config_file_names_the_stack_and_is_evaluated(tmp_path, capsys):
    platform = stack_platform_config("dev")
    del platform["clouds"]["azure"]
    platform["residency_zones"]["eu"].remove("westeurope")
    out = tmp_path / "plan.json"
    assert main(["preview", "variant", "--config-file", write_config(tmp_path, platform), "--json", str(out)]) == EXIT_OK
    plan = json.loads(out.read_text())
    assert plan["stack"] == "variant"
    assert {r["cloud"] for r in plan["resources"] if r["custom"]} >= {"aws", "gcp"}
    assert "azure" not in {r["cloud"] for r in plan["resources"]}


def test_engine_values_hide_secrets_and_mark_unknowns():
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}
    raw = {"psk": secret, "nested": [{"key": secret}], "id": rpc.UNKNOWN, "port": 443.0, "ratio": 0.5}
    assert engine_value(raw) == {"psk": SECRET, "nested": [{"key": SECRET}], "id": UNKNOWN, "port": 443, "ratio": 0.5}


def test_outputs_give_each_regions_model_store_and_keep_kubeconfigs_secret(prod_plan):
    outputs = prod_plan.plan["outputs"]
    assert outputs["kubeconfigs"] == SECRET
    schemes = {"aws": "s3://", "azure": "https://", "gcp": "gs://"}
    assert set(outputs["regions"]) == set(outputs["region_cidrs"])
    for key, region in outputs["regions"].items():
        assert region["model_store_url"].startswith(schemes[key.split(":")[0]]), key
        assert region["cluster"]


def test_the_program_itself_refuses_bad_config_with_a_run_error_and_no_resources():
    platform = stack_platform_config("dev")
    platform["clouds"]["aws"]["hub"] = "us-west-2"
    config = {"multicloud-inference:platform": json.dumps(platform)}
    recording = Recording()
    with pytest.raises(pulumi.RunError) as raised:
        run_program(REPO_ROOT / "__main__.py", "multicloud-inference", "dev", config, recording)
    assert "multicloud-inference:platform.clouds.aws.hub: hub 'us-west-2'" in str(raised.value)
    assert recording.registrations == []


def test_missing_platform_config_is_named():
    with pytest.raises(ConfigError, match=r"multicloud-inference:platform: is required"):
        load_settings(None)
