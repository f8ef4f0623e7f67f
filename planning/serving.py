"""What Triton looks like in every region: ports, probes, resources, the image's environment contract.

Pure data and arithmetic; `components/serving/` renders it. The environment contract is the one
`inference_image/entrypoint.py` reads (a test holds both sides to it).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

HTTP_PORT, GRPC_PORT, METRICS_PORT = 8000, 8001, 8002
LIVE_PATH, READY_PATH = "/v2/health/live", "/v2/health/ready"
SERVICE_NAME = "triton"
RUN_AS = 10001
"""The image's numeric user (Dockerfile `USER 10001:10001`), so runAsNonRoot can be verified."""

CANARY_MODEL = "tiny_linear"
"""The bundled sample model: always served, so every region can prove it answers a request."""

# Where the entrypoint reads and writes: each a writable volume, the root filesystem stays read-only.
ENGINE_CACHE_DIR = "/var/cache/trt-engines"
MODEL_STORE_DIR = "/var/lib/inference/store"
MODEL_REPOSITORY_DIR = "/var/lib/inference/models"
SCRATCH_DIR = "/tmp"

ENTRYPOINT_ENV = ("MODEL_STORE_URL", "ENGINE_CACHE_DIR", "MODEL_STORE_DIR",
                  "MODEL_REPOSITORY_DIR", "TRT_PRECISION", "HOME")
"""Every variable the deployment sets; each is one the image's entrypoint (or its tools) reads."""

PROBE_PERIOD_SECONDS = 10
GPU_NODE_STARTUP_MINUTES = 15
"""Scale-up of a GPU node plus pulling the (large) Triton image: counted into every wait below."""

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {None: 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: str) -> Decimal:
    """A Kubernetes resource quantity (`4`, `500m`, `16Gi`) as a number; ValueError if not one."""
    match = _QUANTITY.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 4, 500m or 16Gi")
    try:
        return Decimal(match.group(1)) * Decimal(_FACTORS[match.group(2)])
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from None


@dataclass(frozen=True)
class Probes:
    startup_failures: int
    """Startup probe failures tolerated: long enough for a cold TensorRT engine build."""
    liveness_failures: int = 3
    readiness_failures: int = 3
    period_seconds: int = PROBE_PERIOD_SECONDS


@dataclass(frozen=True)
class TritonPlan:
    """One region's Triton deployment, from the stack's serving settings."""

    replicas: int
    gpus_per_pod: int
    cpu: str
    memory: str
    engine_cache_size: str
    ready_timeout_minutes: int
    probes: Probes

    @property
    def ready_timeout_seconds(self) -> int:
        return self.ready_timeout_minutes * 60


def plan_triton(replicas: int, gpus_per_pod: int, cpu: str, memory: str, engine_cache_size: str,
                ready_timeout_minutes: int) -> TritonPlan:
    # The startup probe may fail for the whole wait except the node's own start-up: the entrypoint
    # builds engines before Triton listens at all.
    engine_build_seconds = max(ready_timeout_minutes - GPU_NODE_STARTUP_MINUTES, 5) * 60
    probes = Probes(startup_failures=math.ceil(engine_build_seconds / PROBE_PERIOD_SECONDS))
    return TritonPlan(replicas, gpus_per_pod, cpu, memory, engine_cache_size, ready_timeout_minutes, probes)


def context_digest(root: Path, ignore_file: str = ".dockerignore") -> str:
    """A digest of the image's build context: the files Docker would send, names and contents.

    It names the image's tag, so the same context always gets the same (immutable) tag and a
    changed one a new tag, without asking any registry."""
    patterns = _ignore_patterns(root / ignore_file)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        # Docker always reads the Dockerfile, whatever .dockerignore says.
        if relative != "Dockerfile" and _ignored(relative, patterns):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _ignore_patterns(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _ignored(relative: str, patterns: Iterable[str]) -> bool:
    from fnmatch import fnmatchcase

    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = relative.split("/")
        hit = any(fnmatchcase("/".join(parts[: i + 1]), pattern) for i in range(len(parts)))
        if hit:
            ignored = not negate
    return ignored
