"""The price catalogue (planning/data/prices.yaml) and the stack's negotiated rates (settings/prices.py)."""

from __future__ import annotations

import datetime

import pytest

from planning.gpu import GPU_CATALOG
from planning.prices import PriceError, load_catalogue, node_shape, price_book, sku_shapes
from settings import ConfigError, load_settings
from tests.planview import stack_platform_config

CATALOGUE = load_catalogue()


def stack_regions(*stacks: str) -> set[tuple[str, str]]:
    regions = set()
    for stack in stacks:
        for cloud, spec in stack_platform_config(stack)["clouds"].items():
            for region in spec["regions"]:
                regions.add((cloud, region if isinstance(region, str) else region["name"]))
    return regions


def test_every_row_names_a_source_page_and_a_date():
    rows = [*CATALOGUE.nodes.values(), *CATALOGUE.items.values()]
    assert len(rows) > 150
    for row in rows:
        assert CATALOGUE.sources[row.source].startswith("https://"), row
        datetime.date.fromisoformat(row.date)


def test_every_shape_the_sku_table_can_produce_is_priced_in_every_dev_and_prod_region():
    for cloud, region in sorted(stack_regions("dev", "prod")):
        for shape in sorted(sku_shapes(cloud)):
            row = CATALOGUE.nodes.get((cloud, region, shape))
            assert row is not None, f"{shape} in {cloud}:{region} has no row"
            spot_only = any(
                node_shape(cloud, offer[cloud].machine_types[n], offer[cloud].accelerator, n) == shape
                for offer in GPU_CATALOG.values() if cloud in offer for n in offer[cloud].spot_only
            )
            if row.on_demand is None:
                # Only where the cloud does not sell it on demand, and the row says so.
                assert spot_only or "not sold" in row.note, row
            if row.spot is None:
                assert "not sold" in row.note, row


def test_gcp_n1_shapes_carry_their_gpus_and_accelerator_optimised_ones_do_not():
    assert node_shape("gcp", "n1-standard-16", "nvidia-tesla-t4", 2) == "n1-standard-16+2xnvidia-tesla-t4"
    assert node_shape("gcp", "g2-standard-8", "nvidia-l4", 1) == "g2-standard-8"
    assert node_shape("aws", "g6.xlarge", None, 1) == "g6.xlarge"
    row = CATALOGUE.nodes[("gcp", "us-central1", "n1-standard-8+1xnvidia-tesla-t4")]
    assert row.on_demand == pytest.approx(0.38 + 0.35, abs=0.001)


def test_a_missing_price_is_an_error_naming_the_shape_and_the_region():
    with pytest.raises(PriceError) as raised:
        CATALOGUE.node("aws", "ap-south-1", "g6.xlarge", spot=False)
    assert str(raised.value).startswith("no price for node shape g6.xlarge in aws:ap-south-1: add a row to")
    with pytest.raises(PriceError, match=r"no price for nat-gateway in aws:ap-south-1"):
        CATALOGUE.item("aws", "ap-south-1", "nat-gateway")
    spot_only = r"no on-demand price for node shape a3-highgpu-1g in gcp:us-central1 \(sold only as Spot"
    with pytest.raises(PriceError, match=spot_only):
        CATALOGUE.node("gcp", "us-central1", "a3-highgpu-1g", spot=False)
    with pytest.raises(PriceError, match=r"no on-demand price for node shape p4de.24xlarge in aws:eu-central-1 \(.*not sold"):
        CATALOGUE.node("aws", "eu-central-1", "p4de.24xlarge", spot=False)


def test_an_item_priced_for_every_region_applies_anywhere_and_a_regional_row_wins():
    assert CATALOGUE.item("aws", "ap-south-1", "eks-control-plane").price == 0.10
    assert CATALOGUE.item("aws", "eu-central-1", "nat-gateway").price == 0.052
    assert CATALOGUE.item("azure", "westeurope", "acr-premium").unit == "month"


def settings_with(prices: dict) -> object:
    platform = stack_platform_config("dev")
    platform["prices"] = prices
    return load_settings(platform)


