import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

/**
 * Temporal connection settings from the standard sources: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS_*, and the TOML profile file (TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE). Temporal Cloud, a self-hosted
 * cluster or the local dev server are a matter of configuration only.
 */
export function loadTemporalSettings(): TemporalSettings {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    connectionOptions: { address: 'localhost:7233', ...connectionOptions },
    namespace: namespace ?? 'default',
  };
}
