"""What an offline preview costs beside merely importing the provider SDK modules it uses (the
floor no change to the program can remove), each in fresh processes on this machine.

    uv run python benchmarks/preview_cost.py [--repeat N] [--stack prod]

For each stack it lists the SDK modules the preview imports, then runs, alternately so both see the
same machine load, `python -c "import <those modules>"` and `python -m offline preview STACK`, and
prints the medians (wall seconds, CPU seconds, peak RSS) and the two ratios the project tracks:
wall time (goal <= 1.3x the floor) and peak RSS (goal <= 1.2x). One discarded warm-up run of each
first, so bytecode caches are written and disk caches warm (`make env` compiles bytecode anyway).
Two more rows import the same modules the way the preview process runs (offline/lean.py): with its
garbage-collector threshold, and also exiting without interpreter teardown, the strictest floor;
the last line gives the preview against that one too, so no setting hides a cost of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK_PREFIXES = ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_kubernetes", "pulumi_random")
GOALS = {"wall": 1.3, "rss": 1.2}

LIST_MODULES = """
import json, sys
from offline.plan import build_plan
build_plan(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {prefixes!r})))
"""


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float   # user + system seconds
    rss: float   # peak resident set, MiB


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure what users run: with bytecode caches
    env["PYTHONPATH"] = str(ROOT)
    return env


def measure(argv: list[str]) -> Run:
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def sdk_modules(stack: str) -> list[str]:
    script = LIST_MODULES.format(prefixes=set(SDK_PREFIXES))
    out = subprocess.run([sys.executable, "-c", script, stack], cwd=ROOT, env=child_env(),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, f) for r in runs) for f in ("wall", "cpu", "rss")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stack", action="append", help="stack(s) to measure (default: dev and prod)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from offline.lean import GC_THRESHOLD

    rows: list[tuple[str, Run]] = []
    verdicts = []
    for stack in args.stack or ["dev", "prod"]:
        modules = sdk_modules(stack)
        imports = "import " + ", ".join(modules)
        tuned = f"import gc; gc.set_threshold{GC_THRESHOLD}; {imports}"
        cases = {
            "floor": [sys.executable, "-c", imports],
            "preview": [sys.executable, "-m", "offline", "preview", stack],
            "floor, preview's GC": [sys.executable, "-c", tuned],
            "strict floor": [sys.executable, "-c", f"{tuned}; import os; os._exit(0)"],
        }
        for argv in cases.values():
            measure(argv)  # warm-up
        runs: dict[str, list[Run]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, argv in cases.items():
                runs[name].append(measure(argv))
        result = {name: median(found) for name, found in runs.items()}
        rows += [
            (f"{stack}: import the {len(modules)} SDK modules it uses (floor)", result["floor"]),
            (f"{stack}: same imports, the preview's GC threshold", result["floor, preview's GC"]),
            (f"{stack}: same, and exit without teardown (strict floor)", result["strict floor"]),
            (f"{stack}: python -m offline preview {stack}", result["preview"]),
        ]
        preview, floor, strict = result["preview"], result["floor"], result["strict floor"]
        verdicts.append(
            f"{stack}: wall {preview.wall / floor.wall:.2f}x the floor (goal <= {GOALS['wall']}x), "
            f"peak RSS {preview.rss / floor.rss:.2f}x (goal <= {GOALS['rss']}x); "
            f"against the strict floor: wall {preview.wall / strict.wall:.2f}x, peak RSS {preview.rss / strict.rss:.2f}x"
        )
    width = max(len(label) for label, _ in rows)
    print(f"{'what':<{width}}  {'wall s':>7}  {'CPU s':>6}  {'peak RSS MiB':>12}   (medians of {args.repeat})")
    for label, run in rows:
        print(f"{label:<{width}}  {run.wall:>7.2f}  {run.cpu:>6.2f}  {run.rss:>12.0f}")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
