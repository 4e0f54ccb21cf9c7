import type { AriSession } from './ari-session';
import type { LaneCall } from './call-book';
import type { CallEnd } from './call-end';

/** An attempt a dead lane left `dialing`, as found in PostgreSQL. */
export interface OrphanAttempt extends LaneCall {
  key: string;
  startedAt: Date;
}

/**
 * Follows a call placed by an earlier (dead) lane: its events go to that lane's app, so poll.
 * A call that lane sent through answering-machine detection is carried through it here (its
 * detector will never see the call come back): answered → sent to AMD(), in AMD → waited for,
 * back → AMDSTATUS read and a machine hung up (amd.ts `resume`). If the channel vanishes first,
 * what was seen decides, as for any call lost from sight (call-tracker.ts): up → `answered`
 * (`answering_machine` if MACHINE was read), never up → `network_failure`. An AMD left undecided
 * thus counts as answered: nothing says it was a machine.
 */
export async function followOrphan(session: Pick<AriSession, 'client' | 'amd'>, orphan: OrphanAttempt, pollMs: number): Promise<CallEnd> {
  const { client, amd } = session;
  let sawUp = false;
  let amdStatus: string | undefined;
  for (;;) {
    const channel = await client.getChannel(orphan.key).catch(() => null);
    if (channel === undefined) break;
    if (channel?.state === 'Up') sawUp = true;
    // Errors are retried on the next poll, like getChannel's.
    if (channel && !amdStatus) amdStatus = await amd.resume(channel).catch(() => undefined);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const endedAt = new Date();
  return {
    outcome: sawUp ? (amdStatus === 'MACHINE' ? 'answering_machine' : 'answered') : 'network_failure',
    cause: 0,
    causeTxt: '',
    ringMs: 0,
    talkMs: 0,
    lost: true,
    answeredAt: undefined,
    endedAt: endedAt < orphan.startedAt ? orphan.startedAt : endedAt,
    amdStatus,
  };
}

/** A dead lane's call Asterisk no longer knows: it ended while nobody listened. */
export const endedUnseen = (): CallEnd => ({
  outcome: 'network_failure',
  cause: 0,
  causeTxt: '',
  ringMs: 0,
  talkMs: 0,
  lost: true,
  answeredAt: undefined,
  endedAt: new Date(),
});
