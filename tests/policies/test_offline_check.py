"""offline.policy_check: the plan's `policies` object, and `check` on saved plans."""

import io
import json
import shutil

from engine_shapes import find, set_path, urn

from offline.__main__ import EXIT_INVALID, EXIT_OK, main
from offline.policy_check import DEFAULT_POLICY_PACK, apply_policies, check_plan_file, format_violations

S3 = "aws:s3/bucket:Bucket"


def _save(tmp_path, plan, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(plan))
    return path


def test_policies_object_shape(plan):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    set_path(find(plan, "aws:ec2/vpc:Vpc", "vpc")["inputs"], "tags.owner", "")
    policies = apply_policies(plan)
    assert policies["pack"] == "multicloud-inference-guardrails@0.1.0"
    order = sorted(policies["violations"], key=lambda v: (v["policy"], v["enforcement"], v["urn"], v["message"]))
    assert policies["violations"] == order
    assert {"policy", "enforcement", "urn", "message"} == set(policies["violations"][0])
    assert {(v["policy"], v["enforcement"]) for v in policies["violations"]} >= {
        ("aws-any-resource-in-residency-zone", "mandatory"), ("aws-any-resource-tags-required", "advisory")}


def test_check_clean_plan_exits_0(tmp_path, plan, capsys):
    assert check_plan_file(_save(tmp_path, plan)) == 0
    assert "no violations" in capsys.readouterr().out


def test_check_advisory_only_exits_0(tmp_path, plan, capsys):
    set_path(find(plan, "aws:ec2/vpc:Vpc", "vpc")["inputs"], "tags", {})
    assert check_plan_file(_save(tmp_path, plan)) == 0
    out = capsys.readouterr().out
    assert "[advisory] aws-any-resource-tags-required" in out and urn("aws:ec2/vpc:Vpc", "vpc") in out


def test_check_mandatory_exits_1_grouped_by_policy_with_counts(tmp_path, plan, capsys):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    set_path(find(plan, "aws:kms/key:Key", "key")["inputs"], "region", "us-east-1")
    set_path(find(plan, "aws:ec2/vpc:Vpc", "vpc")["inputs"], "tags", {})
    assert main(["check", str(_save(tmp_path, plan))]) == 1
    out = capsys.readouterr().out
    assert "violations of 2 policies (2 mandatory, 1 advisory):" in out
    summary = out.split("\n\n", 1)[0].splitlines()[-2:]
    assert summary[0].split() == ["mandatory", "aws-any-resource-in-residency-zone", "2", "violations", "on", "2", "resources"]
    assert summary[1].split() == ["advisory", "aws-any-resource-tags-required", "1", "violation", "on", "1", "resource"]
    assert "[mandatory] aws-any-resource-in-residency-zone (2)" in out
    assert f"  {urn(S3, 'models')}\n    - it belongs to residency zone 'eu'" in out
    assert out.index("[mandatory]") < out.index("[advisory]")


def test_no_violations_reads_as_such():
    assert format_violations({"pack": "p@1", "violations": []}) == "Policies (p@1): no violations."


def test_check_honours_the_pack_config(tmp_path, plan, capsys):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"all": "advisory"}))
    assert check_plan_file(_save(tmp_path, plan), policy_pack_config=config) == 0


def test_check_unreadable_plan_or_bad_config_exits_2(tmp_path, plan, capsys):
    assert main(["check", str(tmp_path / "missing.json")]) == EXIT_INVALID
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["check", str(tmp_path / "bad.json")]) == EXIT_INVALID
    assert main(["check", str(_save(tmp_path, {"resources": [{"type": "x"}]}, "malformed.json"))]) == EXIT_INVALID
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"aws-s3-bucket-cmek-required": {"exemptions": [{"pattern": "*"}]}}))
    assert main(["check", str(_save(tmp_path, plan)), "--policy-pack-config", str(config)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "no such file" in err and "not valid JSON" in err and "resources[0] lacks urn, custom" in err
    assert "aws-s3-bucket-cmek-required.exemptions[0].justification: required" in err
    assert "Traceback" not in err


def test_check_reads_the_plan_from_standard_input(tmp_path, plan, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(plan)))
    assert main(["check", "-"]) == EXIT_OK
    assert "Checked - (" in capsys.readouterr().out


def test_check_with_another_pack_directory(tmp_path, plan, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_POLICY_PACK, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    manifest = pack / "PulumiPolicy.yaml"
    manifest.write_text(manifest.read_text().replace("version: 0.1.0", "version: 9.9.9"))
    try:
        assert apply_policies(plan, policy_pack=pack)["pack"].endswith("@9.9.9")
    finally:
        apply_policies(plan)  # load the repo's pack again for the other tests
    assert main(["check", str(_save(tmp_path, plan)), "--policy-pack", str(tmp_path / "nowhere")]) == EXIT_INVALID
    assert "not a policy pack of this project" in capsys.readouterr().err
