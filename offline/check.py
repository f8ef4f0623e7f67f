"""`check PLAN.json`: the policy pack's verdict on a saved plan, so a security team can audit a
plan without running the program (or trusting whoever ran it)."""

from __future__ import annotations

import argparse

from offline.cli import Verb
from offline.preview import policy_arguments


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", help="a plan JSON written by `preview --json` (`-`: standard input)")
    policy_arguments(parser)
    parser.epilog = (
        "Without --policy-pack-config the pack runs with its own defaults (every EU/EEA region allowed "
        "for zone `eu`).\n\n" + (parser.epilog or "")
    )


def _run(args: argparse.Namespace) -> int:
    from offline.policy_check import check_plan_file

    return check_plan_file(args.plan, args.policy_pack, args.policy_pack_config)


VERB = Verb("check", "apply the policy pack to a saved plan JSON", _arguments, _run)
