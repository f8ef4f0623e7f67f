"""The plan as people read it: how many resources, per cloud and region, per type.

"How many resources a plan has" has one definition, `resource_counts`, used by every verb that
prints a plan (`preview`, `check`): the cloud resources that would be created, i.e. custom
resources that are not provider instances; providers and component resources are counted apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


def is_cloud_resource(resource: dict[str, Any]) -> bool:
    """A resource a provider would create: custom, and not a provider instance itself."""
    return bool(resource["custom"]) and not resource["type"].startswith("pulumi:providers:")


@dataclass(frozen=True)
class ResourceCounts:
    resources: int   # cloud resources that would be created (what "N resources" means everywhere)
    providers: int   # explicit provider instances
    components: int  # component resources (grouping only, nothing is created for them)

    def __str__(self) -> str:
        return f"{self.resources} resources (plus {self.providers} providers and {self.components} components)"


def resource_counts(plan: dict[str, Any]) -> ResourceCounts:
    entries = plan["resources"]
    providers = sum(1 for r in entries if r["type"].startswith("pulumi:providers:"))
    components = sum(1 for r in entries if not r["custom"])
    return ResourceCounts(sum(1 for r in entries if is_cloud_resource(r)), providers, components)


def headline(plan: dict[str, Any]) -> str:
    return f"Stack {plan.get('project')}/{plan.get('stack')}: {resource_counts(plan)} would be created"


def summary(plan: dict[str, Any]) -> str:
    custom = [r for r in plan["resources"] if is_cloud_resource(r)]
    lines = [headline(plan), "", "By cloud and region:"]
    per_region = Counter((r["cloud"] or "-", r["region"] or "global") for r in custom)
    for (cloud, region), count in sorted(per_region.items()):
        lines.append(f"  {cloud:<11} {region:<22} {count:>4}")
    lines += ["", "By type:"]
    for type_, count in sorted(Counter(r["type"] for r in custom).items()):
        lines.append(f"  {type_:<88} {count:>4}")
    protected = sum(1 for r in custom if r["protect"])
    lines += ["", f"Protected resources: {protected}"]
    if plan["outputs"]:
        lines += ["", "Outputs:"] + [f"  {k}: {v}" for k, v in sorted(plan["outputs"].items())]
    return "\n".join(lines)
