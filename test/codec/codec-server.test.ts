import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { createApp } from '../../api/app';
import type { ApiConfig } from '../../api/app';
import type { ApiKey } from '../../api/auth';
import { generateApiKey, hashApiKey } from '../../api/auth';
import type { CodecServerOptions } from '../../api/routes/codec';
import { EncryptionCodec } from '../../codec/encryption-codec';
import type { CodecKey } from '../../codec/encryption-codec';
import { temporarySecretStore } from '../support/harness';

const UI = 'http://localhost:8233';
const config: ApiConfig = {
  TASK_QUEUE: 'codec-tests',
  API_TENANTS: undefined,
  API_RATE_LIMIT_PER_MINUTE: 100_000,
  API_UPDATE_TIMEOUT_MS: 10_000,
  API_MAX_BODY_BYTES: 65_536,
  AGENT_TOKEN_TTL_SECONDS: 900,
  SALESFORCE_API_VERSION: '66.0',
};
const oldKey: CodecKey = { id: 'k2025', key: randomBytes(32) };
const newKey: CodecKey = { id: 'k2026', key: randomBytes(32) };
const codecKey = generateApiKey();
const readKey = generateApiKey();
const apiKeys: ApiKey[] = [
  { id: 'operator-cli', sha256: hashApiKey(codecKey), scopes: ['codec'] },
  { id: 'dashboard', sha256: hashApiKey(readKey), scopes: ['read', 'admin'] },
];

type Json = { metadata: Record<string, string>; data: string };

