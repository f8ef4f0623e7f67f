"""Put the pack's rules package and the engine-shaped fixtures on the path.

Never import policies/__main__.py: constructing PolicyPack starts a gRPC server and blocks."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT / "policies", Path(__file__).resolve().parent, ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from engine_shapes import compliant_plan  # noqa: E402

from platform_policies.adapters import from_plan  # noqa: E402
from platform_policies.engine import evaluate_with_config  # noqa: E402


@pytest.fixture
def plan():
    return compliant_plan()


@pytest.fixture
def run():
    """Evaluate a plan (with an optional pack config document) into violations."""
    return lambda plan, config=None: evaluate_with_config(from_plan(plan), config)
