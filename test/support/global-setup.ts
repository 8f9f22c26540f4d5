import { ensureTool } from '../../scripts/temporal-tools.cjs';
import { startOpenBaoDevServer } from '../../scripts/openbao-dev-server';
import type { RunningOpenBao } from '../../scripts/openbao-dev-server';
import { startDevServer } from '../../scripts/temporal-dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/definitions';
import { freePort } from './free-port';
import { createRunTempRoot } from './temp-dirs';
import type { RunningDevServer } from '../../scripts/temporal-dev-server';

declare global {
  var __TEMPORAL_DEV_SERVER__: RunningDevServer | undefined;
  var __OPENBAO_DEV_SERVER__: RunningOpenBao | undefined;
  var __TEST_TEMP_ROOT__: string | undefined;
}

/**
 * Starts one real Temporal dev server and one OpenBao dev server (both in memory, on free loopback ports) for the
 * whole run and tells the test files where they are through the environment, which Jest's workers inherit:
 * TEST_TEMPORAL_ADDRESS, and TEST_OPENBAO_ADDR with its root token TEST_OPENBAO_TOKEN (the secret-store tests
 * make their own AppRoles and policies with it). The time-skipping server is started per test file that needs it,
 * from the path exported here. Test files make their temporary folders in one folder of the run (temp-dirs.ts),
 * which the global teardown deletes.
 */
export default async function globalSetup(): Promise<void> {
  globalThis.__TEST_TEMP_ROOT__ = createRunTempRoot();
  const cli = ensureTool('cli');
  process.env.TEMPORAL_TEST_SERVER_PATH = ensureTool('testServer');
  const bao = ensureTool('bao');
  const [temporal, openBaoStart] = await Promise.allSettled([
    (async () => startDevServer({ binary: cli, port: await freePort(), searchAttributes: SEARCH_ATTRIBUTE_TYPES }))(),
    (async () => startOpenBaoDevServer({ binary: bao, port: await freePort() }))(),
  ]);
  if (temporal.status === 'rejected' || openBaoStart.status === 'rejected') {
    // Stop the one that did start: Jest runs no teardown after a failed setup.
    if (temporal.status === 'fulfilled') await temporal.value.stop();
    if (openBaoStart.status === 'fulfilled') await openBaoStart.value.stop();
    throw temporal.status === 'rejected' ? temporal.reason : (openBaoStart as PromiseRejectedResult).reason;
  }
  const server = temporal.value;
  const openBao = openBaoStart.value;
  globalThis.__TEMPORAL_DEV_SERVER__ = server;
  globalThis.__OPENBAO_DEV_SERVER__ = openBao;
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_OPENBAO_ADDR = openBao.address;
  process.env.TEST_OPENBAO_TOKEN = openBao.rootToken;
}
