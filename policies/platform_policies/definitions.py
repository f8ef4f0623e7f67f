"""What a policy is, independent of pulumi_policy: metadata, config schema and a pure check.

One `PolicyDefinition` per policy. The CLI wrapper (`pulumi_pack.py`) and the offline runner
(`engine.py`) both read these, so the README table, the CLI and the offline verdicts cannot
disagree about names, defaults or configuration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
SEVERITIES = ("low", "medium", "high", "critical")

# A resource check yields messages; a stack check yields (urn, message) pairs.
ResourceCheck = Callable[[Any, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Any, Mapping[str, Any]], Iterable[tuple[str, str]]]


class ConfigError(ValueError):
    """Invalid policy pack configuration; the message names the offending key."""


@dataclass(frozen=True)
class ConfigKey:
    """One configuration property of a policy: a JSON schema (with its default) plus an optional
    semantic check that JSON schema cannot express (e.g. a region listed in two zones)."""

    name: str
    schema: Mapping[str, Any]
    semantic: Callable[[Any], Iterable[str]] | None = None

    @property
    def default(self) -> Any:
        return self.schema["default"]


@dataclass(frozen=True)
class PolicyDefinition:
    name: str
    description: str
    severity: str
    frameworks: tuple[str, ...]
    enforcement: str
    resource_types: tuple[str, ...]
    check: ResourceCheck | StackCheck
    scope: Literal["resource", "stack"] = "resource"
    config: tuple[ConfigKey, ...] = ()
    # Fail-closed policies report a value the check depends on that is unknown at preview as a
    # violation; the others ignore what they cannot see (pulumi_policy's default behaviour).
    fail_closed: bool = False
    exclude_types: tuple[str, ...] = field(default=())
    # Exemptions that ship with the pack, each justified like any configured one; a configured
    # `exemptions` list replaces them (so a security team can always take them back).
    default_exemptions: tuple[Mapping[str, str], ...] = ()

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.name
        assert self.enforcement in ENFORCEMENT_LEVELS, self.name

    @property
    def config_keys(self) -> tuple[ConfigKey, ...]:
        exemptions = ConfigKey(
            EXEMPTIONS.name,
            {**EXEMPTIONS.schema, "default": [dict(e) for e in self.default_exemptions]},
            EXEMPTIONS.semantic,
        )
        return (exemptions, *self.config)

    def applies_to(self, resource_type: str) -> bool:
        from .model import matches_any

        return matches_any(resource_type, self.resource_types) and not matches_any(
            resource_type, self.exclude_types
        )

    def defaults(self) -> dict[str, Any]:
        return {k.name: k.default for k in self.config_keys}


def _exemption_semantics(value: Any) -> Iterable[str]:
    for i, exemption in enumerate(value):
        if not str(exemption.get("justification", "")).strip():
            yield f"[{i}].justification: an exemption needs a justification"


EXEMPTIONS = ConfigKey(
    "exemptions",
    {
        "type": "array",
        "description": "Resources this policy does not apply to, by resource name glob, each with why.",
        "items": {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "minLength": 1},
                "justification": {"type": "string", "minLength": 1},
            },
            "required": ["pattern", "justification"],
            "additionalProperties": False,
        },
        "default": [],
    },
    _exemption_semantics,
)


def validate_schema(schema: Mapping[str, Any], value: Any, path: str) -> list[str]:
    """Validate one config value against its JSON schema with `jsonschema` (draft 7, as the CLI),
    each problem as one line starting with its key path, e.g. `p.exemptions[0].justification: required`."""
    # Imported here: generating a pack config (`python -m offline policy-config`) loads these
    # definitions in the deploy environment, which holds runtime dependencies only.
    from jsonschema import Draft7Validator

    problems: list[str] = []
    for error in Draft7Validator(schema).iter_errors(value):
        where = path + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        for problem in _describe(error, where):
            if problem not in problems:
                problems.append(problem)
    return sorted(problems)


def _describe(error: Any, where: str) -> list[str]:
    """jsonschema's verdict in the pack's wording (the key path first, then what is wrong)."""
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "required":
        return [f"{where}.{name}: required" for name in expected if name not in instance]
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [f"{where}.{name}: unknown key" for name in instance if name not in known]
    if kind == "type":
        return [f"{where}: expected {expected if isinstance(expected, str) else ' or '.join(expected)}, "
                f"got {type(instance).__name__}"]
    if kind == "minimum":
        return [f"{where}: must be >= {expected}"]
    if kind == "minItems":
        return [f"{where}: needs at least {expected} item(s)"]
    if kind == "minLength":
        return [f"{where}: must not be empty" if expected == 1 else f"{where}: needs at least {expected} characters"]
    if kind == "enum":
        return [f"{where}: {instance!r} is not one of {list(expected)}"]
    return [f"{where}: {error.message}"]
