"""Wall time and peak memory of the offline preview, beside merely importing the provider SDK
submodules it uses, each in a fresh process on this machine.

    uv run python benchmarks/preview_cost.py [--repeat N]

The import-only baseline shows how much of the preview is the SDKs' import cost, which no change to
the program can remove.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK_PREFIXES = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_kubernetes", "pulumi_random")

LIST_MODULES = """
import json, sys
from offline.plan import build_plan
build_plan(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})))
"""


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def sdk_modules(stack: str) -> list[str]:
    script = LIST_MODULES.format(prefixes=set(SDK_PREFIXES))
    out = subprocess.run([sys.executable, "-c", script, stack], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for stack in ("dev", "prod"):
        modules = sdk_modules(stack)
        cases = {
            f"import the {len(modules)} SDK modules {stack} uses": [sys.executable, "-c", "import " + ", ".join(modules)],
            f"offline preview {stack}": [sys.executable, "-m", "offline", "preview", stack],
        }
        for label, argv in cases.items():
            runs = [measure(argv) for _ in range(args.repeat)]
            rows.append((label, statistics.median(r[0] for r in runs), max(r[1] for r in runs)))
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  wall s (median of {args.repeat})  peak RSS MiB")
    for label, wall, rss in rows:
        print(f"{label:<{width}}  {wall:>22.2f}  {rss:>12.0f}")


if __name__ == "__main__":
    main()
