import { Client } from '@temporalio/client';
import request from 'supertest';
import { encryptedDataConverter } from '../../codec/data-converter';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant } from './api-stack';

const PROBLEM = /^application\/problem\+json/;

/**
 * An API whose PAYLOAD_CODEC_KEYS lacks the key a tenant's workflow data was sealed with (a key removed too early, a
 * replica configured with another key) cannot read that tenant: the operator's configuration problem, answered as a
 * 503 naming the missing key's id, logged once at error level, never a bare 500 and never a secret.
 */
describe('a tenant whose data is sealed with a payload key the API does not have', () => {
  let stack: ApiStack;
  const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 503 problem+json naming the key id, and logs it once without secrets', async () => {
    const tenant = uniqueTenant('codec-key');
    // The tenant's connection workflow exists, its memo sealed with the test key ("test").
    await request(stack.app)
      .put(`/v1/tenants/${tenant}/agent-configuration`)
      .set(auth(stack.keys.admin))
      .send(AGENT_CONFIGURATION)
      .expect(200);

    const otherKey = { id: 'replacement', key: Buffer.from('another 32-byte payload key!!!!!', 'utf8') };
    const logged: Array<{ details: Record<string, unknown>; message: string }> = [];
    const app = stack.appWith({
      client: new Client({
        connection: stack.env.client.connection,
        dataConverter: encryptedDataConverter([otherKey]),
      }),
      log: { error: (details, message) => logged.push({ details, message }) },
    });

    for (const path of [
      `/v1/tenants/${tenant}/connections/salesforce`,
      `/v1/tenants/${tenant}/connections/salesforce/operations`,
      `/v1/tenants/${tenant}/agent-configuration`,
    ]) {
      const response = await request(app).get(path).set(auth(stack.keys.read));
      expect({ path, status: response.status }).toEqual({ path, status: 503 });
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.body).toMatchObject({
        status: 503,
        code: 'payload-key-missing',
        type: expect.stringMatching(/\/payload-key-missing$/),
        keyId: 'test',
      });
      expect(response.body.detail).toMatch(/"test"/);
      expect(response.body.detail).toMatch(/PAYLOAD_CODEC_KEYS/);
    }
    // An operation is refused the same way, before anything starts.
    const enable = await request(app)
      .post(`/v1/tenants/${tenant}/connections/salesforce/enable`)
      .set(auth(stack.keys.admin))
      .set('Idempotency-Key', 'codec-key')
      .send({ loginUrl: 'https://login.salesforce.com', adminCredentials: { accessToken: 'x' } });
    expect(enable.status).toBe(503);
    expect(enable.body).toMatchObject({ code: 'payload-key-missing', keyId: 'test' });

    // Logged once for the key, at error level, with its id and nothing of the keys themselves.
    expect(logged).toHaveLength(1);
    expect(logged[0]!.details).toMatchObject({ keyId: 'test' });
    const text = JSON.stringify(logged);
    expect(text).not.toContain(otherKey.key.toString('base64'));
    expect(text).not.toContain(otherKey.key.toString('utf8'));
    expect(text).not.toContain('agent-connections test key');

    // The API that has the key reads the tenant as before.
    await request(stack.app).get(`/v1/tenants/${tenant}/connections/salesforce`).set(auth(stack.keys.read)).expect(200);
  });
});
