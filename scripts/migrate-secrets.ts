/**
 * `npm run secrets:migrate`: copies every secret of the file store into OpenBao/Vault, once, when a deployment moves
 * to SECRETS_BACKEND=vault. The source is the file store as the service knew it (SECRETS_DIR, default
 * DATA_DIR/secrets, opened with SECRETS_MASTER_KEYS or DATA_DIR/master.key); the destination is the configured vault
 * store (SECRETS_BACKEND=vault with VAULT_ADDR and its credentials). Each secret keeps its reference, so the
 * workflows' references resolve unchanged. Safe to run again (a put is idempotent); the files are left in place:
 * delete SECRETS_DIR once the service runs on OpenBao. Prints references and counts, never a value.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';
import { openSecretStore } from '../secrets';
import { EncryptedFileSecretStore, parseMasterKeys } from '../secrets/secret-store';

async function main(): Promise<number> {
  if (process.argv.length > 2) {
    console.error(`unknown argument ${process.argv.slice(2).join(' ')}; usage: npm run secrets:migrate`);
    return 2;
  }
  const config = loadConfig();
  if (config.SECRETS_BACKEND !== 'vault') {
    console.error(
      'secrets:migrate copies the file store into OpenBao/Vault: set SECRETS_BACKEND=vault, VAULT_ADDR and the ' +
        'credentials (VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID) of the destination',
    );
    return 2;
  }
  const keyFile = path.join(config.DATA_DIR, 'master.key');
  const keys = config.SECRETS_MASTER_KEYS ?? (fs.existsSync(keyFile) ? fs.readFileSync(keyFile, 'utf8').trim() : '');
  if (!fs.existsSync(config.secretsDir) || !keys) {
    console.log(`nothing to copy: no file store at ${config.secretsDir} with its master keys`);
    return 0;
  }
  const files = new EncryptedFileSecretStore(config.secretsDir, parseMasterKeys(keys));
  const vault = await openSecretStore(config);
  try {
    const refs = await files.refs();
    let copied = 0;
    for (const ref of refs) {
      const value = await files.get({ secretRef: ref });
      if (value === undefined) continue;
      await vault.put(ref, value);
      copied += 1;
    }
    console.log(
      `copied ${copied} secret(s) from ${config.secretsDir} to ${config.VAULT_ADDR} ` +
        `(${config.VAULT_KV_MOUNT}/data/${config.VAULT_PATH_PREFIX}/…); the files are left in place: delete them once ` +
        'the API and the workers run with SECRETS_BACKEND=vault',
    );
    return 0;
  } finally {
    await vault.close?.();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`secrets:migrate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
