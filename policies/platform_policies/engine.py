"""Run policy definitions over normalized resources: shared by the CLI wrappers and offline use,
so exemptions and enforcement behave identically in both."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import POLICIES
from .config import PolicySettings, resolve
from .definitions import PolicyDefinition
from .model import Resource, Stack, matches_any, name_from_urn


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    enforcement: str
    urn: str
    message: str


def exempted(config: Mapping[str, Any], resource_name: str) -> bool:
    return matches_any(resource_name, (e["pattern"] for e in config["exemptions"]))


def run_resource_policy(definition: PolicyDefinition, resource: Resource, config: Mapping[str, Any]) -> list[str]:
    if not definition.applies_to(resource.type) or exempted(config, resource.name):
        return []
    return list(definition.check(resource, config))


def run_stack_policy(definition: PolicyDefinition, stack: Stack, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(urn, message) for urn, message in definition.check(stack, config)
            if not exempted(config, name_from_urn(urn))]


def reported_level(enforcement: str) -> str:
    # As the CLI does: a remediate-level policy that still finds a violation reports it as mandatory.
    return "mandatory" if enforcement == "remediate" else enforcement


def evaluate(resources: Iterable[Resource], settings: Mapping[str, PolicySettings]) -> list[Violation]:
    stack = Stack(tuple(resources))
    found: list[Violation] = []
    for definition in POLICIES:
        setting = settings[definition.name]
        if setting.enforcement == "disabled":
            continue
        level = reported_level(setting.enforcement)
        if definition.scope == "stack":
            pairs = run_stack_policy(definition, stack, setting.config)
        else:
            pairs = [(r.urn, m) for r in stack.resources for m in run_resource_policy(definition, r, setting.config)]
        found += (Violation(definition.name, level, urn, message) for urn, message in pairs)
    return sorted(set(found))


def evaluate_with_config(resources: Iterable[Resource], raw_config: Mapping[str, Any] | None) -> list[Violation]:
    """Evaluate with a pack config document as `--policy-pack-config` takes it (None: defaults)."""
    return evaluate(resources, resolve(POLICIES, raw_config))
