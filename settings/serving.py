"""Serving settings: the image, Triton's resources per region, rollout waves, and the deployer.

```yaml
image: {build: true}                 # default: build inference_image/ once, push to every registry
# image: {digest: sha256:...}        # redeploy an earlier build from the platform's own registries
# image: {ref: registry/repo@sha256:...}   # deploy a prebuilt image verbatim, build nothing
serving: {gpus_per_pod: 1, cpu: "3", memory: 12Gi, engine_cache_size: 20Gi, ready_timeout_minutes: 40}
rollout: {waves: [[aws:eu-central-1], [gcp:europe-west4, azure:westeurope], [rest]]}
deployer: {network: aws:eu-central-1}   # or {egress_cidrs: [198.51.100.0/24]}
```
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from planning.deployer import Deployer, plan_access
from planning.gpu import GPU_CATALOG
from planning.rollout import DEFAULT_WAVES, wave_problems
from planning.serving import quantity
from settings.base import StrictModel, key_path

if TYPE_CHECKING:
    from settings.model import Settings

IMAGE_REF = re.compile(r"^(?P<repository>[a-z0-9][a-z0-9.-]*(?::[0-9]+)?(?:/[a-z0-9._-]+)+)(?::[\w][\w.-]{0,127})?"
                       r"@(?P<digest>sha256:[0-9a-f]{64})$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"


class ImageSettings(StrictModel):
    build: bool | None = Field(None, description="Build inference_image/ and push it to every registry (the default)")
    ref: str | None = Field(None, description="Deploy this image verbatim in every region: registry/repo@sha256:<64 hex>")
    digest: str | None = Field(None, description="Deploy an earlier build, sha256:<64 hex>, from each region's own registry")

    @property
    def mode(self) -> Literal["build", "ref", "digest"]:
        if self.ref:
            return "ref"
        if self.digest:
            return "digest"
        return "build"


class ServingSettings(StrictModel):
    replicas: int | None = Field(
        None, ge=1, le=64, description="Replaced by autoscaling.min_replicas/max_replicas (settings/autoscaling.py)"
    )
    gpus_per_pod: int = Field(1, ge=1, le=8, description="nvidia.com/gpu limit of each Triton pod")
    # Below a 4-vCPU / 16 GiB GPU machine's allocatable capacity (g6.xlarge, g4dn.xlarge, NC4as_T4_v3):
    # a pod asking for the whole machine fits no node, and no autoscaler would add one for it.
    cpu: str = Field("3", description="CPU request (and limit) of each Triton pod, a Kubernetes quantity")
    memory: str = Field("12Gi", description="Memory request (and limit) of each Triton pod")
    engine_cache_size: str = Field("20Gi", description="Size limit of the pod's TensorRT engine cache volume")
    ready_timeout_minutes: int = Field(
        40, ge=10, le=180, description="How long a region may take to serve: GPU node scale-up, image pull, engine build"
    )


class RolloutSettings(StrictModel):
    waves: list[list[str]] = Field(
        default_factory=lambda: [list(w) for w in DEFAULT_WAVES],
        description="Waves of cloud:region keys; `rest` (last wave) is every region not named",
    )


class DeployerSettings(StrictModel):
    network: str | None = Field(None, description="cloud:region whose network the deploy runner sits in")
    egress_cidrs: list[ipaddress.IPv4Network] = Field(
        default_factory=list, description="Public egress ranges of a deploy runner outside the network"
    )
    runner_labels: list[Annotated[str, Field(pattern=r"^\S+$")]] = Field(
        default_factory=list, description="runs-on labels of this stack's deploy jobs (each one word)"
    )
    aws_principal_arn: str | None = Field(
        None, pattern=ROLE_ARN, description="IAM role given EKS cluster admin; default: the role running pulumi up"
    )
    azure_principal_id: str | None = Field(
        None, pattern=GUID, description="Entra object id given AKS RBAC Cluster Admin; default: the identity running pulumi up"
    )
    azure_principal_type: Literal["User", "Group", "ServicePrincipal"] = "ServicePrincipal"
    azure_login: Literal["azurecli", "workloadidentity"] = Field(
        "azurecli", description="kubelogin's login for AKS: your az CLI session, or a federated token in CI"
    )

    def request(self) -> Deployer:
        return Deployer(self.network, tuple(self.egress_cidrs))


def problems(settings: Settings) -> Iterator[str]:
    """Serving problems; they need the address plan, so `load_settings` runs them after it."""
    yield from _image_problems(settings.image)
    yield from _serving_problems(settings)
    regions = [f"{cloud}:{region.name}" for cloud, region in settings.regions()]
    for problem in wave_problems(regions, settings.rollout.waves):
        yield f"{key_path('rollout', 'waves', *problem.path)}: {problem.message}"
    yield from _deployer_problems(settings)


def _image_problems(image: ImageSettings) -> Iterator[str]:
    chosen = [key for key in ("ref", "digest") if getattr(image, key)]
    if len(chosen) > 1 or (chosen and image.build):
        given = (["build: true"] if image.build else []) + chosen
        yield f"{key_path('image')}: choose one of build, ref or digest, got {', '.join(given)}"
    if image.build is False and not chosen:
        yield f"{key_path('image', 'build')}: false needs image.ref or image.digest to deploy instead"
    if image.ref and not IMAGE_REF.match(image.ref):
        yield (
            f"{key_path('image', 'ref')}: {image.ref!r} is not pinned by digest; deploy by digest, e.g. "
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/lepton/inference@sha256:<64 hex digits>"
        )
    if image.digest and not DIGEST.match(image.digest):
        yield f"{key_path('image', 'digest')}: {image.digest!r} is not sha256:<64 lower-case hex digits>"


def _serving_problems(settings: Settings) -> Iterator[str]:
    serving = settings.serving
    for key in ("cpu", "memory", "engine_cache_size"):
        try:
            quantity(getattr(serving, key))
        except ValueError as error:
            yield f"{key_path('serving', key)}: {error}"
    for cloud, region in settings.regions():
        gpu = settings.gpu_for(region)
        if gpu.type in GPU_CATALOG and serving.gpus_per_pod > gpu.gpus_per_node:
            yield (
                f"{key_path('serving', 'gpus_per_pod')}: {serving.gpus_per_pod} GPUs per pod do not fit the "
                f"{gpu.gpus_per_node}-GPU nodes of {cloud}:{region.name}; lower it or raise gpu.gpus_per_node"
            )


def _deployer_problems(settings: Settings) -> Iterator[str]:
    from planning.platform import plan_regions

    deployer = settings.deployer
    if deployer.azure_principal_type == "Group" and not deployer.azure_principal_id:
        yield (f"{key_path('deployer', 'azure_principal_id')}: is required when azure_principal_type is Group "
               "(the group's object id)")
    if deployer.network and not deployer.runner_labels:
        yield (f"{key_path('deployer', 'runner_labels')}: is required with deployer.network "
               f"({deployer.network!r}): the labels of the self-hosted runner inside that network, or the deploy "
               "jobs run on GitHub-hosted runners, which cannot reach private cluster APIs")
    hubs = {cloud: spec.hub for cloud, spec in settings.clouds.configured()}
    regions = list(plan_regions(settings).values())
    _, found = plan_access(regions, hubs, settings.kubernetes.api_allowed_cidrs, deployer.request())
    for problem in found:
        yield f"{key_path(*problem.key.split('.'))}: {problem.message}"
