import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Temporary folders of a test run. The global setup makes one folder for the run (TEST_TEMP_ROOT, inherited by the
 * test workers) and the global teardown deletes it whole, so whatever a test leaves in its folders (secret stores,
 * worker data folders) goes with the run, and runs side by side never touch each other's. Outside `npm test` the
 * folders go to the system's temporary folder.
 */
export const TEST_TEMP_ROOT_ENV = 'TEST_TEMP_ROOT';

/** The run's folder, made by the global setup. */
export function createRunTempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-connections-test-run-'));
  process.env[TEST_TEMP_ROOT_ENV] = root;
  return root;
}

/** A new, empty folder of this run, named after `prefix`. */
export function temporaryDirSync(prefix: string): string {
  return fs.mkdtempSync(path.join(process.env[TEST_TEMP_ROOT_ENV] ?? os.tmpdir(), prefix));
}

export async function temporaryDir(prefix: string): Promise<string> {
  return fs.promises.mkdtemp(path.join(process.env[TEST_TEMP_ROOT_ENV] ?? os.tmpdir(), prefix));
}
