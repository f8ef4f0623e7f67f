"""The GPU catalog, the cluster pool plan and the config errors they produce. Pure, no engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planning.clusters import (
    AZURE_SPOT_TAINT,
    GPU_TAINT,
    GPU_TYPE_LABEL,
    POOL_LABEL,
    plan_cluster,
)
from planning.gpu import GPU_CATALOG, GPU_TYPES, catalog_markdown, place_gpu, placement_error
from planning.regions import CLOUD_TITLES, CLOUDS
from settings import ConfigError, GpuRequest, load_settings
from tests.planview import stack_platform_config

REPO = Path(__file__).resolve().parent.parent

# Which clouds sell each type, and each cloud's one-GPU (or smallest) shape: written out here, from
# the clouds' documentation, so a catalog edit that drops or renames a shape fails loudly.
EXPECTED: dict[str, dict[str, tuple[int, str, str | None] | None]] = {
    "T4": {"aws": (1, "g4dn.xlarge", None), "azure": (1, "Standard_NC4as_T4_v3", None),
           "gcp": (1, "n1-standard-8", "nvidia-tesla-t4")},
    "L4": {"aws": (1, "g6.xlarge", None), "azure": None, "gcp": (1, "g2-standard-8", "nvidia-l4")},
    "A10G": {"aws": (1, "g5.xlarge", None), "azure": None, "gcp": None},
    "A100": {"aws": (8, "p4d.24xlarge", None), "azure": (8, "Standard_ND96asr_v4", None),
             "gcp": (1, "a2-highgpu-1g", "nvidia-tesla-a100")},
    "A100-80GB": {"aws": (8, "p4de.24xlarge", None), "azure": (1, "Standard_NC24ads_A100_v4", None),
                  "gcp": (1, "a2-ultragpu-1g", "nvidia-a100-80gb")},
    "H100": {"aws": (1, "p5.4xlarge", None), "azure": (1, "Standard_NC40ads_H100_v5", None),
             "gcp": (8, "a3-highgpu-8g", "nvidia-h100-80gb")},
}
MACHINE_PATTERNS = {
    "aws": r"^(g4dn|g5|g6|p4d|p4de|p5)\.(\d*x?large|metal)$",
    "azure": r"^Standard_N[CD]\d+[a-z]*_(T4_v3|A100_v4|H100_v5|v4)$",
    "gcp": r"^(n1-standard-\d+|g2-standard-\d+|a2-(high|ultra)gpu-\d+g|a3-highgpu-\d+g)$",
}


def test_every_required_type_is_in_the_catalog():
    assert set(GPU_TYPES) == set(EXPECTED)


@pytest.mark.parametrize(("gpu_type", "cloud"), [(t, c) for t in EXPECTED for c in CLOUDS])
def test_each_type_and_cloud(gpu_type, cloud):
    expected = EXPECTED[gpu_type][cloud]
    if expected is None:
        error = placement_error(gpu_type, cloud, 1, spot=False)
        offering = [CLOUD_TITLES[c] for c in CLOUDS if EXPECTED[gpu_type][c]]
        assert error.startswith(f"{CLOUD_TITLES[cloud]} does not offer {gpu_type}")
        assert error.endswith(f"{gpu_type} is offered by {' and '.join(offering)}")
        with pytest.raises(ValueError, match="does not offer"):
            place_gpu(gpu_type, cloud, 1, spot=False)
        return
    count, machine, accelerator = expected
    placement = place_gpu(gpu_type, cloud, count, spot=False)
    assert (placement.machine_type, placement.accelerator, placement.gpus_per_node) == (machine, accelerator, count)


@pytest.mark.parametrize(("gpu_type", "cloud"), [(t, c) for t, offers in GPU_CATALOG.items() for c in offers])
def test_machine_types_follow_each_clouds_naming_and_gpu_count(gpu_type, cloud):
    offer = GPU_CATALOG[gpu_type][cloud]
    for count, machine in offer.machine_types.items():
        assert re.match(MACHINE_PATTERNS[cloud], machine), machine
        # GCP's accelerator-optimized names end in the GPU count ("a2-highgpu-4g").
        if m := re.search(r"-(\d+)g$", machine):
            assert int(m.group(1)) == count, machine
    # GCP needs the accelerator name for guest_accelerators; elsewhere the machine implies it.
    assert (offer.accelerator is not None) == (cloud == "gcp")


def test_offering_clouds_are_named_in_the_error():
    assert placement_error("L4", "azure", 1, spot=False) == (
        "Azure does not offer L4 GPUs; L4 is offered by AWS and GCP"
    )
    assert placement_error("A10G", "gcp", 1, spot=False) == "GCP does not offer A10G GPUs; A10G is offered by AWS"


def test_a_count_without_a_machine_lists_the_counts_offered():
    assert placement_error("A100", "aws", 2, spot=False) == (
        "AWS has no machine type with 2 x A100; GPUs per node offered: 8"
    )


def test_fractional_a3_is_spot_only():
    assert placement_error("H100", "gcp", 1, spot=True) is None
    error = placement_error("H100", "gcp", 1, spot=False)
    assert "only as spot capacity" in error and "set spot: true" in error and ": 8" in error


def test_unknown_type_lists_known_types():
    assert placement_error("V100", "aws", 1, spot=False).startswith("unknown GPU type 'V100'; known types: T4, L4")


def _config(**gpu):
    config = stack_platform_config("dev")
    config["gpu"] = {**config["gpu"], **gpu}
    return config


def test_loader_refuses_l4_in_azure_naming_the_key_and_the_clouds():
    with pytest.raises(ConfigError) as error:
        load_settings(_config(type="L4"))
    assert error.value.problems == [
        "multicloud-inference:platform.gpu.type: Azure does not offer L4 GPUs; "
        "L4 is offered by AWS and GCP (needed by azure:westeurope)"
    ]


def test_loader_names_the_region_override_that_is_impossible():
    config = stack_platform_config("dev")
    config["clouds"]["aws"]["regions"] = [{"name": "eu-central-1", "gpu": {"type": "A100", "gpus_per_node": 2}}]
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert error.value.problems == [
        "multicloud-inference:platform.clouds.aws.regions[0].gpu.gpus_per_node: AWS has no machine type with 2 x A100; "
        "GPUs per node offered: 8 (needed by aws:eu-central-1)"
    ]


def test_loader_refuses_an_unknown_release_channel():
    config = stack_platform_config("dev")
    config["kubernetes"] = {"release_channel": "NIGHTLY"}
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert error.value.problems == [
        "multicloud-inference:platform.kubernetes.release_channel: 'NIGHTLY' is not one of RAPID, REGULAR, STABLE"
    ]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_cluster_plan_taints_labels_and_bounds(cloud):
    gpu = GpuRequest(type="T4", gpus_per_node=1, min_nodes=1, max_nodes=5, spot=False)
    plan = plan_cluster(cloud, gpu, system_nodes=3)
    assert (plan.gpu.min_nodes, plan.gpu.max_nodes, plan.gpu.spot) == (1, 5, False)
    assert plan.gpu.taints == (GPU_TAINT,) and str(GPU_TAINT) == "nvidia.com/gpu=present:NoSchedule"
    assert plan.gpu.labels == {POOL_LABEL: "gpu", GPU_TYPE_LABEL: "T4"}
    assert plan.gpu.machine_type == GPU_CATALOG["T4"][cloud].machine_types[1]
    assert plan.system.taints == () and plan.system.labels == {POOL_LABEL: "system"}
    assert (plan.system.min_nodes, plan.system.max_nodes) == (3, 6)


def test_azure_spot_pools_declare_the_taint_aks_adds():
    gpu = GpuRequest(type="T4", spot=True)
    assert plan_cluster("azure", gpu, 2).gpu.taints == (GPU_TAINT, AZURE_SPOT_TAINT)
    assert plan_cluster("aws", gpu, 2).gpu.taints == (GPU_TAINT,)


def test_readme_gpu_table_is_the_catalog():
    assert catalog_markdown() in (REPO / "README.md").read_text()
