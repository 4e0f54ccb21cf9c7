import { describe, expect, it } from 'vitest';
import { closesAt, isHoliday, isOpen, localParts, nextOpen, type WindowRule, zonedTime } from '../../src/domain/dialer/windows';

/**
 * `isOpen` and `closesAt` read the day's intervals from a cache by rule and local date. These
 * tests hold them to the computation from scratch (what they did before the cache) at every
 * instant around day boundaries and offset changes, in zones with DST and with odd transitions.
 */

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const dayOf = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), weekday: t.getUTCDay() };
};

/** The open intervals containing `at`, computed afresh: the local date of `at` and the day before. */
function freshIntervals(rule: WindowRule, at: Date): Array<[number, number]> {
  const p = localParts(at, rule.timeZone);
  const t = at.getTime();
  const found: Array<[number, number]> = [];
  for (const back of [1, 0]) {
    const date = dayOf(p.y, p.m, p.d - back);
    if (!rule.days.includes(date.weekday)) continue;
    if (rule.excludeHolidays && isHoliday(date, rule.holidayState)) continue;
    for (const r of rule.ranges) {
      const from = minutesOf(r.from);
      const to = minutesOf(r.to);
      const start = zonedTime(date, from, rule.timeZone).getTime();
      const end = zonedTime(to > from ? date : dayOf(date.y, date.m, date.d + 1), to, rule.timeZone).getTime();
      if (t >= start && t < end) found.push([start, end]);
    }
  }
  return found;
}

const everyDay = [0, 1, 2, 3, 4, 5, 6];
const rulesIn = (timeZone: string): WindowRule[] => [
  { timeZone, days: everyDay, ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false },
  { timeZone, days: everyDay, ranges: [{ from: '22:00', to: '02:00' }], excludeHolidays: false },
  { timeZone, days: [1, 2, 3, 4, 5], ranges: [{ from: '08:00', to: '18:00' }], excludeHolidays: false },
  {
    timeZone,
    days: [0, 6],
    ranges: [
      { from: '00:00', to: '01:00' },
      { from: '23:30', to: '00:30' },
    ],
    excludeHolidays: false,
  },
  { timeZone, days: everyDay, ranges: [{ from: '01:30', to: '03:00' }], excludeHolidays: false },
];

