"""`plan_platform`: every decision about a stack, computed once, before any resource exists."""

from __future__ import annotations

import dataclasses

import pytest

from planning.platform import plan_platform
from settings import load_settings
from tests.planview import stack_platform_config


@pytest.fixture(scope="module")
def prod():
    return plan_platform(load_settings(stack_platform_config("prod")))


def test_regions_are_keyed_cloud_region_in_config_order(prod):
    assert list(prod.regions) == [
        "aws:us-east-1", "aws:eu-central-1", "aws:eu-west-1",
        "azure:westeurope", "azure:northeurope", "azure:eastus2",
        "gcp:europe-west4", "gcp:europe-west1", "gcp:us-central1",
    ]
    assert all(key == region.key for key, region in prod.regions.items())


def test_each_cloud_has_exactly_its_configured_hub(prod):
    hubs = {r.key for r in prod.regions.values() if r.is_hub}
    assert hubs == {"aws:eu-central-1", "azure:westeurope", "gcp:europe-west4"}


def test_zones_cidrs_and_clusters_come_from_the_settings(prod):
    eu = {r.key for r in prod.regions.values() if r.residency_zone == "eu"}
    assert eu == {
        "aws:eu-central-1", "aws:eu-west-1", "azure:westeurope", "azure:northeurope",
        "gcp:europe-west4", "gcp:europe-west1",
    }
    region = prod.region("azure:northeurope")
    assert str(region.cidr) == "10.73.160.0/19"
    assert region.subnets.address_space.subnet_of(region.cidr)
    # Azure has no L4: prod's per-region override gives its regions T4 machines.
    assert region.cluster.gpu.machine_type == "Standard_NC4as_T4_v3"
    assert prod.region("gcp:us-central1").cluster.gpu.accelerator == "nvidia-l4"


def test_aws_regions_plan_a_private_and_a_public_subnet_per_zone(prod):
    subnets = prod.region("aws:us-east-1").subnets
    assert len(subnets.named("private-")) == len(subnets.named("public-")) == 3


def test_the_mesh_joins_every_pair_of_clouds(prod):
    assert {link.key for link in prod.mesh.links} == {"aws-azure", "aws-gcp", "azure-gcp"}


def test_the_plan_is_immutable(prod):
    with pytest.raises(dataclasses.FrozenInstanceError):
        prod.mesh = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        prod.regions["aws:us-east-1"] = None  # type: ignore[index]


def test_aws_subnets_sit_in_fixed_zone_ids_eks_can_use(prod):
    subnets = prod.region("aws:us-east-1").subnets
    assert [(s.name, s.zone) for s in subnets.named("private-")] == [
        ("private-az1", "use1-az1"), ("private-az2", "use1-az2"), ("private-az4", "use1-az4")
    ]
    assert "use1-az3" not in {s.zone for s in subnets.subnets}
    assert [s.zone for s in prod.region("aws:eu-central-1").subnets.named("public-")] == ["euc1-az1", "euc1-az2", "euc1-az3"]
