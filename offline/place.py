"""`python -m offline place STACK --demand FILE [--json OUT] [--apply]`: the cheapest GPU nodes per
region that meet the demand under residency (and n+1), by the MILP of planning/placement.py.

`--apply` writes each region's node count into the stack file as its `gpu.min_nodes` (and raises
`gpu.max_nodes` where the count exceeds it), changing nothing else in the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offline.cli import EXIT_INVALID, EXIT_OK, Verb

HOURS_PER_MONTH = 730


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--demand", type=Path, required=True, help="YAML or JSON: {demand: {zone: GPUs, default: GPUs}, "
                        "quotas: {cloud:region: max nodes}, redundancy: none | n+1}")
    parser.add_argument("--config-file", type=Path, help="read (and with --apply, edit) this file instead of Pulumi.STACK.yaml")
    parser.add_argument("--json", type=Path, dest="json_out", help="write the placement JSON here")
    parser.add_argument("--apply", action="store_true", help="write the nodes into the stack file as per-region gpu.min_nodes")


def gpu_updates(settings: Any, nodes: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Per region, the gpu keys to write so that its minimum is the placed node count: only where
    it differs from what the region has now, and max_nodes too where the count exceeds it."""
    from planning.regions import region_key

    updates: dict[str, dict[str, int]] = {}
    for cloud, spec in settings.regions():
        key = region_key(cloud, spec.name)
        gpu = settings.gpu_for(spec)
        wanted = nodes[key]
        change = {}
        if wanted != gpu.min_nodes:
            change["min_nodes"] = wanted
        if wanted > gpu.max_nodes:
            change["max_nodes"] = wanted
        if change:
            updates[key] = change
    return updates


def render_text(stack: str, placement: Mapping[str, Any], demand: Any) -> str:
    lines = [
        f"Cheapest placement for stack {stack} (redundancy {demand.redundancy}): "
        f"{placement['hourly_cost']:,.4f} per hour ({placement['hourly_cost'] * HOURS_PER_MONTH:,.2f} a month of "
        f"{HOURS_PER_MONTH} hours), prices as in `cost`",
        "",
        f"  {'region':<24} {'nodes':>5} {'GPUs/node':>9} {'price/node/h':>12} {'GPUs':>5}",
    ]
    for key, region in placement["regions"].items():
        lines.append(
            f"  {key:<24} {region['nodes']:>5} {region['gpus_per_node']:>9} {region['node_hourly_price']:>12,.4f}"
            f" {region['nodes'] * region['gpus_per_node']:>5}"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from offline.inputs import InputError, read_document, settings_from_text, stack_path, stack_settings
    from offline.stack_edit import StackEditError, set_region_gpu
    from planning.placement import DemandError, Infeasible, parse_demand, sites, solve
    from planning.platform import plan_platform
    from planning.prices import PriceError, price_book
    from settings import ConfigError

    try:
        settings = stack_settings(args.stack, args.config_file)
        plan = plan_platform(settings)
        priced = sites(plan, price_book(settings))
        demand = parse_demand(read_document(args.demand, "demand file"), settings.residency_zones, plan.regions)
        placement = solve(priced, demand)
    except DemandError as error:
        for problem in error.problems:
            print(f"error: {args.demand}: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except Infeasible as error:
        print(f"error: {args.demand}: the demand cannot be met:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    except (ConfigError, InputError, PriceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    result = placement.to_json()
    print(render_text(args.stack, result, demand), end="")
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nPlacement written to {args.json_out}")
    if args.apply:
        path = stack_path(args.stack, args.config_file)
        updates = gpu_updates(settings, placement.nodes)
        try:
            text = set_region_gpu(path.read_text(), updates)
            settings_from_text(text)  # the edited file must still be a valid stack config
        except (StackEditError, ConfigError) as error:
            print(f"error: {path}: not changed: {error}", file=sys.stderr)
            return EXIT_INVALID
        path.write_text(text)
        changed = "; ".join(
            f"{k} " + ", ".join(f"gpu.{name}={value}" for name, value in values.items()) for k, values in updates.items()
        ) or "nothing to change"
        print(f"\nApplied to {path}: {changed}")
    return EXIT_OK


VERB = Verb("place", "cheapest GPU nodes per region for a demand (residency, quotas, n+1)", _arguments, run)
