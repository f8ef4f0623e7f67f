"""`.github/scripts/deploy-credentials.sh`, run against a stand-in for GitHub's OIDC token endpoint
and a stand-in `az`: the Entra token file exists before the script returns and is rewritten in the
background; the ACR login is retried until the registry exists, each time after a fresh `az login`
with the current federated token."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from offline.plan import REPO_ROOT

SCRIPT = REPO_ROOT / ".github" / "scripts" / "deploy-credentials.sh"


class TokenEndpoint(BaseHTTPRequestHandler):
    issued: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        TokenEndpoint.issued.append((self.path, self.headers.get("Authorization", "")))
        body = f'{{"count": 1, "value": "jwt-{len(TokenEndpoint.issued)}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def github(tmp_path):
    TokenEndpoint.issued = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `az` fails `acr login` until the file `registry-exists` appears, and logs every call.
    (bin_dir / "az").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> "{tmp_path}/az.log"\n'
        f'if [ "$1" = acr ] && [ ! -f "{tmp_path}/registry-exists" ]; then exit 1; fi\n'
    )
    (bin_dir / "az").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(tmp_path),
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_port}/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
        "AZURE_CLIENT_ID": "client", "AZURE_TENANT_ID": "tenant", "AZURE_SUBSCRIPTION_ID": "subscription",
        "TOKEN_REFRESH_SECONDS": "0.2", "ACR_RETRY_SECONDS": "0.2",
    }
    yield env
    server.shutdown()
    subprocess.run(["pkill", "-f", f"deploy-credentials.sh .* {tmp_path}"], check=False)


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30,
                          start_new_session=True)


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_entra_token_is_written_before_the_step_ends_and_kept_fresh(github, tmp_path):
    token = tmp_path / "azure-federated-token"
    result = run(github, "azure-token", str(token))
    assert result.returncode == 0, result.stderr
    assert token.read_text() == "jwt-1" and oct(token.stat().st_mode & 0o777) == "0o600"
    path, authorization = TokenEndpoint.issued[0]
    assert "audience=api://AzureADTokenExchange" in path and authorization == "bearer request-token"
    wait_for(lambda: token.read_text() not in ("jwt-1", ""))  # the background refresh


def test_the_acr_login_waits_for_the_registry_and_uses_the_current_token(github, tmp_path):
    token = tmp_path / "azure-federated-token"
    assert run(github, "azure-token", str(token)).returncode == 0
    assert run(github, "acr-login", "acrleptondevc3e6c4.azurecr.io", str(token)).returncode == 0
    log = tmp_path / "az.log"
    wait_for(lambda: log.exists() and log.read_text().count("acr login") >= 2)  # refused: not created yet
    (tmp_path / "registry-exists").touch()
    wait_for(lambda: "logged in to acrleptondevc3e6c4.azurecr.io" in (tmp_path / "deploy-credentials-acr.log").read_text())
    calls = log.read_text().splitlines()
    assert calls[-1] == "acr login --name acrleptondevc3e6c4 --subscription subscription --output none"
    login = calls[-2]
    assert login.startswith("login --service-principal --username client --tenant tenant --federated-token jwt-")


@pytest.mark.parametrize("args", [[], ["azure-token"], ["acr-login", "host"], ["push"]])
def test_wrong_usage_exits_2(github, args):
    result = run(github, *args)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_the_script_passes_shellcheck():
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
