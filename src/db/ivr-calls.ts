import { sql, type Kysely } from 'kysely';
import type { IvrCommand, IvrState } from '../domain/dialer/ivr-interpreter';
import type { TransferTarget } from '../domain/dialer/ivr-flow';
import { recordCallInteractions } from './interaction-sources';
import type { Database } from './schema';

/**
 * A call's time in an IVR flow, as rows: the call (the interpreter's state, so another worker can
 * continue it; its disposition, opt-out and transfer) and its path (one row per node entered, keyed
 * by call and position). Every write is idempotent: a step retried after a crash changes nothing twice.
 */

export interface IvrCallStart {
  attemptKey: string;
  tenantId: string;
  campaignId: string;
  contactId: number;
  phone: string;
  flowId: string;
  flowVersion: number;
}

/** Records that a call entered a flow, and its first step. A second call with the same key keeps the first. */
export async function openIvrCall(db: Kysely<Database>, call: IvrCallStart, step: { state: IvrState; commands: IvrCommand[] }, at: Date): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('ivr_calls')
      .values({
        attempt_key: call.attemptKey,
        tenant_id: call.tenantId,
        campaign_id: call.campaignId,
        contact_id: call.contactId,
        phone: call.phone,
        flow_id: call.flowId,
        flow_version: call.flowVersion,
        state: JSON.stringify(step.state),
        current_node: step.state.node,
        entered_at: at,
      })
      .onConflict((oc) => oc.column('attempt_key').doNothing())
      .returning('attempt_key')
      .executeTakeFirst();
    if (!inserted) return false;
    await writeStep(trx, call.attemptKey, step, at);
    return true;
  });
}

/**
 * Applies one interpreter step: path rows, disposition, opt-out, transfer and the new state, in one
 * transaction and only if the stored state is still the one the step started from (compare and
 * swap), so two workers applying the same event cannot both act. False when it was not applied.
 */
export async function recordIvrStep(
  db: Kysely<Database>,
  attemptKey: string,
  from: IvrState,
  step: { state: IvrState; commands: IvrCommand[] },
  at: Date,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('ivr_calls')
      .select(sql<boolean>`state = ${JSON.stringify(from)}::jsonb`.as('unchanged'))
      .where('attempt_key', '=', attemptKey)
      .forUpdate()
      .executeTakeFirst();
    if (!current?.unchanged) return false;
    await writeStep(trx, attemptKey, step, at);
    return true;
  });
}

async function writeStep(trx: Kysely<Database>, attemptKey: string, step: { state: IvrState; commands: IvrCommand[] }, at: Date): Promise<void> {
  const ending = step.state.phase === 'done';
  // The attempt's row first (as the dialer's end of call takes it): whichever of the two commits
  // second sees the other's write, so the call's interaction always ends up with the whole path.
  if (ending) await trx.selectFrom('dial_attempts').select('attempt_key').where('attempt_key', '=', attemptKey).forUpdate().execute();
  const call = await trx.selectFrom('ivr_calls').select(['tenant_id', 'phone']).where('attempt_key', '=', attemptKey).executeTakeFirstOrThrow();
  let keys = '';
  const changes: { disposition?: string; opted_out?: boolean; transferred_to?: string | null } = {};
  for (const c of step.commands) {
    switch (c.kind) {
      case 'enter_node':
        await trx
          .insertInto('ivr_path_steps')
          .values({ attempt_key: attemptKey, seq: c.seq, node: c.node, entered_at: at })
          .onConflict((oc) => oc.columns(['attempt_key', 'seq']).doNothing())
          .execute();
        break;
      case 'leave_node': {
        const left = await trx
          .updateTable('ivr_path_steps')
          .set({ left_at: at, keys: c.keys, entry: c.entry, exit: c.exit })
          .where('attempt_key', '=', attemptKey)
          .where('seq', '=', c.seq)
          .where('exit', 'is', null)
          .executeTakeFirst();
        if (Number(left.numUpdatedRows) > 0) keys += c.keys;
        if (c.exit === 'no_agent') changes.transferred_to = null;
        break;
      }
      case 'set_disposition':
        changes.disposition = c.disposition;
        break;
      case 'opt_out':
        changes.opted_out = true;
        // LGPD: the phone leaves every voice campaign of the tenant (campaigns block voice opt-outs).
        await trx
          .insertInto('phone_opt_outs')
          .values({ tenant_id: call.tenant_id, channel: 'voice', phone: call.phone, source: 'ivr', reason: 'Pediu para não receber ligações (URA)' })
          .onConflict((oc) => oc.columns(['tenant_id', 'channel', 'phone', 'source']).doNothing())
          .execute();
        break;
      case 'transfer':
        changes.transferred_to = transferLabel(c.target);
        break;
      default:
        break;
    }
  }
  await trx
    .updateTable('ivr_calls')
    .set({
      state: JSON.stringify(step.state),
      current_node: step.state.node,
      keys: sql`keys || ${keys}`,
      ...changes,
      ...(ending ? { ended_at: sql`COALESCE(ended_at, ${at})` } : {}),
    })
    .where('attempt_key', '=', attemptKey)
    .execute();
  // A call already over for the dialer had its interaction written without the flow's end: complete it.
  if (ending) await recordCallInteractions(trx, [attemptKey]);
}

/** A transfer to an agent of the campaign, as stored; the Relatório IVR adds the agent who took it. */
export const AGENT_TRANSFER = 'agente';

/** How the report names a transfer target. */
export const transferLabel = (target: TransferTarget) =>
  target.kind === 'campaign_agent' ? AGENT_TRANSFER : `dialplan:${target.context}/${target.extension}/${target.priority}`;

/** The stored state of a call in a flow (to continue it after a worker died), or undefined. */
export async function ivrCallState(db: Kysely<Database>, attemptKey: string): Promise<{ state: IvrState; flowId: string; flowVersion: number } | undefined> {
  const row = await db.selectFrom('ivr_calls').select(['state', 'flow_id', 'flow_version']).where('attempt_key', '=', attemptKey).executeTakeFirst();
  return row ? { state: row.state as IvrState, flowId: row.flow_id, flowVersion: row.flow_version } : undefined;
}
