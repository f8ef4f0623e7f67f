"""`python -m offline preview STACK ...` and `python -m offline check PLAN.json ...`.

Exit codes: 0 success; 1 a mandatory policy violation; 2 invalid config or input (each bad key is
listed, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from offline import cost, critical_path, place

EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    preview = commands.add_parser("preview", help="evaluate a stack under the mock engine and apply the policy pack")
    preview.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml (and names the plan)")
    preview.add_argument("--config-file", type=Path, help="read the config from this file instead (same shape)")
    preview.add_argument("--json", type=Path, dest="json_out", help="write the plan JSON here")
    _policy_arguments(preview)

    check = commands.add_parser("check", help="apply the policy pack to a saved plan JSON")
    check.add_argument("plan", type=Path, help="a plan JSON written by `preview --json`")
    _policy_arguments(check)
    for verb in (cost, place, critical_path):  # each verb module adds its parser and sets `run`
        verb.register(commands)
    return parser


def _policy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: policies/)")
    parser.add_argument("--policy-pack-config", type=Path, help="policy pack config JSON, as the CLI takes it")


def _preview(args: argparse.Namespace) -> int:
    from offline.plan import StackConfigError, build_plan
    from offline.policy_check import PolicyConfigError, apply_policies, print_violations
    from offline.report import summary
    from settings import ConfigError

    try:
        plan = build_plan(args.stack, args.config_file)
        plan["policies"] = apply_policies(plan, args.policy_pack, args.policy_pack_config)
    except (ConfigError, StackConfigError, PolicyConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    print(summary(plan))
    if args.json_out:
        args.json_out.write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
        print(f"\nPlan written to {args.json_out}")
    return print_violations(plan["policies"])


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "run"):
        return args.run(args)
    if args.command == "preview":
        return _preview(args)
    from offline.policy_check import check_plan_file

    return check_plan_file(args.plan, args.policy_pack, args.policy_pack_config)


if __name__ == "__main__":
    sys.exit(main())
