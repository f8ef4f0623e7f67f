"""Pin the policy pack's requirements to the project's lock file.

    python tools/pack_requirements.py > policies/requirements.txt     # or: make pack-requirements

`policies/requirements.txt` is what the Pulumi CLI installs into `policies/venv` for
`--policy-pack policies` (and what a security team installs to run the pack). The pack imports
pulumi_policy internals (`proxy`, `deserialize`) and validates config with jsonschema, so it gets
the exact versions the project's tests run with: every package of the dependency closure of
`ROOTS`, at its uv.lock version, with uv.lock's hashes (pip then installs in hash-checking mode).
A test fails when the file and uv.lock disagree. Standard library only.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("pulumi", "pulumi-policy", "jsonschema")
HEADER = """\
# The policy pack's environment: `pulumi preview/up --policy-pack policies` installs it into
# policies/venv. Generated from uv.lock by `make pack-requirements` (tools/pack_requirements.py):
# do not edit. Exact versions and hashes, because the pack uses pulumi_policy internals.
"""


def closure(lock: dict, roots: tuple[str, ...] = ROOTS) -> dict[str, dict]:
    """The locked packages `roots` need, by name (environment markers of the edges are kept)."""
    packages = {p["name"]: p for p in lock["package"]}
    markers: dict[str, set[str | None]] = {}
    pending: list[tuple[str, str | None]] = [(name, None) for name in roots]
    while pending:
        name, marker = pending.pop()
        seen = name in markers
        markers.setdefault(name, set()).add(marker)
        if seen:
            continue
        for dependency in packages[name].get("dependencies", []):
            pending.append((dependency["name"], dependency.get("marker")))
    return {name: {**packages[name], "markers": found} for name, found in markers.items()}


def requirements(lock: dict, roots: tuple[str, ...] = ROOTS) -> str:
    lines = [HEADER]
    for name, package in sorted(closure(lock, roots).items()):
        marker = "" if None in package["markers"] else " ; " + " or ".join(f"({m})" for m in sorted(package["markers"]))
        hashes = sorted({artifact["hash"] for artifact in [*package.get("wheels", []), package.get("sdist") or {}]
                         if artifact.get("hash")})
        lines.append(f"{name}=={package['version']}{marker}" + "".join(f" \\\n    --hash={h}" for h in hashes))
    return "\n".join(lines) + "\n"


def main() -> None:
    with (ROOT / "uv.lock").open("rb") as lock:
        sys.stdout.write(requirements(tomllib.load(lock)))


if __name__ == "__main__":
    main()
