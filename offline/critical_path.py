"""`python -m offline critical-path STACK [--json OUT]`: the longest chain of a first `pulumi up`
and the next two, from the plan's dependency graph and typical creation minutes (planning/critical_path.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from offline.cli import EXIT_INVALID, EXIT_OK, Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--config-file", type=Path, help="read the config from this file instead (same shape)")
    parser.add_argument("--plan", type=Path, help="use this saved plan JSON instead of evaluating the stack")
    parser.add_argument("--json", type=Path, dest="json_out", help="write the chains as JSON here")


def run(args: argparse.Namespace) -> int:
    from offline.inputs import InputError, stack_plan
    from planning.critical_path import CriticalPathError, render_text, report
    from settings import ConfigError

    try:
        result = report(stack_plan(args.stack, args.config_file, args.plan))
    except (ConfigError, InputError, CriticalPathError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    result["stack"] = args.stack
    print(render_text(result), end="")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nChains written to {args.json_out}")
    return EXIT_OK


VERB = Verb("critical-path", "longest creation chains of a stack's plan, in minutes", _arguments, run)
