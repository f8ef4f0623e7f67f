"""Build the normalized `Resource` view from the offline plan JSON. (The pulumi_policy adapter
lives in `pulumi_pack.py`, the only module that imports pulumi_policy.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Provider, Resource, normalize

# The offline plan marks values unknown at preview with this string; secrets become "[secret]",
# which rules treat as an opaque known value (a secret reference is present).
PLAN_UNKNOWN = "[unknown]"


def _provider_urn(reference: str) -> str:
    # Engine provider references are "<urn>::<id>" (a URN has three "::"); the plan may carry either.
    return reference.rsplit("::", 1)[0] if reference.count("::") > 3 else reference


def from_plan(plan: Mapping[str, Any]) -> list[Resource]:
    entries = plan.get("resources") or []
    by_urn = {e["urn"]: e for e in entries}
    resources = []
    for entry in entries:
        provider = None
        if entry.get("provider"):
            ref = entry["provider"]
            p = by_urn.get(ref) or by_urn.get(_provider_urn(ref))
            if p is not None:
                provider = Provider(p["type"], normalize(p.get("inputs") or {}, (PLAN_UNKNOWN,)))
        resources.append(Resource(
            urn=entry["urn"],
            type=entry["type"],
            name=entry.get("name") or entry["urn"].rsplit("::", 1)[-1],
            props=normalize(entry.get("inputs") or {}, (PLAN_UNKNOWN,)),
            provider=provider,
            parent=entry.get("parent"),
            dependencies=tuple(entry.get("dependencies") or ()),
            property_dependencies={k: tuple(v) for k, v in (entry.get("property_dependencies") or {}).items()},
        ))
    return resources
