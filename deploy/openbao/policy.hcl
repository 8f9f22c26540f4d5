# The agent-connections service's policy: its own part of the KV version 2 mount and nothing else. Values are
# written and read under data/, and deleted for good (every version) under metadata/. Adjust `secret` and
# `agent-connections` to VAULT_KV_MOUNT and VAULT_PATH_PREFIX.
path "secret/data/agent-connections/*" {
  capabilities = ["create", "read", "update", "delete"]
}

path "secret/metadata/agent-connections/*" {
  capabilities = ["read", "delete"]
}
