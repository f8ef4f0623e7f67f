"""Write per-region GPU settings into a stack file, leaving every other byte of it as it was.

`set_region_gpu(text, {"aws:eu-central-1": {"min_nodes": 2}})` finds each region under
`config.<project>:platform.clouds.<cloud>.regions` with the YAML parser's own positions and edits
only there: an existing value is replaced in place; a missing key is added to the region's `gpu`
mapping (a new line in a block mapping, `, key: N` in a flow mapping); a region without `gpu` gets
`gpu: {min_nodes: N}`; a region given as a plain string becomes `{name: ..., gpu: {min_nodes: N}}`.
Comments, quoting, flow or block style and indentation elsewhere are untouched, so the diff a
reviewer reads is exactly the change. The result is parsed again and compared with the intended
data; any difference raises `StackEditError` and nothing is written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

PLATFORM_KEYS = ("multicloud-inference:platform", "platform")


class StackEditError(Exception):
    """The stack file cannot be edited as asked (shape unexpected, region not found)."""


def _entry(mapping: Node, key: str) -> tuple[ScalarNode, Node] | None:
    if not isinstance(mapping, MappingNode):
        return None
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _last_leaf(node: Node) -> Node:
    while isinstance(node, MappingNode | SequenceNode) and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    return node


def _after_line_of(text: str, node: Node) -> int:
    """The index where a new line goes right after the line on which `node` ends."""
    end = _last_leaf(node).end_mark.index
    if end > 0 and text[end - 1] == "\n":
        return end
    newline = text.find("\n", end)
    return len(text) if newline == -1 else newline + 1


def _scalar_text(value: int) -> str:
    return str(int(value))


class _Edits:
    def __init__(self, text: str):
        self.text = text
        self.edits: list[tuple[int, int, str]] = []

    def replace(self, node: Node, new: str) -> None:
        self.edits.append((node.start_mark.index, node.end_mark.index, new))

    def insert(self, at: int, new: str) -> None:
        self.edits.append((at, at, new))

    def insert_line(self, after: Node, indent: int, line: str) -> None:
        at = _after_line_of(self.text, after)
        prefix = "" if at == 0 or self.text[at - 1] == "\n" else "\n"
        self.insert(at, f"{prefix}{' ' * indent}{line}\n")

    def apply(self) -> str:
        text = self.text
        last_start = len(text) + 1
        # From the end backwards, so earlier positions stay valid; at one position, the edit asked
        # for last goes in first, so the text reads in the order the edits were asked for.
        order = sorted(range(len(self.edits)), key=lambda i: (self.edits[i][0], self.edits[i][1], i), reverse=True)
        for start, end, new in (self.edits[i] for i in order):
            if end > last_start:
                raise StackEditError("overlapping edits")
            text = text[:start] + new + text[end:]
            last_start = start
        return text


def _flow_mapping_set(edits: _Edits, mapping: MappingNode, key: str, value: str) -> None:
    found = _entry(mapping, key)
    if found is not None:
        edits.replace(found[1], value)
    elif mapping.value:
        edits.insert(mapping.value[-1][1].end_mark.index, f", {key}: {value}")
    else:  # `{}`: the closing brace is the last character of the node
        edits.insert(mapping.end_mark.index - 1, f"{key}: {value}")


def _mapping_set(edits: _Edits, mapping: MappingNode, key: str, value: str) -> None:
    if mapping.flow_style:
        _flow_mapping_set(edits, mapping, key, value)
        return
    found = _entry(mapping, key)
    if found is not None:
        edits.replace(found[1], value)
    else:
        edits.insert_line(mapping.value[-1][1], mapping.value[0][0].start_mark.column, f"{key}: {value}")


def _gpu_flow(values: Mapping[str, int]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar_text(v)}" for k, v in values.items()) + "}"


def _edit_region(edits: _Edits, text: str, region: Node, values: Mapping[str, int]) -> None:
    if isinstance(region, ScalarNode):
        name = text[region.start_mark.index:region.end_mark.index]
        edits.replace(region, f"{{name: {name}, gpu: {_gpu_flow(values)}}}")
        return
    if not isinstance(region, MappingNode):
        raise StackEditError(f"line {region.start_mark.line + 1}: a region must be a name or a mapping")
    gpu = _entry(region, "gpu")
    if gpu is None:
        if region.flow_style:
            _flow_mapping_set(edits, region, "gpu", _gpu_flow(values))
        else:
            edits.insert_line(region.value[-1][1], region.value[0][0].start_mark.column, f"gpu: {_gpu_flow(values)}")
        return
    node = gpu[1]
    if isinstance(node, ScalarNode) and node.tag.endswith(":null") and node.start_mark.index != node.end_mark.index:
        edits.replace(node, _gpu_flow(values))
        return
    if not isinstance(node, MappingNode):
        raise StackEditError(f"line {node.start_mark.line + 1}: a region's gpu must be a mapping")
    for key, value in values.items():
        _mapping_set(edits, node, key, _scalar_text(value))


def _regions(root: Node, cloud: str) -> SequenceNode:
    config = _entry(root, "config")
    platform = next((e for e in (_entry(config[1], k) for k in PLATFORM_KEYS) if e), None) if config else None
    clouds = _entry(platform[1], "clouds") if platform else None
    spec = _entry(clouds[1], cloud) if clouds else None
    regions = _entry(spec[1], "regions") if spec else None
    if regions is None or not isinstance(regions[1], SequenceNode):
        raise StackEditError(f"no config.{PLATFORM_KEYS[0]}.clouds.{cloud}.regions list in the stack file")
    return regions[1]


def _region_name(node: Node) -> str | None:
    if isinstance(node, ScalarNode):
        return node.value
    name = _entry(node, "name")
    return name[1].value if name and isinstance(name[1], ScalarNode) else None


def set_region_gpu(text: str, updates: Mapping[str, Mapping[str, int]]) -> str:
    """`text` with `clouds.<cloud>.regions[i].gpu.<key>` set for each `cloud:region` in `updates`."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        raise StackEditError("the stack file is empty")
    edits = _Edits(text)
    expected = yaml.safe_load(text)
    for key, values in updates.items():
        if not values:
            continue
        cloud, name = key.split(":", 1)
        sequence = _regions(root, cloud)
        index = next((i for i, node in enumerate(sequence.value) if _region_name(node) == name), None)
        if index is None:
            raise StackEditError(f"region {key} is not listed under clouds.{cloud}.regions")
        _edit_region(edits, text, sequence.value[index], values)
        _expect(expected, cloud, index, values)
    result = edits.apply()
    if yaml.safe_load(result) != expected:
        raise StackEditError("the edit would change more than the GPU settings asked for; the file is left as it was")
    return result


def _expect(document: dict[str, Any], cloud: str, index: int, values: Mapping[str, int]) -> None:
    config = document["config"]
    platform = next(config[k] for k in PLATFORM_KEYS if k in config)
    regions = platform["clouds"][cloud]["regions"]
    region = regions[index]
    if isinstance(region, str):
        region = regions[index] = {"name": region}
    gpu = region.get("gpu") or {}
    region["gpu"] = {**copy.deepcopy(gpu), **{k: int(v) for k, v in values.items()}}
