import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/**
 * A payload sealed with a key this process was not given (PAYLOAD_CODEC_KEYS lacks it): an operator's configuration
 * problem, not the data's. Names the key's id (never secret), so that the operator knows which key to add back.
 */
export class UnknownPayloadKeyError extends Error {
  override readonly name = 'UnknownPayloadKeyError';
  constructor(readonly keyId: string) {
    super(`payload is encrypted with unknown key "${keyId}"`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encrypts every payload Temporal stores (inputs, results, memos, failures' details) with AES-256-GCM. The whole
 * serialized payload is sealed, metadata included, so nothing of it is readable in history; the key id travels in
 * the clear so that keys can rotate: the newest key encrypts, every listed key decrypts.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: CodecKey;

  constructor(keys: CodecKey[]) {
    const newest = keys[keys.length - 1];
    if (!newest) throw new Error('the payload codec needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`payload key "${k.id}" must be 32 bytes`);
    this.current = newest;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
        const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: encoder.encode(this.current.id),
          },
          data: sealed,
        };
      }),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() =>
      payloads.map((payload) => {
        const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
        if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
        const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
        const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
        const key = this.byId.get(keyId);
        if (!key) throw new UnknownPayloadKeyError(keyId);
        const data = Buffer.from(payload.data ?? new Uint8Array());
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
        decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      }),
    );
  }
}

/** Parses `id:base64key[,id:base64key...]`. */
export function parseCodecKeys(spec: string): CodecKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      if (separator < 1) throw new Error('payload keys must look like id:base64key');
      return { id: entry.slice(0, separator), key: Buffer.from(entry.slice(separator + 1), 'base64') };
    });
}
