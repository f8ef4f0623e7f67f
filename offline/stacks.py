"""`stacks`: the project's stacks, derived from the `Pulumi.<stack>.yaml` files, as the one stack
matrix every workflow consumes (offline previews, PR previews, deploys).

    python -m offline stacks                          # dev, prod: one per line
    python -m offline stacks --json                   # {"include": [{"stack": "dev", ...}, ...]}
    python -m offline stacks --json --stage staging   # only the stacks deployed first

Each row carries per-stack CI fields computed by `FIELDS` from the stack file; a new field (a
runner label, a registry, ...) is one entry there plus its use in the workflows. Light on purpose:
it needs PyYAML only, so a workflow can compute the matrix before installing the project.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from components.naming import acr_name
from offline.cli import Verb

# Deploys go stage by stage: every `staging` stack first, then (only if they all succeeded) the
# `production` ones. A stack is production when it protects its keys and buckets (`protect: true`).
STAGES = ("staging", "production")


def _protected(platform: dict[str, Any]) -> bool:
    return platform.get("protect") is True


# Per-stack CI fields: name -> f(stack, platform settings as written in the stack file).
FIELDS: dict[str, Callable[[str, dict[str, Any]], Any]] = {
    "stage": lambda stack, platform: "production" if _protected(platform) else "staging",
    # GitHub environments: deploys of production stacks wait for the `production` reviewers.
    "environment": lambda stack, platform: "production" if _protected(platform) else "development",
    "preview_environment": lambda stack, platform: f"preview-{stack}",
    # `runs-on` labels of the jobs that deploy the stack: `deployer.runner_labels` (a self-hosted
    # runner inside `deployer.network`), else a GitHub-hosted runner.
    "runner": lambda stack, platform: _deployer(platform).get("runner_labels") or ["ubuntu-latest"],
    # The stack's container registry host when it has Azure regions: the deploy job keeps a Docker
    # login to it for the image push (ECR and Artifact Registry credentials come from the providers).
    "acr": lambda stack, platform: (
        f"{acr_name(str(platform.get('name', '')), stack)}.azurecr.io" if _clouds(platform).get("azure") else ""
    ),
}


def _deployer(platform: dict[str, Any]) -> dict[str, Any]:
    deployer = platform.get("deployer")
    return deployer if isinstance(deployer, dict) else {}


def _clouds(platform: dict[str, Any]) -> dict[str, Any]:
    clouds = platform.get("clouds")
    return clouds if isinstance(clouds, dict) else {}


def stack_names(project_dir: Path | None = None) -> list[str]:
    from offline.plan import REPO_ROOT

    files = sorted((project_dir or REPO_ROOT).glob("Pulumi.*.yaml"))
    return [path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in files]


def stack_rows(project_dir: Path | None = None) -> list[dict[str, Any]]:
    """One row per stack file, sorted by stack name."""
    from offline.plan import REPO_ROOT, project_name, read_stack_config, stack_file

    project_dir = project_dir or REPO_ROOT
    project = project_name(project_dir)
    rows = []
    for stack in stack_names(project_dir):
        config = read_stack_config(stack_file(stack, project_dir), project)
        platform = config.get(f"{project}:platform")
        platform = platform if isinstance(platform, dict) else {}
        rows.append({"stack": stack, **{name: field(stack, platform) for name, field in FIELDS.items()}})
    return rows


def stack_matrix(project_dir: Path | None = None, stage: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """A GitHub Actions matrix (`strategy.matrix: ${{ fromJSON(...) }}`) of the stacks, optionally
    of one stage only."""
    rows = stack_rows(project_dir)
    return {"include": [row for row in rows if stage is None or row["stage"] == stage]}


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a GitHub Actions matrix: {\"include\": [row, ...]}")
    parser.add_argument("--stage", choices=STAGES, help="only the stacks of this deploy stage")


def _run(args: argparse.Namespace) -> int:
    matrix = stack_matrix(stage=args.stage)
    if args.json:
        print(json.dumps(matrix, separators=(",", ":"), sort_keys=True))
    else:
        print("\n".join(row["stack"] for row in matrix["include"]))
    return 0


VERB = Verb("stacks", "list the stacks (Pulumi.<stack>.yaml) or print them as the workflows' matrix", _arguments, _run)
