/** The standalone emulator's options from its environment (`npm run emulator`, the Docker image). */
import type { EmulatorOptions } from './index';

function intEnv(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return n;
}

/**
 * EMULATOR_PORT (4410), EMULATOR_CONTROL_PORT (4411), EMULATOR_HOST (127.0.0.1), EMULATOR_STATE_FILE,
 * EMULATOR_PROPAGATION_DELAY_MS, EMULATOR_SESSION_TIMEOUT_MS (2 h), EMULATOR_LOG=1, EMULATOR_SERVICE_CALLBACK_URLS
 * (comma-separated callback URLs of the service's OAuth client; default: the API of `npm start`).
 */
export function emulatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EmulatorOptions {
  const stateFile = env.EMULATOR_STATE_FILE || undefined;
  const propagationDelayMs = intEnv(env, 'EMULATOR_PROPAGATION_DELAY_MS', 0);
  const sessionTimeoutMs = intEnv(env, 'EMULATOR_SESSION_TIMEOUT_MS', 1);
  const callbacks = (env.EMULATOR_SERVICE_CALLBACK_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  return {
    port: intEnv(env, 'EMULATOR_PORT', 0) ?? 4410,
    controlPort: intEnv(env, 'EMULATOR_CONTROL_PORT', 0) ?? 4411,
    host: env.EMULATOR_HOST || '127.0.0.1',
    ...(stateFile ? { stateFile } : {}),
    ...(propagationDelayMs !== undefined ? { propagationDelayMs } : {}),
    ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}),
    ...(callbacks.length > 0 ? { serviceCallbackUrls: callbacks } : {}),
    log: env.EMULATOR_LOG === '1',
  };
}