/** Instants every 7 minutes over three days from `fromIso`, plus each interval edge ±1 ms. */
function instantsAround(rule: WindowRule, fromIso: string): Date[] {
  const start = new Date(fromIso).getTime();
  const out: Date[] = [];
  for (let t = start; t < start + 3 * 86_400_000; t += 7 * 60_000) out.push(new Date(t));
  for (const at of [...out]) for (const [s, e] of freshIntervals(rule, at)) for (const edge of [s - 1, s, e - 1, e]) out.push(new Date(edge));
  // A shuffled order, so the cache is filled by instants of the days before and after as well.
  return out
    .map((d, i) => ({ d, k: (i * 7919) % out.length }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.d);
}

const transitions: Array<[zone: string, fromIso: string, what: string]> = [
  ['America/Sao_Paulo', '2018-11-03T00:00:00Z', 'DST began at 00:00 (no local midnight on 4 Nov)'],
  ['America/Sao_Paulo', '2019-02-15T12:00:00Z', 'DST ended at 00:00 → 23:00 (the 16th happened twice from 23:00)'],
  ['America/Sao_Paulo', '2026-12-05T00:00:00Z', 'no DST today'],
  ['America/New_York', '2026-03-07T00:00:00Z', 'spring forward at 02:00'],
  ['America/New_York', '2026-10-31T00:00:00Z', 'fall back at 02:00'],
  ['Australia/Lord_Howe', '2026-04-03T12:00:00Z', 'a half-hour fall back'],
  ['Pacific/Apia', '2011-12-28T00:00:00Z', 'skipped 30 December 2011 (−10 → +14)'],
  ['Asia/Kolkata', '2026-06-01T00:00:00Z', 'a half-hour offset'],
];

describe('calling windows: the cached day intervals', () => {
  for (const [zone, fromIso, what] of transitions) {
    it(`agree with a fresh computation in ${zone}, ${what}`, () => {
      for (const rule of rulesIn(zone)) {
        for (const at of instantsAround(rule, fromIso)) {
          const fresh = freshIntervals(rule, at);
          const label = `${JSON.stringify(rule.ranges)} at ${at.toISOString()}`;
          expect(isOpen(rule, at), label).toBe(fresh.length > 0);
          const latest = fresh.length ? Math.max(...fresh.map(([, end]) => end)) : undefined;
          expect(closesAt(rule, at)?.getTime(), label).toBe(latest);
        }
      }
    });
  }

  it('keeps rules apart that differ only in their holidays, zone or days', () => {
    const base: WindowRule = { timeZone: 'America/Sao_Paulo', days: everyDay, ranges: [{ from: '08:00', to: '18:00' }], excludeHolidays: true };
    // 23 April: São Jorge, a holiday in Rio de Janeiro only.
    const saoJorge = new Date('2026-04-23T13:00:00Z');
    expect(isOpen(base, saoJorge)).toBe(true);
    expect(isOpen({ ...base, holidayState: 'RJ' }, saoJorge)).toBe(false);
    expect(isOpen({ ...base, excludeHolidays: false, holidayState: 'RJ' }, saoJorge)).toBe(true);
    // 10:30 UTC: 07:30 in São Paulo, 08:30 in Fernando de Noronha.
    const early = new Date('2026-04-22T10:30:00Z');
    expect(isOpen(base, early)).toBe(false);
    expect(isOpen({ ...base, timeZone: 'America/Noronha' }, early)).toBe(true);
    expect(isOpen({ ...base, days: [0] }, new Date('2026-04-22T13:00:00Z'))).toBe(false);
  });

  it('finds the next opening across a skipped day', () => {
    const rule: WindowRule = { timeZone: 'Pacific/Apia', days: everyDay, ranges: [{ from: '09:00', to: '10:00' }], excludeHolidays: false };
    // 29 December 2011 10:00 local (−10): the next 09:00 is 31 December (+14), 30 December never happened.
    const next = nextOpen(rule, new Date('2011-12-29T20:00:00Z'));
    expect(next?.toISOString()).toBe('2011-12-30T19:00:00.000Z');
    expect(isOpen(rule, next!)).toBe(true);
    expect(isOpen(rule, new Date(next!.getTime() - 1))).toBe(false);
  });

  it('places a skipped wall time after the jump and a repeated one at its first occurrence', () => {
    const at = (zone: string, y: number, m: number, d: number, hhmm: string) => zonedTime({ y, m, d }, minutesOf(hhmm), zone).toISOString();
    // Gaps: read with the offset before the jump.
    expect(at('America/New_York', 2026, 3, 8, '02:30')).toBe('2026-03-08T07:30:00.000Z');
    expect(at('America/Sao_Paulo', 2018, 11, 4, '00:00')).toBe('2018-11-04T03:00:00.000Z');
    expect(at('Australia/Lord_Howe', 2026, 10, 4, '02:15')).toBe('2026-10-03T15:45:00.000Z');
    expect(at('Pacific/Apia', 2011, 12, 30, '09:00')).toBe('2011-12-30T19:00:00.000Z');
    // Repeated times: the first, whichever side of UTC.
    expect(at('America/New_York', 2026, 11, 1, '01:30')).toBe('2026-11-01T05:30:00.000Z');
    expect(at('America/Sao_Paulo', 2019, 2, 16, '23:30')).toBe('2019-02-17T01:30:00.000Z');
    expect(at('Australia/Lord_Howe', 2026, 4, 5, '01:45')).toBe('2026-04-04T14:45:00.000Z');
    expect(at('Europe/London', 2026, 10, 25, '01:30')).toBe('2026-10-25T00:30:00.000Z');
  });
});
