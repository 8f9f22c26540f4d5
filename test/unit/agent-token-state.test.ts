import { AgentTokenBroker } from '../../api/agent-tokens';

/**
 * The broker's cache of connection states (what a token request is answered from): read once per 5 seconds at most,
 * read again ahead in the background from 2.5 seconds on, so that an agent in steady use never waits for Temporal.
 */
describe('connection states for token requests', () => {
  let clock: number;
  let broker: AgentTokenBroker;
  /** Each read answers the next version of the state, once released. */
  let reads: { release: () => void; fail: (err: Error) => void }[];
  const read = () =>
    new Promise<{ version: number }>((resolve, reject) => {
      const version = reads.length + 1;
      reads.push({ release: () => resolve({ version }), fail: reject });
    });
  const stateNow = () => broker.connectionState('tenant|salesforce', read);
  /** Lets the promise callbacks of a released read run. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(async () => {
    clock = 1_000_000;
    reads = [];
    broker = new AgentTokenBroker(
      {
        requestAgentToken: () => Promise.reject(new Error('no sign-in in these tests')),
      },
      { ttlMs: 900_000, now: () => clock },
    );
    const first = stateNow();
    reads[0]?.release();
    await expect(first).resolves.toEqual({ version: 1 });
  });

  it('answers from the state it read while it is younger than the refresh age, with no read', async () => {
    clock += 2_000;
    await expect(stateNow()).resolves.toEqual({ version: 1 });
    expect(reads).toHaveLength(1);
  });

  it('answers the cached state at once past the refresh age, reads once ahead, and answers the new one after', async () => {
    clock += 3_000;
    await expect(stateNow()).resolves.toEqual({ version: 1 });
    await expect(stateNow()).resolves.toEqual({ version: 1 });
    expect(reads).toHaveLength(2);
    reads[1]?.release();
    await settle();
    await expect(stateNow()).resolves.toEqual({ version: 2 });
    expect(reads).toHaveLength(2);
  });

  it('keeps the cached state when a read ahead fails, and reads again on the next request', async () => {
    clock += 3_000;
    await stateNow();
    reads[1]?.fail(new Error('Temporal unavailable'));
    await settle();
    await expect(stateNow()).resolves.toEqual({ version: 1 });
    expect(reads).toHaveLength(3);
  });

  it('never answers a state older than 5 seconds: past it, a request waits for a new read', async () => {
    clock += 5_000;
    let answered: unknown;
    const waiting = stateNow().then((state) => (answered = state));
    await settle();
    expect(answered).toBeUndefined();
    reads[1]?.release();
    await waiting;
    expect(answered).toEqual({ version: 2 });
  });

  it('never answers from a read ahead that started more than 5 seconds ago', async () => {
    clock += 3_000;
    await stateNow();
    reads[1]?.release();
    await settle();
    clock += 5_000;
    const next = stateNow();
    expect(reads).toHaveLength(3);
    reads[2]?.release();
    await expect(next).resolves.toEqual({ version: 3 });
  });
});
