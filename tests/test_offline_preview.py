"""The offline preview command: its exit codes, its report, and the plan JSON contract.

A stack evaluation costs seconds, so this module evaluates dev once through the real command line
(`python -m offline preview dev --json -`), once through `main` to a file, and one variant stack;
everything else reads those plans or fails before evaluating anything."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from offline.__main__ import EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, main
from offline.engine import SECRET, UNKNOWN, Recording, engine_value, run_program
from offline.plan import REPO_ROOT
from offline.report import resource_counts
from settings import ConfigError, load_settings
from tests.planview import stack_platform_config

RESOURCE_FIELDS = {
    "urn", "type", "name", "custom", "parent", "provider", "cloud", "region", "inputs",
    "dependencies", "property_dependencies", "protect", "custom_timeouts",
}
# The residency zone every policy pack config used to repeat: prod's six regions.
SIX_REGIONS = ["eu-central-1", "eu-west-1", "westeurope", "northeurope", "europe-west4", "europe-west1"]


def write_config(tmp_path, platform, name="variant") -> str:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    return str(path)


@pytest.fixture(scope="module")
def dev_cli():
    """`python -m offline preview dev --json -`, run as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "offline", "preview", "dev", "--json", "-"], cwd=REPO_ROOT, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def dev_json(dev_cli):
    assert dev_cli.returncode == EXIT_OK, dev_cli.stderr
    return json.loads(dev_cli.stdout)


def test_json_to_stdout_leaves_the_report_on_stderr(dev_cli, dev_json):
    assert dev_json["stack"] == "dev"  # standard output is the JSON document alone
    for section in ("Stack multicloud-inference/dev:", "By cloud and region:", "By type:", "aws:kms/key:Key", "Policies ("):
        assert section in dev_cli.stderr
    assert "Traceback" not in dev_cli.stderr and not (REPO_ROOT / "-").exists()


def test_plan_json_has_the_documented_shape(dev_json, prod_plan):
    plan = dev_json
    assert set(plan) == {"project", "stack", "resources", "outputs", "policies"}
    assert (plan["project"], plan["stack"]) == ("multicloud-inference", "dev")
    assert set(plan["policies"]) == {"pack", "violations"} and plan["policies"]["pack"]
    urns = {r["urn"] for r in plan["resources"]}
    stack = "urn:pulumi:dev::multicloud-inference::pulumi:pulumi:Stack::multicloud-inference-dev"
    for r in plan["resources"]:
        assert set(r) == RESOURCE_FIELDS, r["urn"]
        assert r["cloud"] in {"aws", "azure", "gcp", "kubernetes", "random", "docker", None}
        assert r["parent"] in urns | {None, stack}
        assert r["provider"] is None or r["provider"] in urns
        assert set(r["dependencies"]) <= urns
    assert prod_plan.plan["outputs"]["region_cidrs"]["aws:us-east-1"] == "10.64.0.0/19"


def test_plan_json_is_deterministic(dev_json, tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["preview", "dev", "--json", str(out)]) == EXIT_OK
    assert json.loads(out.read_text()) == dev_json
    assert f"Plan written to {out}" in capsys.readouterr().out


def test_preview_and_check_count_resources_the_same_way(dev_cli, dev_json, tmp_path, capsys):
    counts = resource_counts(dev_json)
    cloud = [r for r in dev_json["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    assert counts.resources == len(cloud)
    assert counts.resources + counts.providers + counts.components == len(dev_json["resources"])
    assert f"Stack multicloud-inference/dev: {counts} would be created" in dev_cli.stderr
    saved = tmp_path / "dev.json"
    saved.write_text(dev_cli.stdout)
    assert main(["check", str(saved)]) == EXIT_OK
    assert f"(multicloud-inference/dev): {counts}\n" in capsys.readouterr().out


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    """dev without Azure, plus legitimate EU regions the old six-region pack default refused."""
    platform = stack_platform_config("dev")
    del platform["clouds"]["azure"]
    platform["clouds"]["aws"]["regions"].append("eu-west-3")
    platform["clouds"]["gcp"]["regions"].append("europe-north1")
    platform["residency_zones"]["eu"] = ["eu-central-1", "eu-west-3", "europe-west4", "europe-north1"]
    directory = tmp_path_factory.mktemp("variant")
    config = write_config(directory, platform)
    out = directory / "plan.json"
    code = main(["preview", "variant", "--config-file", config, "--json", str(out)])
    return code, config, json.loads(out.read_text())


def test_config_file_names_the_stack_and_is_evaluated(variant):
    code, _, plan = variant
    assert code == EXIT_OK
    assert plan["stack"] == "variant"
    assert {r["cloud"] for r in plan["resources"] if r["custom"]} >= {"aws", "gcp"}
    assert "azure" not in {r["cloud"] for r in plan["resources"]}
    assert {r["region"] for r in plan["resources"]} >= {"eu-west-3", "europe-north1"}


def test_the_pack_gets_the_stacks_own_zones(variant, tmp_path, capsys):
    """The preview hands the pack the zones of the stack config (exit 0 above); the same plan
    checked against a hand-copied six-region list fails, and the report counts per policy."""
    _, config, plan = variant
    assert main(["policy-config", "variant", "--config-file", config]) == EXIT_OK
    generated = json.loads(capsys.readouterr().out)
    assert generated["aws-any-resource-in-residency-zone"] == {
        "residencyZones": {"eu": ["eu-central-1", "eu-west-3", "europe-west4", "europe-north1"]}}
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({p: {"residencyZones": {"eu": SIX_REGIONS}} for p in generated}))
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(plan))
    assert main(["check", str(saved), "--policy-pack-config", str(stale)]) == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    region_of = {r["urn"]: r["region"] for r in plan["resources"]}
    for cloud, region in (("aws", "eu-west-3"), ("gcp", "europe-north1")):
        policy = f"{cloud}-any-resource-in-residency-zone"
        counted = re.search(rf"^  mandatory +{policy} +(\d+) violations? on (\d+) resources?$", out, re.M)
        assert counted, out
        section = out.split(f"[mandatory] {policy} ({counted.group(1)})\n", 1)[1].split("\n[", 1)[0]
        urns = [line.strip() for line in section.splitlines() if line.startswith("  urn:")]
        assert len(urns) == int(counted.group(2)) > 0
        assert {region_of[u] for u in urns} == {region}


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda c: c["clouds"]["aws"]["regions"].__setitem__(0, {"name": "eu-central-1", "cidr": "10.88.0.0/13"})
            or c["clouds"]["gcp"]["regions"].__setitem__(0, {"name": "europe-west4", "cidr": "10.88.0.0/16"}),
            ["platform.clouds.gcp.regions[0].cidr: gcp:europe-west4's pin 10.88.0.0/16 overlaps "
             "aws:eu-central-1's pin 10.88.0.0/13; pin it elsewhere in the spare block 10.88.0.0/13"],
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


