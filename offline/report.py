"""The plan as people read it: counts per cloud and region, and per type."""

from __future__ import annotations

from collections import Counter
from typing import Any


def summary(plan: dict[str, Any]) -> str:
    custom = [r for r in plan["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    lines = [f"Stack {plan['project']}/{plan['stack']}: {len(custom)} resources would be created", ""]
    lines.append("By cloud and region:")
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
