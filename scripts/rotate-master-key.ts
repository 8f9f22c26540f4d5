/**
 * `npm run secrets:rotate`: re-seals every secret of the store with the newest master key (the last entry of
 * SECRETS_MASTER_KEYS, or of DATA_DIR/master.key on a laptop), then reports which keys still seal secrets.
 * `npm run secrets:rotate -- --check` only reports, and exits 1 while a secret is sealed with an older key.
 *
 * Procedure (README, "Operating it"): append the new key to SECRETS_MASTER_KEYS and roll it out to the API and the
 * workers; run this; when it reports only the new key, remove the old one and roll out again. Payload codec keys
 * cannot be re-sealed (Temporal history is immutable): the report lists them, and older ones stay for decoding.
 * Nothing secret is printed: key ids and counts only.
 *
 * With SECRETS_BACKEND=vault there are no master keys to rotate: OpenBao/Vault encrypts what it stores with its own
 * keyring, which `bao operator rotate` (`vault operator rotate`) rotates online. The command says so and exits 0,
 * still reporting the payload codec keys.
 */
import { openFileSecretStore } from '../secrets/secret-store';
import { loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import type { AppConfig } from '../config';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown.join(' ')}; usage: npm run secrets:rotate [-- --check]`);
    return 2;
  }
  const checkOnly = args.includes('--check');
  const config = loadConfig();
  if (config.SECRETS_BACKEND === 'vault') {
    console.log(
      `SECRETS_BACKEND=vault: master-key rotation does not apply. Secrets live in OpenBao/Vault at ${config.VAULT_ADDR} ` +
        `(${config.VAULT_KV_MOUNT}/${config.VAULT_PATH_PREFIX}), encrypted by its own keyring: rotate that with ` +
        '`bao operator rotate` (or `vault operator rotate`), online, with no change here.',
    );
    reportPayloadKeys(config);
    return 0;
  }
  const store = await openFileSecretStore({
    dir: config.secretsDir,
    masterKeys: config.SECRETS_MASTER_KEYS,
    dataDir: config.DATA_DIR,
  });
  const newest = store.currentKeyId;
  if (!checkOnly) {
    const resealed = await store.reseal();
    console.log(`secret store ${config.secretsDir}: re-sealed ${resealed} secret(s) with master key "${newest}"`);
  }
  const usage = await store.keyUsage();
  const older = Object.entries(usage).filter(([keyId]) => keyId !== newest);
  console.log(
    `secrets by master key: ${
      Object.entries(usage)
        .map(([keyId, count]) => `${keyId}=${count}`)
        .join(', ') || 'none stored'
    }`,
  );
  reportPayloadKeys(config);
  if (older.length > 0) {
    console.log(
      `not done: ${older.map(([keyId, count]) => `${count} secret(s) sealed with "${keyId}"`).join(', ')}; ` +
        'keep every listed master key until this reports none',
    );
    return 1;
  }
  console.log(`done: every secret is sealed with "${newest}"; older master keys can be removed`);
  return 0;
}

function reportPayloadKeys(config: AppConfig): void {
  const payloadKeys = loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR);
  const payloadNewest = payloadKeys[payloadKeys.length - 1]?.id ?? '';
  console.log(
    `payload codec: new payloads use key "${payloadNewest}"; ${payloadKeys.length - 1} older key(s) kept for decoding ` +
      '(history cannot be re-sealed: keep a payload key while histories that use it are retained)',
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`secrets:rotate failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
