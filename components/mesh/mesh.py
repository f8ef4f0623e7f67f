"""VpnMesh: every cloud's hub, and an HA VPN link between the hubs of every pair of clouds.

Everything that can take long to create (Azure's VPN gateway takes 30-45 minutes) sits below this
one component, and nothing outside it depends on anything below it: a cluster never waits for a VPN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pulumi
import pulumi_random

from components.mesh.aws import AwsMeshHub, AwsMeshHubArgs, connect_aws
from components.mesh.azure import AzureMeshHub, AzureMeshHubArgs, connect_azure
from components.mesh.gcp import GcpMeshHub, GcpMeshHubArgs, connect_gcp
from planning.mesh import LinkPlan, MeshPlan
from planning.regions import Cloud

PSK_LENGTH = 48
"""Letters only: AWS accepts alphanumerics, '.' and '_' but no leading '0'; 48 letters are ~270 bits."""

Connect = Callable[[str, pulumi.Resource, pulumi.ComponentResource, LinkPlan, list, list], list]
CONNECT: dict[Cloud, Connect] = {"aws": connect_aws, "azure": connect_azure, "gcp": connect_gcp}
"""Each cloud's half of a link: given the far end's outside address per tunnel and the keys, build
it and return this cloud's outside address per tunnel."""

HUB_TYPES: dict[Cloud, tuple[type, type]] = {
    "aws": (AwsMeshHub, AwsMeshHubArgs),
    "azure": (AzureMeshHub, AzureMeshHubArgs),
    "gcp": (GcpMeshHub, GcpMeshHubArgs),
}


@dataclass(frozen=True)
class VpnMeshArgs:
    plan: MeshPlan
    hubs: dict[Cloud, dict] = field(default_factory=dict)
    """Per configured cloud, the keyword arguments of its hub's args dataclass (plan excepted)."""


class VpnLink(pulumi.ComponentResource):
    """One pair of clouds: a pre-shared key per tunnel and both halves of the link."""

    def __init__(
        self,
        name: str,
        link: LinkPlan,
        hubs: dict[Cloud, pulumi.ComponentResource],
        random_provider: pulumi.ProviderResource,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("multicloud-inference:index:VpnLink", name, None, opts)
        # Marked secret here as well: the engine marks `result` secret, but an input the cloud's
        # schema does not flag (Azure's sharedKey) must not depend on that to stay out of state.
        keys = [
            pulumi.Output.secret(pulumi_random.RandomPassword(
                f"{name}-psk-{tunnel.index}",
                length=PSK_LENGTH,
                special=False,
                numeric=False,
                opts=pulumi.ResourceOptions(parent=self, provider=random_provider),
            ).result)
            for tunnel in link.tunnels
        ]
        # AWS's outside addresses exist only once its VPN connections do, so AWS connects first
        # (to the peer's gateway addresses); every other hub's addresses are known up front.
        first, second = sorted(link.pair, key=lambda cloud: cloud != "aws")
        second_addresses = hubs[second].tunnel_addresses(link)
        first_addresses = CONNECT[first](f"{name}-{first}", self, hubs[first], link, second_addresses, keys)
        CONNECT[second](f"{name}-{second}", self, hubs[second], link, first_addresses, keys)
        self.register_outputs({"tunnels": len(link.tunnels)})


class VpnMesh(pulumi.ComponentResource):
    hubs: dict[Cloud, pulumi.ComponentResource]
    links: dict[str, VpnLink]

    def __init__(self, name: str, args: VpnMeshArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:VpnMesh", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.hubs = {}
        for cloud, hub_args in args.hubs.items():
            component, args_type = HUB_TYPES[cloud]
            self.hubs[cloud] = component(f"{name}-{cloud}", args_type(plan=args.plan, **hub_args), child)
        self.links = {}
        if args.plan.links:
            # Default providers are disabled, so even random needs one; it is local, no credentials.
            random_provider = pulumi_random.Provider(f"{name}-random", opts=child)
            for link in args.plan.links:
                self.links[link.key] = VpnLink(f"{name}-{link.key}", link, self.hubs, random_provider, child)
        self.register_outputs(
            {
                "hub_asns": dict(args.plan.hub_asns),
                "tunnels": {link.key: len(link.tunnels) for link in args.plan.links},
            }
        )
