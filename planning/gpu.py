"""The cloud-neutral GPU request, mapped to each cloud's machine type and accelerator name.

One table, read by the settings model (to refuse a type or count a cloud lacks) and by the cluster
components (to size node pools). Each entry maps GPUs per node to the machine type that has exactly
that many GPUs of the type. Sources: AWS EC2 accelerated instance types, Azure GPU VM sizes
(NCasT4_v3, NC A100 v4, ND A100 v4, NCads H100 v5, ND H100 v5), GCP GPU machine types (N1+T4, G2,
A2, A2 Ultra, A3 High).

Memory variants are distinct types because they are distinct machines everywhere: Azure's NC A100
v4 sizes carry the 80 GB PCIe A100, so Azure's only 40 GB A100 size is ND96asr_v4 (8 GPUs). Azure's
NC H100 v5 sizes carry the H100 NVL (94 GB); they serve the same engines as H100 80 GB (same compute
capability 9.0), so they are listed under H100.
"""

from __future__ import annotations

from dataclasses import dataclass

from planning.regions import CLOUD_TITLES, Cloud


@dataclass(frozen=True)
class GpuOffer:
    machine_types: dict[int, str]
    """GPUs per node -> machine type with exactly that many GPUs."""
    accelerator: str | None = None
    """GCP's accelerator name for guest_accelerators; None where the machine type implies it."""
    spot_only: frozenset[int] = frozenset()
    """GPU counts whose machine type the cloud sells only as spot (or queued) capacity."""


@dataclass(frozen=True)
class GpuPlacement:
    """What one region's GPU pool is made of."""

    gpu_type: str
    machine_type: str
    gpus_per_node: int
    accelerator: str | None


GPU_CATALOG: dict[str, dict[Cloud, GpuOffer]] = {
    "T4": {
        "aws": GpuOffer({1: "g4dn.xlarge", 4: "g4dn.12xlarge", 8: "g4dn.metal"}),
        "azure": GpuOffer({1: "Standard_NC4as_T4_v3", 4: "Standard_NC64as_T4_v3"}),
        "gcp": GpuOffer(
            {1: "n1-standard-8", 2: "n1-standard-16", 4: "n1-standard-32"}, "nvidia-tesla-t4"
        ),
    },
    "L4": {
        "aws": GpuOffer({1: "g6.xlarge", 4: "g6.12xlarge", 8: "g6.48xlarge"}),
        "gcp": GpuOffer(
            {1: "g2-standard-8", 2: "g2-standard-24", 4: "g2-standard-48", 8: "g2-standard-96"},
            "nvidia-l4",
        ),
    },
    "A10G": {
        "aws": GpuOffer({1: "g5.xlarge", 4: "g5.12xlarge", 8: "g5.48xlarge"}),
    },
    "A100": {
        "aws": GpuOffer({8: "p4d.24xlarge"}),
        "azure": GpuOffer({8: "Standard_ND96asr_v4"}),
        "gcp": GpuOffer(
            {1: "a2-highgpu-1g", 2: "a2-highgpu-2g", 4: "a2-highgpu-4g", 8: "a2-highgpu-8g"},
            "nvidia-tesla-a100",
        ),
    },
    "A100-80GB": {
        "aws": GpuOffer({8: "p4de.24xlarge"}),
        "azure": GpuOffer(
            {
                1: "Standard_NC24ads_A100_v4",
                2: "Standard_NC48ads_A100_v4",
                4: "Standard_NC96ads_A100_v4",
                8: "Standard_ND96amsr_A100_v4",
            }
        ),
        "gcp": GpuOffer(
            {1: "a2-ultragpu-1g", 2: "a2-ultragpu-2g", 4: "a2-ultragpu-4g", 8: "a2-ultragpu-8g"},
            "nvidia-a100-80gb",
        ),
    },
    "H100": {
        "aws": GpuOffer({1: "p5.4xlarge", 8: "p5.48xlarge"}),
        "azure": GpuOffer(
            {1: "Standard_NC40ads_H100_v5", 2: "Standard_NC80adis_H100_v5", 8: "Standard_ND96isr_H100_v5"}
        ),
        "gcp": GpuOffer(
            {1: "a3-highgpu-1g", 2: "a3-highgpu-2g", 4: "a3-highgpu-4g", 8: "a3-highgpu-8g"},
            "nvidia-h100-80gb",
            # GCP sells the fractional A3 High shapes only as Spot or flex-start VMs.
            spot_only=frozenset({1, 2, 4}),
        ),
    },
}

GPU_TYPES: tuple[str, ...] = tuple(GPU_CATALOG)


def clouds_offering(gpu_type: str) -> list[str]:
    return [CLOUD_TITLES[c] for c in GPU_CATALOG.get(gpu_type, {})]


def placement_error(gpu_type: str, cloud: Cloud, gpus_per_node: int, spot: bool) -> str | None:
    """Why `gpu_type` x `gpus_per_node` (spot or on-demand) cannot be placed in `cloud`, or None."""
    if gpu_type not in GPU_CATALOG:
        return f"unknown GPU type {gpu_type!r}; known types: {', '.join(GPU_TYPES)}"
    offer = GPU_CATALOG[gpu_type].get(cloud)
    if offer is None:
        return (
            f"{CLOUD_TITLES[cloud]} does not offer {gpu_type} GPUs; "
            f"{gpu_type} is offered by {' and '.join(clouds_offering(gpu_type))}"
        )
    if gpus_per_node not in offer.machine_types:
        counts = ", ".join(str(n) for n in sorted(offer.machine_types))
        return (
            f"{CLOUD_TITLES[cloud]} has no machine type with {gpus_per_node} x {gpu_type}; "
            f"GPUs per node offered: {counts}"
        )
    if not spot and gpus_per_node in offer.spot_only:
        on_demand = ", ".join(str(n) for n in sorted(set(offer.machine_types) - offer.spot_only))
        return (
            f"{CLOUD_TITLES[cloud]} sells {gpus_per_node} x {gpu_type} ({offer.machine_types[gpus_per_node]}) "
            f"only as spot capacity; set spot: true or use GPUs per node: {on_demand}"
        )
    return None


def place_gpu(gpu_type: str, cloud: Cloud, gpus_per_node: int, spot: bool) -> GpuPlacement:
    """The machine type (and GCP accelerator) for a validated request."""
    error = placement_error(gpu_type, cloud, gpus_per_node, spot)
    if error:
        raise ValueError(error)
    offer = GPU_CATALOG[gpu_type][cloud]
    return GpuPlacement(gpu_type, offer.machine_types[gpus_per_node], gpus_per_node, offer.accelerator)


def catalog_markdown() -> str:
    """The catalog as the Markdown table in the README (a test keeps the two identical)."""
    clouds: tuple[Cloud, ...] = ("aws", "azure", "gcp")
    rows = [
        "| GPU type | " + " | ".join(CLOUD_TITLES[c] for c in clouds) + " |",
        "|---|" + "---|" * len(clouds),
    ]
    for gpu_type, offers in GPU_CATALOG.items():
        cells = []
        for cloud in clouds:
            offer = offers.get(cloud)
            if offer is None:
                cells.append("not offered")
                continue
            shapes = ", ".join(
                f"{n}: `{machine}`" + (" (spot only)" if n in offer.spot_only else "")
                for n, machine in sorted(offer.machine_types.items())
            )
            cells.append(shapes + (f" + `{offer.accelerator}`" if offer.accelerator else ""))
        rows.append(f"| {gpu_type} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"
