import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { EncryptionCodec } from '../codec/encryption-codec';
import type { CodecKey } from '../codec/encryption-codec';
import { runCodecBatch } from './codec-batch';
import type { BatchProblem, CodecDirection, CodecLimits } from './codec-batch';

/** What the pool sends a worker thread: the keys once (workerData), then one body per task. */
export interface CodecWorkerData {
  keys: { id: string; key: Uint8Array }[];
}

export interface CodecTask {
  direction: CodecDirection;
  body: Uint8Array;
  limits: CodecLimits;
}

const { keys } = workerData as CodecWorkerData;
const codec = new EncryptionCodec(keys.map((k): CodecKey => ({ id: k.id, key: Buffer.from(k.key) })));

/** A task's answer: the response body, transferred to the event loop (not copied), or the problem. */
export type CodecTaskAnswer = Uint8Array | { problem: BatchProblem };

/** One codec request, in a worker thread: the same code as on the event loop, for bodies too large to run there. */
export async function runTask(task: CodecTask): Promise<CodecTaskAnswer> {
  const result = await runCodecBatch(codec, task.direction, task.body, task.limits);
  return result.ok ? (move(result.body) as Uint8Array) : { problem: result.problem };
}
