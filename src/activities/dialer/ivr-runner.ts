import type { Kysely } from 'kysely';
import { ivrCallState, openIvrCall, recordIvrStep } from '../../db/ivr-calls';
import type { Database } from '../../db/schema';
import { type IvrFlowDefinition, type IvrNode, ivrFlowDefinitionSchema, renderMedia } from '../../domain/dialer/ivr-flow';
import { type IvrCommand, type IvrContext, type IvrEvent, type IvrState, startIvr, stepIvr } from '../../domain/dialer/ivr-interpreter';
import type { AriClient } from '../../integrations/ari';
import type { AriEventStream } from '../../integrations/ari/events';

/**
 * Runs an IVR flow (URA ativa) on an answered call: the pure interpreter decides, this driver
 * records each step (path rows, disposition, opt-out) BEFORE carrying out its commands through ARI,
 * so a worker that dies mid-flow leaves the last recorded node for another to continue from. The
 * step is a compare-and-swap on the stored state: two drivers of one call can never both act, and
 * playback ids come from the call key and step, so a retried play is refused (409), never doubled.
 */

export interface IvrCall {
  /** The attempt key, also the ARI channel id. */
  key: string;
  contactId: number;
  /** A call another (dead) worker placed: subscribe to its events and continue from its stored state. */
  takenOver?: boolean;
  /** Aborted when the lane saw the call end (a missed hangup must not keep the driver waiting). */
  ended?: AbortSignal;
}

export type AgentConnection = 'connected' | 'no_agent';

/** Hands an answered call to an available agent of its campaign (agents issue); injected by the lane. */
export type ConnectAgent = (ctx: IvrRunContext, call: IvrCall) => Promise<AgentConnection>;

export interface IvrRunContext {
  db: Kysely<Database>;
  client: Pick<AriClient, 'play' | 'getPlayback' | 'stopPlayback' | 'continueInDialplan' | 'hangup' | 'getChannel' | 'subscribeToChannel'>;
  events: Pick<AriEventStream, 'on'>;
  tenantId: string;
  campaignId: string;
  /** The flow the strategy names (a call that already entered one keeps the version it recorded). */
  flowId: string;
  /** Without it, a transfer to an agent is an empty roster: nothing more is played, the call is hung up. */
  connectAgent?: ConnectAgent;
}

/** How a run ended: the flow finished (hang-up node, transfer), the caller hung up, or another driver holds the call. */
export type IvrRunEnd = 'completed' | 'hangup' | 'taken_over';

export async function runIvrFlow(ctx: IvrRunContext, call: IvrCall): Promise<IvrRunEnd> {
  const run = new IvrRun(ctx, call);
  try {
    return await run.run();
  } finally {
    run.close();
  }
}

/**
 * The lane saw the call end: a flow still open is closed with a hang-up exit from its current node
 * (the driver died, or never heard the hangup). Idempotent; loses harmlessly to a driver that records first.
 */
export async function closeIvrFlowOfEndedCall(db: Kysely<Database>, attemptKey: string, at: Date): Promise<void> {
  for (let tries = 0; tries < 5; tries++) {
    const stored = await ivrCallState(db, attemptKey);
    if (!stored || stored.state.phase === 'done') return;
    const { flow } = await flowVersion(db, stored.flowId, stored.flowVersion);
    const step = stepIvr({ flow, fields: {} }, stored.state, { type: 'hangup' });
    if (await recordIvrStep(db, attemptKey, stored.state, step, at)) return;
  }
}

/** A version of a flow (the current one when not given). */
async function flowVersion(db: Kysely<Database>, flowId: string, version?: number): Promise<{ flow: IvrFlowDefinition; version: number }> {
  const chosen = version ?? (await db.selectFrom('ivr_flows').select('version').where('id', '=', flowId).executeTakeFirstOrThrow()).version;
  const row = await db
    .selectFrom('ivr_flow_versions')
    .select('definition')
    .where('flow_id', '=', flowId)
    .where('version', '=', chosen)
    .executeTakeFirstOrThrow();
  return { flow: ivrFlowDefinitionSchema.parse(row.definition), version: chosen };
}

