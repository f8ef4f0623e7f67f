"""Thin pulumi_policy wrappers around the policy definitions, for `pulumi preview --policy-pack`.

pulumi_policy wraps properties in a proxy that raises on unknown values, and the analyzer then
*skips* the policy with an advisory note. Residency and encryption must fail closed instead, so
the wrappers unwrap the proxies and hand the rules an explicit UNKNOWN to judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy
from pulumi_policy.deserialize import serialize_properties

from . import CATEGORY_OF, POLICIES
from .config import policy_config
from .definitions import PolicyDefinition
from .engine import run_resource_policy, run_stack_policy
from .model import Provider, Resource, Stack, normalize

ENGINE_UNKNOWNS = (
    _proxy.UNKNOWN_BOOLEAN_VALUE, _proxy.UNKNOWN_NUMBER_VALUE, _proxy.UNKNOWN_STRING_VALUE,
    _proxy.UNKNOWN_ARRAY_VALUE, _proxy.UNKNOWN_ASSET_VALUE, _proxy.UNKNOWN_ARCHIVE_VALUE,
    _proxy.UNKNOWN_OBJECT_VALUE,
)


def _plain(props: Mapping[str, Any] | None) -> dict[str, Any]:
    # serialize_properties unwraps the unknown-checking proxies without touching their values.
    return normalize(serialize_properties(props or {}), ENGINE_UNKNOWNS)


def _provider(provider: Any) -> Provider | None:
    return None if provider is None else Provider(provider.resource_type, _plain(provider.props))


def from_validation_args(args: ResourceValidationArgs) -> Resource:
    return Resource(urn=args.urn, type=args.resource_type, name=args.name, props=_plain(args.props),
                    provider=_provider(args.provider), parent=args.opts.parent if args.opts else None)


def from_policy_resource(resource: Any) -> Resource:
    return Resource(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=_plain(resource.props),
        provider=_provider(resource.provider),
        parent=resource.parent.urn if resource.parent is not None else None,
        dependencies=tuple(d.urn for d in resource.dependencies),
        property_dependencies={k: tuple(d.urn for d in v) for k, v in resource.property_dependencies.items()},
    )


def _resource_validator(definition: PolicyDefinition):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not definition.applies_to(args.resource_type):
            return
        config = policy_config(definition, args.get_config())
        for message in run_resource_policy(definition, from_validation_args(args), config):
            report_violation(message, None)

    return validate


def _stack_validator(definition: PolicyDefinition):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = policy_config(definition, args.get_config())
        stack = Stack(tuple(from_policy_resource(r) for r in args.resources))
        for urn, message in run_stack_policy(definition, stack, config):
            report_violation(message, urn)

    return validate


def to_policy(definition: PolicyDefinition) -> Policy:
    common = dict(
        name=definition.name,
        description=definition.description,
        enforcement_level=EnforcementLevel(definition.enforcement),
        config_schema=PolicyConfigSchema({k.name: dict(k.schema) for k in definition.config_keys}),
        severity=Severity(definition.severity),
        framework=PolicyComplianceFramework(name=definition.frameworks[0]),
        tags=[*definition.frameworks, CATEGORY_OF[definition.name]],
    )
    if definition.scope == "stack":
        return StackValidationPolicy(validate=_stack_validator(definition), **common)
    return ResourceValidationPolicy(validate=_resource_validator(definition), **common)


def build_policies() -> list[Policy]:
    return [to_policy(d) for d in POLICIES]
