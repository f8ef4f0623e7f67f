"""Run the CrossGuard pack's rules over a plan, without the Pulumi CLI.

The rules package is loaded from the pack directory (default: the repo's `policies/`), and the
pack config file has the exact format `pulumi preview --policy-pack-config` takes, so an offline
verdict is the verdict the CLI would give. `check` re-runs this on a saved plan JSON so a
security team can audit a plan without running the program.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

DEFAULT_POLICY_PACK = Path(__file__).resolve().parents[1] / "policies"
RULES_PACKAGE = "platform_policies"
EXIT_OK, EXIT_VIOLATIONS, EXIT_INVALID = 0, 1, 2


class PolicyConfigError(ValueError):
    """The pack directory or its config is unusable; the message names the bad key or file."""


def _load_rules(pack_dir: Path) -> ModuleType:
    """Import the pack's rules package from `pack_dir`, replacing one loaded from elsewhere."""
    pack_dir = pack_dir.resolve()
    if not (pack_dir / RULES_PACKAGE / "__init__.py").is_file():
        raise PolicyConfigError(f"{pack_dir}: not a policy pack of this project (no {RULES_PACKAGE}/ package)")
    loaded = sys.modules.get(RULES_PACKAGE)
    if loaded is not None and Path(loaded.__file__).resolve().parent.parent != pack_dir:
        for name in [m for m in sys.modules if m == RULES_PACKAGE or m.startswith(RULES_PACKAGE + ".")]:
            del sys.modules[name]
    if str(pack_dir) in sys.path:
        sys.path.remove(str(pack_dir))
    sys.path.insert(0, str(pack_dir))
    importlib.import_module(f"{RULES_PACKAGE}.engine")
    importlib.import_module(f"{RULES_PACKAGE}.adapters")
    return sys.modules[RULES_PACKAGE]


def _pack_id(pack_dir: Path, rules: ModuleType) -> str:
    try:
        manifest = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PolicyConfigError(f"{pack_dir / 'PulumiPolicy.yaml'}: {error}") from None
    return f"{rules.PACK_NAME}@{manifest.get('version', '0.0.0')}"


def _read_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        text = Path(path).read_text()
        # The CLI accepts an empty file as "no config".
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError) as error:
        raise PolicyConfigError(f"{path}: cannot read policy pack config: {error}") from None


def apply_policies(plan: dict, policy_pack: Path | None = None, policy_pack_config: Path | None = None) -> dict:
    """The plan's `policies` object: {"pack": "name@version", "violations": [...]}, sorted."""
    pack_dir = Path(policy_pack or DEFAULT_POLICY_PACK)
    rules = _load_rules(pack_dir)
    raw_config = _read_config(policy_pack_config)
    if raw_config is not None and not isinstance(raw_config, dict):
        raise PolicyConfigError(f"{policy_pack_config}: the policy pack config must be a JSON object")
    try:
        violations = rules.engine.evaluate_with_config(rules.adapters.from_plan(plan), raw_config)
    except rules.definitions.ConfigError as error:
        raise PolicyConfigError(str(error)) from None
    return {
        "pack": _pack_id(pack_dir, rules),
        "violations": [
            {"policy": v.policy, "enforcement": v.enforcement, "urn": v.urn, "message": v.message}
            for v in violations
        ],
    }


def format_violations(policies: dict) -> str:
    """A report grouped by policy, mandatory first, naming each resource."""
    violations = policies.get("violations") or []
    if not violations:
        return f"Policies ({policies.get('pack')}): no violations."
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for v in violations:
        groups[(v["enforcement"], v["policy"])].append(v)
    mandatory = sum(1 for v in violations if v["enforcement"] == "mandatory")
    lines = [f"Policies ({policies.get('pack')}): {len(violations)} violation(s), {mandatory} mandatory."]
    for (level, policy), found in sorted(groups.items(), key=lambda g: (g[0][0] != "mandatory", g[0][1])):
        lines.append(f"\n[{level}] {policy}")
        for urn in sorted({v["urn"] for v in found}):
            lines.append(f"  {urn}")
            lines += [f"    - {v['message']}" for v in found if v["urn"] == urn]
    return "\n".join(lines)


def print_violations(policies: dict) -> int:
    """Print the report; the exit code is 1 when any violation is mandatory."""
    print(format_violations(policies))
    mandatory = any(v["enforcement"] == "mandatory" for v in policies.get("violations") or [])
    return EXIT_VIOLATIONS if mandatory else EXIT_OK


def check_plan_file(path: Path, policy_pack: Path | None = None, policy_pack_config: Path | None = None) -> int:
    """Re-check a saved plan JSON: 0 clean or advisory only, 1 mandatory violation, 2 bad input."""
    try:
        plan = json.loads(Path(path).read_text())
        if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
            raise ValueError("expected an object with a `resources` list")
    except (OSError, ValueError) as error:
        print(f"error: {path}: not a readable plan JSON: {error}", file=sys.stderr)
        return EXIT_INVALID
    try:
        policies = apply_policies(plan, policy_pack, policy_pack_config)
    except PolicyConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except (KeyError, TypeError, AttributeError) as error:
        print(f"error: {path}: malformed plan resource: {error!r}", file=sys.stderr)
        return EXIT_INVALID
    print(f"Checked {path} ({plan.get('project')}/{plan.get('stack')}, {len(plan['resources'])} resources)")
    return print_violations(policies)
