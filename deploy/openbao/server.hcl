# A production OpenBao server for agent-connections: persistent integrated storage (Raft), TLS, no dev mode. One
# node here; for high availability run three or five with the same file and `retry_join` blocks in `storage`.
# Start: `bao server -config=/openbao/config/server.hcl`; once: `bao operator init` (keep the unseal keys and the
# initial root token apart, offline), `bao operator unseal` on each start (or a `seal` block for auto-unseal with a
# cloud KMS, an HSM or another OpenBao's transit engine); then `deploy/openbao/setup.sh` with an admin token, and
# revoke the root token. The service logs in with AppRole (VAULT_ROLE_ID, VAULT_SECRET_ID).
ui            = true
api_addr      = "https://openbao.internal:8200"
cluster_addr  = "https://openbao.internal:8201"
disable_mlock = true # Raft storage: recommended off; keep swap disabled on the host instead.

storage "raft" {
  path    = "/openbao/data"
  node_id = "openbao-1"
}

listener "tcp" {
  address       = "0.0.0.0:8200"
  tls_cert_file = "/openbao/tls/tls.crt"
  tls_key_file  = "/openbao/tls/tls.key"
}
