"""The inference image every region deploys, always by digest.

`image: {build: true}` (the default) builds `inference_image/` once for linux/amd64 with
pulumi-docker-build and pushes that one manifest to every registry, so one digest names it
everywhere; `{digest: ...}` redeploys an earlier build from the same registries (rollback);
`{ref: ...}` deploys an existing image verbatim and builds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker_build as docker_build

from components.serving.registries import CACHE_TAG, Registries
from planning.serving import context_digest

CONTEXT = Path("inference_image")
"""Relative to the project directory (where Pulumi runs the program): state never records a
machine's absolute path."""
PLATFORM = "linux/amd64"
"""The GPU node images of all three clouds are x86_64, and the Dockerfile copies x86_64 libraries."""


@dataclass(frozen=True, kw_only=True)
class InferenceImageArgs:
    mode: str
    """`build`, `digest` or `ref` (settings.image.mode)."""
    registries: Registries
    digest: str | None = None
    ref: str | None = None
    project_dir: Path = Path(".")


class InferenceImage(pulumi.ComponentResource):
    digest: pulumi.Output[str] | None
    refs: dict[str, pulumi.Output[str]]
    """Per region key: the image reference its Deployment uses (`repository@sha256:...`)."""

    def __init__(self, name: str, args: InferenceImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("multicloud-inference:index:InferenceImage", name, None, opts)
        registries = args.registries
        self.tag = "ctx-" + context_digest(args.project_dir / CONTEXT)[:20]
        """The build's tag in every registry: a digest of the build context, so an unchanged context
        keeps its tag and a changed one never overwrites an (immutable) tag."""
        if args.mode == "ref":
            self.digest = pulumi.Output.from_input(args.ref.rsplit("@", 1)[1])
            self.refs = {key: pulumi.Output.from_input(args.ref) for key in registries.regions}
        else:
            if args.mode == "digest":
                self.digest = pulumi.Output.from_input(args.digest)
            else:
                self.digest = self._build(name, registries).digest
            self.refs = {
                key: pulumi.Output.concat(region.repository, "@", self.digest)
                for key, region in registries.regions.items()
            }
        self.register_outputs({"digest": self.digest, "tag": self.tag})

    def _build(self, name: str, registries: Registries) -> docker_build.Image:
        # Default providers are disabled; the builder runs where `pulumi up` runs (its Docker).
        provider = docker_build.Provider(f"{name}-docker-build", opts=pulumi.ResourceOptions(parent=self))
        cache = (
            {"cache_from": [{"registry": {"ref": pulumi.Output.concat(registries.cache, ":", CACHE_TAG)}}],
             "cache_to": [{"registry": {"ref": pulumi.Output.concat(registries.cache, ":", CACHE_TAG), "mode": "max",
                                        "image_manifest": True, "oci_media_types": True, "ignore_error": True}}]}
            if registries.cache is not None
            else {}
        )
        return docker_build.Image(
            f"{name}-build",
            context={"location": CONTEXT.as_posix()},
            dockerfile={"location": (CONTEXT / "Dockerfile").as_posix()},
            platforms=[PLATFORM],
            push=True,
            tags=[pulumi.Output.concat(target.repository, ":", self.tag) for target in registries.push],
            registries=[target.credentials for target in registries.push if target.credentials],
            # A preview does not build the (large) Triton image; the Dockerfile is still validated,
            # and the offline checks lint it on every pull request.
            build_on_preview=False,
            labels={"org.opencontainers.image.title": "multicloud-inference Triton",
                    "org.opencontainers.image.version": self.tag},
            **cache,
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
