import type { Kysely } from 'kysely';
import { ivrFlowOf } from '../../domain/dialer/strategy';
import type { Database } from '../../db/schema';
import type { AriSession } from './ari-session';
import type { LaneCall } from './call-book';
import { onHumanAnswer, untilHumanAnswer } from './human-answer';
import { closeIvrFlowOfEndedCall, type ConnectAgent, type IvrCall, type IvrRunContext, runIvrFlow } from './ivr-runner';
import type { CampaignContext } from './store';

export interface IvrLaneDeps {
  db: Kysely<Database>;
  session: AriSession;
  /** The campaign as the lane now sees it (a strategy edit changes the flow of calls answered later). */
  campaign: () => CampaignContext;
  /** The lane's call under this key, if it is one of the lane's. */
  callOf: (key: string) => LaneCall | undefined;
  connectAgent?: ConnectAgent;
  pollMs: number;
  onError: (error: Error) => void;
}

/**
 * The lane's side of URA ativa: when a call of the lane is answered (after answering-machine
 * detection, when the strategy has it) and the strategy's `answeredCall` names a flow, runs it
 * (ivr-runner.ts); a dead lane's call taken over continues its flow; a call that ended closes it.
 */
export class IvrLane {
  private readonly ended = new Map<string, AbortController>();
  /** Calls already over: an answer handled late (AMD's variable read) must not start a flow. */
  private readonly over = new Set<string>();
  /**
   * Calls that may have a flow open: started here, or taken over from a dead lane (which may have
   * started one). Only their ends are looked up in ivr_calls: the others can have no row there.
   */
  private readonly mayHaveFlow = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly off: () => void;

  constructor(private readonly deps: IvrLaneDeps) {
    const { client } = deps.session;
    this.off = onHumanAnswer(
      client,
      client.events(),
      (key) => this.answered(key),
      (work) => this.track(work),
    );
  }

  /** A dead lane's call: when still up (`alive`), continue its flow, or start it once the call is answered (and detected human). */
  adopt(key: string, call: LaneCall, alive: boolean): void {
    this.mayHaveFlow.add(key);
    if (!alive || !ivrFlowOf(this.deps.campaign().strategy)) return;
    this.track(this.adoptWhenReady(key, call));
  }

  /** The call ended: its driver stops waiting and an open flow is closed with a hang-up exit. */
  callEnded(key: string, at: Date): void {
    this.over.add(key);
    this.ended.get(key)?.abort();
    this.ended.delete(key);
    if (this.mayHaveFlow.delete(key)) this.track(closeIvrFlowOfEndedCall(this.deps.db, key, at));
  }

  /** Stops listening and waits for the flows of ended calls to be closed (live calls run on: the next lane takes them over). */
  async close(): Promise<void> {
    this.off();
    await Promise.all([...this.pending]);
  }

  private answered(key: string): void {
    const call = this.deps.callOf(key);
    if (call && ivrFlowOf(this.deps.campaign().strategy)) this.start(key, call, false);
  }

  private async adoptWhenReady(key: string, call: LaneCall): Promise<void> {
    const stored = await this.deps.db.selectFrom('ivr_calls').select('attempt_key').where('attempt_key', '=', key).executeTakeFirst();
    if (stored) return this.start(key, call, true);
    const amd = this.deps.campaign().strategy.answeringMachineDetection;
    if (await untilHumanAnswer(this.deps.session.client, key, amd, this.deps.pollMs)) this.start(key, call, true);
  }

  private start(key: string, call: LaneCall, takenOver: boolean): void {
    if (this.ended.has(key) || this.over.has(key)) return;
    const campaign = this.deps.campaign();
    const flowId = ivrFlowOf(campaign.strategy) as string;
    this.mayHaveFlow.add(key);
    const ended = new AbortController();
    this.ended.set(key, ended);
    const { client } = this.deps.session;
    const ctx: IvrRunContext = {
      db: this.deps.db,
      client,
      events: client.events(),
      tenantId: campaign.tenantId,
      campaignId: campaign.campaignId,
      flowId,
      connectAgent: this.deps.connectAgent,
    };
    const ivrCall: IvrCall = { key, contactId: call.contactId, takenOver, ended: ended.signal };
    void runIvrFlow(ctx, ivrCall)
      .catch((error: Error) => this.deps.onError(error))
      .finally(() => this.ended.delete(key));
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch((error: Error) => this.deps.onError(error)).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }
}
