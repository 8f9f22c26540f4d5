import { ensureTool } from '../../scripts/temporal-tools.cjs';
import { startDevServer } from '../../scripts/temporal-dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/definitions';
import { freePort } from './free-port';
import { createRunTempRoot } from './temp-dirs';
import type { RunningDevServer } from '../../scripts/temporal-dev-server';

declare global {
  var __TEMPORAL_DEV_SERVER__: RunningDevServer | undefined;
  var __TEST_TEMP_ROOT__: string | undefined;
}

/**
 * Starts one real Temporal dev server (in memory, on a free port) for the whole run and tells the test files where
 * it is through the environment, which Jest's workers inherit. The time-skipping server is started per test file
 * that needs it, from the path exported here. Test files make their temporary folders in one folder of the run
 * (temp-dirs.ts), which the global teardown deletes.
 */
export default async function globalSetup(): Promise<void> {
  globalThis.__TEST_TEMP_ROOT__ = createRunTempRoot();
  const cli = ensureTool('cli');
  process.env.TEMPORAL_TEST_SERVER_PATH = ensureTool('testServer');
  const server = await startDevServer({
    binary: cli,
    port: await freePort(),
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
  });
  globalThis.__TEMPORAL_DEV_SERVER__ = server;
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
}
