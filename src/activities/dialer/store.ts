import { sql, type Kysely } from 'kysely';
import type { CallOutcome } from '../../domain/call-outcome';
import type { ContactProgress, NextStep } from '../../domain/dialer/contact-progress';
import { currentPhone } from '../../domain/dialer/contact-progress';
import { strategyConfigSchema, type StrategyConfig } from '../../domain/dialer/strategy';
import { dddOf } from '../../domain/dialer/windows';
import type { Database } from '../../db/schema';
import { recordWrittenCallInteractions } from '../../db/interaction-sources';

/** PostgreSQL side of the dialer: campaign contacts, attempts, claims. Set-based where it can be. */

export interface CampaignContext {
  campaignId: string;
  tenantId: string;
  groupId: string;
  status: string;
  endAt: Date | null;
  strategyVersion: number;
  strategy: StrategyConfig;
  /** The cycle under way; attempts record it. */
  cycle: number;
}

export async function loadCampaign(db: Kysely<Database>, campaignId: string): Promise<CampaignContext> {
  const row = await db
    .selectFrom('dialer_campaigns as c')
    .innerJoin('dial_strategies as s', 's.id', 'c.strategy_id')
    .select(['c.id', 'c.tenant_id', 'c.group_id', 'c.status', 'c.end_at', 'c.cycle', 's.version', 's.config'])
    .where('c.id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return {
    campaignId: row.id,
    tenantId: row.tenant_id,
    groupId: row.group_id,
    status: row.status,
    endAt: row.end_at ? new Date(row.end_at) : null,
    strategyVersion: row.version,
    strategy: strategyConfigSchema.parse(row.config),
    cycle: Math.max(1, row.cycle),
  };
}

/** A phone is blocked when it is on the tenant's voice opt-outs/block list (with or without 55). */
const blockedPhones = (tenantId: string, phones: ReturnType<typeof sql>) => sql<boolean>`EXISTS (
  SELECT 1 FROM phone_opt_outs o
  WHERE o.tenant_id = ${tenantId} AND o.channel = 'voice' AND (o.phone = ANY(${phones}) OR '55' || o.phone = ANY(${phones})))`;

/**
 * Builds the campaign's contact list from its group in one INSERT … SELECT (idempotent), then
 * marks the contacts on the block list or opted out of voice as `blocked`: they are never called.
 */
