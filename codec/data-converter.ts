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
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `dev:${randomBytes(32).toString('base64')}`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return parseCodecKeys(fs.readFileSync(file, 'utf8').trim());
}

/**
 * The failure converter's module (`failure-converter.ts`): every workflow bundle must be built with it
 * (`bundleWorkflowCode({ failureConverterPath })`), so that failures raised in workflow code are encoded as well.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The same converter must be given to the client and the worker: both encrypt and decrypt. Payloads are encrypted by
 * the codec, and so are failures' messages and stack traces (the failure converter encodes them as a payload).
 */
export function encryptedDataConverter(keys: CodecKey[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
