"""What every part of the settings shares: the config key, the strict model base, key paths and
the way a pydantic error becomes one line a user can act on.

Every line names the key path and the bad value (`...supernet: '10.0.0.0/33' is not a valid IPv4
network`), lists the choices of an enumeration, suggests the closest valid key for a misspelt one,
and never shows a pydantic class name.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict

PROJECT = "multicloud-inference"
CONFIG_KEY = "platform"
KEY_ROOT = f"{PROJECT}:{CONFIG_KEY}"

NAME_PATTERN = r"^[a-z][a-z0-9]{1,9}$"
LABEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
PATTERN_HINTS = {
    # Short, lower-case alphanumeric: it prefixes names with tight limits (Azure storage accounts
    # take 24 lower-case alphanumerics in all).
    NAME_PATTERN: "2 to 10 lower-case letters and digits, starting with a letter",
    # It becomes a GCP label value, the strictest of the three clouds' tag rules.
    LABEL_PATTERN: "lower-case letters, digits, '_' and '-' (a GCP label value), at most 63",
    r"^[0-9a-fA-F-]{36}$": "a GUID such as 00000000-0000-0000-0000-000000000000",
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$": "a GCP project id: 6 to 30 lower-case letters, digits and '-'",
    r"^1\.\d{2}$": "a Kubernetes minor version such as 1.33",
    r"^[a-z][a-z0-9-]{0,30}$": "lower-case letters, digits and '-', starting with a letter",
}


class ConfigError(Exception):
    """Invalid stack config; `problems` holds one line per bad key, each starting with its path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"invalid stack config ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


