"""What a GPU node can hold besides its GPUs: each catalogue machine's vCPUs and memory, and an estimate
of what the kubelet leaves to pods.

A node autoscaler adds a node only for a pod that would fit it, CPU and memory included; a Triton pod
whose requests exceed a GPU machine's allocatable capacity stays pending for ever, whatever the
bounds. The shapes live in `gpu_machine_shapes.csv` (one row per machine type of `planning/gpu.py`,
with its source and the date it was checked). The allocatable estimate uses GKE's documented
reservation, the largest of the three clouds' for these sizes, plus what the node agents on a GPU
node request (CNI, kube-proxy, identity agents, device plugin).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

SHAPES_FILE = Path(__file__).with_name("gpu_machine_shapes.csv")
GIB = Decimal(2**30)
NODE_AGENTS_CPU = Decimal("0.25")
NODE_AGENTS_MEMORY_GIB = Decimal("0.5")
EVICTION_THRESHOLD_GIB = Decimal(100) / 1024

# (size of the band, share reserved): GKE's kube-reserved, band by band.
CPU_RESERVE_BANDS = ((1, Decimal("0.06")), (1, Decimal("0.01")), (2, Decimal("0.005")), (None, Decimal("0.0025")))
MEMORY_RESERVE_BANDS = ((4, Decimal("0.25")), (4, Decimal("0.20")), (8, Decimal("0.10")), (112, Decimal("0.06")),
                        (None, Decimal("0.02")))


@dataclass(frozen=True)
class MachineShape:
    cloud: str
    machine_type: str
    vcpus: int
    memory_gib: int
    source: str
    checked: str

    @property
    def allocatable_cpu(self) -> Decimal:
        """CPUs left to pods, after the kubelet's reserve and the node agents."""
        return Decimal(self.vcpus) - _reserve(Decimal(self.vcpus), CPU_RESERVE_BANDS) - NODE_AGENTS_CPU

    @property
    def allocatable_memory(self) -> Decimal:
        """Bytes left to pods, after the kubelet's reserve, the eviction threshold and the node agents."""
        memory = Decimal(self.memory_gib)
        gib = memory - _reserve(memory, MEMORY_RESERVE_BANDS) - EVICTION_THRESHOLD_GIB - NODE_AGENTS_MEMORY_GIB
        return gib * GIB


def _reserve(amount: Decimal, bands) -> Decimal:
    reserved, left = Decimal(0), amount
    for size, share in bands:
        taken = left if size is None else min(left, Decimal(size))
        reserved += taken * share
        left -= taken
        if left <= 0:
            break
    return reserved


@cache
def machine_shapes() -> dict[tuple[str, str], MachineShape]:
    with SHAPES_FILE.open(newline="") as handle:
        rows = [MachineShape(r["cloud"], r["machine_type"], int(r["vcpus"]), int(r["memory_gib"]), r["source"],
                             r["checked"]) for r in csv.DictReader(handle)]
    return {(r.cloud, r.machine_type): r for r in rows}


def machine_shape(cloud: str, machine_type: str) -> MachineShape:
    return machine_shapes()[(cloud, machine_type)]


def pods_per_node(shape: MachineShape, gpus_per_node: int, gpus_per_pod: int, cpu: Decimal, memory: Decimal) -> int:
    """How many pods requesting `gpus_per_pod` GPUs, `cpu` CPUs and `memory` bytes one node holds."""
    by_gpu = gpus_per_node // gpus_per_pod
    by_cpu = int(shape.allocatable_cpu // cpu) if cpu > 0 else by_gpu
    by_memory = int(shape.allocatable_memory // memory) if memory > 0 else by_gpu
    return max(0, min(by_gpu, by_cpu, by_memory))
