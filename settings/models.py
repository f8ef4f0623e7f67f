"""Model replication settings: where each residency zone's models are uploaded.

```yaml
models:
  sources:
    eu: gcp:europe-west4        # a configured region of zone `eu`: upload EU models here
    default: aws:us-east-1      # a configured region outside every zone: upload the others here
```

Replication is opt-in: without `models`, nothing is copied. With it, every zone that has regions
needs a source; `default` is needed only when some region lies outside every zone.
`planning/replication.py` plans the copies from each source to the other regions of its zone (never
across a zone boundary).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from planning.regions import region_key
from planning.replication import DEFAULT_GROUP
from settings.base import StrictModel, key_path

if TYPE_CHECKING:
    from settings.model import Settings


class ModelSettings(StrictModel):
    sources: dict[str, str] = Field(
        default_factory=dict,
        description="Per residency zone (and `default` for the regions outside every zone): the "
        "cloud:region whose bucket models are uploaded to",
    )


def problems(settings: Settings) -> Iterator[str]:
    """Every problem with `models.sources`, each naming its key and the value found there. Without a
    `models` key nothing is replicated, and nothing is required."""
    if settings.models is None:
        return
    sources = settings.models.sources
    groups: dict[str, list[str]] = {}
    for cloud, region in settings.regions():
        zone = settings.residency_zone(region.name)
        groups.setdefault(DEFAULT_GROUP if zone is None else zone, []).append(region_key(cloud, region.name))
    configured = {key for members in groups.values() for key in members}

    if DEFAULT_GROUP in settings.residency_zones:
        yield (
            f"{key_path('residency_zones', DEFAULT_GROUP)}: the zone name {DEFAULT_GROUP!r} is reserved: "
            f"models.sources.{DEFAULT_GROUP} names the source of the regions outside every zone; rename the zone"
        )
    for group, value in sources.items():
        path = key_path("models", "sources", group)
        members = groups.get(group, [])
        if group != DEFAULT_GROUP and group not in settings.residency_zones:
            zones = ", ".join(settings.residency_zones) or "none"
            yield (
                f"{path}: {value!r} is the source of zone {group!r}, which residency_zones does not define "
                f"(zones: {zones}; use {DEFAULT_GROUP!r} for the regions outside every zone)"
            )
        elif not isinstance(value, str) or value not in configured:
            hint = f"; choose one of {', '.join(members)}" if members else ""
            yield f"{path}: {value!r} is not a configured region (cloud:region){hint}"
        elif value not in members:
            inside = _zone_of(settings, value)
            found = f"it is in zone {inside!r}" if inside else "it is outside every zone"
            if not members:
                empty = f"zone {group!r} has no regions" if group != DEFAULT_GROUP else "no region is outside every zone"
                yield f"{path}: {value!r} is not needed: {empty}; remove the key"
            else:
                where = f"zone {group!r}" if group != DEFAULT_GROUP else "the regions outside every zone"
                yield f"{path}: {value!r} is not one of {where}: {found}; choose one of {', '.join(members)}"
    for group, members in groups.items():
        if group not in sources:
            path = key_path("models", "sources", group)
            if group == DEFAULT_GROUP:
                yield (f"{path}: is required: {', '.join(members)} are outside every zone; name the one their "
                       "models are uploaded to")
            else:
                yield (f"{path}: is required: zone {group!r} has regions {', '.join(members)}; name the one its "
                       "models are uploaded to")


def _zone_of(settings: Settings, key: str) -> str | None:
    return settings.residency_zone(key.split(":", 1)[1])
