import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { createApp } from '../../api/app';
import type { ApiConfig } from '../../api/app';
import type { ApiKey } from '../../api/auth';
import { generateApiKey, hashApiKey } from '../../api/auth';
import { CODEC_MAX_JSON_DEPTH, checkJsonStructure } from '../../api/codec-batch';
import { CodecWorkers, CodecWorkersBusy } from '../../api/codec-workers';
import { CODEC_INLINE_MAX_BYTES } from '../../api/routes/codec';
import type { CodecServerOptions } from '../../api/routes/codec';
import { EncryptionCodec } from '../../codec/encryption-codec';
import type { CodecKey } from '../../codec/encryption-codec';
import { temporarySecretStore } from '../support/harness';

const UI = 'http://localhost:8233';
const PROBLEM = /^application\/problem\+json/;
const config: ApiConfig = {
  TASK_QUEUE: 'codec-bounds-tests',
  API_TENANTS: undefined,
  API_RATE_LIMIT_PER_MINUTE: 100_000,
  API_UPDATE_TIMEOUT_MS: 10_000,
  API_MAX_BODY_BYTES: 65_536,
  AGENT_TOKEN_TTL_SECONDS: 900,
  SALESFORCE_API_VERSION: '66.0',
};
const key: CodecKey = { id: 'k1', key: randomBytes(32) };
const codecKey = generateApiKey();
const otherCodecKey = generateApiKey();
const apiKeys: ApiKey[] = [
  { id: 'operator-cli', sha256: hashApiKey(codecKey), scopes: ['codec'] },
  { id: 'second-cli', sha256: hashApiKey(otherCodecKey), scopes: ['codec'] },
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

/** `count` sealed payloads of about `size` bytes each, as the Web UI would send them from a history. */
async function sealedPayloads(count: number, size = 64): Promise<Json[]> {
  const plain = Array.from({ length: count }, (_, i) =>
    defaultPayloadConverter.toPayload({ index: i, padding: 'x'.repeat(size) }),
  );
  return (await new EncryptionCodec([key]).encode(plain)).map(toJson);
}

const nested = (depth: number) => `{"payloads":${'['.repeat(depth)}${']'.repeat(depth)}}`;

describe('codec endpoint bounds: size, nesting, values, payloads, rate, worker threads', () => {
  let secrets: EncryptedFileSecretStore;
  let dir: string;
  let client: Client;
  let workers: CodecWorkers;

  beforeAll(async () => {
    ({ store: secrets, dir } = await temporarySecretStore());
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    workers = new CodecWorkers({ keys: [key], threads: 1 });
  });

  afterAll(async () => {
    await workers.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  function appWith(codec: Partial<Omit<CodecServerOptions, 'apiKeys'>> = {}) {
    return createApp({
      client,
      secrets,
      config,
      apiKeys,
      codec: {
        codec: new EncryptionCodec([key]),
        namespace: 'default',
        allowedOrigins: [UI, 'http://127.0.0.1:8233'],
        auth: 'key-or-local-ui',
        apiOnLoopback: true,
        maxBodyBytes: 1_048_576,
        ...codec,
      },
    });
  }

  const post = (app: ReturnType<typeof appWith>, path = '/codec/decode') =>
    request(app).post(path).set('Authorization', `Bearer ${codecKey}`).set('Content-Type', 'application/json');

  it('refuses a body over CODEC_MAX_BODY_BYTES with 413 naming the limit, and closes the connection', async () => {
    const app = appWith({ maxBodyBytes: 4096 });
    const body = JSON.stringify({ payloads: await sealedPayloads(60) });
    expect(body.length).toBeGreaterThan(4096);
    const tooLarge = await post(app).send(body).expect(413);
    expect(tooLarge.headers['content-type']).toMatch(PROBLEM);
    expect(tooLarge.body).toMatchObject({ status: 413, limit: 4096 });
    expect(tooLarge.body.detail).toContain('CODEC_MAX_BODY_BYTES (4096 bytes)');
    expect(tooLarge.headers.connection).toBe('close');

    // A chunked body (no Content-Length) is cut as soon as it passes the limit.
    const server = http.createServer(app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/codec/decode',
            headers: { Authorization: `Bearer ${codecKey}`, 'Content-Type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 3000));
        req.end(body.slice(3000));
      });
      expect(status).toBe(413);
    } finally {
      server.close();
    }
  });

  it('refuses a body nested deeper than the limit with 400, before parsing it, however large', async () => {
    const app = appWith({ maxBodyBytes: 4_194_304 });
    const shallow = await post(app)
      .send(nested(CODEC_MAX_JSON_DEPTH - 1))
      .expect(400);
    expect(shallow.body.type).toMatch(/invalid-request$/);
    const deep = await post(app).send(nested(CODEC_MAX_JSON_DEPTH)).expect(400);
    expect(deep.headers['content-type']).toMatch(PROBLEM);
    expect(deep.body.type).toMatch(/json-too-deep$/);
    expect(deep.body.detail).toContain(`deeper than ${CODEC_MAX_JSON_DEPTH} levels`);
    // 4 MB of brackets: JSON.parse would take a second; the check refuses it after the 9th.
    const huge = `{"payloads":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}`;
    expect(checkJsonStructure(Buffer.from(huge), { maxDepth: CODEC_MAX_JSON_DEPTH, maxPayloads: 1000 })).toMatchObject({
      status: 400,
      slug: 'json-too-deep',
    });
    // Brackets inside strings (escaped quotes included) are data, not nesting.
    const inString = JSON.stringify({ payloads: [{ data: '', metadata: { k: `\\"${'['.repeat(50)}` } }] });
    expect(checkJsonStructure(Buffer.from(inString), { maxDepth: 4, maxPayloads: 1 })).toBeUndefined();
  });

  it('refuses a flat body of too many JSON values with 413 before parsing, and too many payloads with 422', async () => {
    const app = appWith({ maxBodyBytes: 4_194_304, maxPayloads: 10 });
    // Shallow but costly to parse: 300,000 empty objects.
    const manyObjects = `{"payloads":[${Array(300_000).fill('{}').join(',')}]}`;
    const values = await post(app).send(manyObjects).expect(413);
    expect(values.body.type).toMatch(/too-many-values$/);
    expect(values.body.detail).toContain('CODEC_MAX_PAYLOADS=10');

    const eleven = await post(app)
      .send({ payloads: await sealedPayloads(11) })
      .expect(422);
    expect(eleven.body.type).toMatch(/too-many-payloads$/);
    expect(eleven.body.detail).toContain('at most 10 (CODEC_MAX_PAYLOADS)');
    expect(eleven.body.errors).toEqual([{ field: 'body.payloads', message: 'must hold at most 10 payloads' }]);
    const ten = await post(app)
      .send({ payloads: await sealedPayloads(10) })
      .expect(200);
    expect(ten.body.payloads).toHaveLength(10);
  });

  it('rate-limits per API key, and keyless local-UI requests per client address', async () => {
    const app = appWith({ rateLimitPerMinute: 3 });
    const body = { payloads: await sealedPayloads(1) };
    for (let i = 0; i < 3; i += 1) await post(app).send(body).expect(200);
    const limited = await post(app).send(body).expect(429);
    expect(limited.headers['content-type']).toMatch(PROBLEM);
    expect(limited.body.detail).toContain('CODEC_RATE_LIMIT_PER_MINUTE=3');
    expect(limited.headers['retry-after']).toBeDefined();
    // Another key has its own allowance.
    await request(app).post('/codec/decode').set('Authorization', `Bearer ${otherCodecKey}`).send(body).expect(200);
    // The local UI, without a key: by address.
    for (let i = 0; i < 3; i += 1) await request(app).post('/codec/decode').set('Origin', UI).send(body).expect(200);
    await request(app).post('/codec/decode').set('Origin', UI).send(body).expect(429);
  });

  it('lets the local UI in without a key only with an allowed loopback Origin, from loopback, to a loopback host', async () => {
    const app = appWith();
    const body = { payloads: await sealedPayloads(1) };
    await request(app).post('/codec/decode').set('Origin', UI).send(body).expect(200);
    // DNS rebinding: a page of another site whose name now points at 127.0.0.1 (and a forged, allowed Origin).
    await request(app)
      .post('/codec/decode')
      .set('Origin', UI)
      .set('Host', 'attacker.example:3000')
      .send(body)
      .expect(401);
    // No Origin, or one that is not allowed (CORS refuses it first).
    await request(app).post('/codec/decode').send(body).expect(401);
    await request(app).post('/codec/decode').set('Origin', 'http://127.0.0.1:9999').send(body).expect(403);
    // An allowed origin that is not a loopback UI (the docker UI's) never goes without a key.
    const docker = appWith({ allowedOrigins: ['http://ui.internal:8080'] });
    await request(docker).post('/codec/decode').set('Origin', 'http://ui.internal:8080').send(body).expect(401);
  });

  it('runs large bodies in a worker thread, with the same answers as on the event loop', async () => {
    const inline = appWith({ maxBodyBytes: 4_194_304 });
    const offloaded = appWith({ maxBodyBytes: 4_194_304, workers });
    const payloads = await sealedPayloads(400, 200);
    expect(JSON.stringify({ payloads }).length).toBeGreaterThan(CODEC_INLINE_MAX_BYTES);
    const fromThread = await post(offloaded).send({ payloads }).expect(200);
    const fromLoop = await post(inline).send({ payloads }).expect(200);
    expect(fromThread.body).toEqual(fromLoop.body);
    expect(fromThread.headers['cache-control']).toBe('no-store');
    expect(workers.threads).toBeGreaterThanOrEqual(1);
    expect(
      defaultPayloadConverter.fromPayload({
        metadata: { encoding: Buffer.from(fromThread.body.payloads[7].metadata.encoding, 'base64') },
        data: Buffer.from(fromThread.body.payloads[7].data, 'base64'),
      }),
    ).toMatchObject({ index: 7 });

    // Problems found in the thread come back as problem+json, as on the event loop.
    const tampered = payloads.map((p) => ({ ...p }));
    tampered[399]!.data = Buffer.from(randomBytes(64)).toString('base64');
    const refused = await post(offloaded).send({ payloads: tampered }).expect(422);
    expect(refused.body.detail).toContain('payloads[399] cannot be decoded');
    const deep = `{"payloads":[${'"x",'.repeat(5000)}${'['.repeat(20)}${']'.repeat(20)}]}`;
    expect(deep.length).toBeGreaterThan(CODEC_INLINE_MAX_BYTES);
    const tooDeep = await post(offloaded).send(deep).expect(400);
    expect(tooDeep.body.type).toMatch(/json-too-deep$/);
  });

  it('answers 503 with Retry-After when every worker thread is busy and the queue is full', async () => {
    const pool = new CodecWorkers({ keys: [key], threads: 1, maxQueue: 1 });
    try {
      const body = Buffer.from(JSON.stringify({ payloads: await sealedPayloads(1000, 200) }));
      const limits = { maxDepth: CODEC_MAX_JSON_DEPTH, maxPayloads: 1000 };
      const outcomes = await Promise.allSettled(
        Array.from({ length: 5 }, () => pool.run('decode', new Uint8Array(body), limits)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const o of refused) expect(o.reason).toBeInstanceOf(CodecWorkersBusy);
    } finally {
      await pool.close();
    }
    const busy = {
      run: () => Promise.reject(new CodecWorkersBusy()),
      saturated: false,
      capacity: 3,
    } as unknown as CodecWorkers;
    const app = appWith({ maxBodyBytes: 4_194_304, workers: busy });
    const response = await post(app)
      .send({ payloads: await sealedPayloads(200, 200) })
      .expect(503);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.headers['retry-after']).toBe('1');

    // Saturated already: a large body is refused before it is read, and its connection closed.
    const full = {
      run: () => Promise.reject(new Error('not called')),
      saturated: true,
      capacity: 3,
    } as unknown as CodecWorkers;
    const early = await post(appWith({ maxBodyBytes: 4_194_304, workers: full }))
      .send({ payloads: await sealedPayloads(200, 200) })
      .expect(503);
    expect(early.headers.connection).toBe('close');
    // Small bodies still run on the event loop.
    await post(appWith({ workers: full }))
      .send({ payloads: await sealedPayloads(1) })
      .expect(200);
  });
});
