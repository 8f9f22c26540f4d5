import type { ChildProcess } from 'node:child_process';

/** How long a server has to exit after SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000;

export interface SupervisedChild {
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. Safe to call twice. */
  stop: () => Promise<void>;
}

/**
 * A server started as a child process, once it serves: `ready(isAlive)` waits until it answers (and throws when it
 * doesn't, or when the process exits first); on failure the process is stopped before the error goes on, so that a
 * failed start leaves nothing running.
 */
export async function superviseUntilReady(
  child: ChildProcess,
  ready: (isAlive: () => boolean) => Promise<void>,
): Promise<SupervisedChild> {
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exitedPromise;
    clearTimeout(timer);
  };
  try {
    await ready(() => !exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}
