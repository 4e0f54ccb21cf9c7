import { type IvrFlowDefinition, type IvrNode, type MenuNode, renderMedia, type TransferTarget } from './ivr-flow';

/**
 * The IVR interpreter: a pure step function. A call's state and one event (playback finished, key
 * pressed, timeout, hang-up, transfer result) give the next state and the commands to carry out.
 * Playback and timer ids derive from the call id and a step counter kept in the state, so a driver
 * that retries a step after a crash issues the same ids (ARI answers 409 to a second playback with
 * the same id): a prompt never plays twice. The state is plain JSON, persisted between events.
 */

/** How a call left a node (the path's "how it left"). */
/** `ended`: a hangup node ended the call; `hangup`: the caller hung up. */
export type IvrExit = 'ended' | 'next' | 'key' | 'timeout' | 'invalid' | 'hangup' | 'max_visits' | 'transferred' | 'no_agent';

export type IvrPhase = 'playing' | 'collecting' | 'transferring' | 'done';

export interface IvrState {
  callId: string;
  node: string;
  phase: IvrPhase;
  /** Counts every id-producing step; part of playback and timer ids. */
  step: number;
  /** Position of the current node in the call's path (0 = start node). */
  seq: number;
  /** The playback now playing, if any. */
  playbackId: string | null;
  /** The key timer that may end the current collection, if any. */
  timerId: string | null;
  /** Keys of the current menu entry. */
  entry: string;
  /** Every key pressed in the current node. */
  keys: string;
  /** Retries used in the current menu. */
  tries: number;
  visits: Record<string, number>;
}

export type IvrEvent =
  | { type: 'playback_finished'; playbackId: string }
  | { type: 'dtmf'; digit: string }
  | { type: 'timeout'; timerId: string }
  | { type: 'hangup' }
  | { type: 'transferred' }
  | { type: 'no_agent' };

export type IvrCommand =
  | { kind: 'enter_node'; node: string; seq: number }
  /** `keys`: every key pressed in the node; `entry`: the keys that decided a `key` exit (the menu entry, or the interrupting key). */
  | { kind: 'leave_node'; node: string; seq: number; exit: IvrExit; keys: string; entry: string }
  | { kind: 'play'; playbackId: string; media: string[] }
  | { kind: 'stop_playback'; playbackId: string }
  | { kind: 'start_timer'; timerId: string; timeoutMs: number }
  | { kind: 'set_disposition'; disposition: string }
  | { kind: 'opt_out' }
  | { kind: 'transfer'; target: TransferTarget }
  | { kind: 'hang_up' };

export interface IvrStepResult {
  state: IvrState;
  commands: IvrCommand[];
}

/** What the interpreter needs beyond the state: the flow version and the contact's fields. */
export interface IvrContext {
  flow: IvrFlowDefinition;
  fields: Readonly<Record<string, string | undefined>>;
}

/** Instant nodes (set, opt_out) chained without waiting; more than this is a flow bug, so hang up. */
const MAX_CHAIN = 500;

/** Enters the flow's start node for an answered call. */
export function startIvr(ctx: IvrContext, callId: string): IvrStepResult {
  const state: IvrState = {
    callId,
    node: ctx.flow.start,
    phase: 'playing',
    step: 0,
    seq: -1,
    playbackId: null,
    timerId: null,
    entry: '',
    keys: '',
    tries: 0,
    visits: {},
  };
  const commands: IvrCommand[] = [];
  return { state: enter(ctx, state, ctx.flow.start, commands), commands };
}