function toJson(payload: Payload): Json {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function metadataText(payload: Json, key: string): string {
  return Buffer.from(payload.metadata[key] ?? '', 'base64').toString('utf8');
}

/** The codec endpoint as the API mounts it: no Temporal call is made, so the client never connects. */
describe('codec server: /codec/encode and /codec/decode for the Web UI and the CLI', () => {
  let secrets: EncryptedFileSecretStore;
  let dir: string;
  let client: Client;

  beforeAll(async () => {
    ({ store: secrets, dir } = await temporarySecretStore());
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  function appWith(codec: Partial<Omit<CodecServerOptions, 'apiKeys'>> & { keys?: CodecKey[] } = {}) {
    const { keys = [oldKey, newKey], ...rest } = codec;
    return createApp({
      client,
      secrets,
      config,
      apiKeys,
      codec: {
        codec: new EncryptionCodec(keys),
        namespace: 'default',
        allowedOrigins: [UI, 'http://127.0.0.1:8233'],
        auth: 'key-or-local-ui',
        apiOnLoopback: true,
        maxBodyBytes: 1_048_576,
        ...rest,
      },
    });
  }

  const plain = defaultPayloadConverter.toPayload({ tenantId: 'acme', secretRef: 'tenants/acme/key/1' });

  it('round-trips a payload: encode seals it with the newest key, decode gives back the exact payload', async () => {
    const app = appWith();
    const encoded = await request(app)
      .post('/codec/encode')
      .set('Authorization', `Bearer ${codecKey}`)
      .set('X-Namespace', 'default')
      .send({ payloads: [toJson(plain)] })
      .expect(200);
    expect(encoded.headers['cache-control']).toBe('no-store');
    const sealed = (encoded.body as { payloads: Json[] }).payloads[0]!;
    expect(metadataText(sealed, 'encoding')).toBe('binary/encrypted');
    expect(metadataText(sealed, 'encryption-key-id')).toBe(newKey.id);
    expect(Buffer.from(sealed.data, 'base64').toString('utf8')).not.toContain('acme');

    const decoded = await request(app)
      .post('/codec/decode')
      .set('Authorization', `Bearer ${codecKey}`)
      .set('X-Namespace', 'default')
      .send({ payloads: [sealed] })
      .expect(200);
    expect(decoded.body).toEqual({ payloads: [toJson(plain)] });
  });

  it('decodes what the worker’s codec wrote (as in history), and passes unencrypted payloads through', async () => {
    const [inHistory] = await new EncryptionCodec([oldKey, newKey]).encode([plain]);
    const response = await request(appWith())
      .post('/codec/decode')
      .set('Authorization', `Bearer ${codecKey}`)
      .send({ payloads: [toJson(inHistory!), toJson(plain)] })
      .expect(200);
    expect(response.body).toEqual({ payloads: [toJson(plain), toJson(plain)] });
  });

  it('rotates keys: payloads of an older key still decode while it is listed, and are refused once it is removed', async () => {
    const [old] = await new EncryptionCodec([oldKey]).encode([plain]);
    const rotated = appWith({ keys: [oldKey, newKey] });
    const decoded = await request(rotated)
      .post('/codec/decode')
      .set('Authorization', `Bearer ${codecKey}`)
      .send({ payloads: [toJson(old!)] })
      .expect(200);
    expect(decoded.body).toEqual({ payloads: [toJson(plain)] });

    const retired = await request(appWith({ keys: [newKey] }))
      .post('/codec/decode')
      .set('Authorization', `Bearer ${codecKey}`)
      .send({ payloads: [toJson(plain), toJson(old!)] })
      .expect(422);
    expect(retired.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(retired.body).toMatchObject({ status: 422, detail: expect.stringContaining(`unknown key "${oldKey.id}"`) });
    expect(retired.body.errors).toEqual([{ field: 'body.payloads[1]', message: 'cannot be decoded' }]);
  });

  it('answers the CORS preflight for the UI’s origin only, with credentials allowed', async () => {
    const app = appWith();
    const allowed = await request(app)
      .options('/codec/decode')
      .set('Origin', UI)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-namespace')
      .expect(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(UI);
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');
    expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toEqual(
      expect.stringContaining('x-namespace'),
    );
    expect(allowed.headers.vary).toContain('Origin');

    for (const origin of ['http://evil.example', 'http://localhost:8080', 'null']) {
      const denied = await request(app)
        .options('/codec/decode')
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .expect(403);
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
      expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    // The docker UI's origin is allowed when configured.
    await request(appWith({ allowedOrigins: ['http://localhost:8080'] }))
      .options('/codec/decode')
      .set('Origin', 'http://localhost:8080')
      .set('Access-Control-Request-Method', 'POST')
      .expect(204);
    // A real request from a disallowed origin is refused by the server too, not only by the browser.
    await request(app)
      .post('/codec/decode')
      .set('Origin', 'http://evil.example')
      .set('Authorization', `Bearer ${codecKey}`)
      .send({ payloads: [] })
      .expect(403);
  });

  it('authenticates: a codec-scoped key; the loopback UI without one only while the API is on loopback', async () => {
    const body = { payloads: [toJson(plain)] };
    const local = appWith();
    // The dev server's UI (http endpoint: no Authorization header).
    const fromUi = await request(local).post('/codec/decode').set('Origin', UI).send(body).expect(200);
    expect(fromUi.headers['access-control-allow-origin']).toBe(UI);
    // No key and no UI origin: a script on the machine must present a key.
    const anonymous = await request(local).post('/codec/decode').send(body).expect(401);
    expect(anonymous.headers['www-authenticate']).toContain('Bearer');
    await request(local).post('/codec/decode').set('Authorization', 'Bearer not-a-key').send(body).expect(401);
    // A key without the codec scope (even admin) may not decrypt payloads.
    const wrongScope = await request(local)
      .post('/codec/decode')
      .set('Authorization', `Bearer ${readKey}`)
      .send(body)
      .expect(403);
    expect(wrongScope.body.detail).toContain('"codec" scope');
    await request(local).post('/codec/decode').set('Authorization', `Bearer ${codecKey}`).send(body).expect(200);

    // The same UI origin, but the API listens beyond loopback: a key is required.
    await request(appWith({ apiOnLoopback: false }))
      .post('/codec/decode')
      .set('Origin', UI)
      .send(body)
      .expect(401);
    // CODEC_AUTH=key: never without a key.
    await request(appWith({ auth: 'key' }))
      .post('/codec/decode')
      .set('Origin', UI)
      .send(body)
      .expect(401);
    await request(appWith({ auth: 'key' }))
      .post('/codec/decode')
      .set('Origin', UI)
      .set('Authorization', `Bearer ${codecKey}`)
      .send(body)
      .expect(200);
    // CODEC_AUTH=none (behind an authenticating proxy): open, still limited to the allowed origins.
    await request(appWith({ auth: 'none', apiOnLoopback: false }))
      .post('/codec/decode')
      .send(body)
      .expect(200);
  });

  it('serves its namespace only', async () => {
    const response = await request(appWith())
      .post('/codec/decode')
      .set('Origin', UI)
      .set('X-Namespace', 'payments')
      .send({ payloads: [toJson(plain)] })
      .expect(403);
    expect(response.body).toMatchObject({ status: 403, detail: expect.stringContaining('"default"') });
    expect(response.headers['access-control-allow-origin']).toBe(UI);
  });

  it('answers malformed requests with problem+json 4xx', async () => {
    const app = appWith();
    const post = (path = '/codec/decode') => request(app).post(path).set('Origin', UI).set('X-Namespace', 'default');
    const notJson = await post().set('Content-Type', 'application/json').send('{"payloads": [').expect(400);
    expect(notJson.headers['content-type']).toMatch(/^application\/problem\+json/);
    await post().set('Content-Type', 'text/plain').send('payloads').expect(415);
    const missing = await post().send({ other: 1 }).expect(400);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'body.payloads' })]);
    const notBase64 = await post()
      .send({ payloads: [{ metadata: { encoding: 'binary/encrypted!' }, data: '***' }] })
      .expect(400);
    expect(notBase64.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'body.payloads[0].data',
      'body.payloads[0].metadata.encoding',
    ]);
    await post().send({ payloads: 'all of them' }).expect(400);
    await post().send([]).expect(400);

    const [sealed] = await new EncryptionCodec([newKey]).encode([plain]);
    const tampered = toJson(sealed!);
    const bytes = Buffer.from(tampered.data, 'base64');
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    tampered.data = bytes.toString('base64');
    const altered = await post()
      .send({ payloads: [tampered] })
      .expect(422);
    expect(altered.body.detail).toContain('wrong key, altered data');

    const methodNotAllowed = await request(app).get('/codec/decode').expect(405);
    expect(methodNotAllowed.headers.allow).toContain('POST');
    await request(app).post('/codec/other').send({ payloads: [] }).expect(404);
    // An empty batch is valid (the UI may send one).
    const empty = await post().send({ payloads: [] }).expect(200);
    expect(empty.body).toEqual({ payloads: [] });
  });
});
