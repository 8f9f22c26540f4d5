#!/bin/sh
# Sets OpenBao (or Vault: use `vault` for `bao` and VAULT_ADDR/VAULT_TOKEN) up for agent-connections, once, as an
# operator with a privileged token in BAO_ADDR and BAO_TOKEN. Safe to run again. It makes:
#   - a KV version 2 secrets engine at $VAULT_KV_MOUNT (default secret; dev servers already have it);
#   - the policy agent-connections (policy.hcl beside this file, for $VAULT_KV_MOUNT and $VAULT_PATH_PREFIX);
#   - the AppRole auth method and the role $APPROLE_ROLE (default agent-connections), whose tokens carry only that
#     policy, live $TOKEN_TTL (default 1h, renewed by the service) and at most $TOKEN_MAX_TTL (default 24h, then the
#     service logs in again).
# The role id and a secret id for the service (VAULT_ROLE_ID, VAULT_SECRET_ID): given in the environment they are
# set as such (docker-compose does, for the demo); otherwise the role id is OpenBao's and a new secret id is
# written to $CREDENTIALS_FILE (mode 600) for the operator to hand to the deployment's secret manager.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
mount=${VAULT_KV_MOUNT:-secret}
prefix=${VAULT_PATH_PREFIX:-agent-connections}
role=${APPROLE_ROLE:-agent-connections}

if ! bao secrets list -format=json | grep -q "\"$mount/\""; then
  bao secrets enable -version=2 -path="$mount" kv
fi
if ! bao auth list -format=json | grep -q '"approle/"'; then
  bao auth enable approle
fi
sed -e "s#\"secret/#\"$mount/#" -e "s#/agent-connections/#/$prefix/#" "$here/policy.hcl" | bao policy write "$role" -
bao write "auth/approle/role/$role" \
  token_policies="$role" token_ttl="${TOKEN_TTL:-1h}" token_max_ttl="${TOKEN_MAX_TTL:-24h}" secret_id_ttl=0 >/dev/null

if [ -n "${VAULT_ROLE_ID:-}" ]; then
  bao write "auth/approle/role/$role/role-id" role_id="$VAULT_ROLE_ID" >/dev/null
fi
if [ -n "${VAULT_SECRET_ID:-}" ]; then
  role_id=$(bao read -field=role_id "auth/approle/role/$role/role-id")
  # Already registered (a second run): the login works and nothing is written.
  if ! bao write -field=token_accessor auth/approle/login role_id="$role_id" secret_id="$VAULT_SECRET_ID" >/dev/null 2>&1; then
    bao write "auth/approle/role/$role/custom-secret-id" secret_id="$VAULT_SECRET_ID" >/dev/null
  fi
  echo "AppRole $role ready for the service (VAULT_ROLE_ID and VAULT_SECRET_ID as given)"
else
  file=${CREDENTIALS_FILE:-./agent-connections-approle.env}
  role_id=$(bao read -field=role_id "auth/approle/role/$role/role-id")
  secret_id=$(bao write -f -field=secret_id "auth/approle/role/$role/secret-id")
  umask 077
  printf 'VAULT_ROLE_ID=%s\nVAULT_SECRET_ID=%s\n' "$role_id" "$secret_id" >"$file"
  echo "AppRole $role ready; VAULT_ROLE_ID and a new VAULT_SECRET_ID are in $file (give them to the service, then delete it)"
fi
