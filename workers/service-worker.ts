import { Worker } from '@temporalio/worker';
import type { DataConverter, Duration } from '@temporalio/common';
import type { InjectedSinks, NativeConnection, WorkerOptions, WorkerPlugin } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import type { ActivityDependencies } from '../activities';
import type { TemporalAccess } from '../activities/connection-control';
import { SalesforceClients } from '../salesforce/clients';
import { openSecretStore } from '../secrets';
import type { AppConfig } from '../config';
import { serviceOAuthClient, webhookSettings } from '../config';
import { activityObservability } from '../observability/activity-interceptor';
import { auditStoreOf } from '../audit/open-audit-store';
import type { WorkerMetrics } from '../observability/metrics';
import { instrumentSalesforceClient } from '../observability/salesforce-calls';
import type { OperationSinks } from '../observability/workflow-interceptors';
import { READINESS_HEARTBEAT_TIMEOUT_MS } from '../workflows/activity-options';
import { connectionTaskQueue, readinessTaskQueue, tenantOfWorkflowId } from '../workflows/definitions';
import { WORKFLOW_INTERCEPTOR_MODULES } from './workflow-bundle';

export async function buildActivityDependencies(
  config: AppConfig,
  temporal: TemporalAccess,
  log?: { info(message: string): void; warn(message: string): void },
  metrics?: WorkerMetrics,
): Promise<ActivityDependencies> {
  const secrets = await openSecretStore(config, log);
  const oauthClient = serviceOAuthClient(config);
  return {
    clients: new SalesforceClients(secrets, {
      apiVersion: config.SALESFORCE_API_VERSION,
      oauthClient,
      ...(metrics ? { instrument: (client) => instrumentSalesforceClient(client, metrics) } : {}),
    }),
    secrets,
    usernameDomain: config.INTEGRATION_USERNAME_DOMAIN,
    contactEmail: config.CONTACT_EMAIL,
    certificateValidityDays: config.CERTIFICATE_VALIDITY_DAYS,
    temporal,
    webhooks: webhookSettings(config),
    audit: await auditStoreOf(config, 'worker'),
  };
}

export interface WorkerTuning extends Partial<
  Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxCachedWorkflows'
    | 'shutdownGraceTime'
  >
> {
  /**
   * Activities and workflow tasks beyond MIN_PACED_SLOTS are taken only while the host's CPU is under this share, up
   * to `maxConcurrentActivityTaskExecutions` and `maxConcurrentWorkflowTaskExecutions` (the SDK's 100 and 40 by
   * default); unset, the slots are fixed.
   */
  targetCpuUsage?: number;
}

/** The SDK's default slot counts: the fixed ones a CPU-paced tuner keeps, and the paced ones' ceilings. */
const SDK_DEFAULT_SLOTS = { workflowTasks: 40, activities: 100, localActivities: 100, nexusTasks: 100 };
/** Activities and workflow tasks a CPU-paced worker runs whatever the CPU, so that background work never stops. */
const MIN_PACED_SLOTS = 2;
/** The memory share of the host up to which a CPU-paced worker takes more tasks (the SDK needs both targets). */
const TARGET_MEMORY_USAGE = 0.85;

/**
 * Slots that follow the host's CPU: activities and workflow tasks handed out while the CPU stays under
 * `targetCpuUsage` (the SDK's resource-based slots), at most `slots` of each. Background work — sagas, health
 * checks, fleet operations — so leaves CPU for the connection workflows that admit operations, and the API, on the
 * same host; activities that mostly wait on Salesforce take little CPU and are not held back.
 */
function cpuPacedTuner(
  targetCpuUsage: number,
  slots: { workflowTasks?: number; activities?: number },
): WorkerOptions['tuner'] {
  const fixed = (numSlots: number) => ({ type: 'fixed-size' as const, numSlots });
  // One set of targets for both: the SDK shares a resource-based tuner's CPU and memory readings among its suppliers.
  const tunerOptions = { targetCpuUsage, targetMemoryUsage: TARGET_MEMORY_USAGE };
  const paced = (maximumSlots: number) => ({
    type: 'resource-based' as const,
    tunerOptions,
    minimumSlots: Math.min(MIN_PACED_SLOTS, maximumSlots),
    maximumSlots,
  });
  return {
    workflowTaskSlotSupplier: paced(slots.workflowTasks ?? SDK_DEFAULT_SLOTS.workflowTasks),
    activityTaskSlotSupplier: paced(slots.activities ?? SDK_DEFAULT_SLOTS.activities),
    localActivityTaskSlotSupplier: fixed(SDK_DEFAULT_SLOTS.localActivities),
    nexusTaskSlotSupplier: fixed(SDK_DEFAULT_SLOTS.nexusTasks),
  };
}

