"""Lint: ruff (configured in pyproject.toml) over the whole repository."""

import shutil
import subprocess

from offline.plan import REPO_ROOT


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a dev dependency; run `make test`"
    result = subprocess.run([ruff, "check", "--no-cache", str(REPO_ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
