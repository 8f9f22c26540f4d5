import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA, parseCodecKeys } from '../../codec/encryption-codec';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (bytes: Uint8Array | null | undefined) => new TextDecoder().decode(bytes ?? new Uint8Array());

describe('the payload encryption codec', () => {
  const secret = { adminToken: '00Dxx!AQ-very-secret-token', privateKey: '-----BEGIN PRIVATE KEY-----abc' };

  it('round-trips payloads and leaves nothing of them readable', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const payload = defaultPayloadConverter.toPayload(secret);
    const [encoded] = await codec.encode([payload]);
    expect(text(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![KEY_ID_METADATA])).toBe('k1');
    const wire = Buffer.from(encoded!.data!).toString('latin1');
    expect(wire).not.toContain('very-secret-token');
    expect(wire).not.toContain('json/plain');
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(secret);
  });

  it('encrypts twice the same value differently (random IV)', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const payload = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([payload, payload]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('rotates keys: new payloads use the newest key, old ones still decode, unknown keys are refused', async () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const [old] = await new EncryptionCodec([k1]).encode([defaultPayloadConverter.toPayload('old')]);
    const rotated = new EncryptionCodec([k1, k2]);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('new')]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    const decoded = await rotated.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['old', 'new']);
    await expect(new EncryptionCodec([k2]).decode([old!])).rejects.toThrow(/unknown key "k1"/);
  });

  it('detects tampering', async () => {
    const codec = new EncryptionCodec([key('k1')]);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload('x')]);
    const data = Buffer.from(encoded!.data!);
    data.writeUInt8(data.readUInt8(data.length - 1) ^ 1, data.length - 1);
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
  });

  it('passes unencrypted payloads through on decode', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    const [decoded] = await new EncryptionCodec([key('k1')]).decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('parses key lists and refuses malformed ones', () => {
    const b64 = randomBytes(32).toString('base64');
    expect(parseCodecKeys(`a:${b64},b:${b64}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseCodecKeys(b64)).toThrow(/id:base64key/);
    expect(() => new EncryptionCodec(parseCodecKeys(`a:${randomBytes(4).toString('base64')}`))).toThrow(/32 bytes/);
  });
});