/** The number dialled and the contact's custom fields (spoken by `number:{{field}}` / `digits:{{field}}`). */
async function callee(db: Kysely<Database>, attemptKey: string) {
  return db
    .selectFrom('dial_attempts as a')
    .innerJoin('contacts as c', 'c.id', 'a.contact_id')
    .select(['a.phone', 'c.custom'])
    .where('a.attempt_key', '=', attemptKey)
    .executeTakeFirstOrThrow();
}

/** Commands that (re)establish what a stored state waits on, for a driver continuing a call. */
function resumeCommands(state: IvrState, node: IvrNode): IvrCommand[] {
  if (state.phase === 'playing' && state.playbackId) {
    const media = node.type === 'play' ? node.media : node.type === 'menu' ? node.prompt : [];
    return [{ kind: 'play', playbackId: state.playbackId, media }];
  }
  if (state.phase === 'collecting' && state.timerId && node.type === 'menu') {
    return [{ kind: 'start_timer', timerId: state.timerId, timeoutMs: Math.round(node.timeoutSec * 1000) }];
  }
  if (state.phase === 'transferring' && node.type === 'transfer_agent') return [{ kind: 'transfer', target: node.target }];
  return [];
}

/** The flow with one transfer node's no-agent branch removed: a failed transfer then ends the call at once. */
function withoutNoAgent(flow: IvrFlowDefinition, nodeId: string): IvrFlowDefinition {
  return { ...flow, nodes: flow.nodes.map((n) => (n.id === nodeId && n.type === 'transfer_agent' ? { ...n, noAgent: undefined } : n)) };
}

class IvrRun {
  private readonly inbox: IvrEvent[] = [];
  private wake: (() => void) | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly off: Array<() => void>;
  private ivr: IvrContext = { flow: { start: '', nodes: [] }, fields: {} };
  private state: IvrState | undefined;
  /** A transfer to an agent with nobody to connect it: its no-agent branch is skipped. */
  private politeEnd = false;

  constructor(
    private readonly ctx: IvrRunContext,
    private readonly call: IvrCall,
  ) {
    const { events } = ctx;
    const ours = (channel: { id: string }) => channel.id === call.key;
    const hangup = (e: { channel: { id: string } }) => ours(e.channel) && this.push({ type: 'hangup' });
    // Listening before anything else: no event of the call may slip by while the flow loads.
    this.off = [
      events.on('PlaybackFinished', (e) => {
        if (e.playback.target_uri === `channel:${call.key}`) this.push({ type: 'playback_finished', playbackId: e.playback.id });
      }),
      events.on('ChannelDtmfReceived', (e) => ours(e.channel) && this.push({ type: 'dtmf', digit: e.digit })),
      events.on('ChannelHangupRequest', hangup),
      events.on('ChannelDestroyed', hangup),
      events.on('reconnected', () => void this.recheck().catch(() => undefined)),
    ];
    call.ended?.addEventListener('abort', () => this.push({ type: 'hangup' }));
    if (call.ended?.aborted) this.push({ type: 'hangup' });
  }

  async run(): Promise<IvrRunEnd> {
    const begun = await this.begin();
    if (!begun) return 'taken_over';
    let state = begun.state;
    this.state = state;
    await this.execute(begun.commands);
    let last: IvrEvent['type'] | undefined;
    while (state.phase !== 'done') {
      const event = await this.next();
      last = event.type;
      const ivr = this.politeEnd && event.type === 'no_agent' ? { ...this.ivr, flow: withoutNoAgent(this.ivr.flow, state.node) } : this.ivr;
      const step = stepIvr(ivr, state, event);
      if (step.state === state) continue; // stale (an old playback or timer): nothing to record
      if (!(await recordIvrStep(this.ctx.db, this.call.key, state, step, new Date()))) return 'taken_over';
      state = step.state;
      this.state = state;
      await this.execute(step.commands);
    }
    return last === 'hangup' ? 'hangup' : 'completed';
  }

