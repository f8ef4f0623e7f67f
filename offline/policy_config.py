"""`policy-config STACK`: the policy pack config a stack is checked with, generated from its settings.

The stack config is the one source of the residency zones a stack uses
(`multicloud-inference:platform.residency_zones`). Every policy of the pack that takes
`residencyZones` gets exactly those zones, so the offline preview, `pulumi preview/up
--policy-pack-config` in the workflows and a security team's audit all check a stack against the
zones it declares, and nobody copies region lists by hand. Without a generated config the pack
falls back to its defaults (every EU/EEA region of each cloud for zone `eu`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from offline.cli import STDIO, Verb, write_json

RESIDENCY_KEY = "residencyZones"


def pack_config(residency_zones: Mapping[str, Sequence[str]], policies: Iterable[Any]) -> dict[str, Any]:
    """The pack config (CLI `--policy-pack-config` format) giving every residency policy the zones.

    `policies` are the pack's definitions (anything with `.name` and `.config` keys with `.name`)."""
    zones = {zone: list(regions) for zone, regions in sorted(residency_zones.items())}
    return {
        policy.name: {RESIDENCY_KEY: zones}
        for policy in policies
        if any(key.name == RESIDENCY_KEY for key in policy.config)
    }


def stack_policy_config(stack: str, config_file: Path | None = None, policy_pack: Path | None = None) -> dict[str, Any]:
    """The generated pack config of a stack: what `policy-config` prints and `preview` applies."""
    from offline.plan import stack_settings
    from offline.policy_check import load_rules

    settings = stack_settings(stack, config_file)
    return pack_config(settings.residency_zones, load_rules(policy_pack).POLICIES)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--config-file", type=Path, metavar="FILE", help="read the config from this file instead (same shape)")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: policies/)")
    parser.add_argument("--out", default=STDIO, metavar="FILE", help="write the config here (default `-`: standard output)")


def _run(args: argparse.Namespace) -> int:
    write_json(args.out, stack_policy_config(args.stack, args.config_file, args.policy_pack))
    return 0


VERB = Verb(
    "policy-config",
    "print the policy pack config a stack is checked with (its residency zones), for --policy-pack-config",
    _arguments,
    _run,
)
