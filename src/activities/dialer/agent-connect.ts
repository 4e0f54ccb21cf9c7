import type { Kysely } from 'kysely';
import { releaseAgent, reservationOf, reserveAgent, type Reservation } from '../../db/agents';
import { recordCallInteractions } from '../../db/interaction-sources';
import type { Database } from '../../db/schema';
import type { AgentConnectSettings } from '../../domain/dialer/strategy';
import type { AriClient } from '../../integrations/ari';
import type { AriEventStream } from '../../integrations/ari/events';

/**
 * Connects an answered customer to a free agent of the campaign (issue 12). Per call, every side
 * effect is named by the attempt key and recorded before it happens:
 *
 * 1. an agent is reserved (`reserveAgent`, keyed by the attempt key: a call never gets two);
 * 2. `agent_dialed_at` is written, then the agent's endpoint is originated under the channel id
 *    `<key>:agent` (a retry, or another worker, never rings the agent a second time);
 * 3. a mixing bridge `<key>:bridge` is created (upsert by id) and both channels are added;
 *    `bridged_at` and the customer's wait are written;
 * 4. when either side hangs up, the other is hung up, the bridge destroyed, the agent released
 *    (→ wrap_up) and the talk time written.
 *
 * No agent within `abandonAfterSeconds` of the answer, or the agent's phone failing: `abandoned_at`
 * is written, the abandon message plays under the playback id `<key>:abandon`, the call is hung up.
 * Originating the agent per call (not keeping a persistent agent channel): README, "Agents".
 */

export const agentChannelOf = (key: string) => `${key}:agent`;
export const bridgeOf = (key: string) => `${key}:bridge`;
export const abandonPlaybackOf = (key: string) => `${key}:abandon`;

/** How long the abandon message may take before the call is hung up anyway. */
const ABANDON_MESSAGE_MAX_MS = 15_000;

export type ConnectOutcome = 'connected' | 'no_agent' | 'gone';

export interface AgentConnectorDeps {
  db: Kysely<Database>;
  client: Pick<
    AriClient,
    'originate' | 'getChannel' | 'hangup' | 'play' | 'getPlayback' | 'createBridge' | 'getBridge' | 'destroyBridge' | 'addToBridge' | 'subscribeToChannel'
  >;
  events: Pick<AriEventStream, 'on'>;
  campaignId: string;
  settings: () => AgentConnectSettings;
  /** How often reserving an agent is retried while the customer waits, and adopted calls are polled. */
  pollMs: number;
  onError: (error: Error) => void;
}

/** What the attempt row says of the call's agent (0150). */
interface AgentTrace {
  agentDialedAt: Date | null;
  bridgedAt: Date | null;
  abandonedAt: Date | null;
}

/** One customer's way to an agent; woken by the events of its two channels. */
class Connection {
  readonly agentChannel: string;
  readonly bridgeId: string;
  reservation: Reservation | undefined;
  bridgedAt: Date | undefined;
  abandoned = false;
  customerGone = false;
  agentUp = false;
  agentGone = false;
  playbackDone = false;
  released = false;
  private wakers: Array<() => void> = [];

  constructor(
    readonly key: string,
    readonly answeredAt: Date,
  ) {
    this.agentChannel = agentChannelOf(key);
    this.bridgeId = bridgeOf(key);
  }

  wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  /** Until woken (an event of the call) or `ms` passed. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.wakers.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export class AgentConnector {
  private readonly calls = new Map<string, Connection>();
  /** Channel id (customer's or agent's) → its connection. */
  private readonly byChannel = new Map<string, Connection>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly off: Array<() => void>;
  private closed = false;

  constructor(private readonly deps: AgentConnectorDeps) {
    const { events } = deps;
    const gone = (id: string) => {
      const conn = this.byChannel.get(id);
      if (!conn) return;
      if (id === conn.key) conn.customerGone = true;
      else conn.agentGone = true;
      conn.wake();
    };
    this.off = [
      events.on('StasisStart', (e) => {
        const conn = this.byChannel.get(e.channel.id);
        if (conn && e.channel.id === conn.agentChannel) {
          conn.agentUp = true;
          conn.wake();
        }
      }),
      events.on('ChannelHangupRequest', (e) => gone(e.channel.id)),
      events.on('ChannelDestroyed', (e) => gone(e.channel.id)),
      events.on('PlaybackFinished', (e) => {
        const conn = this.byChannel.get(e.playback.target_uri.replace(/^channel:/, ''));
        if (conn && e.playback.id === abandonPlaybackOf(conn.key)) {
          conn.playbackDone = true;
          conn.wake();
        }
      }),
    ];
  }

