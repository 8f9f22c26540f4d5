import fs from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  await Promise.all([globalThis.__TEMPORAL_DEV_SERVER__?.stop(), globalThis.__OPENBAO_DEV_SERVER__?.stop()]);
  // The run's temporary folders, everything in them included (see temp-dirs.ts); never another run's.
  const root = globalThis.__TEST_TEMP_ROOT__;
  if (root) await fs.rm(root, { recursive: true, force: true });
}