/** A tuning as Worker options: a CPU target becomes a tuner, which replaces the fixed slot counts (the SDK takes one). */
export function workerOptionsOf(tuning: WorkerTuning = {}): Partial<WorkerOptions> {
  const { targetCpuUsage, ...options } = tuning;
  if (targetCpuUsage === undefined) return options;
  const { maxConcurrentWorkflowTaskExecutions, maxConcurrentActivityTaskExecutions, ...rest } = options;
  return {
    ...rest,
    tuner: cpuPacedTuner(targetCpuUsage, {
      workflowTasks: maxConcurrentWorkflowTaskExecutions,
      activities: maxConcurrentActivityTaskExecutions,
    }),
  };
}

/** Readiness waits at once per process, unless WORKER_MAX_CONCURRENT_READINESS_WAITS says. */
export const DEFAULT_READINESS_WAIT_SLOTS = 500;

/**
 * Worker tuning from the configuration; unset options keep the SDK's defaults. Activities follow the host's CPU
 * (WORKER_TARGET_CPU_USAGE below 1) up to WORKER_MAX_CONCURRENT_ACTIVITIES.
 */
export function workerTuning(config: AppConfig): WorkerTuning {
  const tuning: WorkerTuning = {
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    targetCpuUsage: config.WORKER_TARGET_CPU_USAGE < 1 ? config.WORKER_TARGET_CPU_USAGE : undefined,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_TIME as Duration,
  };
  return Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined));
}

export interface ServiceWorkerOptions {
  connection: NativeConnection;
  dataConverter: DataConverter;
  namespace: string;
  taskQueue: string;
  dependencies: ActivityDependencies;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  tuning?: WorkerTuning;
  /** Tuning of the connection queue's worker, over what it takes from `tuning` (tests shrink the saga side only). */
  connectionTuning?: WorkerTuning;
  /** Activity slots of the readiness queue's worker (WORKER_MAX_CONCURRENT_READINESS_WAITS). */
  readinessWaitSlots?: number;
  /** Metrics and the log of operations; without them the worker runs unobserved (most tests). */
  observability?: { metrics?: WorkerMetrics; log?: Logger };
  /** OpenTelemetry tracing (observability/tracing.ts), when OTEL_ENABLED. */
  plugins?: WorkerPlugin[];
}

/** Where the workflow interceptor's sink calls land: operation counters, durations, and one log line per outcome. */
function operationSinks(metrics?: WorkerMetrics, log?: Logger): InjectedSinks<OperationSinks> {
  const idsOf = (info: { workflowId: string; runId: string; workflowType: string }) => ({
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    tenantId: tenantOfWorkflowId(info.workflowId),
  });
  return {
    operations: {
      started: {
        fn: (info, kind) => {
          metrics?.operationsStarted.inc({ kind });
          log?.info({ ...idsOf(info), kind }, 'operation started');
        },
      },
      finished: {
        fn: (info, kind, outcome, durationMs, errorType) => {
          metrics?.operationsFinished.inc({ kind, outcome });
          metrics?.operationDuration.observe({ kind, outcome }, durationMs / 1000);
          const level = outcome === 'succeeded' ? 'info' : outcome === 'rollback_incomplete' ? 'error' : 'warn';
          log?.[level]({ ...idsOf(info), kind, outcome, durationMs, errorType }, 'operation finished');
        },
      },
    },
  };
}

/** Activity slots of the connection queue's worker: only bookkeeping runs there (Schedules, credentials). */
const CONNECTION_QUEUE_ACTIVITY_SLOTS = 10;

