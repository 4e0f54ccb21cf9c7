import type { Kysely } from 'kysely';
import type { CallOutcome } from '../../domain/call-outcome';
import { connectsToAgent } from '../../domain/dialer/strategy';
import type { Database } from '../../db/schema';
import { AgentConnector } from './agent-connect';
import type { AriSession } from './ari-session';
import type { LaneCall } from './call-book';
import { onHumanAnswer, untilHumanAnswer } from './human-answer';
import type { ConnectAgent } from './ivr-runner';
import type { CampaignContext } from './store';

export interface AgentLaneDeps {
  db: Kysely<Database>;
  session: AriSession;
  /** The campaign as the lane now sees it (an edit changes what calls answered later do). */
  campaign: () => CampaignContext;
  /** The lane's call under this key, while it is up. */
  callOf: (key: string) => LaneCall | undefined;
  pollMs: number;
  onError: (error: Error) => void;
}

/**
 * The lane's side of `answeredCall: "agent"`: a call of the lane answered by a person goes to the
 * campaign's agents (agent-connect.ts); a dead lane's call taken over continues where it stood;
 * a call that ended releases its agent. The same connector serves an IVR's `transfer_agent`.
 */
export class AgentLane {
  readonly connector: AgentConnector;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly off: () => void;

  constructor(private readonly deps: AgentLaneDeps) {
    const { client } = deps.session;
    const events = client.events();
    this.connector = new AgentConnector({
      db: deps.db,
      client,
      events,
      campaignId: deps.campaign().campaignId,
      settings: () => deps.campaign().strategy.agentConnect,
      pollMs: deps.pollMs,
      onError: deps.onError,
    });
    this.off = onHumanAnswer(
      client,
      events,
      (key) => this.answered(key),
      (work) => this.track(work),
    );
  }

  /** An IVR flow's transfer to an agent: connected, or `no_agent` (the flow plays its own branch). */
  readonly connectAgent: ConnectAgent = async (_ctx, call) =>
    (await this.connector.connect(call.key, new Date(), { abandonOnNoAgent: false })) === 'connected' ? 'connected' : 'no_agent';

  /**
   * A dead lane's call: where its agent connection stood, continued; or, not yet answered, connected
   * once it is. Resolves once what was recorded is loaded (so `callEnded` knows an abandon), not when the call ends.
   */
  async adopt(key: string, alive: boolean): Promise<void> {
    const taken = await this.connector.adopt(key, alive);
    if (taken || !alive || !connectsToAgent(this.deps.campaign().strategy)) return;
    const { client } = this.deps.session;
    const amd = this.deps.campaign().strategy.answeringMachineDetection;
    this.track(
      untilHumanAnswer(client, key, amd, this.deps.pollMs).then(async (human) => {
        if (human && this.deps.callOf(key)) await this.connector.connect(key, new Date(), { abandonOnNoAgent: true });
      }),
    );
  }

  /** The outcome to record: an answered call that found no agent is `abandoned`. Then the agent side is ended. */
  callEnded(key: string, outcome: CallOutcome): CallOutcome {
    const abandoned = outcome === 'answered' && this.connector.abandoned(key);
    this.connector.callEnded(key);
    return abandoned ? 'abandoned' : outcome;
  }

  async close(): Promise<void> {
    this.off();
    await this.connector.close();
    await Promise.all([...this.pending]);
  }

  private answered(key: string): void {
    if (!this.deps.callOf(key) || !connectsToAgent(this.deps.campaign().strategy)) return;
    this.track(this.connector.connect(key, new Date(), { abandonOnNoAgent: true }));
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch((error: Error) => this.deps.onError(error)).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }
}