class StrictModel(BaseModel):
    """Unknown keys are errors (typos are caught) and validated settings never change. Counts and
    switches are declared StrictInt / StrictBool: `true` is not 1 and `"2"` is not 2."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _cidr_text(value: Any) -> Any:
    # pydantic would read an integer (or `true`) as a one-address network: only text is a CIDR.
    if isinstance(value, (str, ipaddress.IPv4Network)):
        return value
    raise ValueError(f"{show(value)} is not a CIDR such as 10.64.0.0/16")


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_cidr_text)]
"""An IPv4 network written as text (`10.64.0.0/16`)."""


def key_path(*parts: str | int) -> str:
    path = KEY_ROOT
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def show(value: Any) -> str:
    """A config value the way the user wrote it in YAML: `true`, `null`, `'10.0.0.0/33'`, `[]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list)):
        try:
            text = json.dumps(value, default=str)
        except (TypeError, ValueError):
            text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def unknown_key(key: str, valid: Iterable[str]) -> str:
    """The message for a key nobody reads: the closest valid key, or all of them."""
    valid = sorted(valid)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; valid keys here: {', '.join(valid)}"


def unknown_config_keys(config_keys: Iterable[str]) -> list[str]:
    """Problems for keys in this project's config namespace that the program does not read (it
    reads only `multicloud-inference:platform`), e.g. a misspelt `multicloud-inference:platfrom`."""
    prefix = f"{PROJECT}:"
    return [
        f"{key}: {unknown_key(key.removeprefix(prefix), [CONFIG_KEY])}"
        for key in sorted(config_keys)
        if key.startswith(prefix) and key != KEY_ROOT
    ]


# --- pydantic errors -> one line each ----------------------------------------------------------


def describe(error: Mapping[str, Any], root: type[BaseModel]) -> str:
    """One actionable line for one pydantic error of a model rooted at `root`."""
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    dict_key = bool(loc) and loc[-1] == "[key]"
    loc = [p for p in loc if p != "[key]"]
    value, kind, ctx = error.get("input"), error["type"], error.get("ctx") or {}
    path = key_path(*loc)
    if kind == "missing":
        return f"{path}: is required"
    if kind == "extra_forbidden":
        return f"{path}: {unknown_key(str(loc[-1]), _fields_at(root, loc[:-1]))}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        # pydantic quotes string choices ('a' or 'b') and not numeric ones (10 or 30).
        choices = ", ".join(re.findall(r"'([^']*)'", expected) or re.findall(r"-?\d+(?:\.\d+)?", expected))
        if dict_key:
            return f"{path}: unknown key {show(value)}; valid keys here: {choices}"
        return f"{path}: {show(value)} is not one of {choices}"
    return f"{path}: {_message(kind, value, ctx, error['msg'], root)}"


def _message(kind: str, value: Any, ctx: Mapping[str, Any], msg: str, root: type[BaseModel]) -> str:
    shown = show(value)
    quoted = " (drop the quotes)" if isinstance(value, str) else ""
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if isinstance(value, bool):
            return f"{shown} is a boolean, not an integer"
        if isinstance(value, str):
            return f"{shown} is a string, not an integer{quoted}"
        return f"{shown} is not an integer"
    if kind in ("bool_type", "bool_parsing"):
        if isinstance(value, str):
            return f"{shown} is a string, not true or false{quoted}"
        return f"{shown} is not true or false"
    bounds = {
        "greater_than_equal": ("ge", "is less than the minimum"),
        "less_than_equal": ("le", "is more than the maximum"),
        "greater_than": ("gt", "must be more than"),
        "less_than": ("lt", "must be less than"),
    }
    if kind in bounds:
        bound, words = bounds[kind]
        return f"{shown} {words} {ctx.get(bound)}"
    if kind == "string_pattern_mismatch":
        pattern = ctx["pattern"]
        return f"{shown} is not {PATTERN_HINTS.get(pattern, f'matching {pattern}')}"
    if kind in ("string_type", "str_type"):
        return f"{shown} is not a string"
    if kind.startswith("ip_v4_"):
        what = {"ip_v4_network": "network", "ip_v4_address": "address", "ip_v4_interface": "interface"}
        message = f"{shown} is not a valid IPv4 {what.get(kind, 'value')}"
        try:
            loose = ipaddress.IPv4Network(str(value), strict=False)
        except ValueError:
            return message
        return f"{message}; did you mean {loose}?"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"{shown} is not a mapping of keys (write `key: value` lines under it)"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{shown} is not a list"
    if kind in ("too_short", "too_long"):
        bound = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"{shown} must have {'at least' if kind == 'too_short' else 'at most'} {bound} item{'s' * (bound != 1)}"
    if kind in ("value_error", "assertion_error"):
        return _without_class_names(re.sub(r"^(Value|Assertion) error, ", "", msg), root)
    return f"{shown} is not valid here: {_without_class_names(msg, root)}"


def _without_class_names(message: str, root: type[BaseModel]) -> str:
    message = re.sub(r" or instance of \w+", "", message)
    for name in sorted(model_names(root), key=len, reverse=True):
        message = message.replace(name, "settings")
    return message


def model_names(root: type[BaseModel]) -> set[str]:
    """Every model class name reachable from `root`: words no message may contain."""
    names, frontier = set(), [root]
    while frontier:
        model = frontier.pop()
        if model.__name__ in names:
            continue
        names.add(model.__name__)
        for field in model.model_fields.values():
            frontier += [m for m in _types_in(field.annotation) if _is_model(m)]
    return names


def _fields_at(root: type[BaseModel], loc: list[str | int]) -> list[str]:
    """The keys valid at `loc` (the model found by walking the annotations), or [] if unknown."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    models = [t for t in _types_in(current) if _is_model(t)]
    return list(models[0].model_fields) if models else []


def _step(annotation: Any, part: str | int) -> Any:
    for candidate in _types_in(annotation):
        if _is_model(candidate):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
            continue
        origin, args = typing.get_origin(candidate), typing.get_args(candidate)
        if origin in (list, tuple) and isinstance(part, int) and args:
            return args[0]
        if origin in (dict, Mapping) and isinstance(part, str) and len(args) == 2:
            return args[1]
    return None


def _types_in(annotation: Any) -> list[Any]:
    """The alternatives of an annotation: `X | None` -> [X]; Annotated unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _types_in(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) if arg is not type(None) for t in _types_in(arg)]
    if origin in (list, tuple, dict, Mapping):
        return [annotation, *(t for arg in typing.get_args(annotation) for t in _types_in(arg) if _is_model(t))]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
