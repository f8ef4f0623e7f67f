#!/usr/bin/env python3
"""Container entrypoint: fetch models, build or reuse TensorRT engines, exec tritonserver.

1. Fetch the region's model store (MODEL_STORE_URL: s3://, gs://, az:// or
   https://<account>.blob.core.windows.net/...) with rclone, authenticating
   through the pod's workload identity; without MODEL_STORE_URL serve the
   bundled sample model.
2. For every <model>/<version>/model.onnx build a TensorRT plan with trtexec,
   unless the engine cache already holds one for the same key: (model digest,
   GPU compute capability, TensorRT version, build flags). A plan only loads
   on the GPU architecture and TensorRT release that built it.
3. Assemble a Triton repository of config.pbtxt + <version>/model.plan and
   exec tritonserver with explicit flags.

Standard library only (it runs on the Triton image's system Python 3.10+).
Every failure exits non-zero with a message saying what to fix.
README.md documents every environment variable read here.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

HTTP_PORT = 8000
GRPC_PORT = 8001
METRICS_PORT = 8002
PLAN_PLATFORMS = {"tensorrt_plan"}


class EntrypointError(Exception):
    """A failure the operator can fix; the message says how."""


def log(message: str) -> None:
    print(f"entrypoint: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Settings:
    store_url: str
    azure_account: str
    sample_store: Path
    store_dir: Path
    repository_dir: Path
    cache_dir: Path
    precision: str
    opt_batch_size: int | None
    extra_triton_args: list[str]
    serve_sample: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        precision = env.get("TRT_PRECISION", "fp16").lower()
        if precision not in ("fp16", "fp32"):
            raise EntrypointError(f"TRT_PRECISION={precision!r} is not supported: set it to fp16 or fp32")
        opt = env.get("TRT_OPT_BATCH_SIZE", "")
        if opt and not (opt.isdigit() and int(opt) > 0):
            raise EntrypointError(f"TRT_OPT_BATCH_SIZE={opt!r} must be a positive integer (or unset for max_batch_size)")
        return cls(
            store_url=env.get("MODEL_STORE_URL", "").strip(),
            azure_account=env.get("AZURE_STORAGE_ACCOUNT", ""),
            sample_store=Path(env.get("SAMPLE_MODEL_STORE", "/opt/inference/sample_models")),
            store_dir=Path(env.get("MODEL_STORE_DIR", "/var/lib/inference/store")),
            repository_dir=Path(env.get("MODEL_REPOSITORY_DIR", "/var/lib/inference/models")),
            cache_dir=Path(env.get("ENGINE_CACHE_DIR", "/var/cache/trt-engines")),
            precision=precision,
            opt_batch_size=int(opt) if opt else None,
            extra_triton_args=shlex.split(env.get("TRITON_EXTRA_ARGS", "")),
            serve_sample=_flag(env, "SERVE_SAMPLE_MODEL", True),
        )


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise EntrypointError(f"{name}={env[name]!r} must be true or false")
    return value == "true"


# --- model store -------------------------------------------------------------

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,254}$")
_AZURE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_AZURE_HOST = re.compile(r"^([a-z0-9]{3,24})\.blob\.core\.windows\.net$")


def rclone_source(url: str, azure_account: str) -> str:
    """Map a store URL to an rclone on-the-fly remote that uses workload identity.

    env_auth=true makes rclone take credentials from the environment the cloud
    injects: IRSA / EKS Pod Identity (AWS SDK chain), Azure Workload Identity
    (AZURE_FEDERATED_TOKEN_FILE via DefaultAzureCredential), GKE Workload
    Identity (application default credentials). No key is ever configured.
    """
    parsed = urlparse(url)
    path = parsed.path.strip("/")
    if parsed.scheme in ("s3", "gs"):
        bucket = parsed.netloc
        if not _BUCKET.match(bucket):
            raise EntrypointError(f"MODEL_STORE_URL={url!r}: {bucket!r} is not a valid bucket name")
        target = f"{bucket}/{path}".rstrip("/")
        if parsed.scheme == "s3":
            return f":s3,provider=AWS,env_auth=true:{target}"
        return f":gcs,env_auth=true,bucket_policy_only=true:{target}"
    if parsed.scheme == "az":
        if not _AZURE_ACCOUNT.match(azure_account):
            raise EntrypointError(
                f"MODEL_STORE_URL={url!r} needs AZURE_STORAGE_ACCOUNT set to the storage account name "
                "(3-24 lowercase letters or digits), or use https://<account>.blob.core.windows.net/<container>/<path>"
            )
        container, account = parsed.netloc, azure_account
    elif parsed.scheme == "https" and (host := _AZURE_HOST.match(parsed.netloc)):
        account = host.group(1)
        container, _, path = path.partition("/")
    else:
        raise EntrypointError(
            f"MODEL_STORE_URL={url!r} is not supported: use s3://<bucket>/<path>, gs://<bucket>/<path>, "
            "az://<container>/<path> (with AZURE_STORAGE_ACCOUNT) or https://<account>.blob.core.windows.net/<container>/<path>"
        )
    if not _BUCKET.match(container):
        raise EntrypointError(f"MODEL_STORE_URL={url!r}: {container!r} is not a valid container name")
    target = f"{container}/{path}".rstrip("/")
    return f":azureblob,account={account},env_auth=true:{target}"


def fetch_store(settings: Settings) -> Path:
    """Return a local directory laid out as <model>/config.pbtxt + <model>/<version>/model.onnx."""
    if not settings.store_url:
        log(f"MODEL_STORE_URL is not set: serving the bundled sample model from {settings.sample_store}")
        return settings.sample_store
    source = rclone_source(settings.store_url, settings.azure_account)
    rclone = require_tool("rclone", "the image ships it in /usr/local/bin; check PATH")
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    log(f"fetching {settings.store_url} into {settings.store_dir}")
    # sync (not copy) so a model removed from the store disappears here too
    # when MODEL_STORE_DIR is a persistent volume.
    result = subprocess.run(
        [rclone, "sync", "--retries", "3", source, str(settings.store_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise EntrypointError(
            f"cannot read the model store {settings.store_url} (rclone exit {result.returncode}):\n"
            f"{tail(result.stdout)}\n"
            "Fix: check the URL and that this pod's workload identity may list and read it "
            "(AWS: s3:ListBucket + s3:GetObject; Azure: Storage Blob Data Reader; GCP: roles/storage.objectViewer)."
        )
    return settings.store_dir


# --- model configs --------------------------------------------------------------

_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|[{}\[\]:,;]|[^\s{}\[\]:,;"#]+')


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ValueError(f"unexpected character at offset {pos}")
        token = match.group()
        if not (token.isspace() or token.startswith("#")):
            tokens.append(token)
        pos = match.end()
    return tokens


def parse_pbtxt(text: str) -> dict:
    """Parse protobuf text format into dicts of lists (every field may repeat).

    The image has no protobuf runtime; this reads the subset Triton configs use
    (messages, lists, scalars, double-quoted strings) and a test checks it
    against tritonclient's ModelConfig parser.
    """
    tokens = _tokens(text)
    pos = 0

    def value() -> object:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token == "{":
            return message("}")
        if token == "[":
            items = []
            while tokens[pos] != "]":
                items.append(value())
                if tokens[pos] == ",":
                    pos += 1
            pos += 1
            return items
        if token.startswith('"'):
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        return token

    def message(end: str | None) -> dict:
        nonlocal pos
        fields: dict[str, list] = {}
        while pos < len(tokens) and tokens[pos] != end:
            name = tokens[pos]
            pos += 1
            if tokens[pos] == ":":
                pos += 1
            item = value()
            fields.setdefault(name, []).extend(item if isinstance(item, list) else [item])
            if pos < len(tokens) and tokens[pos] in (",", ";"):
                pos += 1
        if end is not None:
            if pos >= len(tokens):
                raise ValueError(f"missing {end!r}")
            pos += 1
        return fields

    try:
        return message(None)
    except IndexError as err:
        raise ValueError("unbalanced braces or brackets") from err


@dataclass(frozen=True)
class ModelSpec:
    name: str
    platform: str
    max_batch_size: int
    inputs: tuple[tuple[str, tuple[int, ...]], ...]


def read_model_spec(model_dir: Path) -> ModelSpec:
    config_path = model_dir / "config.pbtxt"
    if not config_path.is_file():
        raise EntrypointError(
            f"model {model_dir.name!r} has no config.pbtxt: add {config_path.name} next to its version directories"
        )
    try:
        config = parse_pbtxt(config_path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise EntrypointError(f"{config_path} is not valid protobuf text ({err}): fix the file") from err
    platform = (config.get("platform") or config.get("backend") or [""])[0]
    if platform == "tensorrt":
        platform = "tensorrt_plan"
    if platform not in PLAN_PLATFORMS:
        raise EntrypointError(
            f"{config_path}: platform {platform!r} is not served by this image; set platform: \"tensorrt_plan\" "
            "(the entrypoint builds model.plan from model.onnx)"
        )
    inputs = []
    for entry in config.get("input", []):
        name = entry.get("name", [""])[0]
        dims = tuple(int(d) for d in entry.get("dims", []))
        if not name or not dims or any(d <= 0 for d in dims):
            raise EntrypointError(
                f"{config_path}: input {name!r} needs a name and fixed positive dims (got {list(dims)}); "
                "variable dims other than the batch dimension cannot get an automatic TensorRT profile"
            )
        inputs.append((name, dims))
    if not inputs:
        raise EntrypointError(f"{config_path}: declares no input; list the model's inputs")
    max_batch = int(config.get("max_batch_size", ["0"])[0])
    return ModelSpec(model_dir.name, platform, max_batch, tuple(inputs))


# --- GPU and TensorRT -------------------------------------------------------------

def require_tool(name: str, fix: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EntrypointError(f"{name} not found on PATH: {fix}")
    return path


def compute_capability() -> str:
    fix = "run the container with --gpus all (Kubernetes: request nvidia.com/gpu on a GPU node with the NVIDIA device plugin)"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        raise EntrypointError(f"no GPU visible: nvidia-smi is not available; {fix}")
    result = subprocess.run(
        [smi, "--query-gpu=compute_cap", "--format=csv,noheader"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    caps = {line.strip() for line in result.stdout.splitlines() if line.strip()}
    if result.returncode != 0 or not caps:
        raise EntrypointError(f"no GPU visible (nvidia-smi exit {result.returncode}: {tail(result.stdout)}); {fix}")
    if len(caps) != 1 or not re.fullmatch(r"\d+\.\d+", next(iter(caps))):
        raise EntrypointError(
            f"nvidia-smi reports compute capabilities {sorted(caps)}: one engine serves one GPU architecture; "
            "give the pod GPUs of a single model (node selector on the GPU pool)"
        )
    return caps.pop()


def tensorrt_version(trtexec: str) -> str:
    """The TensorRT version trtexec links, e.g. '100800' from its '[TensorRT v100800]' banner."""
    result = subprocess.run([trtexec, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    match = re.search(r"\[TensorRT v(\d+)\]", result.stdout)
    if match is None:
        raise EntrypointError(
            f"cannot tell the TensorRT version from `{trtexec} --help` (exit {result.returncode}): {tail(result.stdout)}\n"
            "Fix: the image's trtexec must come from the TensorRT release that matches the Triton base image"
        )
    return match.group(1)


def build_args(spec: ModelSpec, settings: Settings) -> list[str]:
    """trtexec flags that shape the engine (and so belong in the cache key)."""
    args = ["--skipInference"]
    if settings.precision == "fp16":
        args.append("--fp16")
    # The dynamic batch profile: batch 1 .. max_batch_size, tuned for opt.
    # Without batching (max_batch_size 0) the shapes are the config's dims.
    maximum = spec.max_batch_size
    opt = min(settings.opt_batch_size or maximum, maximum)
    for kind, batch in (("min", 1), ("opt", opt), ("max", maximum)):
        shapes = [f"{name}:" + "x".join(map(str, (batch, *dims) if maximum else dims)) for name, dims in spec.inputs]
        args.append(f"--{kind}Shapes={','.join(shapes)}")
    return args


def cache_key(model_digest: str, compute_cap: str, trt_version: str, args: list[str]) -> str:
    flags = hashlib.sha256("\0".join(args).encode()).hexdigest()[:12]
    return f"{model_digest[:32]}-sm{compute_cap.replace('.', '')}-trt{trt_version}-{flags}"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_engine(onnx_path: Path, spec: ModelSpec, settings: Settings, trtexec: str, cc: str, trt: str) -> Path:
    args = build_args(spec, settings)
    version = onnx_path.parent.name
    key = cache_key(file_digest(onnx_path), cc, trt, args)
    engine_dir = settings.cache_dir / spec.name / version
    engine = engine_dir / f"{key}.plan"
    try:
        engine_dir.mkdir(parents=True, exist_ok=True)
        lock = (engine_dir / f"{key}.lock").open("w")
    except OSError as err:
        raise EntrypointError(
            f"engine cache {settings.cache_dir} is not writable ({err}): mount a volume writable by UID {os.getuid()} there"
        ) from err
    # Replicas sharing a cache volume build each engine once: the rest wait here.
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if engine.is_file():
            log(f"{spec.name}/{version}: reusing engine {engine.name}")
            return engine
        partial = engine_dir / f"{key}.plan.partial"
        build_log = engine_dir / f"{key}.log"
        command = [trtexec, f"--onnx={onnx_path}", f"--saveEngine={partial}", *args]
        log(f"{spec.name}/{version}: building engine {engine.name} ({settings.precision}, sm {cc}, TensorRT {trt})")
        with build_log.open("w") as out:
            result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
            partial.unlink(missing_ok=True)
            raise EntrypointError(
                f"engine build failed for {spec.name}/{version} (trtexec exit {result.returncode}); log {build_log}:\n"
                f"{tail(build_log.read_text(errors='replace'))}\n"
                f"Command: {shlex.join(command)}\n"
                "Fix: make the ONNX model parse with this TensorRT release (opset, unsupported ops) and keep "
                "config.pbtxt input names and dims equal to the model's"
            )
        # Rename is atomic: a crash mid-build never leaves a truncated plan under the final name.
        os.replace(partial, engine)
        return engine


# --- assembling and serving ---------------------------------------------------------

def model_dirs(store: Path) -> list[Path]:
    return sorted(p for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")) if store.is_dir() else []


def served_model_dirs(store: Path, settings: Settings) -> list[Path]:
    """The store's models, plus the bundled sample unless disabled: every region can then answer
    a request (the rollout's smoke test sends one) even before its store has been filled. A store
    model of the same name replaces the sample."""
    dirs = model_dirs(store)
    if settings.serve_sample and store != settings.sample_store:
        names = {d.name for d in dirs}
        for sample in model_dirs(settings.sample_store):
            if sample.name in names:
                log(f"the store's model {sample.name!r} replaces the bundled sample of that name")
            else:
                dirs.append(sample)
    if not dirs:
        raise EntrypointError(
            f"no model found in {settings.store_url or store}: expected <model>/config.pbtxt and "
            "<model>/<version>/model.onnx; upload a model there (see README: adding a model), or leave "
            "SERVE_SAMPLE_MODEL unset to serve the bundled sample meanwhile"
        )
    return dirs


def version_onnx_files(model_dir: Path) -> list[Path]:
    files = sorted((p for p in model_dir.glob("*/model.onnx") if p.parent.name.isdigit()), key=lambda p: int(p.parent.name))
    if not files:
        raise EntrypointError(
            f"model {model_dir.name!r} has no <version>/model.onnx (the version is a number, e.g. 1/model.onnx): add one"
        )
    return files


def clear_directory(path: Path) -> None:
    # Empty it rather than delete it: it is often a mount point (emptyDir).
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def prepare_repository(settings: Settings) -> Path:
    # Cheapest checks first: without a GPU or trtexec nothing else matters.
    cc = compute_capability()
    trtexec = require_tool("trtexec", "the image copies it from the matching TensorRT release; check PATH")
    trt = tensorrt_version(trtexec)
    store = fetch_store(settings)
    models = [(read_model_spec(d), version_onnx_files(d), d) for d in served_model_dirs(store, settings)]

    repo = settings.repository_dir
    clear_directory(repo)
    for spec, onnx_files, model_dir in models:
        shutil.copytree(model_dir, repo / spec.name, ignore=lambda _dir, names: [n for n in names if n.endswith(".onnx")])
        for onnx_path in onnx_files:
            engine = ensure_engine(onnx_path, spec, settings, trtexec, cc, trt)
            # A link, not a copy: engines of large models are gigabytes.
            (repo / spec.name / onnx_path.parent.name / "model.plan").symlink_to(engine)
    return repo


def triton_command(repo: Path, settings: Settings) -> list[str]:
    return [
        "tritonserver",
        f"--model-repository={repo}",
        # Every model is loaded at start and the API cannot load or unload any.
        "--model-control-mode=none",
        # The current spelling of --strict-model-config=true: serve config.pbtxt as written.
        "--disable-auto-complete-config",
        "--strict-readiness=true",
        "--exit-on-error=true",
        f"--http-port={HTTP_PORT}",
        f"--grpc-port={GRPC_PORT}",
        f"--metrics-port={METRICS_PORT}",
        "--allow-metrics=true",
        "--allow-gpu-metrics=true",
        *settings.extra_triton_args,
    ]


def tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def main() -> None:
    try:
        settings = Settings.from_env(dict(os.environ))
        repo = prepare_repository(settings)
        command = triton_command(repo, settings)
        server = require_tool("tritonserver", "run this entrypoint in the Triton image")
    except EntrypointError as err:
        log(f"error: {err}")
        sys.exit(1)
    log("exec " + shlex.join(command))
    os.execv(server, command)


if __name__ == "__main__":
    main()
