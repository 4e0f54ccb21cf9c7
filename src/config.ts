import { z } from 'zod';

/**
 * The one configuration object, read from the environment once at start-up.
 * Every variable is listed in `.env.example`; the docker-compose test checks that
 * the compose file only sets variables that exist here.
 */
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: port.default(3000),
  /** Public base URL of the API, used in links we hand out (e.g. webhook URLs). */
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),

  /** When unset, `npm start` runs an embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  EMBEDDED_POSTGRES_PORT: port.default(5488),
  DATA_DIR: z.string().min(1).default('.data'),

  /** When unset, `npm start` runs a Temporal dev server (the `temporal` CLI). */
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('omni-campaigns'),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_TLS_CA_PATH: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  /** Path of the `temporal` CLI binary; otherwise PATH, then the tools folder. */
  TEMPORAL_BIN: optionalString,
  EMBEDDED_TEMPORAL_PORT: port.default(7233),
  EMBEDDED_TEMPORAL_UI_PORT: port.default(8233),

  WORKER_METRICS_PORT: port.default(9464),
  /** Interface the worker's metrics listen on: loopback unless said otherwise (they are unauthenticated). */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(100),

  /** Largest CSV upload accepted, in bytes (larger answers 413). */
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024),
  /** How often /ready's answer is measured in the background (it is served from memory). */
  READY_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** A task-queue poller seen longer ago than this does not count as a live worker (a long poll lasts about a minute). */
  READY_POLLER_MAX_AGE_MS: z.coerce.number().int().min(1000).default(90_000),
  /** Uploads one tenant may have in progress at once in one API process (more answer 429). */
  UPLOAD_MAX_CONCURRENT_PER_TENANT: z.coerce.number().int().min(1).max(1000).default(4),
  /** An upload slower than this over any UPLOAD_RATE_WINDOW_MS is cut off with 408. */
  UPLOAD_MIN_BYTES_PER_SECOND: z.coerce.number().int().min(1).default(4096),
  UPLOAD_RATE_WINDOW_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Key used to encrypt provider secrets at rest (32 bytes, hex or base64). Generated for the embedded stack. */
  SECRETS_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex characters or base64 (openssl rand -hex 32)')
      .optional(),
  ),

  /** Asterisk REST Interface, e.g. http://pbx:8088; unset: npm start runs the ARI simulator and sets it. */
  ARI_URL: optionalString.pipe(z.url().optional()),
  ARI_USERNAME: z.string().min(1).default('omni'),
  ARI_PASSWORD: z.string().min(1).default('omni'),
  /** Stasis application name prefix; each worker process registers `<ARI_APP>-<random>`. */
  ARI_APP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('omni-dialer'),
  /** Dialplan context that runs AMD() and returns to Stasis (see src/integrations/ari/amd-protocol.ts). */
  ARI_AMD_CONTEXT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('omni-amd'),
  /** Port of the ARI simulator that npm start runs when ARI_URL is unset. */
  ARI_SIM_PORT: port.default(8088),
  /** How soon a dialing lane whose worker died is taken over by another worker (heartbeat timeout). */
  DIALER_LANE_HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(20_000),
  /** On SIGTERM/SIGINT a worker's lanes stop dialing and wait this long for their calls to end; calls still up are handed over live. */
  DIALER_DRAIN_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  /**
   * Short-call guard (Anatel: above 100,000 calls a day, at most 85% may last 6 s or less): a tenant
   * whose day reaches this many calls placed with at least this share of short calls is over the guard.
   */
  SHORT_CALL_GUARD_DAILY_CALLS: z.coerce.number().int().min(1).default(100_000),
  SHORT_CALL_GUARD_MAX_SHARE: z.coerce.number().min(0.01).max(1).default(0.8),
  /** How long the ARI event journal keeps events (src/recorder.ts). */
  ARI_JOURNAL_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(72),

  /** WhatsApp Cloud API base URL; unset: https://graph.facebook.com (npm start runs the simulator and sets it). */
  WHATSAPP_GRAPH_URL: optionalString.pipe(z.url().optional()),
  WHATSAPP_GRAPH_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v21.0'),
  /** How long a broadcast message may stay `sending` with no status webhook before it is reported `unknown`. */
  BROADCAST_UNKNOWN_AFTER_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60_000),
  /** Messages per page of a broadcast send, and pages in flight at once. */
  BROADCAST_PAGE_SIZE: z.coerce.number().int().min(10).max(5000).default(500),
  BROADCAST_PAGES_IN_FLIGHT: z.coerce.number().int().min(1).max(32).default(4),
  /**
   * How much longer our one-second pace window is than Meta's, in ms: room for a batch to reach the
   * API later than the batch a window after it. Each ms costs a thousandth of the number's limit.
   */
  BROADCAST_WINDOW_MARGIN_MS: z.coerce.number().int().min(0).max(500).default(10),
  /** Pages a send workflow run dispatches before it continues as new (keeps the history small). */
  BROADCAST_PAGES_PER_RUN: z.coerce.number().int().min(1).max(5000).default(300),

  /** Mercado Livre API base URL; unset: https://api.mercadolibre.com (npm start runs the simulator and sets it). */
  ML_API_URL: optionalString.pipe(z.url().optional()),
  /** Where sellers authorize the application; unset: https://auth.mercadolivre.com.br. */
  ML_AUTH_URL: optionalString.pipe(z.url().optional()),
  /** The application's credentials (DevCenter): client id (= application id) and secret. */
  ML_CLIENT_ID: optionalString,
  ML_CLIENT_SECRET: optionalString,
  /** The OAuth redirect URI registered with the application; unset: PUBLIC_BASE_URL (or http://localhost:API_PORT) + /v1/mercadolivre/oauth/callback. */
  ML_REDIRECT_URI: optionalString.pipe(z.url().optional()),
  /** How long before expiry an access token is refreshed by its account workflow. */
  ML_REFRESH_MARGIN_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(6 * 3600_000)
    .default(30 * 60_000),
  /** How often each account looks for missed notifications (/missed_feeds, unanswered questions). */
  ML_CATCH_UP_EVERY_MS: z.coerce
    .number()
    .int()
    .min(5000)
    .default(5 * 60_000),
  /** Port of the Mercado Livre simulator that npm start runs when ML_API_URL is unset. */
  ML_SIM_PORT: port.default(8090),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; expected: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.expected}`).join('\n') + '\nSee .env.example for every variable.');
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError naming each bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      expected: issue.message,
    })),
  );
}

let loaded: Config | undefined;

/** The process-wide configuration, parsed from process.env on first use. */
export function loadConfig(): Config {
  loaded ??= parseConfig(process.env);
  return loaded;
}

export const configVariables = Object.keys(configSchema.shape) as (keyof Config)[];

export function requireDatabaseUrl(config: Config): string {
  if (!config.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set. `npm start` sets it for the embedded stack; set it to run this process alone.');
  }
  return config.DATABASE_URL;
}
