import { describe, expect, it } from 'vitest';
import { createSecretBox, generateSecretsKey, parseSecretsKey } from '../../src/db/secrets';
import {
  campaignRetireRefusal,
  canonicalWhatsAppNumber,
  columnValue,
  findColumn,
  gradualQuota,
  isWithinSendingHours,
  messageKey,
  nextWindowStart,
  parseMessageKey,
  refuseControl,
  refuseEdit,
  buildMessage,
  refuseMissingVariables,
  type SendingHours,
} from '../../src/domain/broadcast';
import { DEFAULT_MESSAGING_LIMIT_TIER, MESSAGING_LIMIT_TIERS, messagingLimitOf } from '../../src/domain/messaging-limits';

/** A São Paulo wall-clock time (UTC−03:00) as epoch ms. */
const sp = (iso: string) => Date.parse(`${iso}-03:00`);
const weekdays: SendingHours = [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }];

describe('sending hours in America/Sao_Paulo', () => {
  it('is inside on a weekday between from (inclusive) and to (exclusive)', () => {
    expect(isWithinSendingHours(sp('2026-11-25T08:00:00'), weekdays)).toBe(true); // Wednesday
    expect(isWithinSendingHours(sp('2026-11-25T17:59:59'), weekdays)).toBe(true);
    expect(isWithinSendingHours(sp('2026-11-25T18:00:00'), weekdays)).toBe(false);
    expect(isWithinSendingHours(sp('2026-11-25T07:59:00'), weekdays)).toBe(false);
    expect(isWithinSendingHours(sp('2026-11-28T10:00:00'), weekdays)).toBe(false); // Saturday
    expect(isWithinSendingHours(sp('2026-11-28T10:00:00'), null)).toBe(true);
  });
  it('uses São Paulo time, not UTC: 20:00 UTC is 17:00 there', () => {
    expect(isWithinSendingHours(Date.parse('2026-11-25T20:00:00Z'), weekdays)).toBe(true);
    expect(isWithinSendingHours(Date.parse('2026-11-25T10:30:00Z'), weekdays)).toBe(false);
  });
  it('finds the next opening: later today, tomorrow, or after the weekend', () => {
    expect(nextWindowStart(sp('2026-11-25T06:00:00'), weekdays)).toBe(sp('2026-11-25T08:00:00'));
    expect(nextWindowStart(sp('2026-11-25T19:00:00'), weekdays)).toBe(sp('2026-11-26T08:00:00'));
    expect(nextWindowStart(sp('2026-11-27T18:30:00'), weekdays)).toBe(sp('2026-11-30T08:00:00')); // Friday → Monday
    expect(nextWindowStart(sp('2026-11-25T09:00:00'), weekdays)).toBe(sp('2026-11-25T09:00:00'));
    const split: SendingHours = [
      { days: [3], from: '09:00', to: '12:00' },
      { days: [3], from: '14:00', to: '17:00' },
    ];
    expect(nextWindowStart(sp('2026-11-25T12:30:00'), split)).toBe(sp('2026-11-25T14:00:00'));
    expect(nextWindowStart(sp('2026-11-25T12:30:00'), [{ days: [], from: '09:00', to: '10:00' }])).toBeUndefined();
  });
});

describe('gradual release', () => {
  it('releases a share of the group per period and says when the next opens', () => {
    const start = 1_000_000;
    expect(gradualQuota(1000, { percent: 10, everyMinutes: 5 }, start, start)).toEqual({ allowed: 100, nextReleaseAt: start + 300_000 });
    expect(gradualQuota(1000, { percent: 10, everyMinutes: 5 }, start, start + 300_000).allowed).toBe(200);
    expect(gradualQuota(1000, { percent: 30, everyMinutes: 1 }, start, start + 10 * 60_000)).toEqual({ allowed: 1000, nextReleaseAt: undefined });
    expect(gradualQuota(7, { percent: 1, everyMinutes: 1 }, start, start).allowed).toBe(1);
    expect(gradualQuota(500, null, start, start)).toEqual({ allowed: 500, nextReleaseAt: undefined });
  });
});

