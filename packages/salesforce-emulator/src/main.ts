/** Standalone emulator: `npm run emulator`. Env: EMULATOR_PORT, EMULATOR_CONTROL_PORT, EMULATOR_STATE_FILE, EMULATOR_PROPAGATION_DELAY_MS, EMULATOR_HOST, EMULATOR_LOG. */
import { startEmulator } from './index';

function intEnv(name: string, dflt: number | undefined): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  const stateFile = process.env.EMULATOR_STATE_FILE || undefined;
  const propagationDelayMs = intEnv('EMULATOR_PROPAGATION_DELAY_MS', undefined);
  const emu = await startEmulator({
    port: intEnv('EMULATOR_PORT', 4410),
    controlPort: intEnv('EMULATOR_CONTROL_PORT', 4411),
    host: process.env.EMULATOR_HOST || '127.0.0.1',
    ...(stateFile ? { stateFile } : {}),
    ...(propagationDelayMs !== undefined ? { propagationDelayMs } : {}),
    log: process.env.EMULATOR_LOG === '1',
  });
  console.log(`Salesforce emulator: login URL ${emu.loginUrl}`);
  console.log(`Control API:         ${emu.controlUrl}`);
  if (stateFile) console.log(`State file:          ${stateFile}`);
  const orgs = await emu.control.listOrgs();
  if (orgs.length === 0) {
    const org = await emu.control.createOrg({ key: 'demo', name: 'Demo Org' });
    console.log(`Created demo org '${org.key}' (${org.orgId})`);
    console.log(`  instance URL:   ${org.instanceUrl}`);
    console.log(`  admin username: ${org.adminUsername} (${org.adminUserId})`);
    console.log('  tokens (secret, not printed): POST /orgs/demo/admin-token on the control API, then the');
    console.log('  refresh_token grant with SERVICE_OAUTH_CLIENT.');
  } else {
    for (const o of orgs) console.log(`Org '${o.key}' (${o.orgId}): ${o.instanceUrl} admin ${o.adminUsername}`);
  }
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${sig}: stopping emulator`);
    emu.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
