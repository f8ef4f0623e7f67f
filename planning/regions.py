"""What each cloud calls its regions, each region's fixed address slot, and AWS zones by zone ID.

The catalogs are the regions this program knows how to deploy into. A region missing here is
refused by the settings model with the list of known ones, so a typo never reaches a cloud API.

Every catalog region has a fixed **slot**: its automatic CIDR is slot N of its cloud's block of the
supernet (`planning/addressing.py`), whatever else is configured. So the numbers are append-only:
a new region takes the next unused number of its cloud (at most `SLOTS_PER_CLOUD` - 1); a number is
never changed, reused or removed, even when a cloud retires a region (moving one would move a
deployed network). `tests/test_addressing.py` checks uniqueness and range, and pins the committed
stacks' ranges.
"""

from __future__ import annotations

from typing import Literal

Cloud = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[Cloud, ...] = ("aws", "azure", "gcp")
CLOUD_TITLES: dict[Cloud, str] = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}

SLOTS_PER_CLOUD = 64
"""Room for every catalog region of a cloud, with space to grow (AWS 32, Azure 38, GCP 39 today)."""

AWS_REGION_SLOTS: dict[str, int] = {
    "us-east-1": 0, "us-east-2": 1, "us-west-1": 2, "us-west-2": 3, "ca-central-1": 4, "ca-west-1": 5,
    "sa-east-1": 6, "mx-central-1": 7,
    "eu-central-1": 8, "eu-central-2": 9, "eu-west-1": 10, "eu-west-2": 11, "eu-west-3": 12, "eu-north-1": 13,
    "eu-south-1": 14, "eu-south-2": 15,
    "ap-south-1": 16, "ap-south-2": 17, "ap-northeast-1": 18, "ap-northeast-2": 19, "ap-northeast-3": 20,
    "ap-southeast-1": 21, "ap-southeast-2": 22, "ap-southeast-3": 23, "ap-southeast-4": 24, "ap-southeast-5": 25,
    "ap-southeast-7": 26, "ap-east-1": 27,
    "me-south-1": 28, "me-central-1": 29, "il-central-1": 30, "af-south-1": 31,
}

AZURE_REGION_SLOTS: dict[str, int] = {
    "eastus": 0, "eastus2": 1, "centralus": 2, "northcentralus": 3, "southcentralus": 4, "westcentralus": 5,
    "westus": 6, "westus2": 7, "westus3": 8, "canadacentral": 9, "canadaeast": 10, "brazilsouth": 11,
    "mexicocentral": 12,
    "northeurope": 13, "westeurope": 14, "germanywestcentral": 15, "francecentral": 16, "swedencentral": 17,
    "norwayeast": 18, "switzerlandnorth": 19, "uksouth": 20, "ukwest": 21, "polandcentral": 22, "italynorth": 23,
    "spaincentral": 24,
    "eastasia": 25, "southeastasia": 26, "japaneast": 27, "japanwest": 28, "koreacentral": 29, "australiaeast": 30,
    "australiasoutheast": 31, "centralindia": 32, "southindia": 33, "uaenorth": 34, "qatarcentral": 35,
    "israelcentral": 36, "southafricanorth": 37,
}

GCP_REGION_SLOTS: dict[str, int] = {
    "us-central1": 0, "us-east1": 1, "us-east4": 2, "us-east5": 3, "us-south1": 4, "us-west1": 5, "us-west2": 6,
    "us-west3": 7, "us-west4": 8, "northamerica-northeast1": 9, "northamerica-northeast2": 10,
    "southamerica-east1": 11, "southamerica-west1": 12,
    "europe-west1": 13, "europe-west2": 14, "europe-west3": 15, "europe-west4": 16, "europe-west6": 17,
    "europe-west8": 18, "europe-west9": 19, "europe-west10": 20, "europe-west12": 21, "europe-north1": 22,
    "europe-central2": 23, "europe-southwest1": 24,
    "asia-east1": 25, "asia-east2": 26, "asia-northeast1": 27, "asia-northeast2": 28, "asia-northeast3": 29,
    "asia-south1": 30, "asia-south2": 31, "asia-southeast1": 32, "asia-southeast2": 33,
    "australia-southeast1": 34, "australia-southeast2": 35, "me-central1": 36, "me-west1": 37, "africa-south1": 38,
}

REGION_SLOTS: dict[Cloud, dict[str, int]] = {
    "aws": AWS_REGION_SLOTS,
    "azure": AZURE_REGION_SLOTS,
    "gcp": GCP_REGION_SLOTS,
}

KNOWN_REGIONS: dict[Cloud, frozenset[str]] = {cloud: frozenset(slots) for cloud, slots in REGION_SLOTS.items()}
AWS_REGIONS, AZURE_REGIONS, GCP_REGIONS = (KNOWN_REGIONS[cloud] for cloud in CLOUDS)

