"""The normalized resource view every rule receives, and helpers to read engine-shaped properties.

Rules never see pulumi_policy proxies or the offline plan's string markers: the adapters
(`adapters.py`) turn both into this view, with every value unknown at preview replaced by the
single `UNKNOWN` sentinel. That keeps each rule a pure function and makes "unknown" explicit, so
residency and encryption rules can fail closed instead of being skipped.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value the engine cannot know during preview (typically an output of a new resource)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # Truthiness of an unknown is a bug waiting to happen (`if props.get("x")` would treat
        # it as set); make every rule say explicitly what unknown means for it.
        raise TypeError("truth value of UNKNOWN is undefined; test with is_unknown()")


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return is_unknown(value)


def normalize(value: Any, unknown_markers: Iterable[str]) -> Any:
    """Deep-copy `value` as plain dicts/lists, replacing any of `unknown_markers` by UNKNOWN."""
    markers = frozenset(unknown_markers)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return UNKNOWN if v in markers else v
        if isinstance(v, Mapping):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        return v

    return walk(value)


@dataclass(frozen=True)
class Provider:
    type: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    provider: Provider | None = None
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def cloud(self) -> str | None:
        return cloud_of(self.type)

    def get(self, path: str) -> Any:
        return get_path(self.props, path)


_CLOUD_PREFIXES = {"aws": "aws", "azure-native": "azure", "gcp": "gcp", "kubernetes": "kubernetes"}


def cloud_of(resource_type: str) -> str | None:
    return _CLOUD_PREFIXES.get(resource_type.split(":", 1)[0])


def name_from_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def get_path(value: Any, path: str) -> Any:
    """Read `a.b.c` from nested mappings; None when absent, UNKNOWN as soon as a step is unknown."""
    for part in path.split("."):
        if is_unknown(value):
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def items(value: Any) -> list[Any]:
    """A list property as a list (absent -> empty); an unknown list stays UNKNOWN."""
    if value is None:
        return []
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def known_items(value: Any) -> list[Any]:
    """A list property as a list, treating an unknown list as empty (for rules that do not fail closed)."""
    return [] if is_unknown(value) else items(value)


def json_object(value: Any) -> Any:
    """Provider inputs and some policy documents arrive JSON-encoded; decode when they are."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class Stack:
    """All resources of a stack, indexed by URN, for stack-level rules."""

    resources: tuple[Resource, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_urn", {r.urn: r for r in self.resources})

    def get(self, urn: str) -> Resource | None:
        return self._by_urn.get(urn)  # type: ignore[attr-defined]

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.type in types)

    def property_dependencies(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        found = (self.get(u) for u in resource.property_dependencies.get(prop, ()))
        return [r for r in found if r is not None and (not types or r.type in types)]

    def referrers(self, target: Resource, type_: str, prop: str, target_name_prop: str) -> list[Resource]:
        """Resources of `type_` whose `prop` refers to `target`: through the engine's property
        dependencies (the id of a new resource is unknown at preview), or by the target's name."""
        name = target.get(target_name_prop)
        return [
            r for r in self.of_type(type_)
            if target.urn in r.property_dependencies.get(prop, ())
            or (isinstance(name, str) and r.get(prop) == name)
        ]