@pytest.mark.parametrize("argv,message", [
    (["preview", "nosuchstack"], "Pulumi.nosuchstack.yaml: no such file (expected a stack file (Pulumi.<stack>.yaml))"),
    (["preview", "dev", "--config-file", "{tmp}"], "{tmp}: is a directory, expected a stack file"),
    (["preview", "dev", "--config-file", "{tmp}/notyaml.yaml"], "{tmp}/notyaml.yaml: not valid YAML"),
    (["preview", "dev", "--config-file", "{tmp}/list.yaml"], "{tmp}/list.yaml: expected a top-level `config:` mapping"),
    (["preview", "dev", "--json", "{tmp}/missing/plan.json"], "{tmp}/missing/plan.json: cannot write: no such directory"),
    (["preview", "dev", "--json", "{tmp}"], "{tmp}: cannot write: is a directory"),
    (["preview", "dev", "--json", "{tmp}/list.yaml/plan.json"], "cannot write: no such directory"),
    (["preview", "dev", "--policy-pack-config", "{tmp}"], "{tmp}: is a directory, expected a policy pack config JSON"),
    (["check", "{tmp}"], "{tmp}: is a directory, expected a plan JSON"),
    (["check", "{tmp}/nothing.json"], "{tmp}/nothing.json: no such file (expected a plan JSON"),
    (["check", "{tmp}/notyaml.yaml"], "not valid JSON"),
    (["policy-config", "dev", "--config-file", "{tmp}"], "is a directory"),
    (["schema", "--out", "{tmp}/missing/schema.json"], "{tmp}/missing/schema.json: cannot write"),
    (["diff", "{tmp}/nothing.json", "{tmp}/nothing.json"], "no such file"),
])
def test_bad_files_exit_2_with_one_line_and_no_traceback(tmp_path, capsys, argv, message):
    (tmp_path / "notyaml.yaml").write_text("config: [unclosed\n")
    (tmp_path / "list.yaml").write_text("- just\n- a list\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == EXIT_INVALID
    err = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in err, err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    for argv in ([], ["nosuchverb"], ["preview"], ["stacks", "--stage", "nowhere"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == EXIT_INVALID
    assert "usage: python -m offline" in capsys.readouterr().err


def test_an_unexpected_failure_is_one_line_too(capsys, monkeypatch):
    from offline.cli import Verb

    def broken(args):
        raise KeyError("a bug")

    monkeypatch.delenv("OFFLINE_TRACEBACK", raising=False)
    verb = Verb("broken", "fails", lambda parser: None, broken)
    assert main(["broken"], verbs=(verb,)) == EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected KeyError: 'a bug'") and "OFFLINE_TRACEBACK=1" in err and "Traceback" not in err


def test_help_lists_every_verb_and_the_exit_codes():
    from offline.__main__ import VERBS, parser

    text = parser().format_help()
    for verb in VERBS:
        assert verb.name in text
    assert "0  success" in text and "1  a mandatory policy violation" in text and "2  usage, config or I/O error" in text
    assert len({verb.name for verb in VERBS}) == len(VERBS)


def test_the_command_line_loads_no_sdk_until_a_verb_needs_it():
    # `--help` and `stacks` stay instant, and a workflow can list the stacks with PyYAML alone.
    heavy = "{'pulumi', 'pydantic', 'pulumi_aws', 'grpc'}"
    probe = f"import sys, offline.__main__; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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


def test_a_misspelt_config_key_exits_2_naming_the_key_meant(tmp_path, capsys):
    path = tmp_path / "Pulumi.variant.yaml"
    path.write_text(yaml.safe_dump({"config": {"multicloud-inference:platfrom": stack_platform_config("dev")}}))
    assert main(["preview", "variant", "--config-file", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "multicloud-inference:platfrom: unknown key 'platfrom'; did you mean 'platform'?" in err
    assert "Traceback" not in err