export async function prepareContacts(db: Kysely<Database>, campaign: CampaignContext): Promise<{ total: number; blocked: number }> {
  const columns = campaign.strategy.phoneOrder.columns;
  return db.transaction().execute(async (trx) => {
    const locked = await trx
      .selectFrom('dialer_campaigns')
      .select(['prepared', 'total_contacts'])
      .where('id', '=', campaign.campaignId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (locked.prepared) {
      const blocked = await trx
        .selectFrom('dialer_contacts')
        .select(sql<number>`count(*)::int`.as('n'))
        .where('campaign_id', '=', campaign.campaignId)
        .where('state', '=', 'blocked')
        .executeTakeFirstOrThrow();
      return { total: locked.total_contacts, blocked: blocked.n };
    }
    const inserted = await sql<{ n: number }>`
      WITH ins AS (
        INSERT INTO dialer_contacts (campaign_id, contact_id, phones, ddd, phone_attempts)
        SELECT ${campaign.campaignId}::uuid, c.id, c.phones,
               substring(COALESCE((SELECT c.phones[u.col + 1] FROM unnest(${columns}::int[]) WITH ORDINALITY u(col, o)
                                   WHERE u.col < cardinality(c.phones) ORDER BY u.o LIMIT 1), c.phones[1]) FROM 3 FOR 2),
               array_fill(0, ARRAY[cardinality(c.phones)])
        FROM contacts c
        WHERE c.group_id = ${campaign.groupId} AND cardinality(c.phones) > 0
        ON CONFLICT DO NOTHING
        RETURNING 1)
      SELECT count(*)::int AS n FROM ins`.execute(trx);
    const blocked = await sql<{ n: number }>`
      WITH upd AS (
        UPDATE dialer_contacts d
        SET state = 'blocked', final_outcome = 'blocked', last_outcome = 'blocked', updated_at = now()
        FROM contacts c LEFT JOIN company_contacts cc ON cc.id = c.company_contact_id
        WHERE d.campaign_id = ${campaign.campaignId} AND c.id = d.contact_id AND d.state = 'pending'
          AND (COALESCE(cc.opt_out_voice, false) OR ${blockedPhones(campaign.tenantId, sql`d.phones`)})
        RETURNING 1)
      SELECT count(*)::int AS n FROM upd`.execute(trx);
    const total = inserted.rows[0].n;
    await trx
      .updateTable('dialer_campaigns')
      .set({ prepared: true, total_contacts: total, started_at: sql`COALESCE(started_at, now())` })
      .where('id', '=', campaign.campaignId)
      .execute();
    return { total, blocked: blocked.rows[0].n };
  });
}

export interface ClaimedContact {
  contactId: number;
  progress: ContactProgress;
  blocked: boolean;
}

/**
 * Claims up to `limit` due contacts (`pending` → `queued`), skipping DDDs closed by state hours.
 * `blocked` re-checks the block list at dial time (an opt-out may arrive mid-campaign).
 */
export async function claimDue(db: Kysely<Database>, campaign: CampaignContext, limit: number, closedDdds: string[]): Promise<ClaimedContact[]> {
  const { rows } = await sql<{
    contact_id: number;
    phones: string[];
    phone_idx: number;
    attempts: number;
    phone_attempts: number[];
    dials: number;
    blocked: boolean;
  }>`
    WITH due AS (
      SELECT contact_id FROM dialer_contacts
      WHERE campaign_id = ${campaign.campaignId} AND state = 'pending' AND next_attempt_at <= now()
        AND (ddd IS NULL OR NOT (ddd = ANY(${closedDdds}::text[])))
      ORDER BY next_attempt_at, contact_id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    UPDATE dialer_contacts d SET state = 'queued', updated_at = now()
    FROM due
    WHERE d.campaign_id = ${campaign.campaignId} AND d.contact_id = due.contact_id
    RETURNING d.contact_id, d.phones, d.phone_idx, d.attempts, d.phone_attempts, d.dials,
      (${blockedPhones(campaign.tenantId, sql`d.phones`)}
       OR EXISTS (SELECT 1 FROM contacts c JOIN company_contacts cc ON cc.id = c.company_contact_id
                  WHERE c.id = d.contact_id AND cc.opt_out_voice)) AS blocked`.execute(db);
  return rows.map((r) => ({
    contactId: Number(r.contact_id),
    blocked: r.blocked,
    progress: { phones: r.phones, phoneIdx: r.phone_idx, attempts: r.attempts, phoneAttempts: r.phone_attempts, dials: r.dials },
  }));
}

/** The business key of an attempt, also its ARI channelId: unique per campaign, contact, cycle and dial. */
export const attemptKey = (campaignId: string, contactId: number, cycle: number, dialNo: number) => `dc:${campaignId}:${contactId}:${cycle}:${dialNo}`;

export interface NewAttempt {
  key: string;
  contactId: number;
  dialNo: number;
  attemptNo: number;
  phone: string;
}

/**
 * Records attempts BEFORE their originate (one round trip for the batch) and marks the contacts
 * `dialing`. Returns the keys actually recorded: a key already present belongs to another lane of
 * the same campaign (an earlier activity attempt still finishing after a heartbeat timeout), and
 * that lane places the call — this one must not.
 */
export async function insertAttempts(db: Kysely<Database>, campaign: CampaignContext, attempts: NewAttempt[]): Promise<Set<string>> {
  if (!attempts.length) return new Set();
  const { rows } = await sql<{ attempt_key: string }>`
    WITH ins AS (
      INSERT INTO dial_attempts (attempt_key, tenant_id, campaign_id, contact_id, dial_no, attempt_no, phone, strategy_version, cycle)
      SELECT k, ${campaign.tenantId}::uuid, ${campaign.campaignId}::uuid, c, d, a, p, ${campaign.strategyVersion}::int, ${campaign.cycle}::int
      FROM unnest(${attempts.map((a) => a.key)}::text[], ${attempts.map((a) => a.contactId)}::bigint[],
                  ${attempts.map((a) => a.dialNo)}::int[], ${attempts.map((a) => a.attemptNo)}::int[],
                  ${attempts.map((a) => a.phone)}::text[]) AS t(k, c, d, a, p)
      ON CONFLICT (attempt_key) DO NOTHING
      RETURNING contact_id, attempt_key),
    marked AS (
      UPDATE dialer_contacts SET state = 'dialing', updated_at = now()
      WHERE campaign_id = ${campaign.campaignId} AND contact_id IN (SELECT contact_id FROM ins))
    SELECT attempt_key FROM ins`.execute(db);
  return new Set(rows.map((r) => r.attempt_key));
}

/** Drops attempts whose originate certainly did not place a call; their contacts are due again soon. */
export async function withdrawAttempts(db: Kysely<Database>, campaign: CampaignContext, keys: string[], retryInMs: number): Promise<void> {
  if (!keys.length) return;
  await sql`
    WITH del AS (DELETE FROM dial_attempts WHERE attempt_key = ANY(${keys}::text[]) AND state = 'dialing' RETURNING contact_id)
    UPDATE dialer_contacts SET state = 'pending', next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}), updated_at = now()
    WHERE campaign_id = ${campaign.campaignId} AND contact_id IN (SELECT contact_id FROM del)`.execute(db);
}

export interface CallResult {
  key: string;
  contactId: number;
  outcome: CallOutcome;
  cause: number | null;
  causeTxt: string | null;
  ringMs: number;
  talkMs: number;
  lost: boolean;
  answeredAt: Date | null;
  endedAt: Date;
  amdStatus: string | null;
  step: NextStep;
}

/**
 * Writes a batch of finished calls in one statement: the attempts' outcomes (`written`, only those
 * still `dialing`: a repeat changes nothing), their interactions projected from the written rows,
 * and their contacts' next state. One round trip instead of a transaction of five.
 */
export async function recordResults(db: Kysely<Database>, campaign: CampaignContext, results: CallResult[]): Promise<void> {
  if (!results.length) return;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const keys = results.map((r) => r.key);
  const withClause = sql`
    WITH written AS (
      UPDATE dial_attempts a SET state = 'done', outcome = t.outcome, cause = t.cause, cause_txt = t.cause_txt,
        ring_ms = t.ring_ms, talk_ms = t.talk_ms, lost = t.lost, answered_at = t.answered_at, ended_at = t.ended_at, amd_status = t.amd_status
      FROM unnest(${keys}::text[], ${results.map((r) => r.outcome)}::text[], ${results.map((r) => r.cause)}::int[],
                  ${results.map((r) => r.causeTxt)}::text[], ${results.map((r) => r.ringMs)}::int[], ${results.map((r) => r.talkMs)}::int[],
                  ${results.map((r) => r.lost)}::boolean[], ${results.map((r) => iso(r.answeredAt))}::timestamptz[],
                  ${results.map((r) => iso(r.endedAt))}::timestamptz[], ${results.map((r) => r.amdStatus)}::text[])
        AS t(key, outcome, cause, cause_txt, ring_ms, talk_ms, lost, answered_at, ended_at, amd_status)
      WHERE a.attempt_key = t.key AND a.state = 'dialing'
      RETURNING a.*),
    contacts_written AS (
      UPDATE dialer_contacts d SET state = t.state, next_attempt_at = COALESCE(t.next_at, d.next_attempt_at), phone_idx = t.phone_idx,
        ddd = t.ddd, attempts = t.attempts, phone_attempts = string_to_array(t.phone_attempts, ',')::int[], dials = t.dials,
        last_outcome = t.outcome, final_outcome = t.final_outcome, updated_at = now()
      FROM unnest(${results.map((r) => r.contactId)}::bigint[], ${results.map((r) => r.step.state)}::text[],
                  ${results.map((r) => (r.step.state === 'pending' ? r.step.nextAttemptAt.toISOString() : null))}::timestamptz[],
                  ${results.map((r) => r.step.progress.phoneIdx)}::int[],
                    ${results.map((r) => dddOf(currentPhone(campaign.strategy, r.step.progress)))}::text[],
                  ${results.map((r) => r.step.progress.attempts)}::int[], ${results.map((r) => r.step.progress.phoneAttempts.join(','))}::text[],
                  ${results.map((r) => r.step.progress.dials)}::int[], ${results.map((r) => r.outcome)}::text[],
                  ${results.map((r) => (r.step.state === 'pending' ? null : r.step.finalOutcome))}::text[])
        AS t(contact_id, state, next_at, phone_idx, ddd, attempts, phone_attempts, dials, outcome, final_outcome)
      WHERE d.campaign_id = ${campaign.campaignId} AND d.contact_id = t.contact_id)`;
  await recordWrittenCallInteractions(db, withClause, sql`written`, keys);
}

/** Contacts that were claimed but never dialled go back to `pending` (a lane stopped or died). */
export async function releaseQueued(db: Kysely<Database>, campaignId: string): Promise<number> {
  const res = await sql`
    UPDATE dialer_contacts d SET state = 'pending', updated_at = now()
    WHERE d.campaign_id = ${campaignId} AND d.state IN ('queued', 'dialing')
      AND NOT EXISTS (SELECT 1 FROM dial_attempts a WHERE a.campaign_id = d.campaign_id AND a.contact_id = d.contact_id AND a.state = 'dialing')`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}

/** Attempts left `dialing` by a lane that died: to be reconciled with Asterisk. */
export async function openAttempts(db: Kysely<Database>, campaignId: string) {
  const rows = await db
    .selectFrom('dial_attempts as a')
    .innerJoin('dialer_contacts as d', (j) => j.onRef('d.campaign_id', '=', 'a.campaign_id').onRef('d.contact_id', '=', 'a.contact_id'))
    .select(['a.attempt_key', 'a.contact_id', 'a.started_at', 'd.phones', 'd.phone_idx', 'd.attempts', 'd.phone_attempts', 'd.dials'])
    .where('a.campaign_id', '=', campaignId)
    .where('a.state', '=', 'dialing')
    .execute();
  return rows.map((r) => ({
    key: r.attempt_key,
    contactId: Number(r.contact_id),
    startedAt: new Date(r.started_at),
    progress: { phones: r.phones, phoneIdx: r.phone_idx, attempts: r.attempts, phoneAttempts: r.phone_attempts, dials: r.dials } as ContactProgress,
  }));
}

export interface RemainingSummary {
  /** Contacts not yet final (pending, queued, dialing). */
  open: number;
  nextDueAt: Date | null;
  /** DDDs of pending contacts (to find when a closed state opens). */
  pendingDdds: Array<string | null>;
}

export async function remaining(db: Kysely<Database>, campaignId: string): Promise<RemainingSummary> {
  const row = await db
    .selectFrom('dialer_contacts')
    .select([
      sql<number>`count(*)::int`.as('open'),
      sql<Date | null>`min(next_attempt_at) FILTER (WHERE state = 'pending')`.as('next_due'),
      sql<Array<string | null>>`array_agg(DISTINCT ddd) FILTER (WHERE state = 'pending')`.as('ddds'),
    ])
    .where('campaign_id', '=', campaignId)
    .where('state', 'in', ['pending', 'queued', 'dialing'])
    .executeTakeFirstOrThrow();
  return { open: row.open, nextDueAt: row.next_due ? new Date(row.next_due) : null, pendingDdds: row.ddds ?? [] };
}
