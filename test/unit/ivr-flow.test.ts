import { describe, expect, it } from 'vitest';
import { flowVariables, type IvrFlowDefinitionInput, ivrFlowDefinitionSchema, mediaProblem, renderMedia, validateFlow } from '../../src/domain/dialer/ivr-flow';
import { collectionsFlow } from '../fixtures/ivr/collections-flow';

const problemsOf = (input: IvrFlowDefinitionInput) => validateFlow(ivrFlowDefinitionSchema.parse(input));
const codes = (input: IvrFlowDefinitionInput) => problemsOf(input).map((p) => `${p.node ?? '-'}:${p.code}`);

describe('IVR flow validation', () => {
  it('accepts the collections flow and lists the custom fields it speaks', () => {
    const flow = ivrFlowDefinitionSchema.parse(collectionsFlow);
    expect(validateFlow(flow)).toEqual([]);
    expect(flowVariables(flow)).toEqual(['valor']);
    const menu = flow.nodes.find((n) => n.id === 'menu');
    expect(menu).toMatchObject({ maxDigits: 1, retries: 2, timeoutSec: 5 });
  });

  it('names a start node that is not in the flow', () => {
    expect(codes({ start: 'nope', nodes: [{ id: 'fim', type: 'hangup' }] })).toEqual(['-:START_NODE_MISSING']);
  });

  it('names a duplicate node id and a branch to an unknown node', () => {
    expect(
      codes({
        start: 'a',
        nodes: [
          { id: 'a', type: 'play', media: ['sound:x'], next: 'ghost' },
          { id: 'a', type: 'hangup' },
        ],
      }),
    ).toEqual(['a:DUPLICATE_NODE', 'a:UNKNOWN_TARGET', 'a:NEVER_ENDS']);
  });

  it('names every node no path from the start reaches', () => {
    expect(
      codes({
        start: 'a',
        nodes: [
          { id: 'a', type: 'hangup' },
          { id: 'orphan', type: 'set', disposition: 'x', next: 'a' },
        ],
      }),
    ).toEqual(['orphan:UNREACHABLE']);
  });

  it('names a branch that never reaches a hangup or a transfer, and its unbounded loop', () => {
    const input: IvrFlowDefinitionInput = {
      start: 'menu',
      nodes: [
        { id: 'menu', type: 'menu', prompt: ['sound:m'], branches: { '1': 'loop_a' }, onTimeout: 'fim', onInvalid: 'fim' },
        { id: 'loop_a', type: 'play', media: ['sound:a'], next: 'loop_b' },
        { id: 'loop_b', type: 'set', disposition: 'x', next: 'loop_a' },
        { id: 'fim', type: 'hangup' },
      ],
    };
    expect(codes(input)).toEqual(['loop_a:NEVER_ENDS', 'loop_a:UNBOUNDED_LOOP', 'loop_b:NEVER_ENDS', 'loop_b:UNBOUNDED_LOOP']);
  });

  it('accepts a loop back to a menu when a node of the loop has a visit limit, and wants both halves of the limit', () => {
    const looped = (limit: object): IvrFlowDefinitionInput => ({
      start: 'menu',
      nodes: [
        { id: 'menu', type: 'menu', prompt: ['sound:m'], branches: { '1': 'fim', '0': 'repeat' }, onTimeout: 'fim', onInvalid: 'fim', ...limit },
        { id: 'repeat', type: 'play', media: ['sound:again'], next: 'menu' },
        { id: 'fim', type: 'hangup' },
      ],
    });
    expect(codes(looped({}))).toEqual(['menu:UNBOUNDED_LOOP', 'repeat:UNBOUNDED_LOOP']);
    expect(codes(looped({ maxVisits: 3, onMaxVisits: 'fim' }))).toEqual([]);
    expect(codes(looped({ maxVisits: 3 }))).toEqual(['menu:VISIT_LIMIT_INCOMPLETE', 'menu:UNBOUNDED_LOOP', 'repeat:UNBOUNDED_LOOP']);
  });

  it('names a node that loops to itself', () => {
    expect(
      codes({
        start: 'a',
        nodes: [
          { id: 'a', type: 'menu', prompt: ['sound:m'], branches: { '1': 'a' }, onTimeout: 'b', onInvalid: 'b' },
          { id: 'b', type: 'hangup' },
        ],
      }),
    ).toEqual(['a:UNBOUNDED_LOOP']);
  });

  it('names each malformed media URI on its node', () => {
    const problems = problemsOf({
      start: 'a',
      nodes: [
        { id: 'a', type: 'play', media: ['sound:ok/fine', 'tone:ring', 'sound:../etc/passwd', 'number:12a', 'digits:{{cpf}}', 'number:{{1x}}'], next: 'b' },
        { id: 'b', type: 'menu', prompt: ['recording:minha gravacao'], branches: { '1': 'c' }, onTimeout: 'c', onInvalid: 'c' },
        { id: 'c', type: 'hangup' },
      ],
    });
    expect(problems.map((p) => `${p.node}:${p.code}`)).toEqual(['a:MEDIA_INVALID', 'a:MEDIA_INVALID', 'a:MEDIA_INVALID', 'a:MEDIA_INVALID', 'b:MEDIA_INVALID']);
    expect(problems[0]?.message).toContain('tone:ring');
  });

  it('rejects a shape that is not a flow (the API answers 400 before the graph is looked at)', () => {
    expect(ivrFlowDefinitionSchema.safeParse({ start: 'a', nodes: [{ id: 'a', type: 'dance' }] }).success).toBe(false);
    expect(
      ivrFlowDefinitionSchema.safeParse({ start: 'a', nodes: [{ id: 'a', type: 'menu', prompt: ['sound:x'], branches: {}, onTimeout: 'a', onInvalid: 'a' }] })
        .success,
    ).toBe(false);
    expect(ivrFlowDefinitionSchema.safeParse({ start: 'a', nodes: [{ id: 'a b', type: 'hangup' }] }).success).toBe(false);
  });
});

describe('IVR media', () => {
  it('well-formed URIs have no problem', () => {
    for (const uri of ['sound:hello-world', 'sound:pt_BR/custom/x', 'digits:123#', 'number:-42', 'number:{{valor}}', 'digits:{{cpf}}', 'recording:r1']) {
      expect(mediaProblem(uri)).toBeUndefined();
    }
    expect(mediaProblem('sound:')).toBeDefined();
    expect(mediaProblem('sound:{{x}}')).toBeDefined();
    expect(mediaProblem('nothing')).toBeDefined();
  });

  it('speaks the whole part of an amount and the digits of a document from custom fields', () => {
    const fields = { valor: '1.234,56', simples: '150.75', cpf: '123.456.789-09', nada: '', texto: 'abc' };
    expect(renderMedia('number:{{valor}}', fields)).toBe('number:1234');
    expect(renderMedia('number:{{simples}}', fields)).toBe('number:150');
    expect(renderMedia('number:{{valor}}', { valor: 'R$ 89,90' })).toBe('number:89');
    expect(renderMedia('digits:{{cpf}}', fields)).toBe('digits:12345678909');
    expect(renderMedia('number:{{nada}}', fields)).toBeUndefined();
    expect(renderMedia('number:{{texto}}', fields)).toBeUndefined();
    expect(renderMedia('number:{{ausente}}', fields)).toBeUndefined();
    expect(renderMedia('sound:ola', fields)).toBe('sound:ola');
  });
});
