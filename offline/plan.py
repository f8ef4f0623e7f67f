"""Stack config in, plan JSON out: the documented, stable format others script against.

Plan JSON (see the README, "Offline preview"):
{"project", "stack", "resources": [...], "outputs": {...}, "policies": {"pack", "violations"}}
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from offline.cli import InputError, read_text

if TYPE_CHECKING:  # the engine imports pulumi: only evaluating a stack needs it
    from offline.engine import Recording

REPO_ROOT = Path(__file__).resolve().parent.parent

CLOUD_OF_PACKAGE = {"aws": "aws", "azure-native": "azure", "gcp": "gcp", "kubernetes": "kubernetes",
                    "random": "random", "docker-build": "docker"}


class StackConfigError(InputError):
    """The stack file itself is unusable (missing, not YAML, wrong shape)."""


def project_name(project_dir: Path = REPO_ROOT) -> str:
    return yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"]


def stack_file(stack: str, project_dir: Path = REPO_ROOT) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def read_stack_config(path: Path, project: str) -> dict[str, Any]:
    """The `config:` block of a stack file, keys namespaced as the CLI would (`project:key`)."""
    text = read_text(path, "a stack file (Pulumi.<stack>.yaml)")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackConfigError(f"{path}: expected a top-level `config:` mapping")
    return {key if ":" in key else f"{project}:{key}": value for key, value in config.items()}


def cli_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the CLI hands them to a program: structured values JSON-encoded."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def cloud_of(type_: str) -> str | None:
    package = type_.split(":")[2] if type_.startswith("pulumi:providers:") else type_.split(":")[0]
    return CLOUD_OF_PACKAGE.get(package)


SDK_MODULES = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp"}


def sdk_accepts(type_: str, argument: str) -> bool:
    """Whether the installed SDK's resource for an engine type token takes `argument`."""
    package, module, name = type_.split(":")
    sdk = SDK_MODULES.get(package)
    if sdk is None:
        return False
    resource = getattr(importlib.import_module(f"{sdk}.{module.split('/')[0]}"), name, None)
    return resource is not None and argument in inspect.signature(resource._internal_init).parameters


def takes_region(type_: str) -> bool:
    """Whether the provider's region applies to a resource of this type: only when its SDK resource
    takes a `region` argument. (A GCP crypto key, say, lives where its key ring does, not in the
    provider's default region.) The SDK modules are already loaded by the program."""
    return sdk_accepts(type_, "region")


GLOBAL_LOCATIONS = {"global"}
"""Azure's location of global resources (private DNS zones and their links): no region at all."""


def _own_region(inputs: dict[str, Any]) -> str | None:
    for key in ("region", "location"):
        value = inputs.get(key)
        if isinstance(value, str) and not value.startswith("["):
            return None if value.lower() in GLOBAL_LOCATIONS else value.lower()
    return None


def plan_from_recording(project: str, stack: str, recording: Recording) -> dict[str, Any]:
    by_urn = {r.urn: r for r in recording.registrations}
    resources = []
    for r in recording.registrations:
        region = _own_region(r.inputs) if r.custom else None
        if r.custom and region is None and r.provider in by_urn and takes_region(r.type):
            region = _own_region(by_urn[r.provider].inputs)
        dependencies = set(r.dependencies)
        for urns in r.property_dependencies.values():
            dependencies.update(urns)
        resources.append(
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "parent": r.parent,
                "provider": r.provider,
                "cloud": cloud_of(r.type),
                "region": region,
                "inputs": r.inputs,
                "dependencies": sorted(dependencies),
                "property_dependencies": r.property_dependencies,
                "protect": r.protect,
                "custom_timeouts": r.custom_timeouts,
            }
        )
    return {
        "project": project,
        "stack": stack,
        # Registration order depends on how the program's outputs resolve; URN order is stable,
        # so two previews of the same config are byte-identical and diff cleanly.
        "resources": sorted(resources, key=lambda r: r["urn"]),
        "outputs": recording.outputs,
        "policies": {"pack": None, "violations": []},
    }


def stack_settings(stack: str | None = None, config_file: Path | None = None, project_dir: Path = REPO_ROOT):
    """The validated settings of a stack (or of any config file of that shape).

    Raises settings.ConfigError when the config is invalid and StackConfigError when the file
    itself is unusable."""
    from settings import CONFIG_KEY, load_settings

    project = project_name(project_dir)
    config = read_stack_config(config_file or stack_file(stack, project_dir), project)
    # The whole config, so that a misspelt project key (`platfrom`) is named too.
    return load_settings(config.get(f"{project}:{CONFIG_KEY}"), config)


def build_plan(stack: str | None = None, config_file: Path | None = None, project_dir: Path = REPO_ROOT) -> dict[str, Any]:
    """Evaluate the program for a stack (or any config file of that shape) and return its plan.

    Raises settings.ConfigError when the stack config is invalid (before any resource exists) and
    StackConfigError when the file itself is unusable.
    """
    from offline.engine import run_program

    project = project_name(project_dir)
    path = config_file or stack_file(stack, project_dir)
    stack_name = stack or path.stem.removeprefix("Pulumi.")
    config = read_stack_config(path, project)
    stack_settings(stack, config_file, project_dir)
    recording = run_program(project_dir / "__main__.py", project, stack_name, cli_config(config))
    return plan_from_recording(project, stack_name, recording)
