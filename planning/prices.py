"""The price catalogue (`planning/data/prices.yaml`) and a stack's negotiated rates on top of it.

Pure: reads the data file, answers "what does one node of this shape, or one of this item, cost in
this region", and raises `PriceError` naming the shape or item and the region when the answer is
not known: a missing price is never a silent zero. `Catalogue.with_rates` layers the stack's
`prices` settings (per-row overrides, a discount per cloud) over the list prices.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import yaml

from planning.clusters import SYSTEM_MACHINE_TYPES
from planning.gpu import GPU_CATALOG
from planning.regions import CLOUDS, region_key

CATALOGUE_PATH = Path(__file__).resolve().parent / "data" / "prices.yaml"
UNITS = ("hour", "month")
ANY_REGION = "*"
CONFIG_DATE = "stack config"


class PriceError(Exception):
    """Prices that are missing or unusable; `problems` has one line per shape/item and region."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems) if len(problems) == 1 else
                         f"{len(problems)} prices missing:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Quote:
    """One price as the estimate uses it, with where it came from."""

    price: float
    unit: str
    """`hour` or `month`: what `price` buys."""
    source: str
    date: str
    """The date the price was read (catalogue rows) or `stack config` (overrides)."""


@dataclass(frozen=True)
class NodeRow:
    cloud: str
    region: str
    shape: str
    on_demand: float | None
    spot: float | None
    source: str
    date: str
    note: str = ""


@dataclass(frozen=True)
class ItemRow:
    cloud: str
    region: str
    item: str
    price: float
    unit: str
    source: str
    date: str
    note: str = ""


class OverrideLike(Protocol):
    cloud: str
    region: str | None
    item: str
    on_demand: float | None
    spot: float | None
    price: float | None


def node_shape(cloud: str, machine_type: str, accelerator: str | None = None, gpus: int = 0) -> str:
    """The catalogue's name for a node: its machine type, except on GCP N1 whose GPUs are billed
    apart from the machine (A2, A3 and G2 prices include theirs): `n1-standard-8+1xnvidia-tesla-t4`."""
    if cloud == "gcp" and accelerator and gpus and machine_type.startswith("n1-"):
        return f"{machine_type}+{gpus}x{accelerator}"
    return machine_type


def sku_shapes(cloud: str) -> set[str]:
    """Every node shape the SKU table (planning/gpu.py) and the system pools can produce in `cloud`."""
    shapes = {SYSTEM_MACHINE_TYPES[cloud]} if cloud in SYSTEM_MACHINE_TYPES else set()
    for offers in GPU_CATALOG.values():
        offer = offers.get(cloud)  # type: ignore[call-overload]
        if offer is not None:
            shapes.update(node_shape(cloud, m, offer.accelerator, n) for n, m in offer.machine_types.items())
    return shapes


@dataclass(frozen=True)
class _Rate:
    """A stack's own price for a shape or item (region None: every region of the cloud)."""

    on_demand: float | None
    spot: float | None
    price: float | None
    source: str


