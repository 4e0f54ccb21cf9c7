import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { withoutNinthDigit } from '../domain/phone';
import type { Database, HandledByKind, InteractionChannel, InteractionDirection } from './schema';

/**
 * The one record of every touch with a person (table `interactions`, migration 0060). Every write
 * is an upsert on (tenant, channel, source key) that MERGES into what is there, so writers may come
 * in any order and any number of times:
 * - identity (phone, contacts, buyer, campaign/send/account) fills gaps, never overwrites;
 * - `startedAt` keeps the earliest, `endedAt` the latest; `outcome` takes the newest value given
 *   (null leaves it alone), `handledBy` too unless a person already handled it (see handlerRank);
 *   `details` is merged key by key (newest wins);
 * - `events` are added by `key`: an event already recorded under that key is kept as it was.
 * Call it with the transaction that records the event itself.
 */

export interface InteractionEventInput {
  type: string;
  at: Date;
  /** Deduplicates repeated writes of the same event; default `<type>@<at ISO>`. */
  key?: string;
  data?: Record<string, unknown>;
}

export interface InteractionInput {
  tenantId: string;
  channel: InteractionChannel;
  direction: InteractionDirection;
  /** `call`, `template_message`, `reply`, `question`, `answer`, `message`… */
  kind: string;
  /** The event's own business key (attempt key, `bm:<send>:<contact>`, wamid, ML question id…). */
  sourceKey: string;
  phone?: string | null;
  companyContactId?: string | null;
  contactId?: number | null;
  mlBuyerId?: string | null;
  campaignId?: string | null;
  sendId?: string | null;
  mlAccountId?: string | null;
  /** Default: the earliest event's time, else now. */
  startedAt?: Date;
  endedAt?: Date | null;
  outcome?: string | null;
  handledBy?: { kind: HandledByKind; id?: string | null } | null;
  details?: Record<string, unknown>;
  events?: InteractionEventInput[];
}

export interface RecordedInteraction {
  id: number;
  sourceKey: string;
  /** False when the write merged into an existing row. */
  inserted: boolean;
}

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * The columns a source SELECT for {@link upsertInteractionsFrom} yields, in this order:
 * tenant_id uuid, channel, direction, kind, source_key, phone, phone_key text, company_contact_id uuid,
 * contact_id bigint, ml_buyer_id text, campaign_id, send_id, ml_account_id uuid, started_at,
 * ended_at timestamptz, outcome, handled_by_kind, handled_by_id text, details, events jsonb.
 */
export const INTERACTION_COLUMNS = [
  'tenant_id',
  'channel',
  'direction',
  'kind',
  'source_key',
  'phone',
  'phone_key',
  'company_contact_id',
  'contact_id',
  'ml_buyer_id',
  'campaign_id',
  'send_id',
  'ml_account_id',
  'started_at',
  'ended_at',
  'outcome',
  'handled_by_kind',
  'handled_by_id',
  'details',
  'events',
] as const;

/** SQL for phone_key: a Brazilian mobile without its ninth digit (as `withoutNinthDigit`). */
export const phoneKeySql = (phone: RawBuilder<unknown>) =>
  sql<string>`CASE WHEN length(${phone}) = 13 AND left(${phone}, 2) = '55' AND substr(${phone}, 5, 1) = '9'
    THEN left(${phone}, 4) || substr(${phone}, 6) ELSE ${phone} END`;

