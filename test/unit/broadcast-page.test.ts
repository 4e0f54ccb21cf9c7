import { describe, expect, it } from 'vitest';
import type { Claimed } from '../../src/activities/broadcast/claim';
import { screenPage, type PageRow } from '../../src/activities/broadcast/page-claim';
import { createDispatcher, decideAnswer, decideFailure, INLINE_RETRY_MS } from '../../src/activities/broadcast/page-dispatch';
import { runPageLoop, type PageLoopDeps } from '../../src/activities/broadcast/page-loop';
import { pagePace } from '../../src/activities/broadcast/page-pace';
import type { Outcome } from '../../src/activities/broadcast/recorder';
import type { Halt, PageResult } from '../../src/activities/broadcast/send-activities';
import { buildMessage } from '../../src/domain/broadcast';
import { WhatsAppTransportError } from '../../src/integrations/whatsapp/errors';
import type { SendTemplateResult } from '../../src/integrations/whatsapp/types';

/** The units of a page of a send: claim (screen the due rows) → pace → dispatch (decide each answer) → the loop that records and retries. */

const emptyResult = (): PageResult => ({ claimed: 0, accepted: 0, failed: 0, retry: 0, skipped: 0, unsettled: 0, interrupted: false });
const row = (id: number, custom: Record<string, string> = { vencimento: '10/12' }): PageRow => ({
  id,
  contact_id: 100 + id,
  phone: `554899990000${id}`,
  phone_key: `55489990000${id}`,
  attempts: 0,
  name: `Cliente ${id}`,
  email: null,
  document: null,
  custom,
});
const refused = (code: number): SendTemplateResult => ({ ok: false, httpStatus: 400, code, title: `erro ${code}`, message: `(#${code}) erro` });

describe('claim: which of a page’s due messages may go', () => {
  const mapping = { '1': { column: 'nome' }, '2': { column: 'vencimento' } };
  const build = (r: PageRow) => buildMessage(mapping, ['1', '2'], 'POSITIONAL', r);
  it('skips opted-out (number or key) and capped users, and contacts missing a variable, keeping order and built messages', () => {
    const rows = [row(1), row(2), row(3), row(4, {}), row(5)];
    const screened = screenPage(rows, new Set([rows[1].phone]), new Set([rows[2].phone_key]), build);
    expect(screened.queue.map((q) => q.id)).toEqual([1, 5]);
    expect(screened.queue[0]).toEqual({ id: 1, contact_id: 101, phone: rows[0].phone, phone_key: rows[0].phone_key, parameters: ['Cliente 1', '10/12'] });
    expect(screened.skips).toEqual([
      { reason: 'opt_out', ids: [2] },
      { reason: 'skipped_user_cap', ids: [3] },
    ]);
    expect(screened.noValue).toEqual([{ id: 4, names: ['2'] }]);
  });
  it('keeps a contact sent with defaults in the queue, noting which placeholders took them', () => {
    const withDefault = (r: PageRow) =>
      buildMessage(mapping, ['1', '2'], 'POSITIONAL', r, { policy: 'default', defaults: { '1': 'cliente', '2': 'em breve' } });
    const screened = screenPage([row(1, {})], new Set(), new Set(), withDefault);
    expect(screened.queue.map((q) => q.parameters)).toEqual([['Cliente 1', 'em breve']]);
    expect(screened.noValue).toEqual([{ id: 1, names: ['2'] }]);
  });
});

describe('pace: the windows a page takes slots in', () => {
  it('paces by the channel’s number, per second and per tenth, and the send (never above the number), in small batches of slots', () => {
    const pace = pagePace({ id: 'c1', mps_limit: 1000 }, { id: 's1', pace_mps: 2000 }, 10);
    expect(pace.windows).toEqual([
      { key: 'channel:c1', limit: 1000, windowMs: 1010 },
      { key: 'channel:c1:tenth', limit: 100, windowMs: 101 },
      { key: 'send:s1', limit: 1000, windowMs: 1010 },
    ]);
    expect(pace).toMatchObject({ keys: ['channel:c1', 'channel:c1:tenth', 'send:s1'], least: 10, most: 25 });
    expect(pagePace({ id: 'c1', mps_limit: 80 }, { id: 's1', pace_mps: 20 })).toMatchObject({ least: 1, most: 1 });
    expect(pagePace({ id: 'c1', mps_limit: 80 }, { id: 's1', pace_mps: 80 }).windows[2].limit).toBe(80);
    // A batch never needs more than a tenth holds, whatever the limit.
    for (const limit of [1, 5, 9, 10, 80, 1000, 10_000]) {
      const p = pagePace({ id: 'c1', mps_limit: limit }, { id: 's1', pace_mps: limit });
      expect(p.least).toBeLessThanOrEqual(p.windows[1].limit);
    }
  });
});

