import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, parseCodecKeys } from './encryption-codec';
import type { CodecKey } from './encryption-codec';

/**
 * The payload keys: PAYLOAD_CODEC_KEYS in production (from the secret manager); on a laptop a key generated once
 * into the data folder, shared by the API and the worker of `npm start`.
 */
export function loadCodecKeys(spec: string | undefined, dataDir: string): CodecKey[] {
  if (spec) return parseCodecKeys(spec);
  const file = path.join(dataDir, 'payload.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `dev:${randomBytes(32).toString('base64')}`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseCodecKeys(fs.readFileSync(file, 'utf8').trim());
}

/** The same converter must be given to the client and the worker: both encrypt and decrypt. */
export function encryptedDataConverter(keys: CodecKey[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)] };
}
