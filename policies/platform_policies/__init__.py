"""The platform's CrossGuard rules: pure policy definitions plus the engine that runs them.

`POLICIES` is the single registry; `pulumi_pack.build_policies()` wraps it for the Pulumi CLI,
`engine.evaluate()` runs it over an offline plan. Only `pulumi_pack` imports pulumi_policy, and no
module imports a provider SDK: rules read engine-shaped properties only.
"""

from __future__ import annotations

from . import autoscaling, encryption, exposure, global_entry, hygiene, network, registries, residency, workloads
from .definitions import PolicyDefinition

PACK_NAME = "multicloud-inference-guardrails"

# Category -> policies, in the order the README presents them.
CATEGORIES: dict[str, tuple[PolicyDefinition, ...]] = {
    "residency": residency.POLICIES,
    "dns": global_entry.POLICIES,
    "encryption": encryption.POLICIES,
    "exposure": exposure.POLICIES,
    "network": network.POLICIES,
    "workloads": workloads.POLICIES,
    "registries": registries.POLICIES,
    "autoscaling": autoscaling.POLICIES,
    "hygiene": hygiene.POLICIES,
}

POLICIES: tuple[PolicyDefinition, ...] = tuple(p for group in CATEGORIES.values() for p in group)
CATEGORY_OF = {p.name: category for category, group in CATEGORIES.items() for p in group}

_names = [p.name for p in POLICIES]
if len(set(_names)) != len(_names):
    raise AssertionError(f"duplicate policy names: {sorted(n for n in _names if _names.count(n) > 1)}")
