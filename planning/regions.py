"""What each cloud calls its regions, and which availability zones a region offers.

The catalogs are the regions this program knows how to deploy into. A region missing here is
refused by the settings model with the list of known ones, so a typo never reaches a cloud API.
Extend a catalog when a cloud opens a region (append only: order is not significant).
"""

from __future__ import annotations

from typing import Literal

Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")
CLOUD_TITLES: dict[Cloud, str] = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}

AWS_REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1",
    "sa-east-1", "mx-central-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "eu-south-1", "eu-south-2",
    "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ap-east-1",
    "me-south-1", "me-central-1", "il-central-1", "af-south-1",
})

AZURE_REGIONS = frozenset({
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus",
    "westus", "westus2", "westus3", "canadacentral", "canadaeast", "brazilsouth", "mexicocentral",
    "northeurope", "westeurope", "germanywestcentral", "francecentral", "swedencentral",
    "norwayeast", "switzerlandnorth", "uksouth", "ukwest", "polandcentral", "italynorth",
    "spaincentral",
    "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "australiaeast",
    "australiasoutheast", "centralindia", "southindia", "uaenorth", "qatarcentral",
    "israelcentral", "southafricanorth",
})

GCP_REGIONS = frozenset({
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
    "us-west3", "us-west4", "northamerica-northeast1", "northamerica-northeast2",
    "southamerica-east1", "southamerica-west1",
    "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
    "europe-west8", "europe-west9", "europe-west10", "europe-west12", "europe-north1",
    "europe-central2", "europe-southwest1",
    "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
    "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    "australia-southeast1", "australia-southeast2",
    "me-central1", "me-west1", "africa-south1",
})

KNOWN_REGIONS: dict[Cloud, frozenset[str]] = {
    "aws": AWS_REGIONS,
    "azure": AZURE_REGIONS,
    "gcp": GCP_REGIONS,
}

# AWS zone names differ by account only in which letters exist; these regions lack "b" (or "a")
# for most accounts, so the default a/b/c would fail at create time.
_AWS_ZONE_LETTERS_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "ap-northeast-1": ("a", "c", "d"),
    "us-west-1": ("b", "c"),
    "ca-central-1": ("a", "b", "d"),
    "ap-northeast-2": ("a", "b", "c"),
}


def aws_availability_zones(region: str, count: int) -> list[str]:
    """The first `count` availability zone names of an AWS region (at most what it offers)."""
    letters = _AWS_ZONE_LETTERS_EXCEPTIONS.get(region, ("a", "b", "c"))
    return [f"{region}{letter}" for letter in letters[:count]]


def region_key(cloud: str, region: str) -> str:
    """The cloud-qualified name used in config and outputs, e.g. `aws:eu-central-1`."""
    return f"{cloud}:{region}"
