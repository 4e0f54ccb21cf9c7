import { describe, expect, it } from 'vitest';
import { type IvrFlowDefinitionInput, ivrFlowDefinitionSchema } from '../../src/domain/dialer/ivr-flow';
import { type IvrCommand, type IvrContext, type IvrEvent, type IvrState, startIvr, stepIvr } from '../../src/domain/dialer/ivr-interpreter';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';

const ctxOf = (flow: IvrFlowDefinitionInput, fields: Record<string, string> = { valor: '150,00' }): IvrContext => ({
  flow: ivrFlowDefinitionSchema.parse(flow),
  fields,
});

/** Drives a call through events, answering each prompt's PlaybackFinished when `finish` says so; returns the state and every command. */
function run(ctx: IvrContext, events: (IvrEvent | 'finish' | 'timeout')[]) {
  let { state, commands } = startIvr(ctx, 'call-1');
  const all: IvrCommand[] = [...commands];
  for (const e of events) {
    const event: IvrEvent =
      e === 'finish'
        ? { type: 'playback_finished', playbackId: state.playbackId as string }
        : e === 'timeout'
          ? { type: 'timeout', timerId: state.timerId as string }
          : e;
    ({ state, commands } = stepIvr(ctx, state, event));
    all.push(...commands);
  }
  return { state, all };
}
const path = (all: IvrCommand[]) => all.flatMap((c) => (c.kind === 'leave_node' ? [`${c.node}:${c.exit}${c.keys ? `(${c.keys})` : ''}`] : []));
const acts = (all: IvrCommand[]) => all.filter((c) => !['enter_node', 'leave_node', 'start_timer'].includes(c.kind));
const key = (digit: string): IvrEvent => ({ type: 'dtmf', digit });