  /** Whether the call ended abandoned: it heard the abandon message, or was answered for an agent and never bridged. */
  abandoned(key: string): boolean {
    const conn = this.calls.get(key);
    return conn !== undefined && (conn.abandoned || conn.bridgedAt === undefined);
  }

  /**
   * An answered customer (a person) for an agent: reserves one, rings them, bridges both, and
   * follows the call to its end in the background. `abandonOnNoAgent` false (an IVR's transfer):
   * no agent answers `no_agent` and the caller decides what the customer hears.
   */
  async connect(key: string, answeredAt: Date, options: { abandonOnNoAgent: boolean }): Promise<ConnectOutcome> {
    if (this.calls.has(key)) return this.calls.get(key)!.bridgedAt ? 'connected' : 'gone';
    const conn = this.open(key, answeredAt);
    // The answer is written now (the call's end writes it again): the monitor counts this customer waiting.
    void this.deps.db
      .updateTable('dial_attempts')
      .set({ answered_at: answeredAt })
      .where('attempt_key', '=', key)
      .where('answered_at', 'is', null)
      .execute()
      .catch((error: Error) => this.deps.onError(error));
    const outcome = await this.reach(conn, { reservation: undefined, dialed: false });
    if (outcome === 'no_agent' && options.abandonOnNoAgent) this.follow(this.abandon(conn));
    else if (outcome === 'no_agent') {
      // The caller (an IVR) decides what the customer hears: not an abandon of ours.
      this.forget(conn);
      this.calls.delete(key);
    }
    return outcome;
  }

  /** The customer's call ended (the lane saw it, after asking `abandoned`): the agent side is ended and released. */
  callEnded(key: string): void {
    const conn = this.calls.get(key);
    if (!conn) return;
    this.calls.delete(key);
    conn.customerGone = true;
    conn.wake();
  }

  /**
   * A dead lane's call, found by its id: connected further, sent to the abandon message, or its
   * live bridge left alone and followed; ended calls have their agent released. `alive`: Asterisk
   * still has the customer's channel. False when the call never got that far (no agent reserved,
   * no message): it is still to be answered and connected like a new one.
   */
  async adopt(key: string, alive: boolean): Promise<boolean> {
    const trace = await this.trace(key);
    const reservation = await reservationOf(this.deps.db, key);
    if (!trace || (!reservation && !trace.abandonedAt)) return false;
    const conn = this.open(key, new Date());
    conn.reservation = reservation;
    conn.bridgedAt = trace.bridgedAt ?? undefined;
    conn.abandoned = trace.abandonedAt !== null;
    conn.customerGone = !alive;
    if (alive) {
      // Its events go to the dead worker's application until we subscribe.
      await this.deps.client.subscribeToChannel(key).catch(() => false);
      await this.deps.client.subscribeToChannel(conn.agentChannel).catch(() => false);
    }
    this.follow(this.resume(conn, trace));
    return true;
  }

