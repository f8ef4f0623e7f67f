"""How `pulumi up` reaches each cluster's API, decided per cluster: reachable paths, what each
cluster must allow, and refusals that name the cluster and the fix."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.deployer import Deployer, plan_access

N = ipaddress.IPv4Network


@dataclass(frozen=True)
class Ref:
    cloud: str
    name: str
    is_hub: bool
    cidr: N

    @property
    def key(self) -> str:
        return f"{self.cloud}:{self.name}"


PROD = [
    Ref("aws", "us-east-1", False, N("10.64.0.0/16")), Ref("aws", "eu-central-1", True, N("10.65.0.0/16")),
    Ref("azure", "westeurope", True, N("10.72.0.0/16")), Ref("azure", "northeurope", False, N("10.73.0.0/16")),
    Ref("azure", "eastus2", False, N("10.74.0.0/16")),
    Ref("gcp", "europe-west4", True, N("10.80.0.0/16")), Ref("gcp", "us-central1", False, N("10.82.0.0/16")),
]
HUBS = {"aws": "eu-central-1", "azure": "westeurope", "gcp": "europe-west4"}
RUNNER = N("198.51.100.0/24")


def test_a_deployer_in_the_aws_hub_reaches_every_private_api_over_the_mesh():
    access, problems = plan_access(PROD, HUBS, [], Deployer(network="aws:eu-central-1"))
    assert problems == []
    assert {a.endpoint for a in access.values()} == {"private"} and all(not a.public_cidrs for a in access.values())
    assert access["aws:eu-central-1"].route == ("aws:eu-central-1", "inside its VPC")
    assert access["aws:eu-central-1"].private_sources == ()
    assert access["aws:us-east-1"].route == ("aws:eu-central-1", "Transit Gateway peering", "aws:us-east-1")
    assert access["azure:northeurope"].route == (
        "aws:eu-central-1", "HA VPN AWS-Azure", "azure:westeurope", "VNet peering", "azure:northeurope"
    )
    assert access["gcp:us-central1"].route == (
        "aws:eu-central-1", "HA VPN AWS-GCP", "gcp:europe-west4", "the global VPC", "gcp:us-central1"
    )
    # What the clusters must allow: GKE global access and the deployer's range in authorized
    # networks, AKS a public name for the private API server address.
    assert access["gcp:us-central1"].global_access and access["gcp:europe-west4"].global_access
    assert access["gcp:us-central1"].private_sources == (N("10.65.0.0/16"),)
    assert all(access[k].public_fqdn for k in ("azure:westeurope", "azure:northeurope", "azure:eastus2"))
    assert not any(access[k].public_fqdn or access[k].global_access for k in ("aws:us-east-1", "aws:eu-central-1"))


def test_a_deployer_in_an_azure_spoke_cannot_reach_the_other_spokes():
    access, problems = plan_access(PROD, HUBS, [], Deployer(network="azure:northeurope"))
    assert [(p.key, p.message) for p in problems] == [(
        "deployer.network",
        "cluster azure:eastus2 is unreachable from azure:northeurope: Azure VNet peering is not transitive, so one "
        "spoke VNet cannot reach another through the hub; run the deployer in the Azure hub (azure:westeurope) or in "
        "another cloud",
    )]
    assert access["azure:westeurope"].route == ("azure:northeurope", "VNet peering", "azure:westeurope")
    assert access["aws:us-east-1"].route == (
        "azure:northeurope", "VNet peering", "azure:westeurope", "HA VPN Azure-AWS", "aws:eu-central-1",
        "Transit Gateway peering", "aws:us-east-1",
    )


def test_a_deployer_in_the_azure_hub_reaches_every_spoke():
    _, problems = plan_access(PROD, HUBS, [], Deployer(network="azure:westeurope"))
    assert problems == []


def test_public_endpoints_with_a_deployer_inside_are_refused():
    _, problems = plan_access(PROD, HUBS, [N("203.0.113.0/24")], Deployer(network="aws:eu-central-1"))
    assert [p.key for p in problems] == ["kubernetes.api_allowed_cidrs"]
    assert "keep the APIs private (remove it)" in problems[0].message


@pytest.mark.parametrize(
    ("deployer", "key", "message"),
    [
        (Deployer(network="aws:eu-west-9"), "deployer.network",
         "'aws:eu-west-9' is not a configured region; choose one of aws:us-east-1"),
        (Deployer(network="aws:eu-central-1", egress_cidrs=(RUNNER,)), "deployer", "set either network"),
        (Deployer(), "deployer", "say how `pulumi up` reaches the clusters' APIs"),
    ],
)
def test_an_unusable_deployer_is_refused(deployer, key, message):
    _, problems = plan_access(PROD, HUBS, [], deployer)
    assert len(problems) == 1 and problems[0].key == key and message in problems[0].message


def test_a_deployer_outside_uses_public_endpoints_that_admit_it():
    access, problems = plan_access(PROD, HUBS, [N("198.51.100.0/23")], Deployer(egress_cidrs=(RUNNER,)))
    assert problems == []
    assert {(a.endpoint, a.public_cidrs) for a in access.values()} == {("public", (N("198.51.100.0/23"),))}


def test_a_deployer_outside_that_the_allow_list_refuses_names_every_cluster():
    _, problems = plan_access(PROD, HUBS, [N("203.0.113.0/24")], Deployer(egress_cidrs=(RUNNER,)))
    assert len(problems) == len(PROD)
    assert problems[0].message.startswith(
        "cluster aws:us-east-1 would refuse the deployer: its API admits only kubernetes.api_allowed_cidrs "
        "['203.0.113.0/24'], which does not contain 198.51.100.0/24; add them there"
    )


def test_a_deployer_outside_cannot_reach_private_apis():
    _, problems = plan_access(PROD, HUBS, [], Deployer(egress_cidrs=(RUNNER,)))
    assert {p.key for p in problems} == {"deployer.egress_cidrs"} and len(problems) == len(PROD)
    assert "cluster gcp:us-central1 has a private API" in problems[-1].message


@given(st.sampled_from(PROD))
def test_inside_the_network_only_azure_spoke_to_spoke_is_unreachable(source):
    access, problems = plan_access(PROD, HUBS, [], Deployer(network=source.key))
    unreachable = {p.message.split()[1] for p in problems}
    expected = {
        r.key for r in PROD
        if source.cloud == r.cloud == "azure" and not source.is_hub and not r.is_hub and r.key != source.key
    }
    assert unreachable == expected
    for key, a in access.items():
        assert a.route[0] == source.key and a.route[-1] in (key, "inside its VPC", "inside its VNet")
        assert bool(a.private_sources) is (key != source.key)
