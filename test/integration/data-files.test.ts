import fs from 'node:fs';
import path from 'node:path';
import { loadApiKeys } from '../../api/auth';
import { loadCodecKeys } from '../../codec/data-converter';
import { ensureTool } from '../../scripts/temporal-tools.cjs';
import { startDevServer } from '../../scripts/temporal-dev-server';
import { openFileSecretStore } from '../../secrets/secret-store';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/definitions';
import { freePort } from '../support/free-port';
import { temporaryDirSync } from '../support/temp-dirs';

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

/** Local state (DATA_DIR) holds keys, tokens and every workflow's history: this user's only. */
describe('files under the data folder are readable by their owner only', () => {
  const root = temporaryDirSync('data-files-');
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('the dev server’s SQLite database and its journal files are 0600, also when an earlier run left them open', async () => {
    const dbFile = path.join(root, 'temporal', 'temporal.db');
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    const umask = process.umask(0o022);
    try {
      const start = async () =>
        startDevServer({
          binary: ensureTool('cli'),
          port: await freePort(),
          dbFile,
          searchAttributes: SEARCH_ATTRIBUTE_TYPES,
        });
      const first = await start();
      // The server ran with umask 077; this process's own is back as it was.
      expect(process.umask(0o022)).toBe(0o022);
      const files = fs.readdirSync(path.dirname(dbFile)).map((f) => path.join(path.dirname(dbFile), f));
      expect(files).toContain(dbFile);
      for (const file of files) {
        // A rollback journal comes and goes with each transaction: one gone since the listing had no mode to check.
        const mode = fs.statSync(file, { throwIfNoEntry: false })?.mode;
        if (mode === undefined) continue;
        expect({ file, mode: (mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
      }
      await first.stop();

      fs.chmodSync(dbFile, 0o644);
      const second = await start();
      expect(modeOf(dbFile)).toBe(0o600);
      await second.stop();
    } finally {
      process.umask(umask);
    }
  });

  it('the payload key, the local admin key and the master key are 0600 in a data folder made 0700', async () => {
    const umask = process.umask(0o022);
    try {
      const codecDir = path.join(root, 'codec-data');
      loadCodecKeys(undefined, codecDir);
      expect(modeOf(codecDir)).toBe(0o700);
      expect(modeOf(path.join(codecDir, 'payload.key'))).toBe(0o600);

      const apiDir = path.join(root, 'api-data');
      loadApiKeys({ host: '127.0.0.1', dataDir: apiDir });
      expect(modeOf(apiDir)).toBe(0o700);
      expect(modeOf(path.join(apiDir, 'local-admin.key'))).toBe(0o600);

      const secretsDir = path.join(codecDir, 'secrets');
      const store = await openFileSecretStore({ dir: secretsDir, dataDir: codecDir });
      const ref = await store.create('tenants/t/admin/', '{"accessToken":"x"}');
      expect(modeOf(path.join(codecDir, 'master.key'))).toBe(0o600);
      expect(modeOf(secretsDir)).toBe(0o700);
      const sealed = fs
        .readdirSync(secretsDir, { recursive: true, encoding: 'utf8' })
        .map((f) => path.join(secretsDir, f))
        .filter((f) => fs.statSync(f).isFile());
      expect(sealed.length).toBeGreaterThan(0);
      for (const file of sealed) expect(modeOf(file)).toBe(0o600);
      expect(await store.get(ref)).toBe('{"accessToken":"x"}');
    } finally {
      process.umask(umask);
    }
  });
});