/**
 * The service's worker process: three SDK workers on one connection. One polls the connection queue (the connection
 * workflows, whose validators admit operations, and their bookkeeping), one the service's queue (sagas, their
 * activities, health checks), one the readiness queue (the sagas' waits for Salesforce to make an app usable, which
 * hold a slot for minutes). Each has its own slots, so admission never waits for a free saga slot, and waiting
 * enables never take the slots of other tenants' Salesforce calls. The first two load every workflow: runs started
 * before the split, on the service's queue, carry on there; the readiness worker runs activities only.
 */
export class ServiceWorker {
  constructor(
    /** Sagas, activities, health checks: `TASK_QUEUE`. */
    readonly sagas: Worker,
    /** Connection workflows: `connectionTaskQueue(TASK_QUEUE)`. */
    readonly connections: Worker,
    /** Readiness waits: `readinessTaskQueue(TASK_QUEUE)`. */
    readonly readiness?: Worker,
  ) {}

  get workers(): Worker[] {
    return [this.connections, this.sagas, ...(this.readiness ? [this.readiness] : [])];
  }

  /** Runs them all until shutdown; if one fails, the others are shut down and the failure is thrown. */
  async run(): Promise<void> {
    const runs = this.workers.map((w) =>
      w.run().catch((err: unknown) => {
        this.shutdown();
        throw err;
      }),
    );
    await Promise.all(runs);
  }

  async runUntil<R>(until: Promise<R> | (() => Promise<R>)): Promise<R> {
    const running = this.run();
    try {
      return await (typeof until === 'function' ? until() : until);
    } finally {
      this.shutdown();
      await running;
    }
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** RUNNING while all run; otherwise the state of one that does not. */
  getState(): ReturnType<Worker['getState']> {
    return this.workers.map((w) => w.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING';
  }
}

/** The workers of the service: the connection queue's, the service queue's and the readiness queue's (ServiceWorker). */
export async function createServiceWorker(options: ServiceWorkerOptions): Promise<ServiceWorker> {
  const activities = createActivities(options.dependencies);
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    activities,
    dataConverter: options.dataConverter,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    ...(options.observability
      ? {
          interceptors: {
            activity: [activityObservability(options.observability.metrics)],
            // A prebuilt bundle already holds its interceptor modules (the SDK ignores these then, with a warning).
            ...(options.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }),
          },
          sinks: operationSinks(options.observability.metrics, options.observability.log),
        }
      : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
  };
  const sagas = await Worker.create({ ...common, taskQueue: options.taskQueue, ...workerOptionsOf(options.tuning) });
  const connections = await Worker.create({
    ...common,
    taskQueue: connectionTaskQueue(options.taskQueue),
    maxConcurrentActivityTaskExecutions: CONNECTION_QUEUE_ACTIVITY_SLOTS,
    ...(options.tuning?.maxConcurrentWorkflowTaskExecutions
      ? { maxConcurrentWorkflowTaskExecutions: options.tuning.maxConcurrentWorkflowTaskExecutions }
      : {}),
    // The connection workflows' cache: left to the SDK, a bounded heap makes it 10 (and caps the queue's workflow-task
    // slots at 10), so with more connections busy every task replays the whole history and admission waits behind it.
    ...(options.tuning?.maxCachedWorkflows ? { maxCachedWorkflows: options.tuning.maxCachedWorkflows } : {}),
    ...(options.tuning?.shutdownGraceTime ? { shutdownGraceTime: options.tuning.shutdownGraceTime } : {}),
    ...options.connectionTuning,
  });
  const readiness = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: readinessTaskQueue(options.taskQueue),
    // Only the wait runs here (no workflows): the sagas schedule it on this queue.
    activities: {
      awaitReadiness: (probe: Parameters<typeof activities.awaitReadiness>[0]) => activities.awaitReadiness(probe),
    },
    dataConverter: options.dataConverter,
    maxConcurrentActivityTaskExecutions: options.readinessWaitSlots ?? DEFAULT_READINESS_WAIT_SLOTS,
    // A wait heartbeats every 80% of its 3-minute heartbeat timeout (144 s), not once a minute: fewer billed Actions.
    maxHeartbeatThrottleInterval: READINESS_HEARTBEAT_TIMEOUT_MS,
    ...(options.observability
      ? { interceptors: { activity: [activityObservability(options.observability.metrics)] } }
      : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.tuning?.shutdownGraceTime ? { shutdownGraceTime: options.tuning.shutdownGraceTime } : {}),
  });
  return new ServiceWorker(sagas, connections, readiness);
}
