"""Small building blocks the rules share, so every message reads the same way."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from .model import is_unknown


def expect(value: Any, ok: Callable[[Any], bool], path: str, expected: str, *, fail_closed: bool) -> str | None:
    """A message when `value` (at `path`) is not what we expect; unknown at preview is a
    violation only for fail-closed rules."""
    if is_unknown(value):
        return f"{path} is unknown at preview (fail closed); expected {expected}" if fail_closed else None
    if value is None:
        return f"{path} is not set; expected {expected}"
    if not ok(value):
        return f"{path} is {value!r}; expected {expected}"
    return None


def reference(value: Any, path: str, what: str) -> str | None:
    """A reference to a key/resource must be present. Unknown is fine: a reference to a
    resource created in the same deployment is unknown at preview by nature."""
    if is_unknown(value) or (isinstance(value, str) and value.strip()):
        return None
    return f"{path} is not set; expected {what}"


_ISO_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def iso_duration_days(value: str) -> float | None:
    """Days in an ISO-8601 date duration (P90D, P1Y, P3M, P2W) as Key Vault uses; None if not one."""
    m = _ISO_DURATION.match(value.strip().upper())
    if not m or not any(m.groups()):
        return None
    years, months, weeks, days = (int(g or 0) for g in m.groups())
    return years * 365 + months * 30 + weeks * 7 + days


def seconds_duration_days(value: str) -> float | None:
    """Days in a protobuf duration string ("7776000s") as GCP KMS uses; None if not one."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)s", value.strip())
    return float(m.group(1)) / 86400 if m else None


def is_world(cidr: Any) -> bool:
    """True for a source that admits the whole internet (0.0.0.0/0, ::/0, or a provider alias)."""
    if not isinstance(cidr, str):
        return False
    value = cidr.strip()
    if value.lower() in {"*", "any", "internet"}:
        return True
    try:
        return ipaddress.ip_network(value, strict=False).prefixlen == 0
    except ValueError:
        return False