# AWS availability zones by zone ID, in the order the platform uses them (a region with `zones: N`
# takes the first N). Zone *names* (us-east-1a) map to different physical zones in every account;
# zone IDs (use1-az1) are the same everywhere, so a subnet never moves between accounts or runs.
# Excluded: zones that cannot host an EKS control plane (use1-az3, usw1-az2, cac1-az3; Amazon EKS
# user guide, "Subnet requirements for clusters", docs.aws.amazon.com/eks/latest/userguide/network-reqs.html,
# recorded 2026-11) and zones that newer accounts do not get (apne1-az3; usw1-az2 and cac1-az3 too).
# Regions list their lowest zone IDs first; us-east-1 puts use1-az5, which lacks many current
# instance families, last.
# GPU instance types are offered per zone and change over time: before relying on a region, check the
# listed zones with `aws ec2 describe-instance-type-offerings --location-type availability-zone-id
# --filters Name=instance-type,Values=<type> --region <region>`. Edit a row only before the region
# is deployed: a changed zone moves that zone's subnets.
AWS_ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az1", "use1-az2", "use1-az4", "use1-az6", "use1-az5"),
    "us-east-2": ("use2-az1", "use2-az2", "use2-az3"),
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "us-west-2": ("usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"),
    "ca-central-1": ("cac1-az1", "cac1-az2", "cac1-az4"),
    "ca-west-1": ("caw1-az1", "caw1-az2", "caw1-az3"),
    "sa-east-1": ("sae1-az1", "sae1-az2", "sae1-az3"),
    "mx-central-1": ("mxc1-az1", "mxc1-az2", "mxc1-az3"),
    "eu-central-1": ("euc1-az1", "euc1-az2", "euc1-az3"),
    "eu-central-2": ("euc2-az1", "euc2-az2", "euc2-az3"),
    "eu-west-1": ("euw1-az1", "euw1-az2", "euw1-az3"),
    "eu-west-2": ("euw2-az1", "euw2-az2", "euw2-az3"),
    "eu-west-3": ("euw3-az1", "euw3-az2", "euw3-az3"),
    "eu-north-1": ("eun1-az1", "eun1-az2", "eun1-az3"),
    "eu-south-1": ("eus1-az1", "eus1-az2", "eus1-az3"),
    "eu-south-2": ("eus2-az1", "eus2-az2", "eus2-az3"),
    "ap-south-1": ("aps1-az1", "aps1-az2", "aps1-az3"),
    "ap-south-2": ("aps2-az1", "aps2-az2", "aps2-az3"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
    "ap-northeast-2": ("apne2-az1", "apne2-az2", "apne2-az3", "apne2-az4"),
    "ap-northeast-3": ("apne3-az1", "apne3-az2", "apne3-az3"),
    "ap-southeast-1": ("apse1-az1", "apse1-az2", "apse1-az3"),
    "ap-southeast-2": ("apse2-az1", "apse2-az2", "apse2-az3"),
    "ap-southeast-3": ("apse3-az1", "apse3-az2", "apse3-az3"),
    "ap-southeast-4": ("apse4-az1", "apse4-az2", "apse4-az3"),
    "ap-southeast-5": ("apse5-az1", "apse5-az2", "apse5-az3"),
    "ap-southeast-7": ("apse7-az1", "apse7-az2", "apse7-az3"),
    "ap-east-1": ("ape1-az1", "ape1-az2", "ape1-az3"),
    "me-south-1": ("mes1-az1", "mes1-az2", "mes1-az3"),
    "me-central-1": ("mec1-az1", "mec1-az2", "mec1-az3"),
    "il-central-1": ("ilc1-az1", "ilc1-az2", "ilc1-az3"),
    "af-south-1": ("afs1-az1", "afs1-az2", "afs1-az3"),
}

EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})
AWS_DEFAULT_ZONES = 2
AWS_MAX_ZONES = 3
"""A region's subnets: one private quarter of the region per zone, so at most three zones."""


def aws_zone_ids(region: str, count: int) -> tuple[str, ...]:
    """The first `count` zone IDs of an AWS region, in the table's (fixed) order."""
    zones = AWS_ZONE_IDS[region]
    if count > len(zones):
        raise ValueError(f"{region} offers {len(zones)} usable zones ({', '.join(zones)}), not {count}")
    return zones[:count]


def zone_label(zone_id: str) -> str:
    """The readable part of a zone ID that names its resources: `use1-az4` -> `az4`."""
    return zone_id.rsplit("-", 1)[1]


def region_key(cloud: str, region: str) -> str:
    """The cloud-qualified name used in config and outputs, e.g. `aws:eu-central-1`."""
    return f"{cloud}:{region}"
