"""The offline verbs built on plans and stack files: `stacks` (the workflows' matrix), `diff` (what a
change does, secrets masked) and `policy-config` (the pack config generated from a stack)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys

import pytest
import yaml

from offline.__main__ import EXIT_OK, main
from offline.diff import SECRET, diff_plans, flatten, format_markdown, format_text
from offline.plan import REPO_ROOT, stack_settings
from offline.policy_check import load_rules
from offline.policy_config import pack_config, stack_policy_config
from offline.stacks import FIELDS, stack_matrix, stack_rows

# --- stacks ---------------------------------------------------------------------------------------


def _project(tmp_path, stacks: dict[str, dict]):
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path)
    for name, platform in stacks.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": {"multicloud-inference:platform": platform}}))
    return tmp_path


def test_the_matrix_has_one_row_per_stack_file():
    rows = stack_rows()
    assert [r["stack"] for r in rows] == sorted(p.name[len("Pulumi."):-len(".yaml")] for p in REPO_ROOT.glob("Pulumi.*.yaml"))
    by_stack = {r["stack"]: r for r in rows}
    assert by_stack["dev"] == {"stack": "dev", "stage": "staging", "environment": "development",
                               "preview_environment": "preview-dev", "runner": ["ubuntu-latest"],
                               "acr": "acrleptondevc3e6c4.azurecr.io"}
    assert by_stack["prod"]["stage"] == "production" and by_stack["prod"]["environment"] == "production"
    assert all(set(r) == {"stack", *FIELDS} for r in rows)


def test_prod_deploys_on_its_runner_inside_the_network_the_apis_admit():
    prod = next(r for r in stack_rows() if r["stack"] == "prod")
    assert prod["runner"] == stack_settings("prod").deployer.runner_labels == ["self-hosted", "lepton-prod"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_acr_host_in_the_matrix_is_the_registry_the_plan_creates(stack, request):
    plan = request.getfixturevalue(f"{stack}_plan")
    [registry] = plan.of_type("azure-native:containerregistry:Registry")
    row = next(r for r in stack_rows() if r["stack"] == stack)
    assert row["acr"] == f"{registry['inputs']['registryName']}.azurecr.io"


def test_a_stack_without_azure_has_no_acr_to_log_in_to(tmp_path):
    project = _project(tmp_path, {"awsonly": {"name": "x", "clouds": {"aws": {"regions": ["us-east-1"]}}}})
    assert stack_rows(project)[0]["acr"] == ""


def test_protected_stacks_deploy_last_and_new_stack_files_join_the_matrix(tmp_path):
    project = _project(tmp_path, {"alice": {"name": "x"}, "eu": {"protect": True}, "qa": {"protect": False}})
    assert [r["stack"] for r in stack_matrix(project, "staging")["include"]] == ["alice", "qa"]
    assert [r["stack"] for r in stack_matrix(project, "production")["include"]] == ["eu"]
    assert stack_matrix(project, "production")["include"][0]["environment"] == "production"


def test_a_field_is_one_table_entry(tmp_path, monkeypatch):
    # How a runner label per stack would be added: one entry reading the stack file.
    def runner(stack, platform):
        return ["self-hosted", stack] if platform.get("protect") else ["ubuntu-latest"]

    monkeypatch.setitem(FIELDS, "runner", runner)
    project = _project(tmp_path, {"dev": {}, "prod": {"protect": True}})
    assert [r["runner"] for r in stack_rows(project)] == [["ubuntu-latest"], ["self-hosted", "prod"]]


def test_stacks_verb_prints_the_matrix_on_one_line(capsys):
    assert main(["stacks", "--json", "--stage", "production"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == stack_matrix(stage="production")
    assert main(["stacks"]) == EXIT_OK
    assert capsys.readouterr().out.split() == [r["stack"] for r in stack_rows()]


# --- diff -----------------------------------------------------------------------------------------


def _resource(name, inputs, type_="aws:s3/bucket:Bucket", **extra):
    return {"urn": f"urn:pulumi:s::p::{type_}::{name}", "type": type_, "name": name, "custom": True,
            "inputs": inputs, "protect": False, "provider": "urn:pulumi:s::p::pulumi:providers:aws::aws", **extra}


@pytest.fixture
def plans():
    base = {"stack": "prod", "outputs": {"kubeconfigs": SECRET, "region_cidrs": {"aws:eu-central-1": "10.64.0.0/16"}},
            "resources": [
                _resource("models", {"bucket": "models", "tags": {"owner": "ml"}, "versioning": {"enabled": True}}),
                _resource("old", {"bucket": "old"}),
                _resource("psk", {"length": 48, "special": False}, "random:index/randomPassword:RandomPassword"),
                _resource("tunnel", {"sharedKey": SECRET, "ipsec": [{"dh": 14}]},
                          "azure-native:network:VirtualNetworkGatewayConnection"),
                _resource("vpn", {"presharedKey": "hunter2"}, "aws:ec2/vpnConnection:VpnConnection"),
                {"urn": "urn:pulumi:s::p::x:index:Group::g", "type": "x:index:Group", "name": "g", "custom": False, "inputs": {}},
            ]}
    head = copy.deepcopy(base)
    resources = {r["name"]: r for r in head["resources"]}
    resources["models"]["inputs"]["tags"]["owner"] = "platform"
    resources["models"]["inputs"]["tags"]["stack"] = "prod"
    resources["models"]["protect"] = True
    resources["tunnel"]["inputs"]["ipsec"][0]["dh"] = 24
    resources["vpn"]["inputs"]["presharedKey"] = "hunter3"
    head["resources"].remove(resources["old"])
    head["resources"].remove(resources["g"])
    head["resources"].append(_resource("new", {"bucket": "new"}))
    head["outputs"]["region_cidrs"]["aws:eu-west-1"] = "10.65.0.0/16"
    return base, head


def test_diff_lists_added_removed_and_changed_inputs(plans):
    diff = diff_plans(*plans)
    assert [r.name for r in diff.added] == ["new"] and [r.name for r in diff.removed] == ["old"]  # components left out
    changed = {c.resource.name: {x.path: (x.before, x.after) for x in c.changes} for c in diff.changed}
    assert changed["models"] == {"tags.owner": ("ml", "platform"), "tags.stack": ("(absent)", "prod"), "[protect]": (False, True)}
    assert changed["tunnel"] == {"ipsec[0].dh": (14, 24)}
    assert "psk" not in changed
    assert [(o.path, o.after) for o in diff.outputs] == [("region_cidrs.aws:eu-west-1", "10.65.0.0/16")]
    assert diff.headline() == "1 added, 1 removed, 3 changed, 1 output(s) changed"


def test_diff_never_shows_a_secret(plans):
    diff = diff_plans(*plans)
    vpn = next(c for c in diff.changed if c.resource.name == "vpn")
    assert [(c.path, c.before, c.after) for c in vpn.changes] == [("presharedKey", SECRET, f"{SECRET} (changed)")]
    for rendered in (format_text(diff), format_markdown(diff)):
        assert "hunter" not in rendered


def test_identical_plans_have_no_diff(plans):
    diff = diff_plans(plans[0], copy.deepcopy(plans[0]))
    assert diff.empty and format_text(diff) == "Plan diff of prod: no changes"


def test_markdown_keeps_untrusted_values_inert(plans):
    base, head = plans
    evil = _resource("x` | @admin [click](https://evil.example) <img src=x>", {"bucket": "a|b``c"})
    head["resources"].append(evil)
    text = format_markdown(diff_plans(base, head))
    row = next(line for line in text.splitlines() if "evil.example" in line)
    cells = [c for c in row.replace("\\|", "").split("|") if c.strip()]
    assert len(cells) == 2  # the pipe in the name did not split the table
    assert all(c.strip().startswith("`") and c.strip().endswith("`") for c in cells)  # mentions/links are code


def test_markdown_is_bounded(plans):
    base, head = plans
    head["resources"] += [_resource(f"b{i}", {"bucket": f"b{i}"}) for i in range(50)]
    text = format_markdown(diff_plans(base, head), limit=10)
    assert "| … | 41 more: see the plan artifacts |" in text
    assert text.count("\n| `") <= 10 + 4


def test_flatten_names_every_leaf():
    assert flatten({"a": {"b": [1, {"c": 2}], "e": {}, "f": []}}) == {"a.b[0]": 1, "a.b[1].c": 2, "a.e": {}, "a.f": []}


def test_diff_verb_reads_two_plan_files(plans, tmp_path, capsys):
    base, head = plans
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    assert main(["diff", str(tmp_path / "base.json"), str(tmp_path / "head.json")]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("Plan diff of prod: 1 added, 1 removed, 3 changed")
    assert '    tags.owner: "ml" -> "platform"' in out and "+ aws:s3/bucket:Bucket new" in out
    assert main(["diff", str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--markdown", "--out",
                 str(tmp_path / "diff.md")]) == EXIT_OK
    assert (tmp_path / "diff.md").read_text().startswith("#### Stack `prod`: 1 added")


def test_diff_of_the_dev_plan_with_itself_and_a_change(dev_plan):
    head = copy.deepcopy(dev_plan.plan)
    bucket = next(r for r in head["resources"] if r["type"] == "aws:s3/bucket:Bucket")
    bucket["inputs"]["tags"]["owner"] = "someone-else"
    diff = diff_plans(dev_plan.plan, head)
    assert [(c.resource.urn, [x.path for x in c.changes]) for c in diff.changed] == [(bucket["urn"], ["tags.owner"])]


# --- policy-config --------------------------------------------------------------------------------


def test_pack_config_gives_every_residency_policy_the_stacks_zones():
    POLICIES = load_rules().POLICIES  # noqa: N806

    config = pack_config({"eu": ["eu-west-3", "swedencentral"]}, POLICIES)
    residency = [p.name for p in POLICIES if any(k.name == "residencyZones" for k in p.config)]
    assert sorted(config) == sorted(residency) and len(residency) == 8  # 3 location + 4 replication + 1 DNS
    assert all(v == {"residencyZones": {"eu": ["eu-west-3", "swedencentral"]}} for v in config.values())


def test_each_stack_is_checked_with_its_own_zones():
    for stack in ("dev", "prod"):
        document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
        zones = document["config"]["multicloud-inference:platform"]["residency_zones"]
        config = stack_policy_config(stack)
        assert {json.dumps(v["residencyZones"]) for v in config.values()} == {json.dumps(zones)}


def test_policy_config_verb_writes_what_preview_applies(tmp_path, capsys):
    out = tmp_path / "pack-config.json"
    assert main(["policy-config", "prod", "--out", str(out)]) == EXIT_OK
    assert json.loads(out.read_text()) == stack_policy_config("prod")
    assert capsys.readouterr().out == ""


def test_the_stacks_verb_needs_nothing_but_pyyaml():
    # stacks.yml computes the matrix with `uv run --no-project --with pyyaml`: no project, no SDKs.
    script = """
import json, sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pulumi", "pydantic", "scipy", "jsonschema", "pulumi_policy"}:
            raise ImportError(f"{name} is not installed in the stacks job")
sys.meta_path.insert(0, Refuse())
from offline.__main__ import main
sys.exit(main(["stacks", "--json"]))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == stack_matrix()
