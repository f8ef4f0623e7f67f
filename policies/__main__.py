"""Entry point the Pulumi CLI runs for `--policy-pack policies`: build the pack, nothing else.

Never import this module from tests: constructing PolicyPack starts the analyzer's gRPC server
and blocks forever. Tests import `platform_policies` instead.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from platform_policies import PACK_NAME  # noqa: E402
from platform_policies.pulumi_pack import build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=(
        "Guardrails for the multi-cloud GPU inference platform: residency, encryption, exposure, network, workloads, tags."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=build_policies(),
)
