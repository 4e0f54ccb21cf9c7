/**
 * Agent states and every change between them, in one table the API and the dialer share, so a
 * refusal has one code everywhere. Pure (safe to import from workflows).
 *
 *   offline ──log_in──▶ available ──take_call──▶ on_call ──end_call──▶ wrap_up ──ready / wrap_up_over──▶ available
 *   available | wrap_up | paused ──pause(reason)──▶ paused ──ready──▶ available
 *   available | wrap_up | paused ──log_out──▶ offline
 *
 * Nobody leaves `on_call` but the end of the call: a customer is connected to that agent, so a
 * pause or a log-out (even a supervisor's) is refused until the call ends.
 */

export const AGENT_STATES = ['offline', 'available', 'on_call', 'wrap_up', 'paused'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const AGENT_COMMANDS = ['log_in', 'ready', 'pause', 'log_out', 'take_call', 'end_call', 'wrap_up_over'] as const;
export type AgentCommand = (typeof AGENT_COMMANDS)[number];

/** Who asks: the agent themself, a supervisor forcing it, or the dialer. */
export type AgentActorKind = 'agent' | 'supervisor' | 'system';

/** The states an agent may ask for through the API; `on_call` and `wrap_up` are the dialer's to set. */
export const REQUESTABLE_STATES = ['available', 'paused', 'offline'] as const;
export type RequestableState = (typeof REQUESTABLE_STATES)[number];

/** Stable codes of refused changes (409: the state forbids it; 403: the actor may not; 422: the request lacks a reason). */
export const AGENT_ON_CALL = 'AGENT_ON_CALL';
export const AGENT_OFFLINE = 'AGENT_OFFLINE';
export const AGENT_NOT_AVAILABLE = 'AGENT_NOT_AVAILABLE';
export const AGENT_NOT_ON_CALL = 'AGENT_NOT_ON_CALL';
export const AGENT_NOT_IN_WRAP_UP = 'AGENT_NOT_IN_WRAP_UP';
export const AGENT_ALREADY_LOGGED_IN = 'AGENT_ALREADY_LOGGED_IN';
export const AGENT_COMMAND_NOT_ALLOWED = 'AGENT_COMMAND_NOT_ALLOWED';
export const PAUSE_REASON_REQUIRED = 'PAUSE_REASON_REQUIRED';

interface Rule {
  from: readonly AgentState[];
  to: AgentState;
  /** Already there: a retried request changes nothing and is not an error. */
  noOpFrom: readonly AgentState[];
  by: readonly AgentActorKind[];
  /** The refusal when the state is none of `from`. */
  refuse: (state: AgentState) => { code: string; message: string };
}

const offlineOrOnCall = (verb: string) => (state: AgentState) =>
  state === 'on_call'
    ? { code: AGENT_ON_CALL, message: `The agent is on a call; they can ${verb} once it ends.` }
    : { code: AGENT_OFFLINE, message: `The agent is offline; they must log in before they can ${verb}.` };

export const AGENT_RULES: Record<AgentCommand, Rule> = {
  log_in: {
    from: ['offline'],
    to: 'available',
    noOpFrom: ['available'],
    by: ['agent'],
    refuse: (state) =>
      state === 'on_call'
        ? { code: AGENT_ON_CALL, message: 'The agent is on a call.' }
        : { code: AGENT_ALREADY_LOGGED_IN, message: `The agent is already logged in (${state}).` },
  },
  ready: { from: ['wrap_up', 'paused'], to: 'available', noOpFrom: ['available'], by: ['agent'], refuse: offlineOrOnCall('become available') },
  pause: { from: ['available', 'wrap_up', 'paused'], to: 'paused', noOpFrom: [], by: ['agent', 'supervisor'], refuse: offlineOrOnCall('pause') },
  log_out: {
    from: ['available', 'wrap_up', 'paused'],
    to: 'offline',
    noOpFrom: ['offline'],
    by: ['agent', 'supervisor'],
    refuse: () => ({ code: AGENT_ON_CALL, message: 'The agent is on a call; they can log out once it ends.' }),
  },
  take_call: {
    from: ['available'],
    to: 'on_call',
    noOpFrom: [],
    by: ['system'],
    refuse: (state) => ({ code: AGENT_NOT_AVAILABLE, message: `The agent is ${state}, not available.` }),
  },
  end_call: {
    from: ['on_call'],
    to: 'wrap_up',
    noOpFrom: [],
    by: ['system'],
    refuse: (state) => ({ code: AGENT_NOT_ON_CALL, message: `The agent is ${state}, not on a call.` }),
  },
  wrap_up_over: {
    from: ['wrap_up'],
    to: 'available',
    noOpFrom: [],
    by: ['system'],
    refuse: (state) => ({ code: AGENT_NOT_IN_WRAP_UP, message: `The agent is ${state}, not in after-call work.` }),
  },
};

export interface AgentSnapshot {
  state: AgentState;
  pauseReasonId: string | null;
}

export interface AgentRequest {
  command: AgentCommand;
  by: AgentActorKind;
  /** `pause` only: the tenant's pause reason. */
  pauseReasonId?: string;
  /** `end_call` only: the campaign's after-call seconds; 0 goes straight back to available. */
  wrapUpSeconds?: number;
}

export type AgentDecision =
  | { ok: true; changed: true; next: AgentSnapshot }
  | { ok: true; changed: false; next: AgentSnapshot }
  | { ok: false; status: 403 | 409 | 422; code: string; message: string };

export function decideAgent(current: AgentSnapshot, request: AgentRequest): AgentDecision {
  const rule = AGENT_RULES[request.command];
  if (!rule.by.includes(request.by)) {
    return { ok: false, status: 403, code: AGENT_COMMAND_NOT_ALLOWED, message: `${actorText[request.by]} cannot ${commandText[request.command]}.` };
  }
  if (request.command === 'pause') {
    if (!request.pauseReasonId) return { ok: false, status: 422, code: PAUSE_REASON_REQUIRED, message: 'A pause needs a pause reason of the tenant.' };
    if (current.state === 'paused' && current.pauseReasonId === request.pauseReasonId) return { ok: true, changed: false, next: current };
  }
  if (rule.noOpFrom.includes(current.state)) return { ok: true, changed: false, next: current };
  if (!rule.from.includes(current.state)) return { ok: false, status: 409, ...rule.refuse(current.state) };
  const to = request.command === 'end_call' && request.wrapUpSeconds === 0 ? 'available' : rule.to;
  return { ok: true, changed: true, next: { state: to, pauseReasonId: to === 'paused' ? request.pauseReasonId! : null } };
}

/** The command that brings an agent to the state they asked for. */
export function commandFor(current: AgentState, wanted: RequestableState): AgentCommand {
  if (wanted === 'paused') return 'pause';
  if (wanted === 'offline') return 'log_out';
  return current === 'offline' ? 'log_in' : 'ready';
}

/** A wrap-up whose time is over counts as available, before anyone wrote it down. */
export const effectiveState = (state: AgentState, wrapUpUntil: Date | null, now: Date): AgentState =>
  state === 'wrap_up' && wrapUpUntil && wrapUpUntil.getTime() <= now.getTime() ? 'available' : state;

export const isLoggedIn = (state: AgentState) => state !== 'offline';

const actorText: Record<AgentActorKind, string> = { agent: 'An agent', supervisor: 'A supervisor', system: 'The dialer' };
const commandText: Record<AgentCommand, string> = {
  log_in: 'log an agent in (agents log in themselves)',
  ready: 'make an agent available (agents do it themselves)',
  pause: 'pause an agent',
  log_out: 'log an agent out',
  take_call: 'put an agent on a call (the dialer does)',
  end_call: "end an agent's call (the dialer does)",
  wrap_up_over: 'end after-call work (its time does)',
};
