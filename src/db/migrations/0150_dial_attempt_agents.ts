import { sql, type Kysely } from 'kysely';

/**
 * An answered call handed to an agent (issue 12, agent-connect.ts): which agent, when the agent's
 * phone was rung (written BEFORE the originate, so a worker taking the call over never rings it a
 * second time), when both were bridged, how long the customer waited for the agent and how long
 * they talked. `abandoned_at` is written before the abandon message plays (a customer who found
 * no agent): the call then ends `abandoned` however its end is learnt. All nullable, no default:
 * adding them rewrites nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE dial_attempts
    ADD COLUMN agent_id uuid REFERENCES agents(id),
    ADD COLUMN agent_dialed_at timestamptz,
    ADD COLUMN bridged_at timestamptz,
    ADD COLUMN agent_wait_ms integer,
    ADD COLUMN agent_talk_ms integer,
    ADD COLUMN abandoned_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE dial_attempts
    DROP COLUMN agent_id, DROP COLUMN agent_dialed_at, DROP COLUMN bridged_at,
    DROP COLUMN agent_wait_ms, DROP COLUMN agent_talk_ms, DROP COLUMN abandoned_at`.execute(db);
}
