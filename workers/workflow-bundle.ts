import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../codec/data-converter';

/** Workflow interceptor modules of the service; a prebuilt bundle must be built with them to get operation metrics. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../observability/workflow-interceptors')];

/** The SDK's OpenTelemetry workflow interceptors, which a bundle must hold for workflow spans (OTEL_ENABLED). */
const TRACING_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/**
 * Bundles the workflows (with the service's workflow interceptors and its failure converter, which encodes failures'
 * messages and stack traces) into one file that a worker loads as is.
 */
async function writeWorkflowBundle(outputPath: string, extraInterceptorModules: string[] = []): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [...WORKFLOW_INTERCEPTOR_MODULES, ...extraInterceptorModules],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  });
  await fs.mkdir(path.dirname(outputPath), { recursive: true });
  await fs.writeFile(outputPath, code);
}

/**
 * Creates a worker (`create`) with the worker's workflow bundle: the prebuilt one when WORKFLOW_BUNDLE_PATH names it (a
 * container image builds it once), otherwise one built now from the sources in a child process. Webpack needs a few
 * hundred MB while it bundles; in a child process that memory goes back to the system instead of staying in the
 * worker's heap for its whole life. Built at every start, never cached, so a worker cannot run workflows older than
 * its sources. A worker reads its bundle once, when it is created: a bundle built here is deleted right after.
 */
export async function withWorkflowBundle<T>(
  options: { prebuiltPath?: string; tracing?: boolean },
  create: (workflowBundle: WorkerOptions['workflowBundle']) => Promise<T>,
): Promise<T> {
  // A prebuilt bundle holds no tracing interceptors: with tracing on, the worker bundles its own.
  if (options.prebuiltPath && !options.tracing) return create({ codePath: path.resolve(options.prebuiltPath) });
  const extraArgs = options.tracing ? ['--with-tracing'] : [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agent-connections-workflows-'));
  try {
    const outputPath = path.join(dir, 'bundle.js');
    await new Promise<void>((resolve, reject) => {
      // Webpack's heap, not the worker's: a worker may run with a small --max-old-space-size in NODE_OPTIONS.
      const child = spawn(
        process.execPath,
        ['--max-old-space-size=1024', '--import', 'tsx', __filename, outputPath, ...extraArgs],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let errors = '';
      child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString('utf8')).slice(-4000)));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`bundling the workflows failed (exit ${String(code)}):\n${errors}`)),
      );
    });
    return await create({ codePath: outputPath });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const outputPath = process.argv[2];
  if (!outputPath) {
    console.error('usage: tsx workers/workflow-bundle.ts <output.js> [--with-tracing]');
    process.exit(2);
  }
  writeWorkflowBundle(outputPath, process.argv.includes('--with-tracing') ? TRACING_INTERCEPTOR_MODULES : []).then(
    () => console.log(`workflow bundle written to ${outputPath}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
