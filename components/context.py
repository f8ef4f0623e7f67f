"""What every component builder receives about its region: the leaf module that the platform, the
landing zones and the clusters all import (so none of them imports another to learn it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.naming import common_tags
from planning.platform import PlatformPlan, RegionPlan
from settings import Settings

if TYPE_CHECKING:
    from components.landing_zone.gcp import GcpNetwork
    from components.providers import CloudProviders


def region_tags(settings: Settings, stack: str, region: str) -> dict[str, str]:
    """The common tags of a resource located in `region`, its residency zone included."""
    return common_tags(settings.name, stack, settings.owner, settings.residency_zone(region))


@dataclass(frozen=True)
class RegionContext:
    """One region's plan plus what rendering it needs: settings, stack, providers, shared network."""

    settings: Settings
    plan: PlatformPlan
    region: RegionPlan
    stack: str
    providers: CloudProviders
    gcp_network: GcpNetwork | None

    @property
    def cloud(self):
        return self.region.cloud

    @property
    def name(self) -> str:
        """The component name of everything regional: `aws-eu-central-1`."""
        return f"{self.region.cloud}-{self.region.name}"

    @property
    def tags(self) -> dict[str, str]:
        return region_tags(self.settings, self.stack, self.region.name)

    @property
    def landing_zone_args(self) -> dict:
        """The `LandingZoneArgs` fields every cloud shares."""
        return {
            "region": self.region.name,
            "cidr": self.region.cidr,
            "tags": self.tags,
            "protect": self.settings.protect,
            "is_hub": self.region.is_hub,
        }