describe('dispatch: what an answer means', () => {
  it('accepts, retries with backoff (short ones inline), fails after the last attempt', () => {
    expect(decideAnswer({ ok: true, wamid: 'w1', waId: '5548', messageStatus: 'accepted' }, 1, 6, 0)).toEqual({
      tally: 'accepted',
      outcome: { kind: 'accepted', wamid: 'w1', waId: '5548', messageStatus: 'accepted' },
    });
    // 130429 (throughput): flat 1 s, tried again by this page.
    const throughput = decideAnswer(refused(130429), 3, 6, 0.5);
    expect(throughput).toMatchObject({ tally: 'retry', outcome: { kind: 'retry', code: 130429, delayMs: 1100 }, inlineRetryMs: 1100 });
    // 131056 (pair rate): 6 s, left for the next pass.
    expect(decideAnswer(refused(131056), 1, 6, 0)).toMatchObject({ tally: 'retry', outcome: { delayMs: 6000 }, inlineRetryMs: undefined });
    expect(decideAnswer(refused(130429), 6, 6, 0)).toMatchObject({ tally: 'failed', outcome: { kind: 'failed', code: 130429 } });
  });
  it('blocks a capped user, opts out a user who stopped marketing, halts the send on account and template errors', () => {
    expect(decideAnswer(refused(131049), 1, 6, 0)).toMatchObject({ tally: 'failed', block: { forMs: 86_400_000, code: 131049 } });
    expect(decideAnswer(refused(131050), 1, 6, 0)).toMatchObject({ tally: 'failed', optOut: { reason: 'erro 131050' } });
    expect(decideAnswer(refused(190), 1, 6, 0)).toEqual({
      outcome: { kind: 'release', code: 190, title: 'erro 190', details: undefined },
      halt: { action: 'pause', reason: 'access_token_invalid' },
    });
    expect(decideAnswer(refused(132001), 1, 6, 0).halt).toEqual({ action: 'stop', reason: 'template_missing' });
  });
  it('retries a call that certainly did not leave, and leaves one that may have been accepted for the webhook', () => {
    expect(decideFailure(new WhatsAppTransportError('refused', 'network', false))).toMatchObject({
      tally: 'retry',
      outcome: { kind: 'retry', code: null, delayMs: 2000 },
    });
    expect(decideFailure(new WhatsAppTransportError('reset', 'network', true))).toEqual({ tally: 'unsettled' });
  });
  it('counts, records with our business key and halts the send once (a stop wins over a pause)', async () => {
    const answers: SendTemplateResult[] = [{ ok: true, wamid: 'w1', waId: 'x', messageStatus: 'accepted' }, refused(190), refused(132001), refused(190)];
    const sent: unknown[] = [];
    const recorded: Outcome[] = [];
    const halts: Halt[] = [];
    const result = emptyResult();
    const dispatch = createDispatcher({
      db: undefined as never,
      client: { sendTemplate: async (request: unknown) => (sent.push(request), answers.shift()!) } as never,
      channel: { phone_number_id: 'pn1' },
      send: { id: '0b9f6c9e-3c4e-4e59-9a43-6a2b6f0f9a10', tenant_id: 't1', template_name: 'lembrete', template_language: 'pt_BR' },
      maxAttempts: 6,
      record: (o) => recorded.push(o),
      result,
      setHalt: async (_id, halt) => void halts.push(halt),
    });
    const message = { id: 7, contact_id: 107, phone: '5548999900007', phone_key: '554899900007', parameters: ['Ana', '10/12'] };
    for (let i = 0; i < 4; i++) expect(await dispatch(message, 1)).toBeUndefined();
    expect(sent[0]).toMatchObject({
      phoneNumberId: 'pn1',
      to: message.phone,
      bodyParameters: ['Ana', '10/12'],
      bizOpaqueCallbackData: 'bm:0b9f6c9e-3c4e-4e59-9a43-6a2b6f0f9a10:107',
    });
    expect(result).toMatchObject({ accepted: 1, failed: 0, halt: { action: 'stop', reason: 'template_missing' } });
    expect(recorded.map((o) => o.kind)).toEqual(['accepted', 'release', 'release', 'release']);
    expect(halts.map((h) => h.action)).toEqual(['pause', 'stop', 'pause']);
  });
});

