#!/usr/bin/env bash
# Install the checkers the inference_image tests need that are not Python
# dependencies of the project: shellcheck (Debian package) and checkov (an
# isolated uv tool, because its dependency tree conflicts with the pulumi pins).
# Idempotent and quick when both are already present; runs unattended (CI=true,
# no stdin) as root on Debian, or through sudo when not root.
set -euo pipefail

CHECKOV_VERSION="3.3.30"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

if ! command -v shellcheck >/dev/null 2>&1; then
    echo "install-checkers: installing shellcheck from apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null
fi

# `uv tool list` answers in milliseconds; `checkov --version` takes seconds.
checkov_bin="$(uv tool dir --bin)/checkov"
if [ ! -x "$checkov_bin" ] || ! uv tool list 2>/dev/null | grep -qx "checkov v$CHECKOV_VERSION"; then
    echo "install-checkers: installing checkov $CHECKOV_VERSION with uv tool"
    # --force replaces another version or a broken install in place.
    uv tool install --force --python ">=3.11,<3.13" "checkov==$CHECKOV_VERSION"
fi

echo "install-checkers: shellcheck $(shellcheck --version | sed -n 's/^version: //p'), checkov $CHECKOV_VERSION at $checkov_bin"