describe('IVR interpreter on the collections flow', () => {
  const ctx = ctxOf(collectionsFlow);

  it('starts by speaking the amount due from the custom field, with an id from the call and the step', () => {
    const { state, commands } = startIvr(ctx, 'call-1');
    expect(commands).toEqual([
      { kind: 'enter_node', node: 'saudacao', seq: 0 },
      { kind: 'play', playbackId: 'call-1-p1', media: ['sound:cobranca/ola', 'sound:cobranca/valor', 'number:150', 'sound:cobranca/reais'] },
    ]);
    expect(state).toMatchObject({ node: 'saudacao', phase: 'playing', playbackId: 'call-1-p1' });
  });

  it('key 1 → transfer to an agent of the campaign, then the call leaves the flow transferred', () => {
    const { state, all } = run(ctx, ['finish', key('1'), { type: 'transferred' }]);
    expect(path(all)).toEqual(['saudacao:next', 'menu:key(1)', 'atendente:transferred']);
    expect(acts(all).map((c) => c.kind)).toEqual(['play', 'play', 'stop_playback', 'transfer']);
    expect(state.phase).toBe('done');
  });

  it('key 1 with no agent free goes to the polite goodbye and hangs up', () => {
    const { state, all } = run(ctx, ['finish', 'finish', key('1'), { type: 'no_agent' }, 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:key(1)', 'atendente:no_agent', 'tchau:next', 'fim:ended']);
    expect(acts(all).at(-1)).toEqual({ kind: 'hang_up' });
    expect(state.phase).toBe('done');
  });

  it('key 2 sets the disposition boleto_enviado, tells so, and hangs up', () => {
    const { all } = run(ctx, ['finish', 'finish', key('2'), 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:key(2)', 'boleto:next', 'boleto_aviso:next', 'fim:ended']);
    expect(acts(all)).toContainEqual({ kind: 'set_disposition', disposition: 'boleto_enviado' });
  });

  it('key 9 opts the phone out and continues to the goodbye', () => {
    const { all } = run(ctx, ['finish', 'finish', key('9'), 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:key(9)', 'descadastro:next', 'descadastro_aviso:next', 'fim:ended']);
    expect(acts(all).filter((c) => c.kind === 'opt_out')).toHaveLength(1);
  });

  it('no key: the prompt is repeated `retries` times, then the timeout branch', () => {
    const { all } = run(ctx, ['finish', 'finish', 'timeout', 'finish', 'timeout', 'finish', 'timeout', 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:timeout', 'tchau:next', 'fim:ended']);
    const plays = all.filter((c) => c.kind === 'play');
    expect(plays.map((c) => c.kind === 'play' && c.media[0])).toEqual([
      'sound:cobranca/ola',
      'sound:cobranca/opcoes',
      'sound:cobranca/opcoes',
      'sound:cobranca/opcoes',
      'sound:obrigado',
    ]);
    expect(all.filter((c) => c.kind === 'start_timer').map((c) => c.kind === 'start_timer' && c.timeoutMs)).toEqual([5000, 5000, 5000]);
  });

  it('an invalid key plays the invalid prompt before the menu again; after the retries, the invalid branch', () => {
    const { all } = run(ctx, ['finish', 'finish', key('5'), key('7'), key('3'), 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:invalid(573)', 'tchau:next', 'fim:ended']);
    const menuPlays = all.filter((c) => c.kind === 'play').slice(1, 4);
    expect(menuPlays.map((c) => c.kind === 'play' && c.media)).toEqual([
      ['sound:cobranca/opcoes'],
      ['sound:opcao-invalida', 'sound:cobranca/opcoes'],
      ['sound:opcao-invalida', 'sound:cobranca/opcoes'],
    ]);
  });

  it('an invalid key then a good one takes the good branch', () => {
    const { all } = run(ctx, ['finish', 'finish', key('5'), 'finish', key('2'), 'finish']);
    expect(path(all)).toEqual(['saudacao:next', 'menu:key(52)', 'boleto:next', 'boleto_aviso:next', 'fim:ended']);
    expect(all.find((c) => c.kind === 'leave_node' && c.node === 'menu')).toMatchObject({ keys: '52', entry: '2' });
  });

  it('a key during the menu prompt stops it; its late PlaybackFinished changes nothing', () => {
    let { state } = startIvr(ctx, 'call-1');
    ({ state } = stepIvr(ctx, state, { type: 'playback_finished', playbackId: 'call-1-p1' }));
    const prompt = state.playbackId as string;
    const pressed = stepIvr(ctx, state, key('2'));
    expect(pressed.commands[0]).toEqual({ kind: 'stop_playback', playbackId: prompt });
    const late = stepIvr(ctx, pressed.state, { type: 'playback_finished', playbackId: prompt });
    expect(late).toEqual({ state: pressed.state, commands: [] });
  });

  it('a key during a prompt that is not interruptible is ignored', () => {
    const { state } = startIvr(ctx, 'call-1');
    expect(stepIvr(ctx, state, key('1'))).toEqual({ state, commands: [] });
  });

  it('a stale timer (from before a key) is ignored', () => {
    let { state } = run(ctx, ['finish', 'finish']);
    const stale = state.timerId as string;
    ({ state } = stepIvr(ctx, state, key('5')));
    expect(stepIvr(ctx, state, { type: 'timeout', timerId: stale }).commands).toEqual([]);
  });

  it('a hang-up mid-prompt stops the playback and records how the call left', () => {
    const { state, all } = run(ctx, [{ type: 'hangup' }]);
    expect(all.slice(-2)).toEqual([
      { kind: 'stop_playback', playbackId: 'call-1-p1' },
      { kind: 'leave_node', node: 'saudacao', seq: 0, exit: 'hangup', keys: '', entry: '' },
    ]);
    expect(state.phase).toBe('done');
    expect(stepIvr(ctx, state, key('1')).commands).toEqual([]);
  });

  it('is deterministic: the same state and event give the same ids, so a retried step does not play twice', () => {
    const { state } = startIvr(ctx, 'call-7');
    const a = stepIvr(ctx, state, { type: 'playback_finished', playbackId: 'call-7-p1' });
    const b = stepIvr(ctx, state, { type: 'playback_finished', playbackId: 'call-7-p1' });
    expect(a).toEqual(b);
    expect(a.commands).toContainEqual({ kind: 'play', playbackId: 'call-7-p2', media: ['sound:cobranca/opcoes'] });
    expect(JSON.parse(JSON.stringify(a.state)) as IvrState).toEqual(a.state);
  });

  it('skips a media whose custom field is missing rather than speak nonsense', () => {
    const { commands } = startIvr(ctxOf(collectionsFlow, {}), 'c');
    expect(commands[1]).toEqual({ kind: 'play', playbackId: 'c-p1', media: ['sound:cobranca/ola', 'sound:cobranca/valor', 'sound:cobranca/reais'] });
  });
});

describe('IVR interpreter: other shapes', () => {
  it('an interruptible play goes on at the first key', () => {
    const ctx = ctxOf({
      start: 'aviso',
      nodes: [
        { id: 'aviso', type: 'play', media: ['sound:longo'], interruptible: true, next: 'fim' },
        { id: 'fim', type: 'hangup' },
      ],
    });
    const { all } = run(ctx, [key('#')]);
    expect(path(all)).toEqual(['aviso:key(#)', 'fim:ended']);
    expect(acts(all).map((c) => c.kind)).toEqual(['play', 'stop_playback', 'hang_up']);
  });

  it('a multi-digit menu: # ends the entry, an exact branch with no longer one ends it early, a timeout resolves a partial entry', () => {
    const ctx = ctxOf({
      start: 'm',
      nodes: [
        {
          id: 'm',
          type: 'menu',
          prompt: ['sound:digite'],
          maxDigits: 4,
          retries: 0,
          branches: { '12': 'a', '123': 'b', '7': 'c' },
          onTimeout: 'fim',
          onInvalid: 'fim',
        },
        { id: 'a', type: 'set', disposition: 'a', next: 'fim' },
        { id: 'b', type: 'set', disposition: 'b', next: 'fim' },
        { id: 'c', type: 'set', disposition: 'c', next: 'fim' },
        { id: 'fim', type: 'hangup' },
      ],
    });
    const terminated = run(ctx, ['finish', key('1'), key('2'), key('#')]).all;
    expect(path(terminated)[0]).toBe('m:key(12#)');
    expect(terminated.find((c) => c.kind === 'leave_node')).toMatchObject({ entry: '12' });
    expect(path(run(ctx, ['finish', key('1'), key('2'), 'timeout']).all)[0]).toBe('m:key(12)');
    expect(path(run(ctx, ['finish', key('1'), key('2'), key('3')]).all)[0]).toBe('m:key(123)');
    expect(path(run(ctx, [key('7')]).all)[0]).toBe('m:key(7)');
    expect(path(run(ctx, ['finish', key('4'), key('4'), key('4'), key('4')]).all)[0]).toBe('m:invalid(4444)');
  });

  it('a dialplan transfer carries its context and extension', () => {
    const ctx = ctxOf({
      start: 't',
      nodes: [{ id: 't', type: 'transfer_agent', target: { kind: 'dialplan', context: 'fila-cobranca', extension: '500' } }],
    });
    const { state, commands } = startIvr(ctx, 'c');
    expect(commands).toContainEqual({ kind: 'transfer', target: { kind: 'dialplan', context: 'fila-cobranca', extension: '500', priority: 1 } });
    expect(state.phase).toBe('transferring');
    expect(stepIvr(ctx, state, { type: 'no_agent' }).commands.map((c) => c.kind)).toEqual(['leave_node', 'hang_up']);
  });

  it('a loop back to the menu is bounded by maxVisits and then leaves by onMaxVisits', () => {
    const ctx = ctxOf({
      start: 'menu',
      nodes: [
        {
          id: 'menu',
          type: 'menu',
          prompt: ['sound:m'],
          retries: 0,
          branches: { '0': 'repetir', '1': 'fim' },
          onTimeout: 'fim',
          onInvalid: 'fim',
          maxVisits: 2,
          onMaxVisits: 'fim',
        },
        { id: 'repetir', type: 'set', disposition: 'pediu_repeticao', next: 'menu' },
        { id: 'fim', type: 'hangup' },
      ],
    });
    const { state, all } = run(ctx, [key('0'), key('0')]);
    expect(path(all)).toEqual(['menu:key(0)', 'repetir:next', 'menu:key(0)', 'repetir:next', 'menu:max_visits', 'fim:ended']);
    expect(state.phase).toBe('done');
  });

  it('a menu whose prompt has nothing to say waits for a key at once', () => {
    const ctx = ctxOf(
      {
        start: 'm',
        nodes: [
          { id: 'm', type: 'menu', prompt: ['number:{{x}}'], branches: { '1': 'fim' }, onTimeout: 'fim', onInvalid: 'fim' },
          { id: 'fim', type: 'hangup' },
        ],
      },
      {},
    );
    const { state, commands } = startIvr(ctx, 'c');
    expect(commands.map((c) => c.kind)).toEqual(['enter_node', 'start_timer']);
    expect(state.phase).toBe('collecting');
  });
});
