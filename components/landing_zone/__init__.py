"""A landing zone per region: private network, customer-managed key, and a model bucket encrypted
with that key. One module per cloud; `LandingZoneArgs` is what they share."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True, kw_only=True)
class LandingZoneArgs:
    region: str
    cidr: ipaddress.IPv4Network
    tags: dict[str, str]
    protect: bool
    """Protect the key and the bucket (prod): deleting them loses the platform's model data."""
    provider: pulumi.ProviderResource
    is_hub: bool = False


def protected(args: LandingZoneArgs, parent: pulumi.Resource, **extra) -> pulumi.ResourceOptions:
    """Options for the resources whose loss loses data: the key and the bucket."""
    return pulumi.ResourceOptions(parent=parent, protect=args.protect, **extra)
