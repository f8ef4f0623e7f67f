"""What the cost, place and critical-path verbs read: a stack's settings, its plan, a data file.

Every failure is an `InputError` whose message names the file and what is wrong with it, so a
verb prints it and exits 2 without a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from offline.cli import InputError
from offline.plan import REPO_ROOT, project_name, stack_file

__all__ = ["InputError", "read_document", "read_json", "settings_from_text", "stack_plan", "stack_settings"]


def stack_path(stack: str, config_file: Path | None) -> Path:
    return config_file or stack_file(stack, REPO_ROOT)


def stack_settings(stack: str, config_file: Path | None = None) -> Any:
    """The validated settings of a stack (or of `config_file`, a file of the same shape).
    Raises settings.ConfigError (every bad key) or InputError (the file itself)."""
    from offline.plan import stack_settings as settings_of

    return settings_of(stack, config_file)


def settings_from_text(text: str) -> Any:
    """The validated settings of a stack file's text (to check an edit before it is written)."""
    from settings import CONFIG_KEY, load_settings

    project = project_name(REPO_ROOT)
    config = (yaml.safe_load(text) or {}).get("config") or {}
    config = {key if ":" in key else f"{project}:{key}": value for key, value in config.items()}
    return load_settings(config.get(f"{project}:{CONFIG_KEY}"), config)


def read_document(path: Path, what: str) -> Any:
    """A YAML or JSON file (JSON is YAML)."""
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML or JSON: {error}") from None


def read_json(path: Path, what: str, required: tuple[str, ...]) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON: {error}") from None
    missing = [key for key in required if not isinstance(document, dict) or key not in document]
    if missing:
        raise InputError(f"{path}: not a {what} (missing {', '.join(missing)})")
    return document


def stack_plan(stack: str, config_file: Path | None = None, plan_file: Path | None = None) -> dict[str, Any]:
    """A saved plan JSON (`preview --json`), or the stack evaluated under the mock engine."""
    if plan_file is not None:
        return read_json(plan_file, "plan JSON (written by `python -m offline preview --json`)", ("resources",))
    from offline.plan import build_plan

    return build_plan(stack, config_file)
