import { describe, expect, it } from 'vitest';
import {
  AGENT_COMMANDS,
  AGENT_STATES,
  commandFor,
  decideAgent,
  effectiveState,
  type AgentActorKind,
  type AgentCommand,
  type AgentSnapshot,
  type AgentState,
} from '../../src/domain/dialer/agent-state';

const at = (state: AgentState, pauseReasonId: string | null = state === 'paused' ? 'lunch' : null): AgentSnapshot => ({ state, pauseReasonId });
const run = (state: AgentState, command: AgentCommand, by: AgentActorKind, extra: { pauseReasonId?: string; wrapUpSeconds?: number } = {}) =>
  decideAgent(at(state), { command, by, pauseReasonId: command === 'pause' ? (extra.pauseReasonId ?? 'training') : undefined, ...extra });

describe('agent states', () => {
  it('walks a working day: log in, a call, wrap-up, ready, pause, back, log out', () => {
    const steps: [AgentState, AgentCommand, AgentActorKind, AgentState][] = [
      ['offline', 'log_in', 'agent', 'available'],
      ['available', 'take_call', 'system', 'on_call'],
      ['on_call', 'end_call', 'system', 'wrap_up'],
      ['wrap_up', 'ready', 'agent', 'available'],
      ['available', 'take_call', 'system', 'on_call'],
      ['on_call', 'end_call', 'system', 'wrap_up'],
      ['wrap_up', 'wrap_up_over', 'system', 'available'],
      ['available', 'pause', 'agent', 'paused'],
      ['paused', 'ready', 'agent', 'available'],
      ['available', 'log_out', 'agent', 'offline'],
    ];
    for (const [from, command, by, to] of steps) {
      const d = run(from, command, by, { wrapUpSeconds: 15 });
      expect(d, `${from} --${command}--> ${to}`).toMatchObject({ ok: true, changed: true, next: { state: to } });
    }
  });

  it('a campaign without after-call work sends the agent straight back to available', () => {
    expect(run('on_call', 'end_call', 'system', { wrapUpSeconds: 0 })).toMatchObject({ ok: true, next: { state: 'available' } });
  });

  it('nobody takes an agent off a call: pause, log-out and ready are refused while on_call, forced or not', () => {
    for (const by of ['agent', 'supervisor'] as const) {
      expect(run('on_call', 'pause', by)).toMatchObject({ ok: false, status: 409, code: 'AGENT_ON_CALL' });
      expect(run('on_call', 'log_out', by)).toMatchObject({ ok: false, status: 409, code: 'AGENT_ON_CALL' });
    }
    expect(run('on_call', 'ready', 'agent')).toMatchObject({ ok: false, status: 409, code: 'AGENT_ON_CALL' });
  });

  it('an offline agent must log in before pausing or becoming ready; the dialer takes only available agents', () => {
    expect(run('offline', 'pause', 'agent')).toMatchObject({ ok: false, status: 409, code: 'AGENT_OFFLINE' });
    expect(run('offline', 'ready', 'agent')).toMatchObject({ ok: false, status: 409, code: 'AGENT_OFFLINE' });
    for (const state of ['offline', 'paused', 'wrap_up', 'on_call'] as const) {
      expect(run(state, 'take_call', 'system')).toMatchObject({ ok: false, status: 409, code: 'AGENT_NOT_AVAILABLE' });
    }
    expect(run('available', 'end_call', 'system')).toMatchObject({ ok: false, status: 409, code: 'AGENT_NOT_ON_CALL' });
    expect(run('available', 'wrap_up_over', 'system')).toMatchObject({ ok: false, status: 409, code: 'AGENT_NOT_IN_WRAP_UP' });
  });

  it('supervisors may force only a pause or a log-out; agents never drive the dialer commands', () => {
    expect(run('available', 'pause', 'supervisor')).toMatchObject({ ok: true, next: { state: 'paused', pauseReasonId: 'training' } });
    expect(run('paused', 'log_out', 'supervisor')).toMatchObject({ ok: true, next: { state: 'offline', pauseReasonId: null } });
    expect(run('offline', 'log_in', 'supervisor')).toMatchObject({ ok: false, status: 403, code: 'AGENT_COMMAND_NOT_ALLOWED' });
    expect(run('paused', 'ready', 'supervisor')).toMatchObject({ ok: false, status: 403, code: 'AGENT_COMMAND_NOT_ALLOWED' });
    for (const command of ['take_call', 'end_call', 'wrap_up_over'] as const) {
      expect(run('available', command, 'agent')).toMatchObject({ ok: false, status: 403, code: 'AGENT_COMMAND_NOT_ALLOWED' });
    }
  });

  it('a pause needs a reason; the same pause again is a no-op, another reason is a change', () => {
    expect(decideAgent(at('available'), { command: 'pause', by: 'agent' })).toMatchObject({ ok: false, status: 422, code: 'PAUSE_REASON_REQUIRED' });
    expect(run('paused', 'pause', 'agent', { pauseReasonId: 'lunch' })).toMatchObject({ ok: true, changed: false });
    expect(run('paused', 'pause', 'agent', { pauseReasonId: 'feedback' })).toMatchObject({ ok: true, changed: true, next: { pauseReasonId: 'feedback' } });
    expect(run('wrap_up', 'pause', 'agent')).toMatchObject({ ok: true, changed: true, next: { state: 'paused' } });
  });

  it('a retried log-in or log-out changes nothing and is not an error', () => {
    expect(run('available', 'log_in', 'agent')).toMatchObject({ ok: true, changed: false });
    expect(run('offline', 'log_out', 'agent')).toMatchObject({ ok: true, changed: false });
    expect(run('offline', 'log_out', 'supervisor')).toMatchObject({ ok: true, changed: false });
    expect(run('paused', 'log_in', 'agent')).toMatchObject({ ok: false, status: 409, code: 'AGENT_ALREADY_LOGGED_IN' });
  });

  it('every state and command has an answer, and a change lands on a known state', () => {
    for (const state of AGENT_STATES) {
      for (const command of AGENT_COMMANDS) {
        for (const by of ['agent', 'supervisor', 'system'] as const) {
          const d = run(state, command, by, { wrapUpSeconds: 5 });
          if (d.ok) expect(AGENT_STATES).toContain(d.next.state);
          else expect(d.code).toMatch(/^[A-Z_]+$/);
        }
      }
    }
  });

  it('maps the state asked for to its command, and an expired wrap-up counts as available', () => {
    expect(commandFor('offline', 'available')).toBe('log_in');
    expect(commandFor('paused', 'available')).toBe('ready');
    expect(commandFor('wrap_up', 'available')).toBe('ready');
    expect(commandFor('available', 'paused')).toBe('pause');
    expect(commandFor('paused', 'offline')).toBe('log_out');
    const now = new Date('2026-12-02T12:00:00Z');
    expect(effectiveState('wrap_up', new Date('2026-12-02T11:59:59Z'), now)).toBe('available');
    expect(effectiveState('wrap_up', new Date('2026-12-02T12:00:05Z'), now)).toBe('wrap_up');
    expect(effectiveState('paused', null, now)).toBe('paused');
  });
});