/** SQL for a timestamp as the events' `at` (the ISO 8601 form of JavaScript's toISOString). */
export const isoSql = (ts: RawBuilder<unknown>) => sql<string>`to_char(${ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** SQL for one event, `[]` when its time is null: `events` is the `||` of several. */
export const eventSql = (type: string, at: RawBuilder<unknown>, data?: RawBuilder<unknown>) =>
  sql`CASE WHEN ${at} IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'key', ${type}::text, 'at', ${isoSql(at)}, 'type', ${type}::text, 'data', ${data ?? sql`NULL::jsonb`}))) END`;

/**
 * Who handled it: a person (agent, then user) outranks an automatic rule, which outranks the system;
 * among equals the newest write wins. So the dialer's "system" at the end of a call never hides the
 * agent who took it.
 */
const handlerRank = (kind: string) => sql`CASE ${sql.raw(kind)} WHEN 'agent' THEN 4 WHEN 'user' THEN 3 WHEN 'rule' THEN 2 WHEN 'system' THEN 1 ELSE 0 END`;
const takesHandler = sql`EXCLUDED.handled_by_kind IS NOT NULL AND ${handlerRank('EXCLUDED.handled_by_kind')} >= ${handlerRank('i.handled_by_kind')}`;

/**
 * Upserts the rows of `source` (a SELECT yielding {@link INTERACTION_COLUMNS}, at most one row per
 * source key) with the merge rules above. For the hot paths that project their own rows in SQL
 * (a batch of call attempts, of WhatsApp messages) without a round trip through JavaScript.
 * `withClause` (`WITH … AS (…)`) lets the source read rows a data-modifying CTE just wrote, so the
 * source write and its interactions are one statement.
 */
export async function upsertInteractionsFrom(db: Executor, source: RawBuilder<unknown>, withClause?: RawBuilder<unknown>): Promise<RecordedInteraction[]> {
  const { rows } = await sql<{ id: number; source_key: string; inserted: boolean }>`
    ${withClause ?? sql``}
    INSERT INTO interactions AS i (${sql.join(INTERACTION_COLUMNS.map((c) => sql.id(c)))})
    ${source}
    ON CONFLICT ON CONSTRAINT interactions_source_key DO UPDATE SET
      phone = COALESCE(i.phone, EXCLUDED.phone),
      phone_key = COALESCE(i.phone_key, EXCLUDED.phone_key),
      company_contact_id = COALESCE(i.company_contact_id, EXCLUDED.company_contact_id),
      contact_id = COALESCE(i.contact_id, EXCLUDED.contact_id),
      ml_buyer_id = COALESCE(i.ml_buyer_id, EXCLUDED.ml_buyer_id),
      campaign_id = COALESCE(i.campaign_id, EXCLUDED.campaign_id),
      send_id = COALESCE(i.send_id, EXCLUDED.send_id),
      ml_account_id = COALESCE(i.ml_account_id, EXCLUDED.ml_account_id),
      started_at = LEAST(i.started_at, EXCLUDED.started_at),
      ended_at = GREATEST(i.ended_at, EXCLUDED.ended_at),
      outcome = COALESCE(EXCLUDED.outcome, i.outcome),
      handled_by_kind = CASE WHEN ${takesHandler} THEN EXCLUDED.handled_by_kind ELSE i.handled_by_kind END,
      handled_by_id = CASE WHEN ${takesHandler} THEN EXCLUDED.handled_by_id ELSE i.handled_by_id END,
      details = i.details || EXCLUDED.details,
      events = i.events || COALESCE((
        SELECT jsonb_agg(e) FROM jsonb_array_elements(EXCLUDED.events) e
        WHERE NOT i.events @> jsonb_build_array(jsonb_build_object('key', e -> 'key'))), '[]'::jsonb),
      updated_at = now()
    RETURNING id, source_key, (xmax = 0) AS inserted`.execute(db);
  return rows.map((r) => ({ id: Number(r.id), sourceKey: r.source_key, inserted: r.inserted }));
}

const eventJson = (e: InteractionEventInput) => {
  const at = e.at.toISOString();
  return { key: e.key ?? `${e.type}@${at}`, at, type: e.type, ...(e.data ? { data: e.data } : {}) };
};

/** Several writes for the same source key in one batch become one (ON CONFLICT may touch a row once). */
function mergeSameKey(inputs: InteractionInput[]): InteractionInput[] {
  const byKey = new Map<string, InteractionInput>();
  for (const input of inputs) {
    const k = `${input.tenantId}\u0000${input.channel}\u0000${input.sourceKey}`;
    const before = byKey.get(k);
    if (!before) {
      byKey.set(k, input);
      continue;
    }
    const starts = [before.startedAt, input.startedAt].filter((d): d is Date => !!d);
    const ends = [before.endedAt, input.endedAt].filter((d): d is Date => !!d);
    byKey.set(k, {
      ...before,
      ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && v !== null)),
      phone: before.phone ?? input.phone,
      companyContactId: before.companyContactId ?? input.companyContactId,
      contactId: before.contactId ?? input.contactId,
      startedAt: starts.length ? new Date(Math.min(...starts.map(Number))) : undefined,
      endedAt: ends.length ? new Date(Math.max(...ends.map(Number))) : null,
      details: { ...before.details, ...input.details },
      events: [...(before.events ?? []), ...(input.events ?? [])],
    });
  }
  return [...byKey.values()];
}

/** Records (upserts) a batch of interactions in one statement. Returns one entry per source key. */
export async function recordInteractions(db: Executor, inputs: InteractionInput[]): Promise<RecordedInteraction[]> {
  if (inputs.length === 0) return [];
  const rows = mergeSameKey(inputs).map((x) => {
    const seen = new Set<string>();
    const events = (x.events ?? []).map(eventJson).filter((e) => !seen.has(e.key) && seen.add(e.key));
    const firstAt = events.length ? events.map((e) => e.at).sort()[0] : undefined;
    const phone = x.phone ?? null;
    return {
      tenant_id: x.tenantId,
      channel: x.channel,
      direction: x.direction,
      kind: x.kind,
      source_key: x.sourceKey,
      phone,
      phone_key: phone === null ? null : withoutNinthDigit(phone),
      company_contact_id: x.companyContactId ?? null,
      contact_id: x.contactId ?? null,
      ml_buyer_id: x.mlBuyerId ?? null,
      campaign_id: x.campaignId ?? null,
      send_id: x.sendId ?? null,
      ml_account_id: x.mlAccountId ?? null,
      started_at: x.startedAt?.toISOString() ?? firstAt ?? new Date().toISOString(),
      ended_at: x.endedAt?.toISOString() ?? null,
      outcome: x.outcome ?? null,
      handled_by_kind: x.handledBy?.kind ?? null,
      handled_by_id: x.handledBy?.id ?? null,
      details: x.details ?? {},
      events,
    };
  });
  return upsertInteractionsFrom(
    db,
    sql`SELECT ${sql.join(INTERACTION_COLUMNS.map((c) => sql.id(c)))}
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          tenant_id uuid, channel text, direction text, kind text, source_key text, phone text, phone_key text,
          company_contact_id uuid, contact_id bigint, ml_buyer_id text, campaign_id uuid, send_id uuid, ml_account_id uuid,
          started_at timestamptz, ended_at timestamptz, outcome text, handled_by_kind text, handled_by_id text, details jsonb, events jsonb)`,
  );
}

/** Records (upserts) one interaction; see the module's merge rules. */
export async function recordInteraction(db: Executor, input: InteractionInput): Promise<RecordedInteraction> {
  const [recorded] = await recordInteractions(db, [input]);
  return recorded;
}
