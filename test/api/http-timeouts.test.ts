import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { generateApiKey, hashApiKey } from '../../api/auth';
import { createApiServer } from '../../api/http-server';
import { loadConfig } from '../../config';
import { EncryptionCodec } from '../../codec/encryption-codec';
import { temporarySecretStore } from '../support/harness';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 1000;
const KEEP_ALIVE_TIMEOUT_MS = 300;
/** Node checks the timeouts on a timer (a quarter of the headers timeout here) and the machine may be busy. */
const SLACK_MS = 700;
const NODE_KEEP_ALIVE_BUFFER_MS = 1000;

interface Cut {
  /** Milliseconds from the first byte sent to the connection's end. */
  afterMs: number;
  /** What the server answered before closing, if anything. */
  answer: string;
}

/** Sends `head`, then one byte of `drip` every 50 ms, until the server closes the connection (or 10 s pass). */
function dribble(port: number, head: string, drip: string): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server never cut the connection'));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve({ afterMs: Date.now() - started, answer });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip);
      }, 50);
    });
  });
}

describe('the API server cuts slow clients: headers, body and idle keep-alive timeouts', () => {
  let server: http.Server;
  let port: number;
  let dir: string;
  const codecKey = generateApiKey();

  beforeAll(async () => {
    const stored = await temporarySecretStore();
    dir = stored.dir;
    const app = createApp({
      client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
      secrets: stored.store,
      config: {
        TASK_QUEUE: 'timeouts',
        API_TENANTS: undefined,
        API_RATE_LIMIT_PER_MINUTE: 1000,
        API_UPDATE_TIMEOUT_MS: 10_000,
        API_MAX_BODY_BYTES: 65_536,
        AGENT_TOKEN_TTL_SECONDS: 900,
        SALESFORCE_API_VERSION: '66.0',
      },
      apiKeys: [{ id: 'cli', sha256: hashApiKey(codecKey), scopes: ['codec'] }],
      codec: {
        codec: new EncryptionCodec([{ id: 'k', key: randomBytes(32) }]),
        namespace: 'default',
        allowedOrigins: [],
        auth: 'key',
        apiOnLoopback: true,
        maxBodyBytes: 1_048_576,
      },
    });
    server = createApiServer(app, {
      API_HEADERS_TIMEOUT_MS: HEADERS_TIMEOUT_MS,
      API_REQUEST_TIMEOUT_MS: REQUEST_TIMEOUT_MS,
      API_KEEP_ALIVE_TIMEOUT_MS: KEEP_ALIVE_TIMEOUT_MS,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('answers 408 and closes a request whose body dribbles in, once API_REQUEST_TIMEOUT_MS has passed', async () => {
    const head =
      'POST /codec/decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${codecKey}\r\nContent-Length: 100000\r\n\r\n{"payloads":[`;
    const cut = await dribble(port, head, ' ');
    expect(cut.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(cut.afterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(cut.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
  });

  it('answers 408 and closes a request whose headers dribble in, once API_HEADERS_TIMEOUT_MS has passed', async () => {
    const cut = await dribble(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'a');
    expect(cut.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(cut.afterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(cut.afterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  });

  it('closes an idle keep-alive connection after API_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const cut = await new Promise<Cut>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let answer = '';
      let answeredAt = 0;
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
        answeredAt ||= Date.now();
      });
      socket.on('close', () => resolve({ afterMs: Date.now() - answeredAt, answer }));
      socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    });
    expect(cut.answer).toMatch(/^HTTP\/1\.1 200/);
    expect(cut.answer).toMatch(/keep-alive/i);
    // Node keeps an idle socket 1 s past keepAliveTimeout, so that a client's reuse does not race its closing.
    expect(cut.afterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 100);
    expect(cut.afterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + NODE_KEEP_ALIVE_BUFFER_MS + SLACK_MS);
  });

  it('configures them with defaults in seconds, and refuses a headers timeout longer than the request timeout', () => {
    const defaults = loadConfig({});
    expect(defaults.API_HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(defaults.API_REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(defaults.API_KEEP_ALIVE_TIMEOUT_MS).toBe(5_000);
    expect(() => loadConfig({ API_HEADERS_TIMEOUT_MS: '40000' })).toThrow(/API_HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig({ API_REQUEST_TIMEOUT_MS: 'soon' })).toThrow(/API_REQUEST_TIMEOUT_MS/);
  });
});
