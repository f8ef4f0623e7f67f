"""`diff BASE.json HEAD.json`: what a change does to a stack's plan, for reviewers without cloud
credentials (a fork's pull request gets it as a comment).

Lists the resources added, removed and changed (by URN), and for each changed one the inputs (and
the `protect` / `provider` options) that differ, plus changed stack outputs. Secrets never show:
values the plan already masks stay `[secret]`, and values under secret-looking keys (passwords,
keys, tokens, kubeconfigs) are masked too; a masked value that changed reads `[secret] (changed)`.
Component resources only group others and are left out.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from typing import Any

from offline.cli import STDIO, Verb, write_text

SECRET = "[secret]"
ABSENT = "(absent)"
SECRET_KEY = re.compile(r"password|passphrase|secret|token|sharedkey|psk|privatekey|credential|kubeconfig", re.I)
OPTIONS = ("protect", "provider")  # resource options shown beside the inputs, as `[protect]`


@dataclass(frozen=True)
class Change:
    path: str
    before: Any  # ABSENT when the path did not exist
    after: Any


@dataclass(frozen=True)
class ResourceRef:
    urn: str
    type: str
    name: str


@dataclass(frozen=True)
class ResourceChange:
    resource: ResourceRef
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class PlanDiff:
    stack: str | None
    added: tuple[ResourceRef, ...] = ()
    removed: tuple[ResourceRef, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    outputs: tuple[Change, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    def headline(self) -> str:
        if self.empty:
            return "no changes"
        parts = [f"{len(self.added)} added", f"{len(self.removed)} removed", f"{len(self.changed)} changed"]
        if self.outputs:
            parts.append(f"{len(self.outputs)} output(s) changed")
        return ", ".join(parts)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of nested objects by path: `tags.owner`, `ingress[0].fromPort`. Empty containers are
    leaves, so adding the first tag shows as `tags` changing from {} ... and then `tags.x`."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def _is_secret_path(path: str) -> bool:
    return any(SECRET_KEY.search(part) for part in re.split(r"[.\[\]]", path) if part)


def masked(path: str, value: Any) -> Any:
    if value is ABSENT or value == SECRET:
        return value
    return SECRET if _is_secret_path(path) else value


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[Change, ...]:
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, ABSENT), after.get(path, ABSENT)
        if old == new and type(old) is type(new):
            continue
        old_shown, new_shown = masked(path, old), masked(path, new)
        if old_shown == new_shown == SECRET:
            new_shown = f"{SECRET} (changed)"
        changes.append(Change(path, old_shown, new_shown))
    return tuple(changes)


def _ref(resource: dict[str, Any]) -> ResourceRef:
    return ResourceRef(resource["urn"], resource["type"], resource.get("name") or resource["urn"].rsplit("::", 1)[-1])


def _comparable(resource: dict[str, Any]) -> dict[str, Any]:
    leaves = flatten(resource.get("inputs") or {})
    for option in OPTIONS:
        leaves[f"[{option}]"] = resource.get(option)
    return leaves


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Compare two plan JSONs (as `preview --json` writes them) resource by resource."""
    before = {r["urn"]: r for r in base.get("resources") or [] if r.get("custom")}
    after = {r["urn"]: r for r in head.get("resources") or [] if r.get("custom")}
    changed = []
    for urn in sorted(set(before) & set(after)):
        changes = _changes(_comparable(before[urn]), _comparable(after[urn]))
        if changes:
            changed.append(ResourceChange(_ref(after[urn]), changes))
    outputs = _changes(flatten(base.get("outputs") or {}), flatten(head.get("outputs") or {}))
    return PlanDiff(
        stack=head.get("stack") or base.get("stack"),
        added=tuple(_ref(after[u]) for u in sorted(set(after) - set(before))),
        removed=tuple(_ref(before[u]) for u in sorted(set(before) - set(after))),
        changed=tuple(changed),
        outputs=tuple(c for c in outputs if c.path),
    )


# --- rendering -----------------------------------------------------------------------------------

MAX_VALUE = 120


def _value(value: Any) -> str:
    text = value if value is ABSENT or (isinstance(value, str) and value.startswith(SECRET)) else json.dumps(value)
    text = str(text).replace("\n", "\\n")
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def format_text(diff: PlanDiff) -> str:
    lines = [f"Plan diff of {diff.stack}: {diff.headline()}"]
    lines += [f"+ {r.type} {r.name}" for r in diff.added]
    lines += [f"- {r.type} {r.name}" for r in diff.removed]
    for change in diff.changed:
        lines.append(f"~ {change.resource.type} {change.resource.name}")
        lines += [f"    {c.path}: {_value(c.before)} -> {_value(c.after)}" for c in change.changes]
    if diff.outputs:
        lines.append("outputs:")
        lines += [f"    {c.path}: {_value(c.before)} -> {_value(c.after)}" for c in diff.outputs]
    return "\n".join(lines)


def _code(text: str) -> str:
    """A Markdown code span that nothing in `text` can break out of (backticks, pipes in tables,
    mentions and links are inert inside it): the plan of a fork's pull request is untrusted."""
    text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def format_markdown(diff: PlanDiff, limit: int = 200) -> str:
    """A PR-comment section: the headline, then collapsible tables; at most `limit` rows in all."""
    lines = [f"#### Stack {_code(str(diff.stack))}: {diff.headline()}"]
    if diff.empty:
        return "\n".join(lines)
    budget = [limit]

    def rows(items: list[str]) -> list[str]:
        shown, budget[0] = items[: max(budget[0], 0)], budget[0] - len(items)
        extra = len(items) - len(shown)
        return shown + ([f"| … | {extra} more: see the plan artifacts |"] if extra else [])

    for title, refs in (("Added", diff.added), ("Removed", diff.removed)):
        if refs:
            lines += ["", f"<details><summary>{title} ({len(refs)})</summary>", "", "| type | name |", "|---|---|"]
            lines += rows([f"| {_code(r.type)} | {_code(r.name)} |" for r in refs])
            lines += ["", "</details>"]
    if diff.changed:
        lines += ["", f"<details><summary>Changed ({len(diff.changed)})</summary>", "",
                  "| resource | input | base | head |", "|---|---|---|---|"]
        lines += rows([
            f"| {_code(ch.resource.type + ' ' + ch.resource.name)} | {_code(c.path)} | {_code(_value(c.before))} "
            f"| {_code(_value(c.after))} |"
            for ch in diff.changed for c in ch.changes
        ])
        lines += ["", "</details>"]
    if diff.outputs:
        lines += ["", f"<details><summary>Outputs ({len(diff.outputs)})</summary>", "",
                  "| output | base | head |", "|---|---|---|"]
        lines += rows([f"| {_code(c.path)} | {_code(_value(c.before))} | {_code(_value(c.after))} |" for c in diff.outputs])
        lines += ["", "</details>"]
    return "\n".join(lines)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", help="the plan JSON before the change (`preview --json` of the base branch)")
    parser.add_argument("head", help="the plan JSON after the change")
    parser.add_argument("--markdown", action="store_true", help="a Markdown section for a pull request comment")
    parser.add_argument("--out", default=STDIO, metavar="FILE", help="write here (default `-`: standard output)")


def _run(args: argparse.Namespace) -> int:
    from offline.policy_check import read_plan

    diff = diff_plans(read_plan(args.base), read_plan(args.head))
    write_text(args.out, (format_markdown(diff) if args.markdown else format_text(diff)) + "\n")
    return 0


VERB = Verb("diff", "list the resources added, removed and changed between two plan JSONs (secrets masked)", _arguments, _run)