/** One event → the next state and its commands. Events that no longer apply (a stale playback or timer) change nothing. */
export function stepIvr(ctx: IvrContext, state: IvrState, event: IvrEvent): IvrStepResult {
  const commands: IvrCommand[] = [];
  if (state.phase === 'done') return { state, commands };
  const node = nodeOf(ctx, state.node);
  if (event.type === 'hangup') {
    if (state.playbackId) commands.push({ kind: 'stop_playback', playbackId: state.playbackId });
    commands.push(leave(state, 'hangup'));
    return { state: { ...state, phase: 'done', playbackId: null, timerId: null }, commands };
  }
  if (node.type === 'play') return { state: onPlay(ctx, state, node, event, commands), commands };
  if (node.type === 'menu') return { state: onMenu(ctx, state, node, event, commands), commands };
  if (node.type === 'transfer_agent' && state.phase === 'transferring') {
    if (event.type === 'transferred') {
      commands.push(leave(state, 'transferred'));
      return { state: { ...state, phase: 'done' }, commands };
    }
    if (event.type === 'no_agent') {
      commands.push(leave(state, 'no_agent'));
      if (node.noAgent) return { state: enter(ctx, state, node.noAgent, commands), commands };
      commands.push({ kind: 'hang_up' });
      return { state: { ...state, phase: 'done' }, commands };
    }
  }
  return { state, commands };
}

function onPlay(ctx: IvrContext, state: IvrState, node: Extract<IvrNode, { type: 'play' }>, event: IvrEvent, commands: IvrCommand[]): IvrState {
  if (event.type === 'playback_finished' && event.playbackId === state.playbackId) {
    commands.push(leave(state, 'next'));
    return enter(ctx, { ...state, playbackId: null }, node.next, commands);
  }
  if (event.type === 'dtmf' && node.interruptible && state.playbackId) {
    commands.push({ kind: 'stop_playback', playbackId: state.playbackId });
    commands.push(leave({ ...state, keys: state.keys + event.digit }, 'key', event.digit));
    return enter(ctx, { ...state, playbackId: null }, node.next, commands);
  }
  return state;
}

function onMenu(ctx: IvrContext, state: IvrState, node: MenuNode, event: IvrEvent, commands: IvrCommand[]): IvrState {
  switch (event.type) {
    case 'playback_finished':
      if (event.playbackId !== state.playbackId) return state;
      return waitForKey(node, { ...state, playbackId: null, phase: 'collecting' }, commands);
    case 'dtmf': {
      if (state.phase !== 'playing' && state.phase !== 'collecting') return state;
      if (state.playbackId) commands.push({ kind: 'stop_playback', playbackId: state.playbackId });
      const keys = state.keys + event.digit;
      const terminator = event.digit === '#' && node.maxDigits > 1;
      const entry = terminator ? state.entry : state.entry + event.digit;
      const next = { ...state, playbackId: null, timerId: null, phase: 'collecting' as const, keys, entry };
      if (terminator || entryComplete(node, entry)) return resolveEntry(ctx, node, next, commands);
      return waitForKey(node, next, commands);
    }
    case 'timeout':
      if (event.timerId !== state.timerId) return state;
      if (state.entry === '') return retryOrLeave(ctx, node, { ...state, timerId: null }, 'timeout', commands);
      return resolveEntry(ctx, node, { ...state, timerId: null }, commands);
    default:
      return state;
  }
}

/** An entry is complete at maxDigits, or when it is a branch no longer branch begins with. */
function entryComplete(node: MenuNode, entry: string): boolean {
  if (entry.length >= node.maxDigits) return true;
  const keys = Object.keys(node.branches);
  return keys.includes(entry) && !keys.some((k) => k.length > entry.length && k.startsWith(entry));
}

function resolveEntry(ctx: IvrContext, node: MenuNode, state: IvrState, commands: IvrCommand[]): IvrState {
  const target = Object.hasOwn(node.branches, state.entry) ? node.branches[state.entry] : undefined;
  if (target === undefined) return retryOrLeave(ctx, node, state, 'invalid', commands);
  commands.push(leave(state, 'key', state.entry));
  return enter(ctx, state, target, commands);
}

