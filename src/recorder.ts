// `npm run recorder`: the always-on ARI event recorder (src/recorder/event-recorder.ts). One or two
// per Asterisk; `npm start` runs one beside the worker.
import { loadConfig, requireDatabaseUrl, type Config } from './config';
import { createDb } from './db/database';
import { createLogger, isMain } from './logger';
import { AriEventRecorder } from './recorder/event-recorder';

export async function runRecorderProcess(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'recorder');
  if (!config.ARI_URL) throw new Error('ARI_URL is required: the recorder journals the events of that Asterisk.');
  const { db, close } = createDb({ connectionString: requireDatabaseUrl(config), poolSize: 2, applicationName: 'omni-recorder' });
  const recorder = new AriEventRecorder({
    db,
    ari: { url: config.ARI_URL, username: config.ARI_USERNAME, password: config.ARI_PASSWORD, app: config.ARI_APP },
    retentionHours: config.ARI_JOURNAL_RETENTION_HOURS,
    log: (message, fields) => log.warn(fields ?? {}, message),
  });
  await recorder.start();
  log.info({ app: `${config.ARI_APP}-recorder` }, 'ARI event recorder running');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await recorder.stop();
  await close();
  log.info({ recorded: recorder.recorded }, 'ARI event recorder stopped');
}

if (isMain(import.meta.url)) {
  runRecorderProcess().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
