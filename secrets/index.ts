import fs from 'node:fs/promises';
import type { AppConfig } from '../config';
import { openFileSecretStore } from './secret-store';
import type { SecretStore } from './secret-store';
import { VaultSecretStore } from './vault-secret-store';

export type { SecretStore } from './secret-store';

export type SecretStoreSettings = Pick<
  AppConfig,
  | 'SECRETS_BACKEND'
  | 'secretsDir'
  | 'SECRETS_MASTER_KEYS'
  | 'DATA_DIR'
  | 'VAULT_ADDR'
  | 'VAULT_NAMESPACE'
  | 'VAULT_TOKEN'
  | 'VAULT_ROLE_ID'
  | 'VAULT_SECRET_ID'
  | 'VAULT_APPROLE_MOUNT'
  | 'VAULT_KV_MOUNT'
  | 'VAULT_PATH_PREFIX'
  | 'VAULT_CACERT'
  | 'VAULT_TIMEOUT_MS'
>;

/**
 * Opens the store SECRETS_BACKEND names: `file` (the default, AES-256-GCM files under SECRETS_DIR) or `vault`
 * (OpenBao/Vault KV version 2, checked at once: a wrong address, credential or mount stops the caller with the
 * variable's name).
 */
export async function openSecretStore(
  settings: SecretStoreSettings,
  log: { info(message: string): void; warn(message: string): void } = { info: () => undefined, warn: () => undefined },
): Promise<SecretStore> {
  if (settings.SECRETS_BACKEND === 'vault') {
    if (!settings.VAULT_ADDR) throw new Error('SECRETS_BACKEND=vault needs VAULT_ADDR');
    const caCert = settings.VAULT_CACERT
      ? await fs.readFile(settings.VAULT_CACERT, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new Error(`VAULT_CACERT=${settings.VAULT_CACERT}: cannot read the file (${err.code ?? err.message})`);
        })
      : undefined;
    return VaultSecretStore.open({
      address: settings.VAULT_ADDR,
      namespace: settings.VAULT_NAMESPACE,
      auth: settings.VAULT_TOKEN
        ? { kind: 'token', token: settings.VAULT_TOKEN }
        : {
            kind: 'approle',
            roleId: settings.VAULT_ROLE_ID ?? '',
            secretId: settings.VAULT_SECRET_ID ?? '',
            mount: settings.VAULT_APPROLE_MOUNT,
          },
      kvMount: settings.VAULT_KV_MOUNT,
      pathPrefix: settings.VAULT_PATH_PREFIX,
      caCert,
      timeoutMs: settings.VAULT_TIMEOUT_MS,
      log,
    });
  }
  return openFileSecretStore({
    dir: settings.secretsDir,
    masterKeys: settings.SECRETS_MASTER_KEYS,
    dataDir: settings.DATA_DIR,
    warn: (message) => log.warn(message),
  });
}