describe('template variables', () => {
  const contact = { name: 'João da Silva', phone: '5548998288774', email: null, document: '123', custom: { Vencimento: '10/12', 'Valor (R$)': '  99,90\n' } };
  it('maps columns (loosely: case, accents, separators) and fixed texts, in placeholder order', () => {
    const mapping = { '2': { column: 'vencimento' }, '1': { column: 'Nome' }, '3': { text: 'Loja Centro' }, '4': { column: 'valor_r' } };
    expect(buildMessage(mapping, ['1', '2', '3', '4'], 'POSITIONAL', contact)).toEqual({
      ok: true,
      parameters: ['João da Silva', '10/12', 'Loja Centro', '99,90'],
      defaulted: [],
    });
    expect(buildMessage({ nome: { column: 'nome' }, doc: { column: 'documento' } }, ['nome', 'doc'], 'NAMED', contact)).toEqual({
      ok: true,
      parameters: { nome: 'João da Silva', doc: '123' },
      defaulted: [],
    });
    expect(columnValue('telefone', contact)).toBe('5548998288774');
  });
  it('never sends an empty parameter: skips the contact, naming what had no value (the default policy)', () => {
    const mapping = { '1': { column: 'nome' }, '2': { column: 'email' }, '3': { column: 'cidade' } };
    expect(buildMessage(mapping, ['1', '2', '3'], 'POSITIONAL', contact)).toEqual({ ok: false, missing: ['2', '3'] });
    expect(buildMessage(mapping, ['1', '2', '3'], 'POSITIONAL', { ...contact, custom: { cidade: ' \n\t ' } }, { policy: 'skip' })).toEqual({
      ok: false,
      missing: ['2', '3'],
    });
  });
  it('or sends each empty placeholder its default text, naming the ones defaulted', () => {
    const mapping = { nome: { column: 'nome' }, email: { column: 'email' } };
    const policy = { policy: 'default' as const, defaults: { nome: 'cliente', email: ' sem\ne-mail ' } };
    expect(buildMessage(mapping, ['nome', 'email'], 'NAMED', contact, policy)).toEqual({
      ok: true,
      parameters: { nome: 'João da Silva', email: 'sem e-mail' },
      defaulted: ['email'],
    });
    // A default missing from a stored policy (never accepted by the API) still never sends "".
    expect(buildMessage(mapping, ['nome', 'email'], 'NAMED', contact, { policy: 'default', defaults: {} })).toEqual({ ok: false, missing: ['email'] });
  });
  it('a default policy names only placeholders of the template and covers every column-mapped one', () => {
    const mapping = { '1': { column: 'nome' }, '2': { text: 'Loja' }, '3': { column: 'email' } };
    expect(refuseMissingVariables({ policy: 'skip' }, mapping, ['1', '2', '3'])).toBeUndefined();
    expect(refuseMissingVariables({ policy: 'default', defaults: { '1': 'cliente', '3': '-' } }, mapping, ['1', '2', '3'])).toBeUndefined();
    expect(refuseMissingVariables({ policy: 'default', defaults: { '1': 'cliente' } }, mapping, ['1', '2', '3'])).toMatchObject({
      code: 'MISSING_VARIABLE_DEFAULT_REQUIRED',
      details: { missing: ['3'] },
    });
    expect(refuseMissingVariables({ policy: 'default', defaults: { '1': 'a', '3': 'b', '9': 'c' } }, mapping, ['1', '2', '3'])).toMatchObject({
      code: 'MISSING_VARIABLE_DEFAULT_UNKNOWN',
      details: { unknown: ['9'] },
    });
  });
  it('finds a group column by its loose name', () => {
    expect(findColumn('VENCIMENTO', ['nome', 'Vencimento'])).toBe('Vencimento');
    expect(findColumn('data', ['nome', 'Vencimento'])).toBeUndefined();
  });
});