def test_overrides_and_discounts_are_the_stacks_negotiated_rates():
    settings = settings_with({
        "discount_percent": {"aws": 10},
        "overrides": [
            {"cloud": "aws", "region": "eu-central-1", "item": "g4dn.xlarge", "spot": 0.2, "note": "EDP-2026"},
            {"cloud": "aws", "item": "g4dn.xlarge", "on_demand": 0.5},
            {"cloud": "azure", "item": "vpn-gateway-VpnGw2AZ", "price": 0.4},
        ],
    })
    book = price_book(settings)
    spot = book.node("aws", "eu-central-1", "g4dn.xlarge", spot=True)
    assert (spot.price, spot.source, spot.date) == (0.2, "stack config prices.overrides[0]", "stack config")
    assert book.node("aws", "eu-central-1", "g4dn.xlarge", spot=False).price == 0.5  # every region of the cloud
    assert book.item("azure", "westeurope", "vpn-gateway-VpnGw2AZ").price == 0.4
    discounted = book.item("aws", "eu-central-1", "nat-gateway")
    assert discounted.price == pytest.approx(0.052 * 0.9)
    assert discounted.source.endswith("less 10% (prices.discount_percent.aws)")
    assert book.item("gcp", "europe-west4", "vpn-tunnel").price == 0.05  # other clouds untouched


def test_bad_overrides_are_refused_naming_the_key_and_the_value():
    with pytest.raises(ConfigError) as raised:
        settings_with({
            "discount_percent": {"gcp": 100},
            "overrides": [
                {"cloud": "aws", "region": "us-west-2", "item": "g4dn.xlarge", "on_demand": 0.4},
                {"cloud": "aws", "item": "g9.huge", "on_demand": 1},
                {"cloud": "azure", "item": "nat-gateway", "spot": 0.01},
                {"cloud": "gcp", "item": "e2-standard-4", "price": 0.1},
                {"cloud": "gcp", "item": "gke-cluster-management"},
                {"cloud": "aws", "item": "kms-key", "price": -1},
            ],
        })
    root = "multicloud-inference:platform.prices"
    assert raised.value.problems == [
        f"{root}.overrides[5].price: -1 is less than the minimum 0.0",
    ]
    with pytest.raises(ConfigError) as raised:
        settings_with({
            "discount_percent": {"gcp": 100},
            "overrides": [
                {"cloud": "aws", "region": "us-west-2", "item": "g4dn.xlarge", "on_demand": 0.4},
                {"cloud": "aws", "item": "g9.huge", "on_demand": 1},
                {"cloud": "azure", "item": "nat-gateway", "spot": 0.01},
                {"cloud": "gcp", "item": "e2-standard-4", "price": 0.1},
                {"cloud": "gcp", "item": "gke-cluster-management"},
            ],
        })
    assert raised.value.problems == [
        f"{root}.discount_percent.gcp: 100.0 is not a percentage from 0 to below 100",
        f"{root}.overrides[0].region: 'us-west-2' is not one of this stack's aws regions ['eu-central-1']",
        f"{root}.overrides[1].item: 'g9.huge' is neither a node shape nor a priced item for aws (see planning/data/prices.yaml)",
        f"{root}.overrides[2]: nat-gateway is a fixed item: give price, not on_demand or spot",
        f"{root}.overrides[3].price: e2-standard-4 is a node shape: give on_demand and/or spot per hour, not price",
        f"{root}.overrides[4].price: is required for gke-cluster-management (per hour)",
    ]


def test_an_override_for_a_cloud_the_stack_does_not_configure_is_refused():
    platform = stack_platform_config("dev")
    del platform["clouds"]["azure"]
    platform["residency_zones"]["eu"].remove("westeurope")
    platform["prices"] = {"overrides": [{"cloud": "azure", "item": "nat-gateway", "price": 0.04}]}
    with pytest.raises(ConfigError) as raised:
        load_settings(platform)
    assert raised.value.problems == [
        "multicloud-inference:platform.prices.overrides[0].cloud: azure is not configured under clouds"
    ]
