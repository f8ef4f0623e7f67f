"""Run the CrossGuard pack's rules over a plan, without the Pulumi CLI.

The rules package is loaded from the pack directory (default: the repo's `policies/`), and the
pack config has the exact format `pulumi preview --policy-pack-config` takes, so an offline
verdict is the verdict the CLI would give. The `check` verb re-runs this on a saved plan JSON so a
security team can audit a plan without running the program.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from offline.cli import EXIT_OK, EXIT_VIOLATIONS, InputError, read_json, read_text

DEFAULT_POLICY_PACK = Path(__file__).resolve().parents[1] / "policies"
RULES_PACKAGE = "platform_policies"


class PolicyConfigError(InputError):
    """The pack directory or its config is unusable; the message names the bad key or file."""


def load_rules(pack_dir: Path | None = None) -> ModuleType:
    """Import the pack's rules package from `pack_dir`, replacing one loaded from elsewhere."""
    pack_dir = Path(pack_dir or DEFAULT_POLICY_PACK).resolve()
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
    import yaml

    manifest_path = pack_dir / "PulumiPolicy.yaml"
    try:
        manifest = yaml.safe_load(manifest_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PolicyConfigError(f"{manifest_path}: {error}") from None
    return f"{rules.PACK_NAME}@{manifest.get('version', '0.0.0')}"


def read_policy_config(source: str | Path | None) -> dict[str, Any] | None:
    """A `--policy-pack-config` file (`-`: standard input) as a document; None without one. The
    CLI accepts an empty file as "no config"."""
    if source is None:
        return None
    text = read_text(source, "a policy pack config JSON")
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PolicyConfigError(f"{source}: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyConfigError(f"{source}: the policy pack config must be a JSON object")
    return document


def apply_policies(
    plan: dict, policy_pack: Path | None = None, policy_pack_config: Mapping[str, Any] | str | Path | None = None
) -> dict:
    """The plan's `policies` object: {"pack": "name@version", "violations": [...]}, sorted.

    `policy_pack_config` is a config document, or a file to read it from; None means the pack's
    defaults."""
    pack_dir = Path(policy_pack or DEFAULT_POLICY_PACK).resolve()
    rules = load_rules(pack_dir)
    config = policy_pack_config if isinstance(policy_pack_config, Mapping) or policy_pack_config is None \
        else read_policy_config(policy_pack_config)
    try:
        violations = rules.engine.evaluate_with_config(rules.adapters.from_plan(plan), config)
    except rules.definitions.ConfigError as error:
        raise PolicyConfigError(str(error)) from None
    return {
        "pack": _pack_id(pack_dir, rules),
        "violations": [
            {"policy": v.policy, "enforcement": v.enforcement, "urn": v.urn, "message": v.message}
            for v in violations
        ],
    }


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1]}ies" if noun.endswith("y") else f"{count} {noun}s"


def format_violations(policies: dict) -> str:
    """The pack's verdict: a count per policy (mandatory first), then each policy's resources and
    messages."""
    violations = policies.get("violations") or []
    if not violations:
        return f"Policies ({policies.get('pack')}): no violations."
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for v in violations:
        groups[(v["enforcement"], v["policy"])].append(v)
    order = sorted(groups, key=lambda g: (g[0] != "mandatory", g[0], g[1]))
    levels = Counter(v["enforcement"] for v in violations)
    lines = [
        f"Policies ({policies.get('pack')}): {_plural(len(violations), 'violation')} of {_plural(len(groups), 'policy')}"
        f" ({', '.join(f'{n} {level}' for level, n in sorted(levels.items(), key=lambda i: i[0] != 'mandatory'))}):",
    ]
    width = max(len(policy) for _, policy in order)
    for level, policy in order:
        found = groups[(level, policy)]
        resources = len({v["urn"] for v in found})
        lines.append(f"  {level:<9} {policy:<{width}}  {_plural(len(found), 'violation')} on {_plural(resources, 'resource')}")
    for level, policy in order:
        found = groups[(level, policy)]
        lines.append(f"\n[{level}] {policy} ({len(found)})")
        for urn in sorted({v["urn"] for v in found}):
            lines.append(f"  {urn}")
            lines += [f"    - {v['message']}" for v in found if v["urn"] == urn]
    return "\n".join(lines)


def exit_code(policies: dict) -> int:
    """1 when any violation is mandatory, else 0."""
    mandatory = any(v["enforcement"] == "mandatory" for v in policies.get("violations") or [])
    return EXIT_VIOLATIONS if mandatory else EXIT_OK


def read_plan(path: str | Path) -> dict[str, Any]:
    """A plan JSON written by `preview --json` (`-`: standard input); InputError when it is not one."""
    plan = read_json(path, "a plan JSON written by `preview --json`")
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise InputError(f"{path}: not a plan JSON: expected an object with a `resources` list")
    for index, resource in enumerate(plan["resources"]):
        missing = [k for k in ("urn", "type", "custom") if not isinstance(resource, dict) or k not in resource]
        if missing:
            raise InputError(f"{path}: not a plan JSON: resources[{index}] lacks {', '.join(missing)}")
    return plan


def check_plan(plan: dict[str, Any], policy_pack: Path | None = None,
               policy_pack_config: Mapping[str, Any] | str | Path | None = None) -> dict:
    """The pack's verdict on a saved plan; a malformed resource is an InputError naming it."""
    try:
        return apply_policies(plan, policy_pack, policy_pack_config)
    except (KeyError, TypeError, AttributeError) as error:
        raise InputError(f"malformed plan resource: {error!r}") from None


def check_plan_file(path: str | Path, policy_pack: Path | None = None,
                    policy_pack_config: Mapping[str, Any] | str | Path | None = None) -> int:
    """`check`: print the verdict on a saved plan; 0 clean or advisory only, 1 mandatory violation.
    Bad input raises InputError (the CLI prints it and exits 2)."""
    from offline.report import resource_counts

    plan = read_plan(path)
    policies = check_plan(plan, policy_pack, policy_pack_config)
    print(f"Checked {path} ({plan.get('project')}/{plan.get('stack')}): {resource_counts(plan)}")
    print(format_violations(policies))
    return exit_code(policies)
