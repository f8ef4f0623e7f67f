"""Policy pack configuration in the exact format `pulumi preview --policy-pack-config FILE` takes.

    {"all": "mandatory",                                   # optional: level for every policy
     "<policy name>": "advisory",                          # a level, or
     "<policy name>": {"enforcementLevel": "...", "<key>": value, ...}}

The CLI validates each policy's properties against its JSON schema and fills defaults; the
offline runner does the same here, and both paths run the semantic checks (e.g. an exemption
without a justification) before any rule sees the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .definitions import ENFORCEMENT_LEVELS, ConfigError, PolicyDefinition, validate_schema


@dataclass(frozen=True)
class PolicySettings:
    enforcement: str
    config: Mapping[str, Any]


def policy_config(definition: PolicyDefinition, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The policy's effective properties: its defaults overlaid with `given`, validated."""
    given = dict(given or {})
    keys = {k.name: k for k in definition.config_keys}
    errors = [f"{definition.name}.{k}: unknown key" for k in given if k not in keys]
    effective = definition.defaults()
    for name, value in given.items():
        if name not in keys:
            continue
        key = keys[name]
        problems = validate_schema(key.schema, value, f"{definition.name}.{name}")
        if not problems and key.semantic:
            problems = [f"{definition.name}.{name}{p}" for p in key.semantic(value)]
        errors += problems
        effective[name] = value
    if errors:
        raise ConfigError("invalid policy pack config: " + "; ".join(errors))
    return effective


def _split(policy: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, str):
        level, props = value, {}
    elif isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
    else:
        raise ConfigError(f"invalid policy pack config: {policy}: must be an enforcement level or an object")
    if level is not None and level not in ENFORCEMENT_LEVELS:
        raise ConfigError(
            f"invalid policy pack config: {policy}.enforcementLevel: {level!r} is not one of {list(ENFORCEMENT_LEVELS)}"
        )
    return level, props


def resolve(definitions: Iterable[PolicyDefinition], raw: Mapping[str, Any] | None) -> dict[str, PolicySettings]:
    """Per-policy enforcement and properties from a pack config document (None: all defaults)."""
    raw = dict(raw or {})
    by_name = {d.name: d for d in definitions}
    unknown = sorted(k for k in raw if k != "all" and k not in by_name)
    if unknown:
        raise ConfigError(f"invalid policy pack config: unknown policy {', '.join(unknown)}")
    all_level, all_props = _split("all", raw.pop("all", {}))
    if all_props:
        raise ConfigError("invalid policy pack config: all: only enforcementLevel can be set for all policies")
    settings = {}
    errors = []
    for name, definition in by_name.items():
        level, props = _split(name, raw.get(name, {}))
        try:
            config = policy_config(definition, props)
        except ConfigError as e:
            errors.append(str(e).removeprefix("invalid policy pack config: "))
            continue
        settings[name] = PolicySettings(level or all_level or definition.enforcement, config)
    if errors:
        raise ConfigError("invalid policy pack config: " + "; ".join(errors))
    return settings
