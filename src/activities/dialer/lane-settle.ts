import type { Kysely } from 'kysely';
import { outcomeFromHangup } from '../../domain/call-outcome';
import { journalCovers, journaledCall } from '../../db/ari-journal';
import type { Database } from '../../db/schema';
import type { CallEnd } from './call-end';

/** A call whose end this lane did not see: its key (the channel id) and when its attempt was recorded. */
export interface UnseenCall {
  key: string;
  startedAt: Date;
}

/** What this lane itself saw of the call (polling a dead lane's channel, or before its WebSocket dropped). */
export interface SeenSoFar {
  sawUp: boolean;
  amdStatus?: string;
}

export interface SettleOptions {
  /** How long to wait for the recorder to have written past the moment the channel was found gone. */
  waitMs?: number;
  pollMs?: number;
  /** Asterisk's ChannelDestroyed may reach the recorder a little after our GET saw the channel gone. */
  marginMs?: number;
}

/**
 * Settles a call from the ARI event journal (src/recorder.ts). In order:
 * - the journal has its ChannelDestroyed: the real outcome, with its Q.850 cause and timings;
 * - the journal covers the call's whole life and has no event of it: Asterisk never created the
 *   channel (the worker died between recording the attempt and originating) — a `network_failure`
 *   that placed no call, redialled for free;
 * - it was seen answered (by the journal or by us): `answered` (`answering_machine` after MACHINE);
 * - otherwise nothing says what happened: `unknown` (the strategy decides; by default no redial
 *   within the hour, since the customer may have answered).
 * Every such end is `lost` (not seen by the lane that placed it); its cause is 0 unless the journal had it.
 */
export async function settleUnseen(db: Kysely<Database>, call: UnseenCall, seen: SeenSoFar, options: SettleOptions = {}): Promise<CallEnd> {
  const { waitMs = 3_000, pollMs = 100, marginMs = 250 } = options;
  const goneAt = new Date();
  const until = new Date(goneAt.getTime() + marginMs);
  const deadline = Date.now() + waitMs;
  let covered = await journalCovers(db, call.startedAt, until);
  while (!covered && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, pollMs));
    covered = await journalCovers(db, call.startedAt, until);
  }
  const journal = await journaledCall(db, call.key);
  const amdStatus = journal.amdStatus ?? seen.amdStatus;
  const reachedUp = seen.sawUp || journal.answeredAt !== undefined;
  const endedAt = journal.destroyed?.at ?? (goneAt < call.startedAt ? call.startedAt : goneAt);
  const base = { lost: true, amdStatus, answeredAt: journal.answeredAt, endedAt, cause: 0, causeTxt: '', ringMs: 0, talkMs: 0 };
  if (journal.destroyed) {
    const created = (journal.createdAt ?? call.startedAt).getTime();
    const ended = journal.destroyed.at.getTime();
    return {
      ...base,
      outcome: outcomeFromHangup({ cause: journal.destroyed.cause, reachedUp, amdStatus }),
      cause: journal.destroyed.cause,
      causeTxt: journal.destroyed.causeTxt,
      ringMs: Math.max(0, (journal.answeredAt?.getTime() ?? ended) - created),
      talkMs: journal.answeredAt ? Math.max(0, ended - journal.answeredAt.getTime()) : 0,
    };
  }
  if (covered && !journal.placed && !seen.sawUp) return { ...base, outcome: 'network_failure' };
  if (reachedUp) return { ...base, outcome: amdStatus === 'MACHINE' ? 'answering_machine' : 'answered' };
  return { ...base, outcome: 'unknown' };
}
