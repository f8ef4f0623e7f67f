"""`preview STACK`: evaluate a stack under the mock engine, apply the policy pack with the config
generated from the stack's own settings, print the report, optionally write the plan JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from offline.cli import Verb, check_writable, report_stream, write_json


def policy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: policies/)")
    parser.add_argument(
        "--policy-pack-config", metavar="FILE",
        help="policy pack config JSON in the CLI's --policy-pack-config format (`-`: standard input)",
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml (and names the plan)")
    parser.add_argument("--config-file", type=Path, metavar="FILE", help="read the config from this file instead (same shape)")
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="write the plan JSON to OUT (`-`: standard output)")
    policy_arguments(parser)
    parser.epilog = (
        "Without --policy-pack-config the pack gets the config `policy-config STACK` prints: the stack's "
        "own residency zones.\n\n" + (parser.epilog or "")
    )


def preview(stack: str, config_file: Path | None = None, policy_pack: Path | None = None,
            policy_pack_config: str | Path | None = None) -> dict[str, Any]:
    """The stack's plan with the pack's verdict under `policies`. Without an explicit pack config
    the pack gets the one generated from the stack's settings (`policy-config`)."""
    from offline.plan import build_plan
    from offline.policy_check import apply_policies, read_policy_config
    from offline.policy_config import stack_policy_config

    plan = build_plan(stack, config_file)
    if policy_pack_config is None:
        config = stack_policy_config(stack, config_file, policy_pack)
    else:
        config = read_policy_config(policy_pack_config)
    plan["policies"] = apply_policies(plan, policy_pack, config)
    return plan


def _run(args: argparse.Namespace) -> int:
    from offline.policy_check import exit_code, format_violations
    from offline.report import summary

    check_writable(args.json_out)
    plan = preview(args.stack, args.config_file, args.policy_pack, args.policy_pack_config)
    out = report_stream(args.json_out)
    if args.json_out:
        write_json(args.json_out, plan)
    print(summary(plan), file=out)
    print("\n" + format_violations(plan["policies"]), file=out)
    if args.json_out and args.json_out != "-":
        print(f"\nPlan written to {args.json_out}", file=out)
    return exit_code(plan["policies"])


VERB = Verb("preview", "evaluate a stack under Pulumi's mock engine and apply the policy pack", _arguments, _run)
