import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { CodecKey } from '../codec/encryption-codec';
import type { BatchResult, CodecDirection, CodecLimits } from './codec-batch';
import type { CodecTask, CodecTaskAnswer, CodecWorkerData } from './codec-worker-task';

export interface CodecWorkersOptions {
  keys: CodecKey[];
  /** Worker threads (CODEC_WORKER_THREADS). */
  threads: number;
  /** Requests waiting for a thread beyond which the pool refuses more (answered 503 with Retry-After). */
  maxQueue?: number;
}

/** Thrown when every thread is busy and the queue is full: the endpoint answers 503. */
export class CodecWorkersBusy extends Error {
  constructor() {
    super('every codec worker thread is busy');
    this.name = 'CodecWorkersBusy';
  }
}

/** One thread fewer than the machine's cores, at least 1 and at most 4: the event loop keeps a core. */
export function defaultCodecThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/**
 * The codec endpoint's worker threads (piscina): large requests are parsed, validated and run through the codec
 * there, so that no request holds the API's event loop. The threads run at a lower priority than the event loop
 * (nice +10 on Linux), each with a bounded heap, and start when the first large request comes.
 */
export class CodecWorkers {
  private readonly pool: Piscina<CodecTask, CodecTaskAnswer>;
  private readonly maxQueue: number;
  /** Requests the pool takes at once: one running per thread, the others queued. */
  readonly capacity: number;

  constructor(options: CodecWorkersOptions) {
    const workerData: CodecWorkerData = { keys: options.keys.map((k) => ({ id: k.id, key: new Uint8Array(k.key) })) };
    this.maxQueue = options.maxQueue ?? options.threads * 2;
    this.capacity = options.threads + this.maxQueue;
    this.pool = new Piscina<CodecTask, CodecTaskAnswer>({
      filename: path.join(__dirname, 'codec-worker.cjs'),
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 5 * 60_000,
      maxQueue: this.maxQueue,
      niceIncrement: 10,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      workerData,
    });
  }

  /**
   * Runs one request's body in a thread; `signal` drops it from the queue (or the thread) when the client leaves. A
   * body that owns its memory (as a request body read whole does) is transferred to the thread, not copied: the
   * caller must not use it afterwards.
   */
  async run(
    direction: CodecDirection,
    body: Uint8Array,
    limits: CodecLimits,
    signal?: AbortSignal,
  ): Promise<BatchResult> {
    const memory = body.buffer;
    const owned = memory instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === memory.byteLength;
    try {
      const answer = await this.pool.run(
        { direction, body, limits },
        { signal: signal ?? null, ...(owned ? { transferList: [memory] } : {}) },
      );
      return answer instanceof Uint8Array ? { ok: true, body: answer } : { ok: false, problem: answer.problem };
    } catch (err) {
      if (err instanceof Error && /queue is at limit|all Workers are busy/i.test(err.message)) {
        throw new CodecWorkersBusy();
      }
      throw err;
    }
  }

  /** Whether a new request would be refused now: every thread busy and the queue full. */
  get saturated(): boolean {
    return this.pool.queueSize >= this.maxQueue;
  }

  /** Threads started so far (for tests and metrics). */
  get threads(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
