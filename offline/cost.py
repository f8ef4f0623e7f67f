"""`python -m offline cost STACK [--json OUT] [--compare BASE.json] [--markdown OUT]`: the monthly
cost of what the stack's plan would create, per region and line item (planning/cost.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from offline.cli import EXIT_INVALID, EXIT_OK, Verb


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml (its prices overrides included)")
    parser.add_argument("--config-file", type=Path, help="read the config from this file instead (same shape)")
    parser.add_argument("--plan", type=Path, help="cost this saved plan JSON instead of evaluating the stack")
    parser.add_argument("--json", type=Path, dest="json_out", help="write the estimate JSON here")
    parser.add_argument("--compare", type=Path, metavar="BASE.json", help="print the change from this earlier estimate JSON")
    parser.add_argument("--markdown", type=Path, metavar="OUT.md", help="write the estimate (and change) as a PR comment")


def run(args: argparse.Namespace) -> int:
    from offline.inputs import InputError, read_json, stack_plan, stack_settings
    from planning.cost import CostError, compare, estimate, render_delta_text, render_markdown, render_text
    from planning.prices import price_book
    from settings import ConfigError

    try:
        settings = stack_settings(args.stack, args.config_file)
        base = read_json(args.compare, "cost JSON (written by `cost --json`)", ("regions", "monthly")) if args.compare else None
        result = estimate(stack_plan(args.stack, args.config_file, args.plan), price_book(settings))
    except (ConfigError, InputError, CostError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    result["stack"] = args.stack
    delta = compare(base, result) if base is not None else None
    print(render_text(result), end="")
    if delta is not None:
        print()
        print(render_delta_text(delta), end="")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nEstimate written to {args.json_out}")
    if args.markdown:
        args.markdown.write_text(render_markdown(result, delta))
        print(f"Markdown written to {args.markdown}")
    return EXIT_OK


VERB = Verb("cost", "monthly cost estimate of a stack's plan, per region and line item", _arguments, run)
