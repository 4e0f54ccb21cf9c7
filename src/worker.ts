import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities/index';
import { loadConfig, requireDatabaseUrl, type Config } from './config';
import { createDb } from './db/database';
import { createLogger, isMain } from './logger';
import { connectWorker } from './temporal/connection';

/**
 * Bundles the workflows in a child process and returns the file: webpack needs a few hundred MB
 * while it runs, and a worker that bundled in-process would keep that heap for its whole life.
 */
export function bundleWorkflowsToFile(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'omni-workflows-')), 'workflow-bundle.js');
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../scripts/bundle-workflows.ts', import.meta.url)), out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A pre-built bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: { code: string } | { codePath: string };
  maxConcurrentActivities?: number;
  /** How long activities may run on after shutdown begins (a draining lane's budget and then some). */
  shutdownGraceTimeMs?: number;
}

/** The worker's options: every workflow and every activity (built from their dependencies). */
export function workerOptions(setup: WorkerSetup): WorkerOptions {
  return {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities(setup.deps),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivities ?? 100,
    // The SDK otherwise sends heartbeats only every 0.8 × the heartbeat timeout, leaving a fifth of
    // it as margin: too little for a busy machine (a dialing lane's timeout is a few seconds).
    maxHeartbeatThrottleInterval: '1 second',
    workflowBundle: setup.workflowBundle ?? { codePath: bundleWorkflowsToFile() },
    ...(setup.shutdownGraceTimeMs !== undefined ? { shutdownGraceTime: setup.shutdownGraceTimeMs } : {}),
  };
}

/** Creates the worker with every workflow and every activity. */
export const createWorker = (setup: WorkerSetup): Promise<Worker> => Worker.create(workerOptions(setup));

/** `host:port` of the worker's Prometheus endpoint (an IPv6 host in brackets). */
export const metricsBindAddress = (config: Pick<Config, 'WORKER_METRICS_HOST' | 'WORKER_METRICS_PORT'>) =>
  `${config.WORKER_METRICS_HOST.includes(':') ? `[${config.WORKER_METRICS_HOST}]` : config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}`;

/**
 * An orderly stop on SIGTERM/SIGINT (the SDK's own signal handling is off: see Runtime.install):
 * the worker stops polling, and at the same moment the dialing lanes stop placing calls, wait a
 * little for theirs to end and return `handover`; activities finish within the grace time, so
 * nothing completes as failed and no campaign pauses. Returns a promise of the signal's name.
 */
export function drainOnSignals(worker: Worker, drain: AbortController, log: (signal: string) => void): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      if (drain.signal.aborted) return;
      log(signal);
      drain.abort();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      resolve(signal);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `npm run worker`: one worker process; run more of them to scale out. */
export async function runWorkerProcess(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'worker');
  // The SDK's own metrics (task latencies, slots, polls) in Prometheus format.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: metricsBindAddress(config) } } },
    // Our own drain (drainOnSignals) stops the worker in order.
    shutdownSignals: [],
  });
  const drain = new AbortController();
  const { db, pool, close } = createDb({ connectionString: requireDatabaseUrl(config), poolSize: config.DATABASE_POOL_SIZE, applicationName: 'omni-worker' });
  const connection = await connectWorker(config);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: {
      db,
      pool,
      dialer: config.ARI_URL
        ? {
            ari: { url: config.ARI_URL, username: config.ARI_USERNAME, password: config.ARI_PASSWORD, app: config.ARI_APP, amdContext: config.ARI_AMD_CONTEXT },
            draining: drain.signal,
            drainMs: config.DIALER_DRAIN_MS,
            shortCallGuard: { dailyCalls: config.SHORT_CALL_GUARD_DAILY_CALLS, maxShare: config.SHORT_CALL_GUARD_MAX_SHARE },
          }
        : undefined,
      broadcast: {
        graphUrl: config.WHATSAPP_GRAPH_URL,
        graphVersion: config.WHATSAPP_GRAPH_VERSION,
        secretsKey: config.SECRETS_KEY,
        windowMarginMs: config.BROADCAST_WINDOW_MARGIN_MS,
        draining: drain.signal,
      },
      mercadolivre: { apiUrl: config.ML_API_URL, clientId: config.ML_CLIENT_ID, clientSecret: config.ML_CLIENT_SECRET, secretsKey: config.SECRETS_KEY },
    },
    maxConcurrentActivities: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    shutdownGraceTimeMs: config.DIALER_DRAIN_MS + 10_000,
  });
  void drainOnSignals(worker, drain, (signal) => log.info({ signal, drainMs: config.DIALER_DRAIN_MS }, 'worker draining'));
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metrics: `http://${metricsBindAddress(config)}/metrics` }, 'worker running');
  await worker.run();
  await connection.close();
  await close();
  log.info('worker stopped');
  // The ARI session's WebSocket and timers would keep the process alive; everything is closed.
  process.exit(0);
}

if (isMain(import.meta.url)) {
  runWorkerProcess().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
