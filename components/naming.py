"""Names and tags shared by every component, so each cloud's resources carry the same metadata."""

from __future__ import annotations

import hashlib
import re

TAG_KEYS = ("platform", "stack", "owner", "residency-zone")


def common_tags(platform: str, stack: str, owner: str, zone: str | None) -> dict[str, str]:
    """Tags on AWS and Azure, labels on GCP. Values are GCP-label-safe by construction."""
    tags = {"platform": platform, "stack": _label_value(stack), "owner": owner}
    if zone:
        tags["residency-zone"] = zone
    return tags


def _label_value(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


def compact_name(*parts: str, limit: int = 24) -> str:
    """A globally unique-enough name for resources with short alphanumeric name rules (Azure
    storage accounts: 3-24 lower-case alphanumerics; Key Vaults: 24). Deterministic, so a stack
    keeps its names, and suffixed with a digest of all parts so stacks and regions never collide."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:6]
    readable = re.sub(r"[^a-z0-9]", "", "".join(parts).lower())
    return readable[: limit - len(digest)] + digest


def acr_name(platform: str, stack: str) -> str:
    """The stack's container registry (`<acr_name>.azurecr.io`). A function of the platform and
    stack names only, so the deploy workflow knows the registry before the first `pulumi up`."""
    return compact_name("acr", platform, stack, limit=50)