@dataclass(frozen=True)
class Catalogue:
    currency: str
    hours_per_month: int
    sources: Mapping[str, str]
    nodes: Mapping[tuple[str, str, str], NodeRow]
    """(cloud, region, shape) -> row."""
    items: Mapping[tuple[str, str, str], ItemRow]
    """(cloud, region or "*", item) -> row."""
    rates: Mapping[tuple[str, str, str], _Rate] = field(default_factory=dict)
    """The stack's overrides: (cloud, region or "*", shape or item) -> rate."""
    discounts: Mapping[str, float] = field(default_factory=dict)
    """Percent off every catalogue price of a cloud (not off overrides)."""

    # --- what the catalogue knows ---------------------------------------------------------------

    def shapes(self, cloud: str) -> set[str]:
        return {shape for (c, _, shape) in self.nodes if c == cloud}

    def item_ids(self, cloud: str) -> set[str]:
        return {item for (c, _, item) in self.items if c == cloud}

    def item_unit(self, cloud: str, item: str) -> str | None:
        return next((row.unit for (c, _, i), row in self.items.items() if (c, i) == (cloud, item)), None)

    # --- prices ---------------------------------------------------------------------------------

    def node(self, cloud: str, region: str, shape: str, spot: bool) -> Quote:
        """Hourly price of one node of `shape` in `cloud:region`, spot or on-demand."""
        kind = "spot" if spot else "on_demand"
        for scope in (region, ANY_REGION):
            rate = self.rates.get((cloud, scope, shape))
            if rate is not None and getattr(rate, kind) is not None:
                return Quote(getattr(rate, kind), "hour", rate.source, CONFIG_DATE)
        row = self.nodes.get((cloud, region, shape))
        where = region_key(cloud, region)
        label = "spot" if spot else "on-demand"
        if row is None:
            raise PriceError([
                f"no price for node shape {shape} in {where}: add a row to planning/data/prices.yaml or a "
                f"prices.overrides entry ({{cloud: {cloud}, region: {region}, item: {shape}, {kind}: ...}}) to the stack config"
            ])
        price = getattr(row, kind)
        if price is None:
            why = f" ({row.note})" if row.note else ""
            raise PriceError([f"no {label} price for node shape {shape} in {where}{why}"])
        return Quote(self._discounted(cloud, price), "hour", self._source(cloud, row.source), row.date)

    def item(self, cloud: str, region: str, item: str) -> Quote:
        """Price of one `item` in `cloud:region` (per hour or per month: see `Quote.unit`)."""
        row = self.items.get((cloud, region, item)) or self.items.get((cloud, ANY_REGION, item))
        for scope in (region, ANY_REGION):
            rate = self.rates.get((cloud, scope, item))
            if rate is not None and rate.price is not None:
                unit = row.unit if row else (self.item_unit(cloud, item) or "hour")
                return Quote(rate.price, unit, rate.source, CONFIG_DATE)
        if row is None:
            raise PriceError([
                f"no price for {item} in {region_key(cloud, region)}: add a row to planning/data/prices.yaml or a "
                f"prices.overrides entry ({{cloud: {cloud}, region: {region}, item: {item}, price: ...}}) to the stack config"
            ])
        return Quote(self._discounted(cloud, row.price), row.unit, self._source(cloud, row.source), row.date)

    def _discounted(self, cloud: str, price: float) -> float:
        return price * (1 - self.discounts.get(cloud, 0.0) / 100)

    def _source(self, cloud: str, source: str) -> str:
        page = self.sources.get(source, source)
        discount = self.discounts.get(cloud)
        return f"{page}, less {discount:g}% (prices.discount_percent.{cloud})" if discount else page

    # --- the stack's negotiated rates -------------------------------------------------------------

    def with_rates(self, overrides: Iterable[OverrideLike] = (), discounts: Mapping[str, float] | None = None) -> Catalogue:
        rates = {}
        for index, o in enumerate(overrides):
            rates[(o.cloud, o.region or ANY_REGION, o.item)] = _Rate(
                o.on_demand, o.spot, o.price, f"stack config prices.overrides[{index}]"
            )
        return replace(self, rates=MappingProxyType(rates), discounts=MappingProxyType(dict(discounts or {})))


def _date(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def parse_catalogue(document: Mapping[str, Any]) -> Catalogue:
    """A catalogue from the data file's structure; raises ValueError naming a bad row."""
    sources = dict(document["sources"])
    nodes: dict[tuple[str, str, str], NodeRow] = {}
    items: dict[tuple[str, str, str], ItemRow] = {}
    for index, raw in enumerate(document["nodes"]):
        row = NodeRow(raw["cloud"], raw["region"], raw["shape"], raw["on_demand"], raw["spot"],
                      raw["source"], _date(raw["date"]), raw.get("note", ""))
        _check(f"nodes[{index}]", row.cloud, row.source, sources, (row.on_demand, row.spot))
        key = (row.cloud, row.region, row.shape)
        if key in nodes:
            raise ValueError(f"nodes[{index}]: {row.shape} in {row.region} is listed twice")
        nodes[key] = row
    for index, raw in enumerate(document["items"]):
        row = ItemRow(raw["cloud"], raw["region"], raw["item"], raw["price"], raw["unit"],
                      raw["source"], _date(raw["date"]), raw.get("note", ""))
        _check(f"items[{index}]", row.cloud, row.source, sources, (row.price,))
        if row.unit not in UNITS:
            raise ValueError(f"items[{index}]: unit {row.unit!r} is not one of {UNITS}")
        key = (row.cloud, row.region, row.item)
        if key in items:
            raise ValueError(f"items[{index}]: {row.item} in {row.region} is listed twice")
        items[key] = row
    return Catalogue(
        currency=document["currency"],
        hours_per_month=document["hours_per_month"],
        sources=MappingProxyType(sources),
        nodes=MappingProxyType(nodes),
        items=MappingProxyType(items),
    )


def _check(where: str, cloud: str, source: str, sources: Mapping[str, str], prices: tuple[float | None, ...]) -> None:
    if cloud not in CLOUDS:
        raise ValueError(f"{where}: unknown cloud {cloud!r}")
    if source not in sources:
        raise ValueError(f"{where}: source {source!r} is not a key of `sources`")
    for price in prices:
        if price is not None and (isinstance(price, bool) or not isinstance(price, int | float) or price < 0):
            raise ValueError(f"{where}: price {price!r} is not a non-negative number")


@lru_cache(maxsize=1)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    return parse_catalogue(yaml.safe_load(path.read_text()))


class PricesLike(Protocol):
    overrides: list[Any]
    discount_percent: Mapping[str, float]


class SettingsLike(Protocol):
    prices: PricesLike


def price_book(settings: SettingsLike, catalogue: Catalogue | None = None) -> Catalogue:
    """The catalogue with the stack's negotiated rates (`prices` settings) applied."""
    base = catalogue or load_catalogue()
    return base.with_rates(settings.prices.overrides, settings.prices.discount_percent)
