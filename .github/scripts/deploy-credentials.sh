#!/usr/bin/env bash
# Short-lived credentials that a `pulumi up` of up to two hours needs beyond what the cloud login
# actions hand out once, kept fresh in the background until the job ends:
#
#   deploy-credentials.sh azure-token FILE
#       GitHub's OIDC token for Entra ID (audience api://AzureADTokenExchange) in FILE, written
#       once now and rewritten every 4 minutes (GitHub's tokens expire within minutes). kubelogin's
#       `workloadidentity` login (deployer.azure_login) reads FILE as AZURE_FEDERATED_TOKEN_FILE
#       whenever it needs a new Entra token for an AKS API.
#   deploy-credentials.sh acr-login HOST FILE
#       A Docker login to the stack's registry HOST for the image push. The same `pulumi up`
#       creates the registry, so it is retried every 30 seconds until it exists, then renewed every
#       2 hours (ACR tokens last 3), each time after a fresh `az login` with the token in FILE (the
#       login that azure/login made expires after an hour).
#
# Needs ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN (the job's `id-token: write`), AZURE_CLIENT_ID,
# AZURE_TENANT_ID and (acr-login) AZURE_SUBSCRIPTION_ID. Logs go to $RUNNER_TEMP/deploy-credentials-*.log.
set -euo pipefail

TOKEN_REFRESH_SECONDS=${TOKEN_REFRESH_SECONDS:-240}
ACR_RETRY_SECONDS=${ACR_RETRY_SECONDS:-30}
ACR_RENEW_SECONDS=${ACR_RENEW_SECONDS:-7200}

write_federated_token() {
  local file=$1 response token
  response=$(curl --silent --show-error --fail --retry 3 \
    --header "Authorization: bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" \
    "${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange")
  token=$(sed -n 's/.*"value" *: *"\([^"]*\)".*/\1/p' <<<"$response")
  [[ -n "$token" ]] || { echo "deploy-credentials: no token in GitHub's OIDC response" >&2; return 1; }
  umask 077
  printf '%s' "$token" >"$file.new" && mv "$file.new" "$file"
}

refresh_forever() {
  local file=$1
  while sleep "$TOKEN_REFRESH_SECONDS"; do
    write_federated_token "$file" || echo "deploy-credentials: token refresh failed, retrying" >&2
  done
}

acr_login() {
  local host=$1 file=$2
  az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
    --federated-token "$(cat "$file")" --allow-no-subscriptions --output none &&
    az acr login --name "${host%%.*}" --subscription "$AZURE_SUBSCRIPTION_ID" --output none
}

acr_login_forever() {
  local host=$1 file=$2
  until acr_login "$host" "$file"; do
    echo "deploy-credentials: $host not reachable yet (created by this pulumi up?), retrying" >&2
    sleep "$ACR_RETRY_SECONDS"
  done
  echo "deploy-credentials: logged in to $host"
  while sleep "$ACR_RENEW_SECONDS"; do
    until acr_login "$host" "$file"; do sleep "$ACR_RETRY_SECONDS"; done
  done
}

main() {
  local log_dir=${RUNNER_TEMP:-/tmp}
  case "${1:-}" in
    azure-token)
      [[ $# -eq 2 ]] || { echo "usage: $0 azure-token FILE" >&2; exit 2; }
      write_federated_token "$2"
      refresh_forever "$2" >>"$log_dir/deploy-credentials-token.log" 2>&1 &
      ;;
    acr-login)
      [[ $# -eq 3 ]] || { echo "usage: $0 acr-login HOST FILE" >&2; exit 2; }
      acr_login_forever "$2" "$3" >>"$log_dir/deploy-credentials-acr.log" 2>&1 &
      ;;
    *)
      echo "usage: $0 azure-token FILE | acr-login HOST FILE" >&2
      exit 2
      ;;
  esac
}

main "$@"