  /** Stops following calls (a lane handing over): live calls are left as they are for the next lane. */
  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.off) off();
    for (const conn of this.calls.values()) conn.wake();
    await Promise.all([...this.pending]);
  }

  private open(key: string, answeredAt: Date): Connection {
    const conn = new Connection(key, answeredAt);
    this.calls.set(key, conn);
    this.byChannel.set(key, conn);
    this.byChannel.set(conn.agentChannel, conn);
    return conn;
  }

  private forget(conn: Connection): void {
    this.byChannel.delete(conn.key);
    this.byChannel.delete(conn.agentChannel);
  }

  private follow(work: Promise<unknown>): void {
    const settled = work.catch((error: Error) => this.deps.onError(error)).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  private async resume(conn: Connection, trace: AgentTrace): Promise<void> {
    if (conn.customerGone) return this.release(conn);
    // The message under its own id: still playing, it is waited for; never started (or over before the hang-up), it plays again.
    if (conn.abandoned) return this.abandon(conn);
    if (conn.bridgedAt) return this.watch(conn);
    // Bridged by the dead worker before it could write so (both channels are added in one request):
    // the customer in our bridge says it happened. Followed as a bridged call, never abandoned.
    if (trace.agentDialedAt && (await this.deps.client.getBridge(conn.bridgeId).catch(() => undefined))?.channels.includes(conn.key)) {
      await this.markBridged(conn, new Date());
      return this.watch(conn);
    }
    const outcome = await this.reach(conn, { reservation: conn.reservation, dialed: trace.agentDialedAt !== null });
    if (outcome === 'no_agent') return this.abandon(conn);
  }

  /** Reserve (or keep) an agent, ring them (unless already rung), bridge. Follows the call once connected. */
  private async reach(conn: Connection, from: { reservation: Reservation | undefined; dialed: boolean }): Promise<ConnectOutcome> {
    const { db, campaignId } = this.deps;
    const settings = this.deps.settings();
    const deadline = conn.answeredAt.getTime() + settings.abandonAfterSeconds * 1000;
    let reservation = from.reservation;
    while (!reservation && !conn.customerGone && !this.closed) {
      reservation = await reserveAgent(db, { campaignId, callKey: conn.key });
      if (reservation || Date.now() >= deadline) break;
      await conn.sleep(Math.min(this.deps.pollMs, deadline - Date.now()));
    }
    conn.reservation = reservation;
    if (conn.customerGone || this.closed) {
      if (!this.closed) await this.release(conn);
      return 'gone';
    }
    if (!reservation || reservation.released) return 'no_agent';
    if (!from.dialed) await this.ringAgent(conn, reservation, settings);
    // The agent gets as long to pick up as a customer may wait (never less, after a late reservation).
    const answerBy = Math.max(deadline, Date.now() + settings.abandonAfterSeconds * 1000);
    while (!conn.agentUp && !conn.agentGone && !conn.customerGone && !this.closed && Date.now() < answerBy) {
      await conn.sleep(Math.min(this.deps.pollMs * 4, answerBy - Date.now()));
      if (!conn.agentUp) await this.pollAgent(conn);
    }
    if (this.closed) return 'gone';
    if (conn.customerGone) {
      await this.release(conn);
      return 'gone';
    }
    if (!conn.agentUp || conn.agentGone) {
      // Their phone failed or rang out: the agent goes to after-call work, the customer hears the message.
      await this.endAgentSide(conn);
      return 'no_agent';
    }
    return this.bridge(conn);
  }

  private async ringAgent(conn: Connection, reservation: Reservation, settings: AgentConnectSettings): Promise<void> {
    const { db, client } = this.deps;
    // Recorded first: whoever finds it set never originates again (the channel id refuses a live duplicate anyway).
    const marked = await db
      .updateTable('dial_attempts')
      .set({ agent_id: reservation.agentId, agent_dialed_at: new Date() })
      .where('attempt_key', '=', conn.key)
      .where('agent_dialed_at', 'is', null)
      .executeTakeFirst();
    if (Number(marked.numUpdatedRows) === 0) return;
    await client
      .originate({
        endpoint: reservation.sipEndpoint,
        callerId: '',
        timeoutSec: Math.max(1, Math.ceil(settings.abandonAfterSeconds)),
        channelId: conn.agentChannel,
        appArgs: 'agent',
      })
      .catch(() => undefined);
  }

  /** Events can be missed (a reconnect, an adopted call): Asterisk says where the agent's channel is. */
  private async pollAgent(conn: Connection): Promise<void> {
    const channel = await this.deps.client.getChannel(conn.agentChannel).catch(() => null);
    if (channel === undefined) conn.agentGone = true;
    else if (channel && channel.state === 'Up' && channel.dialplan.app_name === 'Stasis') conn.agentUp = true;
  }

  private async bridge(conn: Connection): Promise<ConnectOutcome> {
    const { client } = this.deps;
    await client.createBridge(conn.bridgeId, { type: 'mixing', name: conn.key });
    const added = await client.addToBridge(conn.bridgeId, [conn.key, conn.agentChannel]);
    if (added !== 'added') {
      // One side hung up meanwhile (or left our application): end both.
      await this.release(conn);
      return 'gone';
    }
    await this.markBridged(conn, new Date());
    this.follow(this.watch(conn));
    return 'connected';
  }

  private async markBridged(conn: Connection, bridgedAt: Date): Promise<void> {
    conn.bridgedAt = bridgedAt;
    const waitMs = Math.max(0, bridgedAt.getTime() - conn.answeredAt.getTime());
    await this.deps.db
      .updateTable('dial_attempts')
      .set({ bridged_at: bridgedAt, agent_wait_ms: waitMs })
      .where('attempt_key', '=', conn.key)
      .where('bridged_at', 'is', null)
      .execute();
  }

  /** A bridged call: until either side hangs up, then both are ended and the agent released. */
  private async watch(conn: Connection): Promise<void> {
    while (!conn.customerGone && !conn.agentGone && !this.closed) {
      await conn.sleep(this.deps.pollMs * 4);
      if (conn.customerGone || conn.agentGone || this.closed) break;
      const [customer, agent] = await Promise.all([
        this.deps.client.getChannel(conn.key).catch(() => null),
        this.deps.client.getChannel(conn.agentChannel).catch(() => null),
      ]);
      if (customer === undefined) conn.customerGone = true;
      if (agent === undefined) conn.agentGone = true;
    }
    if (!this.closed) await this.release(conn);
  }

  /** Ends both sides, destroys the bridge, releases the agent and writes the talk time. Idempotent. */
  private async release(conn: Connection): Promise<void> {
    if (conn.released) return;
    conn.released = true;
    const { client, db } = this.deps;
    const endedAt = new Date();
    await client.hangup(conn.key, 'normal').catch(() => false);
    await this.endAgentSide(conn);
    if (conn.bridgedAt) {
      const talkMs = Math.max(0, endedAt.getTime() - conn.bridgedAt.getTime());
      // The dialer may already have recorded the call's end (and its interaction): that is rewritten with the talk time.
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('dial_attempts').set({ agent_talk_ms: talkMs }).where('attempt_key', '=', conn.key).where('agent_talk_ms', 'is', null).execute();
        await recordCallInteractions(trx, [conn.key]);
      });
    }
    this.forget(conn);
  }

  private async endAgentSide(conn: Connection): Promise<void> {
    const { client, db } = this.deps;
    await client.hangup(conn.agentChannel, 'normal').catch(() => false);
    await client.destroyBridge(conn.bridgeId).catch(() => false);
    await releaseAgent(db, { callKey: conn.key });
  }

  /** No agent: the message under our own playback id, then the hang-up. */
  private async abandon(conn: Connection): Promise<void> {
    const { db, client } = this.deps;
    conn.abandoned = true;
    await db.updateTable('dial_attempts').set({ abandoned_at: new Date() }).where('attempt_key', '=', conn.key).where('abandoned_at', 'is', null).execute();
    const played = await client.play(conn.key, abandonPlaybackOf(conn.key), [this.deps.settings().abandonMessage]);
    if (played.status !== 'playing') conn.playbackDone = !(await client.getPlayback(abandonPlaybackOf(conn.key)));
    await this.finishAbandon(conn);
  }

  /** Waits for the abandon message (a dead worker's still playing included), then hangs up. */
  private async finishAbandon(conn: Connection): Promise<void> {
    const { client } = this.deps;
    const until = Date.now() + ABANDON_MESSAGE_MAX_MS;
    while (!conn.playbackDone && !conn.customerGone && !this.closed && Date.now() < until) {
      await conn.sleep(this.deps.pollMs * 4);
      if (!conn.playbackDone && !(await client.getPlayback(abandonPlaybackOf(conn.key)).catch(() => true))) conn.playbackDone = true;
    }
    if (this.closed) return;
    await client.hangup(conn.key, 'normal').catch(() => false);
    if (conn.reservation && !conn.reservation.released) await this.endAgentSide(conn);
    this.forget(conn);
  }

  private async trace(key: string): Promise<AgentTrace | undefined> {
    const row = await this.deps.db
      .selectFrom('dial_attempts')
      .select(['agent_dialed_at', 'bridged_at', 'abandoned_at'])
      .where('attempt_key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    const at = (d: Date | string | null) => (d ? new Date(d) : null);
    return { agentDialedAt: at(row.agent_dialed_at), bridgedAt: at(row.bridged_at), abandonedAt: at(row.abandoned_at) };
  }
}
