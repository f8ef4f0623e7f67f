"""offline.policy_check: the plan's `policies` object, and `check` on saved plans."""

import json
import shutil
from pathlib import Path

from engine_shapes import find, set_path, urn

from offline.policy_check import DEFAULT_POLICY_PACK, apply_policies, check_plan_file

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


def test_check_mandatory_exits_1_grouped_by_policy(tmp_path, plan, capsys):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    assert check_plan_file(_save(tmp_path, plan)) == 1
    out = capsys.readouterr().out
    assert "[mandatory] aws-any-resource-in-residency-zone" in out
    assert f"  {urn(S3, 'models')}\n    - it belongs to residency zone 'eu'" in out


def test_check_honours_the_pack_config(tmp_path, plan, capsys):
    set_path(find(plan, S3, "models")["inputs"], "region", "us-east-1")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"all": "advisory"}))
    assert check_plan_file(_save(tmp_path, plan), policy_pack_config=config) == 0


def test_check_unreadable_plan_or_bad_config_exits_2(tmp_path, plan, capsys):
    assert check_plan_file(tmp_path / "missing.json") == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert check_plan_file(tmp_path / "bad.json") == 2
    assert check_plan_file(_save(tmp_path, {"resources": [{"type": "x"}]}, "malformed.json")) == 2
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"aws-s3-bucket-cmek-required": {"exemptions": [{"pattern": "*"}]}}))
    assert check_plan_file(_save(tmp_path, plan), policy_pack_config=config) == 2
    err = capsys.readouterr().err
    assert "not a readable plan JSON" in err and "aws-s3-bucket-cmek-required.exemptions[0].justification" in err


def test_check_with_another_pack_directory(tmp_path, plan, capsys):
    pack = tmp_path / "pack"
    shutil.copytree(DEFAULT_POLICY_PACK, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    manifest = pack / "PulumiPolicy.yaml"
    manifest.write_text(manifest.read_text().replace("version: 0.1.0", "version: 9.9.9"))
    try:
        assert apply_policies(plan, policy_pack=pack)["pack"].endswith("@9.9.9")
    finally:
        apply_policies(plan)  # load the repo's pack again for the other tests
    assert check_plan_file(_save(tmp_path, plan), policy_pack=Path(tmp_path / "nowhere")) == 2
