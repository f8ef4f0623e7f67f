"""Shared paths, module loading, checker lookup and the entrypoint harness.

The harness runs the real entrypoint.py in a subprocess with stand-in
nvidia-smi, trtexec, rclone and tritonserver first (and alone) on PATH. Each
stand-in records its arguments to a JSON-lines log, so tests assert on what
the entrypoint ran, and what it exec'd.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

IMAGE_DIR = Path(__file__).resolve().parents[1]
ENTRYPOINT = IMAGE_DIR / "entrypoint.py"
DOCKERFILE = IMAGE_DIR / "Dockerfile"
README = IMAGE_DIR / "README.md"
SAMPLE_STORE = IMAGE_DIR / "sample_model" / "store"
SAMPLE_MODEL = SAMPLE_STORE / "tiny_linear"
SAMPLE_CONFIG = SAMPLE_MODEL / "config.pbtxt"
SAMPLE_ONNX = SAMPLE_MODEL / "1" / "model.onnx"
GENERATOR = IMAGE_DIR / "sample_model" / "generate.py"


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot load {path}"
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class is built.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module



# Stand-ins: Python scripts run by this interpreter (absolute shebang), so
# PATH can hold nothing but them and a missing tool is really missing.
_PRELUDE = """
import json, os, sys


def record(extra=None):
    with open(os.environ["CALLS_LOG"], "a") as log:
        log.write(json.dumps({"tool": TOOL, "argv": sys.argv[1:], "ppid": os.getppid(), "extra": extra}) + "\\n")
"""

STAND_INS = {
    "nvidia-smi": """
record()
if os.environ.get("FAKE_NO_GPU"):
    print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")
    sys.exit(9)
for cap in os.environ["FAKE_CC"].split(","):
    print(cap)
""",
    "trtexec": """
import hashlib
record()
if sys.argv[1:] == ["--help"]:
    print(f"&&&& RUNNING TensorRT.trtexec [TensorRT v{os.environ['FAKE_TRT']}] [b43] # trtexec --help")
    sys.exit(0)
if os.environ.get("FAKE_TRTEXEC_FAIL"):
    print("[E] [TRT] ModelImporter.cpp:949: ERROR: unsupported operator FancyOp")
    sys.exit(1)
args = dict(a.split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
with open(args["--onnx"], "rb") as model:
    digest = hashlib.sha256(model.read()).hexdigest()
with open(args["--saveEngine"], "w") as plan:
    plan.write(f"plan onnx={digest} cc={os.environ['FAKE_CC']} trt={os.environ['FAKE_TRT']}")
""",
    "rclone": """
import shutil
record()
if os.environ.get("FAKE_RCLONE_FAIL"):
    print("ERROR : : error reading source root directory: AccessDenied: Access Denied status code: 403")
    sys.exit(3)
shutil.copytree(os.environ["FAKE_REMOTE"], sys.argv[-1], dirs_exist_ok=True)
""",
    "tritonserver": """
from pathlib import Path
repo = Path(next(a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--model-repository=")))
# What the server would find at exec time: files, and where plans link to.
record({str(p.relative_to(repo)): (os.readlink(p) if p.is_symlink() else None) for p in sorted(repo.rglob("*"))})
sys.exit(int(os.environ.get("FAKE_TRITON_EXIT", "0")))
""",
}


@dataclass
class Run:
    returncode: int
    stderr: str
    calls: list[dict] = field(default_factory=list)

    def calls_to(self, tool: str) -> list[dict]:
        return [c for c in self.calls if c["tool"] == tool]

    def builds(self) -> list[dict]:
        return [c for c in self.calls_to("trtexec") if c["argv"] != ["--help"]]


class Harness:
    def __init__(self, root: Path, entrypoint: Path = ENTRYPOINT):
        self.root = root
        self.entrypoint = entrypoint
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        for tool, body in STAND_INS.items():
            script = self.bin / tool
            script.write_text(f"#!{sys.executable}\nTOOL = {tool!r}\n{_PRELUDE}{body}")
            script.chmod(0o755)
        self.cache = root / "engine-cache"
        self.repository = root / "served"
        self.remote = root / "remote"
        self.env = {
            "PATH": str(self.bin),
            "FAKE_CC": "8.6",
            "FAKE_TRT": "100800",
            "FAKE_REMOTE": str(self.remote),
            "SAMPLE_MODEL_STORE": str(SAMPLE_STORE),
            "MODEL_STORE_DIR": str(root / "fetched"),
            "MODEL_REPOSITORY_DIR": str(self.repository),
            "ENGINE_CACHE_DIR": str(self.cache),
        }
        self._log_count = 0

    def remove_tool(self, tool: str) -> None:
        (self.bin / tool).unlink()

    def put_remote_model(self, source: Path = SAMPLE_MODEL) -> None:
        shutil.copytree(source, self.remote / source.name)

    def run(self, **env: str) -> Run:
        self._log_count += 1
        log = self.root / f"calls-{self._log_count}.jsonl"
        log.touch()
        result = subprocess.run(
            [sys.executable, str(self.entrypoint)],
            env={**self.env, **env, "CALLS_LOG": str(log)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return Run(result.returncode, result.stderr, calls)

    def plans(self) -> list[Path]:
        return sorted(self.cache.rglob("*.plan"))



def find_tool(name: str) -> str:
    """A checker on PATH, next to this interpreter (venv), or in uv's tool bin dir.

    Missing means failing, never skipping: run inference_image/install-checkers.sh.
    """
    candidates = [shutil.which(name), str(Path(sys.executable).parent / name)]
    uv = shutil.which("uv")
    if uv:
        tool_bin = subprocess.run([uv, "tool", "dir", "--bin"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(str(Path(tool_bin) / name))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    pytest.fail(f"{name} is not installed: run `bash inference_image/install-checkers.sh` (and `uv sync`)")
