import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { createApp } from '../../api/app';
import { generateApiKey, hashApiKey } from '../../api/auth';
import { ENCRYPTED_ENCODING, EncryptionCodec } from '../../codec/encryption-codec';
import type { enableConnection } from '../../workflows';
import { ErrorType, connectionWorkflowId } from '../../workflows/definitions';
import { TEST_PAYLOAD_KEY, recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';

type Failure = temporal.api.failure.v1.IFailure;
type History = temporal.api.history.v1.IHistory;

/** A field and an object the emulator's org does not have: preflight fails naming both, in its message. */
const MISSING_FIELD = 'NoSuchField__c';
const MISSING_OBJECT = 'Nonexistent__c';

/**
 * Everything a reader of the raw history sees, as text: every string, and every byte field read as UTF-8 (a payload
 * in plain JSON would be readable that way). What Temporal's server and its database hold, with no codec.
 */
function rawText(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (Array.isArray(node)) node.forEach((n) => rawText(n, out));
  else if (node && typeof node === 'object') Object.values(node).forEach((v) => rawText(v, out));
  return out;
}

/** Every failure in a history, causes included. */
function failuresOf(history: History): Failure[] {
  const found: Failure[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'failure' || key === 'cause') && value && typeof value === 'object') found.push(value as Failure);
        walk(value);
      }
    }
  };
  walk(history.events);
  return found;
}

function jsonPayload(payload: Payload) {
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

describe('failures are encrypted in history: Salesforce’s error text and stack traces are ciphertext without the codec', () => {
  const suite = useSagaSuite();

  it('a failed preflight leaves no message or stack trace in plain text; the codec client and /codec/decode read them', async () => {
    const s = suite();
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const request_ = enableRequest(target, {
      agentConfiguration: {
        objects: [
          { object: 'Account', fields: ['Industry', MISSING_FIELD] },
          { object: MISSING_OBJECT, fields: ['Name'] },
        ],
      },
    });
    // The API's view (the connection's memo, decrypted by the codec client) is unchanged: the real message.
    const state = await s.connections.enableAndSettle(tenantId, request_);
    expect(state.lastError?.type).toBe(ErrorType.preflightFailed);
    expect(state.lastError?.message).toContain(`Account.${MISSING_FIELD}`);
    const sagaId = state.operations[0]!.workflowId;

    // The client with the codec (the API's, the worker's) gets the failure back whole: message, type, stack.
    const saga = s.env.client.workflow.getHandle<typeof enableConnection>(sagaId);
    const failed = await saga.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const cause = (failed as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe(ErrorType.preflightFailed);
    expect(cause.message).toContain(MISSING_FIELD);

    // The raw history, as Temporal stores it: no trace of the message, the missing names or a stack frame.
    const connection = s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce'));
    const histories = [await saga.fetchHistory(), await connection.fetchHistory()];
    // Replay fixtures of histories with encoded failures (test/replay), next to the older ones in plain text.
    await recordHistory('enable-preflight-encrypted-failure', saga);
    await recordHistory('connection-encrypted-failure', connection);
    for (const history of histories) {
      const text = rawText(history).join('\n');
      expect(text).not.toContain(MISSING_FIELD);
      expect(text).not.toContain(MISSING_OBJECT);
      expect(text).not.toMatch(/\n\s+at /);
      expect(text).not.toContain('preflight.ts');
    }
    const failures = histories.flatMap(failuresOf);
    // The activity's failure, the saga's and the connection's view of its child: every one of them encoded.
    expect(failures.length).toBeGreaterThanOrEqual(3);
    for (const failure of failures) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
      const encoding = Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? new Uint8Array()).toString();
      expect(encoding).toBe(ENCRYPTED_ENCODING);
    }
    // The failure type stays readable (operators search and alert on it); it names a class, never data.
    expect(failures.map((f) => f.applicationFailureInfo?.type).filter(Boolean)).toContain(ErrorType.preflightFailed);

    // The activity's failure through the codec endpoint, as the Web UI sends `encoded_attributes` to /codec/decode.
    const activityFailure = histories[0]!.events!.find((e) => e.activityTaskFailedEventAttributes)!
      .activityTaskFailedEventAttributes!.failure!;
    const codecKey = generateApiKey();
    const app = createApp({
      client: s.env.client,
      secrets: s.secrets,
      config: {
        TASK_QUEUE: s.taskQueue,
        API_TENANTS: undefined,
        API_RATE_LIMIT_PER_MINUTE: 1000,
        API_UPDATE_TIMEOUT_MS: 10_000,
        API_MAX_BODY_BYTES: 65_536,
        AGENT_TOKEN_TTL_SECONDS: 900,
        SALESFORCE_API_VERSION: '66.0',
      },
      apiKeys: [{ id: 'operator', sha256: hashApiKey(codecKey), scopes: ['codec'] }],
      codec: {
        codec: new EncryptionCodec([TEST_PAYLOAD_KEY]),
        namespace: 'default',
        allowedOrigins: [],
        auth: 'key',
        apiOnLoopback: true,
        maxBodyBytes: 1_048_576,
      },
    });
    const decoded = await request(app)
      .post('/codec/decode')
      .set('Authorization', `Bearer ${codecKey}`)
      .set('X-Namespace', 'default')
      .send({ payloads: [jsonPayload(activityFailure.encodedAttributes as Payload)] })
      .expect(200);
    const [attributes] = (decoded.body as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads;
    const readable = defaultPayloadConverter.fromPayload<{ message: string; stack_trace: string }>({
      metadata: Object.fromEntries(Object.entries(attributes!.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(attributes!.data, 'base64'),
    });
    expect(readable.message).toContain(`Account.${MISSING_FIELD}`);
    expect(readable.message).toContain(MISSING_OBJECT);
    expect(readable.stack_trace).toMatch(/\n\s+at /);
  });
});
