"""What every part of the settings shares: the config key, the strict model base, key paths and
the way a pydantic error becomes one line a user can act on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

PROJECT = "multicloud-inference"
CONFIG_KEY = "platform"
KEY_ROOT = f"{PROJECT}:{CONFIG_KEY}"

NAME_PATTERN = r"^[a-z][a-z0-9]{1,9}$"
LABEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
PATTERN_HINTS = {
    # Short, lower-case alphanumeric: it prefixes names with tight limits (Azure storage accounts
    # take 24 lower-case alphanumerics in all).
    NAME_PATTERN: "2 to 10 lower-case letters and digits, starting with a letter",
    # It becomes a GCP label value, the strictest of the three clouds' tag rules.
    LABEL_PATTERN: "lower-case letters, digits, '_' and '-' (a GCP label value), at most 63",
    r"^[0-9a-fA-F-]{36}$": "a GUID such as 00000000-0000-0000-0000-000000000000",
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$": "a GCP project id: 6 to 30 lower-case letters, digits and '-'",
    r"^1\.\d{2}$": "a Kubernetes minor version such as 1.33",
    r"^[a-z][a-z0-9-]{0,30}$": "lower-case letters, digits and '-', starting with a letter",
}


class ConfigError(Exception):
    """Invalid stack config; `problems` holds one line per bad key, each starting with its path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"invalid stack config ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


class StrictModel(BaseModel):
    """Unknown keys are errors (typos are caught) and validated settings never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def key_path(*parts: str | int) -> str:
    path = KEY_ROOT
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def describe(error: dict[str, Any]) -> str:
    # Pydantic puts the union/tagged member in the location for some errors; keep only real keys.
    loc = [p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    message = error["msg"]
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known key (check its spelling)"
    elif error["type"] == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        message = f"{error['input']!r} is not {PATTERN_HINTS.get(pattern, f'matching {pattern}')}"
    elif error["type"] == "literal_error":
        message = f"{message}, got {error['input']!r}"
    return f"{key_path(*loc)}: {message}"
