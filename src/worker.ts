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
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../scripts/bundle-workflows.ts', import.meta.url)), out], { stdio: ['ignore', 'ignore', 'inherit'] });
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
}

/** Creates the worker with every workflow and every activity (built from their dependencies). */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const options: WorkerOptions = {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities(setup.deps),
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivities ?? 100,
    // The SDK otherwise sends heartbeats only every 0.8 × the heartbeat timeout, leaving a fifth of
    // it as margin: too little for a busy machine (a dialing lane's timeout is a few seconds).
    maxHeartbeatThrottleInterval: '1 second',
    workflowBundle: setup.workflowBundle ?? { codePath: bundleWorkflowsToFile() },
  };
  return Worker.create(options);
}

/** `host:port` of the worker's Prometheus endpoint (an IPv6 host in brackets). */
export const metricsBindAddress = (config: Pick<Config, 'WORKER_METRICS_HOST' | 'WORKER_METRICS_PORT'>) =>
  `${config.WORKER_METRICS_HOST.includes(':') ? `[${config.WORKER_METRICS_HOST}]` : config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}`;

/** `npm run worker`: one worker process; run more of them to scale out. */
export async function runWorkerProcess(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'worker');
  // The SDK's own metrics (task latencies, slots, polls) in Prometheus format.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: metricsBindAddress(config) } } },
  });
  const { db, pool, close } = createDb({ connectionString: requireDatabaseUrl(config), poolSize: config.DATABASE_POOL_SIZE, applicationName: "omni-worker" });
  const connection = await connectWorker(config);
  const worker = await createWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    deps: {
      db,
      pool,
      dialer: config.ARI_URL ? { ari: { url: config.ARI_URL, username: config.ARI_USERNAME, password: config.ARI_PASSWORD, app: config.ARI_APP, amdContext: config.ARI_AMD_CONTEXT } } : undefined,
      broadcast: {
        graphUrl: config.WHATSAPP_GRAPH_URL,
        graphVersion: config.WHATSAPP_GRAPH_VERSION,
        secretsKey: config.SECRETS_KEY,
        windowMarginMs: config.BROADCAST_WINDOW_MARGIN_MS,
      },
      mercadolivre: { apiUrl: config.ML_API_URL, clientId: config.ML_CLIENT_ID, clientSecret: config.ML_CLIENT_SECRET, secretsKey: config.SECRETS_KEY },
    },
    maxConcurrentActivities: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
  });
  log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, metrics: `http://${metricsBindAddress(config)}/metrics` }, 'worker running');
  await worker.run();
  await connection.close();
  await close();
  log.info('worker stopped');
}


if (isMain(import.meta.url)) {
  runWorkerProcess().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