  close(): void {
    for (const off of this.off) off();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Loads or opens the call's flow: the state to continue from and the commands to carry out first. */
  private async begin(): Promise<{ state: IvrState; commands: IvrCommand[] } | undefined> {
    const { db, client } = this.ctx;
    const { key } = this.call;
    if (this.call.takenOver && !(await client.subscribeToChannel(key))) this.push({ type: 'hangup' });
    const who = await callee(db, key);
    const stored = await ivrCallState(db, key);
    if (stored) {
      this.ivr = { flow: (await flowVersion(db, stored.flowId, stored.flowVersion)).flow, fields: who.custom };
      const { state } = stored;
      if (state.phase === 'done') {
        // The flow ended but its hang-up may not have been carried out.
        const channel = await client.getChannel(key);
        return { state, commands: channel?.dialplan.app_name === 'Stasis' ? [{ kind: 'hang_up' }] : [] };
      }
      const node = this.ivr.flow.nodes.find((n) => n.id === state.node) as IvrNode;
      return { state, commands: resumeCommands(state, node) };
    }
    const { flow, version } = await flowVersion(db, this.ctx.flowId);
    this.ivr = { flow, fields: who.custom };
    const step = startIvr(this.ivr, key);
    const opened = await openIvrCall(
      db,
      {
        attemptKey: key,
        tenantId: this.ctx.tenantId,
        campaignId: this.ctx.campaignId,
        contactId: this.call.contactId,
        phone: who.phone,
        flowId: this.ctx.flowId,
        flowVersion: version,
      },
      step,
      new Date(),
    );
    return opened ? step : undefined;
  }

  private async execute(commands: IvrCommand[]): Promise<void> {
    const { client } = this.ctx;
    const { key } = this.call;
    for (const c of commands) {
      switch (c.kind) {
        case 'play':
          await this.play(c.playbackId, c.media);
          break;
        case 'stop_playback':
          await client.stopPlayback(c.playbackId).catch(() => undefined);
          break;
        case 'start_timer':
          this.timers.set(
            c.timerId,
            setTimeout(() => {
              this.timers.delete(c.timerId);
              this.push({ type: 'timeout', timerId: c.timerId });
            }, c.timeoutMs),
          );
          break;
        case 'transfer':
          this.push(await this.transfer(c.target));
          break;
        case 'hang_up':
          await client.hangup(key, 'normal');
          break;
        default:
          // Disposition, opt-out and path rows were written with the step.
          break;
      }
    }
  }

  /** Plays under our own id; a playback already live under it (a dead driver's) is simply waited for. */
  private async play(playbackId: string, media: string[]): Promise<void> {
    const { client } = this.ctx;
    if (await client.getPlayback(playbackId)) return;
    const spoken = media.map((m) => renderMedia(m, this.ivr.fields)).filter((m): m is string => m !== undefined);
    if (spoken.length === 0) return this.push({ type: 'playback_finished', playbackId });
    const result = await client.play(this.call.key, playbackId, spoken);
    if (result.status === 'channel_gone') return this.push({ type: 'hangup' });
    // Refused: another request took the id first (then it plays and we wait), or the call left our application.
    if (result.status === 'refused' && !(await client.getPlayback(playbackId))) this.push({ type: 'hangup' });
  }

  private async transfer(target: Extract<IvrCommand, { kind: 'transfer' }>['target']): Promise<IvrEvent> {
    const { client } = this.ctx;
    if (target.kind === 'dialplan') {
      if (await client.continueInDialplan(this.call.key, target)) return { type: 'transferred' };
      const channel = await client.getChannel(this.call.key);
      if (!channel) return { type: 'hangup' };
      // Already left Stasis: an earlier driver's continue went through.
      return channel.dialplan.app_name === 'Stasis' ? { type: 'no_agent' } : { type: 'transferred' };
    }
    if (!this.ctx.connectAgent) {
      this.politeEnd = true;
      return { type: 'no_agent' };
    }
    return (await this.ctx.connectAgent(this.ctx, this.call)) === 'connected' ? { type: 'transferred' } : { type: 'no_agent' };
  }

  /** After the event stream reconnects: events sent meanwhile are lost, so ask Asterisk. */
  private async recheck(): Promise<void> {
    const { client } = this.ctx;
    if (!(await client.getChannel(this.call.key))) return this.push({ type: 'hangup' });
    const playing = this.state?.phase === 'playing' ? this.state.playbackId : null;
    if (playing && !(await client.getPlayback(playing))) this.push({ type: 'playback_finished', playbackId: playing });
  }

  private push(event: IvrEvent): void {
    this.inbox.push(event);
    this.wake?.();
  }

  private async next(): Promise<IvrEvent> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    return this.inbox.shift() as IvrEvent;
  }
}