describe('the page loop: slots, intent, calls, short retries', () => {
  type M = { id: number };
  function loop(n: number, overrides: Partial<PageLoopDeps<M>> = {}) {
    const events: string[] = [];
    let inflight = 0;
    let maxInflight = 0;
    const attempts = new Map<number, number>();
    const result = emptyResult();
    const deps: PageLoopDeps<M> = {
      queue: Array.from({ length: n }, (_, i) => ({ id: i + 1 })),
      concurrency: 4,
      slots: { least: 1, most: 3 },
      acquire: async (want) => ({ granted: want, waitMs: 0, delayMs: 0, stamp: 0 }),
      restamp: async () => undefined,
      claim: async (batch): Promise<Claimed> => {
        events.push(`claim ${batch.map((m) => m.id).join(',')}`);
        for (const m of batch) attempts.set(m.id, (attempts.get(m.id) ?? 0) + 1);
        return { attempts: new Map(batch.map((m) => [m.id, attempts.get(m.id)!])) };
      },
      dispatch: async (m, attempt) => {
        inflight++;
        maxInflight = Math.max(maxInflight, inflight);
        await new Promise((r) => setTimeout(r, 2));
        inflight--;
        events.push(`call ${m.id}#${attempt}`);
        return undefined;
      },
      flush: async () => void events.push('flush'),
      check: async () => ({ running: true }),
      cancelled: () => false,
      turn: { set: () => undefined, isTurn: () => true },
      result,
      ...overrides,
    };
    return { deps, events, result, maxInflight: () => maxInflight };
  }

  it('claims every message once before calling it, in batches no larger than asked, never above the concurrency', async () => {
    const t = loop(10);
    await runPageLoop(t.deps);
    const calls = t.events.filter((e) => e.startsWith('call')).sort();
    expect(calls).toEqual(Array.from({ length: 10 }, (_, i) => `call ${i + 1}#1`).sort());
    expect(t.result.claimed).toBe(10);
    for (const e of t.events.filter((x) => x.startsWith('claim'))) expect(e.split(',').length).toBeLessThanOrEqual(3);
    for (let id = 1; id <= 10; id++)
      expect(t.events.indexOf(`call ${id}#1`)).toBeGreaterThan(t.events.findIndex((e) => e.startsWith('claim') && e.split(/[ ,]/).includes(String(id))));
    expect(t.maxInflight()).toBeLessThanOrEqual(4);
  });

  it('tries a short retry again in the same page, after its `pending` is written', async () => {
    const tries = new Map<number, number>();
    const t = loop(2, {
      dispatch: async (m, attempt) => {
        tries.set(m.id, attempt);
        return m.id === 2 && attempt === 1 ? 5 : undefined;
      },
    });
    await runPageLoop(t.deps);
    expect(tries.get(2)).toBe(2);
    expect(t.events).toEqual(['claim 1,2', 'flush', 'claim 2']);
    expect(t.result.claimed).toBe(3);
    expect(INLINE_RETRY_MS).toBe(2000);
  });

  it('ends the page when the messaging limit refuses a batch, leaving the rest pending', async () => {
    let claims = 0;
    const t = loop(30, {
      claim: async (batch) => {
        claims++;
        return { attempts: new Map(batch.slice(0, 1).map((m) => [m.id, 1])), limitedUntil: '2026-12-03T00:00:00.000Z' };
      },
    });
    await runPageLoop(t.deps);
    // Batches already taking their slots meanwhile still record theirs; no new one starts.
    expect(t.result).toMatchObject({ claimed: claims, limitedUntil: '2026-12-03T00:00:00.000Z' });
    expect(claims).toBeLessThan(10);
    expect(t.deps.queue.length).toBeGreaterThan(0);
  });

  it('stops, interrupted with the halt, when the send no longer runs; and when the activity is cancelled', async () => {
    const halted = loop(50, {
      checkEveryMs: 0,
      acquire: async (want) => {
        await new Promise((r) => setTimeout(r, 3));
        return { granted: want, waitMs: 0, delayMs: 0, stamp: 0 };
      },
      check: async () => ({ running: false, halt: { action: 'pause', reason: 'template_paused' } }),
    });
    await runPageLoop(halted.deps);
    expect(halted.result).toMatchObject({ interrupted: true, halt: { action: 'pause', reason: 'template_paused' } });
    expect(halted.deps.queue.length).toBeGreaterThan(0);
    const cancelled = loop(5, { cancelled: () => true });
    await runPageLoop(cancelled.deps);
    expect(cancelled.result).toMatchObject({ interrupted: true, claimed: 0 });
  });

  it('waits for its turn behind an earlier page of the send, and gives the turn up at the end', async () => {
    let turn = false;
    const sets: boolean[] = [];
    const t = loop(3, {
      turn: {
        set: (waiting) => void sets.push(waiting),
        isTurn: () => turn,
      },
    });
    setTimeout(() => (turn = true), 30);
    const started = Date.now();
    await runPageLoop(t.deps);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(t.result.claimed).toBe(3);
    expect(sets.at(-1)).toBe(false);
  });

  it('fails the page when recording an intent fails (nothing is called for it)', async () => {
    const t = loop(3, {
      claim: async () => {
        throw new Error('connection lost');
      },
    });
    await expect(runPageLoop(t.deps)).rejects.toThrow('connection lost');
    expect(t.events.filter((e) => e.startsWith('call'))).toEqual([]);
  });
});
