/**
 * The typed client's inputs, from the API's own document: writes packages/api-client/openapi.json (from
 * api/openapi.ts) and packages/api-client/src/schema.ts (openapi-typescript's types of it).
 *
 *   npm run api-client           regenerates both
 *   npm run api-client -- --check regenerates into a temporary folder and fails if the committed files differ
 *                                 (part of `npm run lint`: the document may not change without its client)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openApiDocument } from '../api/openapi';

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = path.join(ROOT, 'packages', 'api-client');
const FILES = ['openapi.json', path.join('src', 'schema.ts')];

/** Writes the document and its types under `dir` (laid out as the package). */
function generate(dir: string): void {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  const documentFile = path.join(dir, 'openapi.json');
  fs.writeFileSync(documentFile, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  const result = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'openapi-typescript'),
    [
      documentFile,
      '--output',
      path.join(dir, 'src', 'schema.ts'),
      '--alphabetize',
      // A default is the server's business: the client may leave such a field out.
      '--default-non-nullable',
      'false',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`openapi-typescript failed:\n${result.stdout}${result.stderr}`);
}

function main(): void {
  if (!process.argv.includes('--check')) {
    generate(PACKAGE);
    console.log(`wrote ${FILES.map((f) => path.join('packages/api-client', f)).join(' and ')}`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-connections-api-client-'));
  try {
    generate(dir);
    const stale = FILES.filter((file) => {
      const committed = path.join(PACKAGE, file);
      return (
        !fs.existsSync(committed) ||
        fs.readFileSync(committed, 'utf8') !== fs.readFileSync(path.join(dir, file), 'utf8')
      );
    });
    if (stale.length > 0) {
      console.error(
        `The OpenAPI document changed without its client: ${stale.map((f) => `packages/api-client/${f}`).join(', ')} ` +
          'differ from what api/openapi.ts generates. Run `npm run api-client` and commit the result.',
      );
      process.exit(1);
    }
    console.log('packages/api-client is generated from the current OpenAPI document');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
