"""Negotiated rates: the stack's own prices over the catalogue's list prices (`prices` key).

```yaml
prices:
  discount_percent: {aws: 12}        # off every AWS list price (not off overrides)
  overrides:
    - {cloud: aws, region: us-east-1, item: g6.xlarge, on_demand: 0.61, spot: 0.30}
    - {cloud: azure, item: vpn-gateway-VpnGw2AZ, price: 0.50}   # no region: every Azure region
```

`item` is a node shape (a machine type the SKU table produces, GCP N1 as `machine+<n>x<gpu>`),
priced by `on_demand` and/or `spot` per hour, or a fixed item of `planning/data/prices.yaml`,
priced by `price` in that item's unit. `problems` refuses an unknown item, a region the stack does
not deploy and prices of the wrong kind, naming the key and the value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from settings.base import StrictModel, key_path

if TYPE_CHECKING:
    from settings.model import Settings

CloudName = Literal["aws", "azure", "gcp"]


class PriceOverride(StrictModel):
    cloud: CloudName
    region: str | None = Field(None, description="a region of the cloud in this stack; absent: every region")
    item: str
    on_demand: float | None = Field(None, ge=0, description="node shapes: hourly on-demand price")
    spot: float | None = Field(None, ge=0, description="node shapes: hourly spot price")
    price: float | None = Field(None, ge=0, description="fixed items: price per the item's unit")
    note: str | None = Field(None, description="where the rate comes from, e.g. a contract reference")


class PriceSettings(StrictModel):
    overrides: list[PriceOverride] = Field(default_factory=list)
    discount_percent: dict[CloudName, float] = Field(
        default_factory=dict, description="percent off every catalogue price of a cloud (0 <= x < 100)"
    )


def problems(settings: Settings) -> Iterator[str]:
    from planning.prices import load_catalogue, sku_shapes

    catalogue = load_catalogue()
    for cloud, percent in settings.prices.discount_percent.items():
        if not 0 <= percent < 100:
            yield f"{key_path('prices', 'discount_percent', cloud)}: {percent!r} is not a percentage from 0 to below 100"
    for index, override in enumerate(settings.prices.overrides):
        spec = getattr(settings.clouds, override.cloud)
        if spec is None:
            yield f"{key_path('prices', 'overrides', index, 'cloud')}: {override.cloud} is not configured under clouds"
            continue
        regions = [r.name for r in spec.regions]
        if override.region is not None and override.region not in regions:
            yield (
                f"{key_path('prices', 'overrides', index, 'region')}: {override.region!r} is not one of this "
                f"stack's {override.cloud} regions {regions}"
            )
        shapes = sku_shapes(override.cloud) | catalogue.shapes(override.cloud)
        items = catalogue.item_ids(override.cloud)
        path = key_path("prices", "overrides", index)
        if override.item in shapes:
            if override.price is not None:
                yield f"{path}.price: {override.item} is a node shape: give on_demand and/or spot per hour, not price"
            elif override.on_demand is None and override.spot is None:
                yield f"{path}: give on_demand and/or spot (per hour) for node shape {override.item}"
        elif override.item in items:
            if override.on_demand is not None or override.spot is not None:
                yield f"{path}: {override.item} is a fixed item: give price, not on_demand or spot"
            elif override.price is None:
                unit = catalogue.item_unit(override.cloud, override.item)
                yield f"{path}.price: is required for {override.item} (per {unit})"
        else:
            yield (
                f"{path}.item: {override.item!r} is neither a node shape nor a priced item for {override.cloud} "
                "(see planning/data/prices.yaml)"
            )
