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
    """The JSON-schema subset our config keys use, so offline config errors match the CLI's."""
    errors: list[str] = []
    kind = schema.get("type")
    type_ok = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == int(v),
    }
    if kind and not type_ok[kind](value):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {list(schema['enum'])}")
    if kind == "string" and len(value) < schema.get("minLength", 0):
        errors.append(f"{path}: must not be empty")
    if kind == "integer" and "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: must be >= {schema['minimum']}")
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: needs at least {schema['minItems']} item(s)")
        for i, item in enumerate(value):
            errors += validate_schema(schema.get("items", {}), item, f"{path}[{i}]")
    if kind == "object":
        props = schema.get("properties", {})
        for req in schema.get("required", []):
            if req not in value:
                errors.append(f"{path}.{req}: required")
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errors += validate_schema(props[k], v, f"{path}.{k}")
            elif extra is False:
                errors.append(f"{path}.{k}: unknown key")
            elif isinstance(extra, Mapping):
                errors += validate_schema(extra, v, f"{path}.{k}")
    return errors
