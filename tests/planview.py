"""Read a plan JSON the way tests ask about it: by type, by name, by dependency."""

from __future__ import annotations

import copy
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from offline.plan import REPO_ROOT, build_plan


class PlanView:
    def __init__(self, plan: dict[str, Any]):
        self.plan = plan
        self.resources: list[dict[str, Any]] = plan["resources"]

    @cached_property
    def by_urn(self) -> dict[str, dict[str, Any]]:
        return {r["urn"]: r for r in self.resources}

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def one(self, type_: str, name: str) -> dict[str, Any]:
        matches = [r for r in self.of_type(type_) if r["name"] == name]
        assert len(matches) == 1, f"expected one {type_} named {name}, found {len(matches)}"
        return matches[0]

    def custom(self) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["custom"]]

    def children(self, urn: str) -> list[dict[str, Any]]:
        """Every resource below `urn` in the parent tree."""
        found, frontier = [], [urn]
        while frontier:
            parent = frontier.pop()
            for r in self.resources:
                if r["parent"] == parent:
                    found.append(r)
                    frontier.append(r["urn"])
        return found

    def depends_on(self, urn: str, target: str) -> bool:
        """Whether `urn` waits for `target`, directly or through other resources."""
        seen, frontier = set(), [urn]
        while frontier:
            current = frontier.pop()
            for dependency in self.by_urn[current]["dependencies"]:
                if dependency == target:
                    return True
                if dependency not in seen and dependency in self.by_urn:
                    seen.add(dependency)
                    frontier.append(dependency)
        return False


def stack_platform_config(stack: str) -> dict[str, Any]:
    """A deep copy of a committed stack's `platform` object, for tests to mutate."""
    document = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return copy.deepcopy(document["config"]["multicloud-inference:platform"])


def keep_serving_valid(platform: dict[str, Any]) -> dict[str, Any]:
    """After a test removed clouds or regions: waves name only what is left, the deployer sits in a
    hub that still exists, and every zone left with regions keeps a model source."""
    keys = {
        f"{cloud}:{r if isinstance(r, str) else r['name']}"
        for cloud, spec in platform["clouds"].items()
        for r in spec["regions"]
    }
    waves = [[k for k in wave if k in keys or k == "rest"] for wave in platform.get("rollout", {}).get("waves", [])]
    platform.setdefault("rollout", {})["waves"] = [w for w in waves if w] or [["rest"]]
    deployer = platform.get("deployer", {})
    if deployer.get("network") and deployer["network"] not in keys:
        cloud, spec = next(iter(platform["clouds"].items()))
        deployer["network"] = f"{cloud}:{spec['hub']}"
    # Model sources: each zone (and `default`, the regions outside every zone) that still has
    # regions keeps its source, or takes its first remaining region.
    zone_of = {r: z for z, members in platform.get("residency_zones", {}).items() for r in members}
    groups: dict[str, list[str]] = {}
    for key in _config_order(platform):
        groups.setdefault(zone_of.get(key.split(":", 1)[1], "default"), []).append(key)
    sources = platform.setdefault("models", {}).get("sources", {})
    platform["models"]["sources"] = {
        group: sources[group] if sources.get(group) in members else members[0] for group, members in groups.items()
    }
    return platform


def _config_order(platform: dict[str, Any]) -> list[str]:
    return [
        f"{cloud}:{r if isinstance(r, str) else r['name']}"
        for cloud, spec in platform["clouds"].items()
        for r in spec["regions"]
    ]


def plan_for_config(platform: dict[str, Any], stack: str = "test") -> PlanView:
    """Evaluate the program with `platform` as its config, as `preview --config-file` would."""
    document = {
        "config": {
            "pulumi:disable-default-providers": ["*"],
            "multicloud-inference:platform": platform,
        }
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document))
        return PlanView(build_plan(stack, path))