function retryOrLeave(ctx: IvrContext, node: MenuNode, state: IvrState, why: 'timeout' | 'invalid', commands: IvrCommand[]): IvrState {
  if (state.tries >= node.retries) {
    commands.push(leave(state, why));
    return enter(ctx, state, why === 'timeout' ? node.onTimeout : node.onInvalid, commands);
  }
  const media = why === 'invalid' ? [...(node.invalidPrompt ?? []), ...node.prompt] : node.prompt;
  const replayed = play(ctx, { ...state, tries: state.tries + 1, entry: '', phase: 'playing' }, media, commands);
  return replayed.playbackId ? replayed : waitForKey(node, replayed, commands);
}

function waitForKey(node: MenuNode, state: IvrState, commands: IvrCommand[]): IvrState {
  const step = state.step + 1;
  const timerId = `${state.callId}-t${step}`;
  commands.push({ kind: 'start_timer', timerId, timeoutMs: Math.round(node.timeoutSec * 1000) });
  return { ...state, step, timerId, phase: 'collecting' };
}

function play(ctx: IvrContext, state: IvrState, media: string[], commands: IvrCommand[]): IvrState {
  const spoken = media.map((m) => renderMedia(m, ctx.fields)).filter((m): m is string => m !== undefined);
  const step = state.step + 1;
  // Nothing left to say (every variable missing): the caller carries on as if the prompt had finished.
  if (spoken.length === 0) return { ...state, step, playbackId: null };
  const playbackId = `${state.callId}-p${step}`;
  commands.push({ kind: 'play', playbackId, media: spoken });
  return { ...state, step, playbackId, phase: 'playing' };
}

function leave(state: IvrState, exit: IvrExit, entry = ''): IvrCommand {
  return { kind: 'leave_node', node: state.node, seq: state.seq, exit, keys: state.keys, entry };
}

/** Enters `target` and runs instant nodes until one waits (play, menu, transfer) or the call ends. */
function enter(ctx: IvrContext, from: IvrState, target: string, commands: IvrCommand[]): IvrState {
  let state = from;
  let next: string | undefined = target;
  for (let chained = 0; next !== undefined; chained++) {
    const visits = (state.visits[next] ?? 0) + 1;
    state = {
      ...state,
      node: next,
      seq: state.seq + 1,
      playbackId: null,
      timerId: null,
      entry: '',
      keys: '',
      tries: 0,
      visits: { ...state.visits, [next]: visits },
    };
    commands.push({ kind: 'enter_node', node: next, seq: state.seq });
    if (chained >= MAX_CHAIN) {
      commands.push({ kind: 'hang_up' });
      return { ...state, phase: 'done' };
    }
    const node = nodeOf(ctx, next);
    next = undefined;
    if (node.maxVisits !== undefined && node.onMaxVisits !== undefined && visits > node.maxVisits) {
      commands.push(leave(state, 'max_visits'));
      next = node.onMaxVisits;
      continue;
    }
    switch (node.type) {
      case 'play':
        state = play(ctx, state, node.media, commands);
        if (!state.playbackId) {
          commands.push(leave(state, 'next'));
          next = node.next;
        }
        break;
      case 'menu':
        state = play(ctx, state, node.prompt, commands);
        if (!state.playbackId) state = waitForKey(node, state, commands);
        break;
      case 'set':
        commands.push({ kind: 'set_disposition', disposition: node.disposition });
        commands.push(leave(state, 'next'));
        next = node.next;
        break;
      case 'opt_out':
        commands.push({ kind: 'opt_out' });
        commands.push(leave(state, 'next'));
        next = node.next;
        break;
      case 'transfer_agent':
        commands.push({ kind: 'transfer', target: node.target });
        state = { ...state, phase: 'transferring' };
        break;
      case 'hangup':
        commands.push({ kind: 'hang_up' });
        commands.push(leave(state, 'ended'));
        state = { ...state, phase: 'done' };
        break;
    }
  }
  return state;
}

function nodeOf(ctx: IvrContext, id: string): IvrNode {
  const node = ctx.flow.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`IVR node "${id}" is not in the flow (the flow was not validated)`);
  return node;
}

/** True once the call has left the flow. */
export const ivrEnded = (state: IvrState) => state.phase === 'done';
