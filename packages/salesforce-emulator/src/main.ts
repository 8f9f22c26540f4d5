/**
 * Standalone emulator: `npm run emulator` (or `npm start` in this package). Env: EMULATOR_PORT, EMULATOR_CONTROL_PORT,
 * EMULATOR_HOST, EMULATOR_STATE_FILE, EMULATOR_PROPAGATION_DELAY_MS, EMULATOR_SESSION_TIMEOUT_MS, EMULATOR_LOG
 * (README.md).
 */
import { emulatorOptionsFromEnv } from './env';
import { startEmulator } from './index';

async function main(): Promise<void> {
  const opts = emulatorOptionsFromEnv();
  const stateFile = opts.stateFile;
  const emu = await startEmulator(opts);
  console.log(`Salesforce emulator: login URL ${emu.loginUrl}`);
  console.log(`Control API:         ${emu.controlUrl}`);
  if (stateFile) console.log(`State file:          ${stateFile}`);
  const orgs = await emu.control.listOrgs();
  if (orgs.length === 0) {
    const org = await emu.control.createOrg({ key: 'demo', name: 'Demo Org' });
    console.log(`Created demo org '${org.key}' (${org.orgId})`);
    console.log(`  instance URL:   ${org.instanceUrl}`);
    console.log(`  admin username: ${org.adminUsername} (${org.adminUserId})`);
    console.log(`  admin password: ${org.adminPassword} (the sign-in page, /services/oauth2/authorize)`);
    console.log('  tokens (secret, not printed): POST /orgs/demo/admin-token on the control API, then the');
    console.log('  refresh_token grant with SERVICE_OAUTH_CLIENT.');
  } else {
    for (const o of orgs) {
      console.log(`Org '${o.key}' (${o.orgId}): ${o.instanceUrl} admin ${o.adminUsername} password ${o.adminPassword}`);
    }
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