describe('keys, numbers and controls', () => {
  it('round-trips the message key sent as biz_opaque_callback_data', () => {
    const key = messageKey('0b7c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f21', 123456);
    expect(key.length).toBeLessThanOrEqual(512);
    expect(parseMessageKey(key)).toEqual({ sendId: '0b7c6a4e-1f2d-4c3b-9a8e-7d6c5b4a3f21', contactId: 123456 });
    expect(parseMessageKey('something-else')).toBeUndefined();
    expect(parseMessageKey(undefined)).toBeUndefined();
  });
  it('puts the ninth digit back on a Brazilian mobile wa_id only', () => {
    expect(canonicalWhatsAppNumber('554898288774')).toBe('5548998288774');
    expect(canonicalWhatsAppNumber('5548998288774')).toBe('5548998288774');
    expect(canonicalWhatsAppNumber('554832223344')).toBe('554832223344'); // landline
    expect(canonicalWhatsAppNumber('14155550123')).toBe('14155550123');
  });
  it('refuses impossible transitions with a code', () => {
    expect(refuseControl('pause', 'running')).toBeUndefined();
    expect(refuseControl('pause', 'paused')?.code).toBe('SEND_ALREADY_PAUSED');
    expect(refuseControl('resume', 'running')?.code).toBe('SEND_NOT_PAUSED');
    expect(refuseControl('start', 'running')?.code).toBe('SEND_NOT_SCHEDULED');
    expect(refuseControl('start', 'scheduled')).toBeUndefined();
    expect(refuseControl('stop', 'completed')?.code).toBe('SEND_FINISHED');
    expect(refuseControl('stop', 'waiting')).toBeUndefined();
  });
});

describe('editing and messaging limits', () => {
  it('lets everything be edited before the send starts, only its pace and sending hours once started, nothing once finished', () => {
    expect(refuseEdit('scheduled')).toBeUndefined();
    for (const state of ['running', 'paused', 'waiting', 'completed', 'stopped'] as const) expect(refuseEdit(state)?.code).toBe('SEND_NOT_EDITABLE');
    // Started: only the pace and the sending hours; finished: nothing.
    for (const state of ['running', 'paused', 'waiting'] as const) {
      expect(refuseEdit(state, ['paceMps', 'sendingHours'])).toBeUndefined();
      expect(refuseEdit(state, ['paceMps', 'template'])?.message).toContain('not template');
    }
    for (const state of ['completed', 'stopped'] as const) expect(refuseEdit(state, ['paceMps'])?.code).toBe('SEND_NOT_EDITABLE');
  });
  it("maps Meta's tiers to unique users per 24 h, starting at 250", () => {
    expect(MESSAGING_LIMIT_TIERS.map(messagingLimitOf)).toEqual([250, 2_000, 10_000, 100_000, null]);
    expect(messagingLimitOf(DEFAULT_MESSAGING_LIMIT_TIER)).toBe(250);
  });
});

describe('provider secrets at rest', () => {
  it('seals with AES-256-GCM: a different ciphertext each time, opened only with the same key, tampering detected', () => {
    const key = generateSecretsKey();
    const box = createSecretBox(key);
    const a = box.seal('EAAG-token');
    expect(a).not.toContain('EAAG');
    expect(box.seal('EAAG-token')).not.toBe(a);
    expect(box.open(a)).toBe('EAAG-token');
    expect(() => createSecretBox(generateSecretsKey()).open(a)).toThrow();
    const parts = a.split(':');
    const data = Buffer.from(parts[3], 'base64');
    data[0] ^= 1;
    parts[3] = data.toString('base64');
    expect(() => box.open(parts.join(':'))).toThrow();
    expect(parseSecretsKey(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(() => parseSecretsKey('short')).toThrow(/32 bytes/);
    expect(() => createSecretBox(undefined).seal('x')).toThrow(/SECRETS_KEY/);
  });
});

describe('archiving or deleting a broadcast campaign', () => {
  it('waits for every send to be over and names those that are not', () => {
    expect(campaignRetireRefusal([])).toBeUndefined();
    expect(
      campaignRetireRefusal([
        { id: 'a', status: 'completed' },
        { id: 'b', status: 'stopped' },
      ]),
    ).toBeUndefined();
    const refused = campaignRetireRefusal([
      { id: 'a', status: 'completed' },
      { id: 'b', status: 'waiting' },
      { id: 'c', status: 'scheduled' },
    ]);
    expect(refused).toMatchObject({ code: 'CAMPAIGN_IN_PROGRESS', sends: ['b', 'c'] });
  });
});
