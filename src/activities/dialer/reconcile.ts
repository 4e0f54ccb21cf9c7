import type { AriSession } from './ari-session';
import type { LaneCall } from './call-book';
import type { SeenSoFar } from './lane-settle';

/** An attempt a dead lane left `dialing`, as found in PostgreSQL. */
export interface OrphanAttempt extends LaneCall {
  key: string;
}

/**
 * Follows a call placed by an earlier (dead) lane until Asterisk no longer has it: its events go
 * to that lane's app, so poll. A call that lane sent through answering-machine detection is
 * carried through it here (its detector will never see the call come back): answered → sent to
 * AMD(), in AMD → waited for, back → AMDSTATUS read and a machine hung up (amd.ts `resume`).
 * Answers what was seen; the journal then says how it ended (lane-settle.ts).
 */
export async function followOrphan(session: Pick<AriSession, 'client' | 'amd'>, orphan: OrphanAttempt, pollMs: number): Promise<SeenSoFar> {
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
  return { sawUp, amdStatus };
}
