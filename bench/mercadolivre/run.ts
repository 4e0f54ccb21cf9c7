// bench/mercadolivre: a burst of notifications (default 5,000 new questions, 10 % of them delivered
// twice) posted to our webhook by the simulator as Mercado Livre posts them; the worker is SIGKILLed
// once during the burst and started again. Reports the simulator's time to our 200 (p50/p99/max; the
// burst is queued first and let go at once; the POSTs are made and timed in a thread of their own, as this
// process's main thread also serves the worker's fetches), our API's own time to 200 (its request histogram),
// this process's event-loop delay,
// the retries Mercado Livre would have made (answers over 500 ms count as failures), and whether every
// notification was applied exactly once (one question row, one interaction each).
//   npx tsx bench/mercadolivre/run.ts [notifications=5000]
// Needs a PostgreSQL server (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres);
// starts its own Temporal dev server, API process and worker process; the simulator runs in this process.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { bootstrapTenant } from '../../src/db/accounts';
import { createDb } from '../../src/db/database';
import { migrateToLatest } from '../../src/db/migrate';
import { WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { startMercadoLivreSimulator } from '../../src/simulators/mercadolivre/server';
import { percentile } from '../../src/simulators/mercadolivre/webhook';
import { cpuSeconds, freshDatabase, log, startProcess } from '../lib';

const total = Number(process.argv[2] ?? 5000);
const API = 'http://127.0.0.1:13011';
const CLIENT_ID = '5569000000001';
const CLIENT_SECRET = 'bench-client-secret';
const SELLER = 468424240;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const dbUrl = await freshDatabase('omni_bench_mercadolivre');
  const { db, pool, close } = createDb({ connectionString: dbUrl });
  await migrateToLatest(db);
  const { key } = await bootstrapTenant(db, { tenantName: 'Bench ML' });

  const temporal = await startTemporalDevServer({ port: 17244, uiPort: 18244, namespace: 'default' });
  const sim = await startMercadoLivreSimulator({
    port: 18090,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    webhook: { retryBaseMs: 1000, retryMaxMs: 5000, duplicateFraction: 0.1, concurrency: 64, postFromThread: true },
  });
  const [workerEntry, apiEntry] = await Promise.all([compileEntry('src/worker.ts'), compileEntry('src/server.ts')]);
  const env = {
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: '20',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-mercadolivre',
    API_PORT: '13011',
    WORKER_METRICS_PORT: '19475',
    LOG_LEVEL: 'warn',
    SECRETS_KEY: randomBytes(32).toString('hex'),
    ML_API_URL: sim.url,
    ML_AUTH_URL: sim.url,
    ML_CLIENT_ID: CLIENT_ID,
    ML_CLIENT_SECRET: CLIENT_SECRET,
    ML_REDIRECT_URI: `${API}/v1/mercadolivre/oauth/callback`,
  };
  const startWorker = () => startProcess(workerEntry, { ...env, LOG_LEVEL: 'info' }, 'worker running', WORKER_NODE_ARGS);
  let worker: ChildProcess = await startWorker();
  const api = await startProcess(apiEntry, { ...env, LOG_LEVEL: 'info' }, 'Server listening');
  try {
    // The seller connects as a supervisor would: our authorization URL, the simulator's page, our callback.
    const authorize = (await (
      await fetch(`${API}/v1/mercadolivre/accounts/authorize`, { method: 'POST', headers: { authorization: `Bearer ${key.key}` } })
    ).json()) as { authorizationUrl: string };
    const page = await fetch(`${authorize.authorizationUrl}&seller_id=${SELLER}`, { redirect: 'manual' });
    const callback = await fetch(page.headers.get('location')!.replace(/^http:\/\/[^/]+/, API));
    if (callback.status !== 200) throw new Error(`callback answered ${callback.status}: ${await callback.text()}`);
    sim.webhook.settings.url = `${API}/v1/webhooks/mercadolivre`;
    // Warm-up (JIT, pools), then counters from zero.
    for (let i = 0; i < 50; i++) sim.ask({ sellerId: SELLER, text: `Aquecimento ${i}` });
    await sim.webhook.idle();
    sim.webhook.resetStats();
    await sleep(2000);

    log(`burst: ${total} questions notified at once (64 deliveries in flight, 10 % duplicated), worker SIGKILLed during it …`);
    const apiCpu = cpuSeconds(api.pid!);
    const serverBefore = await webhookHistogram();
    // The burst is made first and let go at once: made while being posted, this process's own
    // synchronous work would sit inside the first requests' measured times.
    sim.webhook.hold();
    const asked = Array.from({ length: total }, (_, i) => sim.ask({ sellerId: SELLER, text: `Pergunta de carga ${i}: tem pronta entrega?` }));
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const started = Date.now();
    sim.webhook.release();
    let killedAt = 0;
    while (sim.webhook.pending() > 0) {
      if (!killedAt && sim.webhook.stats.delivered > total * 0.3) {
        worker.kill('SIGKILL');
        killedAt = Date.now() - started;
        log(`  worker SIGKILLed at ${(killedAt / 1000).toFixed(1)} s (${sim.webhook.stats.delivered} delivered); starting another …`);
        worker = await startWorker();
      }
      await sleep(50);
    }
    const deliveredAt = Date.now() - started;
    loopDelay.disable();
    const latencies = [...sim.webhook.latencies];
    const server = diffHistogram(serverBefore, await webhookHistogram());
    const apiCpuSpent = cpuSeconds(api.pid!) - apiCpu;
    log(`  all delivered in ${(deliveredAt / 1000).toFixed(1)} s; waiting for every notification to be applied …`);
    const ids = asked.map((q) => String(q.id));
    for (;;) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ml_questions WHERE ml_question_id = ANY($1::bigint[])`, [ids]);
      const pending = await pool.query(`SELECT count(*)::int AS n FROM ml_notifications WHERE state = 'pending'`);
      if (rows[0].n === total && pending.rows[0].n === 0) break;
      if (Date.now() - started > 10 * 60_000) throw new Error(`only ${rows[0].n} of ${total} questions after 10 minutes`);
      await sleep(250);
    }
    const appliedAt = Date.now() - started;
    const check = await pool.query(
      `SELECT
         (SELECT count(*)::int FROM ml_questions WHERE ml_question_id = ANY($1::bigint[])) AS questions,
         (SELECT count(DISTINCT ml_question_id)::int FROM ml_questions WHERE ml_question_id = ANY($1::bigint[])) AS distinct_questions,
         (SELECT count(*)::int FROM interactions WHERE kind = 'question' AND details->>'mlQuestionId' = ANY($1::text[])) AS interactions,
         (SELECT count(*)::int FROM ml_notifications WHERE resource = ANY($2::text[])) AS notifications,
         (SELECT count(*)::int FROM ml_notifications WHERE resource = ANY($2::text[]) AND state = 'applied') AS applied,
         (SELECT coalesce(sum(duplicates), 0)::int FROM ml_notifications WHERE resource = ANY($2::text[])) AS duplicates,
         (SELECT coalesce(sum(tries), 0)::int FROM ml_notifications WHERE resource = ANY($2::text[])) AS tries`,
      [ids, ids.map((id) => `/questions/${id}`)],
    );
    const c = check.rows[0];
    const s = sim.webhook.stats;
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    log(
      `time to our 200 (simulator side, ${latencies.length} successful POSTs): ` +
        `p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(Math.max(...latencies))}`,
    );
    log(
      `our API's own time to 200 (its request histogram, ${server.count} POSTs): ${(server.within100ms * 100).toFixed(2)} % within 100 ms, ` +
        `p99 ≤ ${server.p99Bound * 1000} ms (bucket bound); this process's event-loop delay while posting: ` +
        `p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)} (not in the times above: the POSTs are timed in a thread of their own)`,
    );
    log(
      `deliveries: ${s.posted} POSTs, ${s.delivered} answered 200 in time, ` +
        `${s.failedAttempts} failed/over 500 ms (retried), ${s.dropped} dropped, ${s.duplicatesSent} duplicates sent`,
    );
    log(
      `applied: ${c.questions} question rows (${c.distinct_questions} distinct) for ${total} asked, ${c.interactions} interactions, ` +
        `${c.notifications} notification rows (${c.applied} applied, ${c.duplicates} duplicates folded, ${c.tries} tries)`,
    );
    log(
      `wall: delivered in ${(deliveredAt / 1000).toFixed(1)} s, all applied in ${(appliedAt / 1000).toFixed(1)} s; ` +
        `worker killed at ${(killedAt / 1000).toFixed(1)} s; API CPU ${apiCpuSpent.toFixed(1)} s`,
    );
    const exactlyOnce = c.questions === total && c.distinct_questions === total && c.interactions === total && c.notifications === total && c.applied === total;
    log(exactlyOnce ? 'every notification applied exactly once' : 'NOT exactly once: see the counts above');
    if (!exactlyOnce || percentile(latencies, 99) > 100) process.exitCode = 1;
  } finally {
    worker.kill('SIGKILL');
    api.kill('SIGTERM');
    await sim.stop();
    await close();
    await temporal.stop();
  }
}

/** The API's cumulative request-duration buckets (seconds → count) of 200s from the webhook route. */
async function webhookHistogram(): Promise<Map<number, number>> {
  const text = await (await fetch(`${API}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('omni_http_request_duration_seconds_bucket{') || !line.includes('route="/v1/webhooks/mercadolivre"') || !line.includes('status="200"'))
      continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return buckets;
}

function diffHistogram(before: Map<number, number>, after: Map<number, number>) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const count = cumulative.at(-1) ?? 0;
  const p99Bound = bounds[cumulative.findIndex((c) => c >= 0.99 * count)] ?? Number.NaN;
  return { count, within100ms: count ? (cumulative[bounds.indexOf(0.1)] ?? 0) / count : 0, p99Bound };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
