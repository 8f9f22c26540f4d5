import request from 'supertest';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ConnectionView, OperationView } from '../../api/schemas';
import { connectionWorkflowId } from '../../workflows/definitions';
import { publishedState } from '../../api/published-state';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

/** How long an operation may run before a test gives up on it. */
const OPERATION_DEADLINE_MS = 120_000;

/** How often the agent probe queries the org. */
const PROBE_INTERVAL_MS = 300;

/**
 * What the tests of a working connection do through the API: enable one, wait for an operation, act as the agent
 * (a token from the broker, then a query), probe the agent's access while something runs, and look at the org.
 * `stack` is read at each call, so that a suite can create this before its `beforeAll` starts the stack.
 */
export function workingConnections(stack: () => ApiStack) {
  const post = (path: string, idempotencyKey: string, body: object) =>
    request(stack().app)
      .post(path)
      .set('Authorization', `Bearer ${stack().keys.admin}`)
      .set('Idempotency-Key', idempotencyKey)
      .send(body);

  /** A tenant with an enabled connection to a new org. */
  async function enabledConnection(key: string, org?: { integrationLicenses?: number }) {
    const tenant = uniqueTenant(key);
    const created = await stack().emulator.control.createOrg({ key: tenant, ...org });
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    const read = async (): Promise<ConnectionView> =>
      (await request(stack().app).get(base).set('Authorization', `Bearer ${stack().keys.read}`).expect(200))
        .body as ConnectionView;
    await post(`${base}/enable`, `enable-${tenant}`, {
      loginUrl: created.loginUrl,
      instanceUrl: created.instanceUrl,
      adminCredentials: { accessToken: created.accessToken, refreshToken: created.refreshToken },
      agentConfiguration: AGENT_CONFIGURATION,
    }).expect(202);
    const connection = await waitForConnection(read, (c) => c.status !== 'enabling');
    expect(connection.status).toBe('enabled');
    return { tenant, org: created, base, read, connection };
  }

  /** Polls the operation until it is no longer running. */
  async function finished(base: string, operationId: string): Promise<OperationView> {
    return pollUntil(
      async () =>
        (
          await request(stack().app)
            .get(`${base}/operations/${operationId}`)
            .set('Authorization', `Bearer ${stack().keys.read}`)
            .expect(200)
        ).body as OperationView,
      (operation) => operation.status !== 'running',
      { what: `operation ${operationId} to end`, timeoutMs: OPERATION_DEADLINE_MS, intervalMs: 200 },
    );
  }

  /** The agent's view: a token from the broker, then a query as the integration user. */
  async function agentQuery(base: string, soql: string): Promise<Response> {
    const token = await request(stack().app)
      .post(`${base}/agent-token`)
      .set('Authorization', `Bearer ${stack().keys.agent}`);
    if (token.status !== 200) throw new Error(`agent token: HTTP ${token.status} ${JSON.stringify(token.body)}`);
    return fetch(`${token.body.instanceUrl}/services/data/v66.0/query?q=${encodeURIComponent(soql)}`, {
      headers: { Authorization: `Bearer ${token.body.accessToken}` },
    });
  }

  /** Probes the agent's access every few hundred ms until stopped; every failure is kept. */
  function agentProbe(base: string) {
    const failures: string[] = [];
    let probes = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        try {
          const response = await agentQuery(base, 'SELECT Id, Name FROM Account LIMIT 1');
          if (!response.ok) failures.push(`query: HTTP ${response.status} ${await response.text()}`);
        } catch (err) {
          failures.push(String(err));
        }
        probes += 1;
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return { failures, probes };
      },
    };
  }

  /** The connection workflow's state, with what the view leaves out (the consumer key). */
  const stateOf = async (tenant: string) =>
    (await publishedState(
      stack().env.client,
      await stack().env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')).describe(),
    ))!;

  /** The org's components the connection consists of: active users only. */
  const componentIds = async (org: CreatedOrg) =>
    (await stack().emulator.control.components(org.key))
      .filter((c) => c.kind !== 'User' || c.active !== false)
      .map((c) => `${c.kind}:${c.id ?? c.name}`)
      .sort();

  return { post, enabledConnection, finished, agentQuery, agentProbe, stateOf, componentIds };
}
