import { createRequire } from 'node:module';
import type HolidayCalendar from 'date-holidays';
import { DDD_STATE } from '../phone';
import type { CallingWindow, TimeRange } from './strategy';

/**
 * Calling windows: days of week and time ranges in a time zone, national holidays excluded
 * (date-holidays, not a hand-written list), ranges that cross midnight, and the stricter state
 * telemarketing hours by DDD (shared/brazil-rules.md). Pure functions of their arguments.
 */

export interface WindowRule {
  timeZone: string;
  days: number[];
  ranges: TimeRange[];
  excludeHolidays: boolean;
  /** State (UF) whose own holidays are also excluded, besides the national ones. */
  holidayState?: string;
}

/**
 * State telemarketing laws: weekdays only, weekends and holidays banned, in the state's local time
 * (Mato Grosso do Sul is one hour behind Brasília).
 */
export const STATE_TELEMARKETING_HOURS: Readonly<Record<string, WindowRule>> = Object.freeze({
  // Lei 7.853/2018
  RJ: { timeZone: 'America/Sao_Paulo', days: [1, 2, 3, 4, 5], ranges: [{ from: '08:00', to: '18:00' }], excludeHolidays: true, holidayState: 'RJ' },
  // Lei 10.626/2017
  ES: { timeZone: 'America/Sao_Paulo', days: [1, 2, 3, 4, 5], ranges: [{ from: '08:00', to: '19:00' }], excludeHolidays: true, holidayState: 'ES' },
  // Lei 16.836/2019
  CE: { timeZone: 'America/Fortaleza', days: [1, 2, 3, 4, 5], ranges: [{ from: '08:00', to: '18:00' }], excludeHolidays: true, holidayState: 'CE' },
  // Lei 3.641/2009
  MS: { timeZone: 'America/Campo_Grande', days: [1, 2, 3, 4, 5], ranges: [{ from: '08:00', to: '18:00' }], excludeHolidays: true, holidayState: 'MS' },
});

/** DDDs that fall under a state telemarketing law. */
export const RESTRICTED_DDDS: readonly string[] = Object.entries(DDD_STATE)
  .filter(([, uf]) => uf in STATE_TELEMARKETING_HOURS)
  .map(([ddd]) => ddd);

export const stateRuleOfDdd = (ddd: string | null | undefined): WindowRule | undefined => (ddd ? STATE_TELEMARKETING_HOURS[DDD_STATE[ddd] ?? ''] : undefined);

/** The DDD of a normalized number (55 + DDD + …). */
export const dddOf = (phone: string): string | null => (phone.startsWith('55') && phone.length >= 12 ? phone.slice(2, 4) : null);

export const ruleOfWindow = (w: CallingWindow): WindowRule => ({
  timeZone: w.timeZone,
  days: w.days,
  ranges: w.ranges,
  excludeHolidays: w.excludeHolidays,
});

// ---- local time

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local date of `at` in `timeZone` (one Intl call: the hot path of {@link isOpen}). */
function localDate(at: Date, timeZone: string): LocalDate {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dateFormatters.set(timeZone, f);
  }
  const date: LocalDate = { y: 0, m: 0, d: 0 };
  for (const p of f.formatToParts(at)) {
    if (p.type === 'year') date.y = Number(p.value);
    else if (p.type === 'month') date.m = Number(p.value);
    else if (p.type === 'day') date.d = Number(p.value);
  }
  return date;
}

/** Wall-clock parts of `at` in `timeZone`. */
export function localParts(at: Date, timeZone: string): LocalDate & { hh: number; mm: number; ss: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year, m: parts.month, d: parts.day, hh: parts.hour, mm: parts.minute, ss: parts.second };
}

/** Offset of `timeZone` from UTC at `at`, in minutes (São Paulo: -180 all year since 2019). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const p = localParts(at, timeZone);
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant a wall-clock time happens in `timeZone`, as Temporal's "compatible" disambiguation:
 * a repeated time (the clock jumped back) is its first occurrence; a time the clock skipped (a DST
 * gap, a skipped day) is read with the offset before the jump, so it falls after the jump by as
 * much as it was into the gap. The offsets a day either side are the ones before and after.
 */
export function zonedTime(date: LocalDate, minutesOfDay: number, timeZone: string): Date {
  const naive = Date.UTC(date.y, date.m - 1, date.d, 0, minutesOfDay);
  const before = offsetMinutes(new Date(naive - 86_400_000), timeZone);
  const after = offsetMinutes(new Date(naive + 86_400_000), timeZone);
  const valid = [naive - before * 60_000, naive - after * 60_000].filter((t, i) => offsetMinutes(new Date(t), timeZone) === (i === 0 ? before : after));
  return new Date(valid.length ? Math.min(...valid) : naive - before * 60_000);
}

const addDays = (date: LocalDate, days: number): LocalDate => {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
};
const weekdayOf = (date: LocalDate) => new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
const ymd = (date: LocalDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

// ---- holidays

const holidayCache = new Map<string, Set<string>>();

// Loaded on the first holiday asked for, not at start: its calendars (and moment) take about 8 MB
// of heap, which a process that never checks a window, such as the API, need not hold.
let Holidays: typeof HolidayCalendar | undefined;
const holidayCalendar = () => (Holidays ??= createRequire(import.meta.url)('date-holidays') as typeof HolidayCalendar);

/** Public holidays of Brazil (and of `state`, when given) in `year`, as YYYY-MM-DD. */
export function publicHolidays(year: number, state?: string): Set<string> {
  const key = `${year}:${state ?? ''}`;
  let set = holidayCache.get(key);
  if (!set) {
    const Calendar = holidayCalendar();
    const hd = state ? new Calendar('BR', state) : new Calendar('BR');
    set = new Set(
      hd
        .getHolidays(year)
        .filter((h) => h.type === 'public')
        .map((h) => h.date.slice(0, 10)),
    );
    holidayCache.set(key, set);
  }
  return set;
}

export const isHoliday = (date: LocalDate, state?: string) => publicHolidays(date.y, state).has(ymd(date));

// ---- windows

type Interval = readonly [start: number, end: number];

/** Everything the open intervals of a day depend on besides the date. */
const ruleKey = (rule: WindowRule) =>
  `${rule.timeZone}|${rule.days.join(',')}|${rule.ranges.map((r) => `${r.from}-${r.to}`).join(',')}|${rule.excludeHolidays ? 'h' : ''}|${rule.holidayState ?? ''}`;

/**
 * The day's intervals by rule and local date. They are a pure function of the two, so the cache is
 * exact at any day, DST or offset boundary; it saves ~8 Intl calls per check (the lane checks its
 * window on every wake). Cleared whole when full: a year's search for one rule fits many times.
 */
const intervalCache = new Map<string, readonly Interval[]>();
const INTERVAL_CACHE_MAX = 5_000;

/** The open intervals that start on local `date` (a range across midnight ends the next day). */
function intervalsStarting(rule: WindowRule, date: LocalDate): readonly Interval[] {
  const key = `${ruleKey(rule)}@${ymd(date)}`;
  let intervals = intervalCache.get(key);
  if (!intervals) {
    intervals = computeIntervalsStarting(rule, date);
    if (intervalCache.size >= INTERVAL_CACHE_MAX) intervalCache.clear();
    intervalCache.set(key, intervals);
  }
  return intervals;
}

function computeIntervalsStarting(rule: WindowRule, date: LocalDate): readonly Interval[] {
  if (!rule.days.includes(weekdayOf(date))) return [];
  if (rule.excludeHolidays && isHoliday(date, rule.holidayState)) return [];
  return rule.ranges.map((r): Interval => {
    const from = minutesOf(r.from);
    const to = minutesOf(r.to);
    const start = zonedTime(date, from, rule.timeZone).getTime();
    const end = to > from ? zonedTime(date, to, rule.timeZone).getTime() : zonedTime(addDays(date, 1), to, rule.timeZone).getTime();
    return [start, end];
  });
}

/** Whether calls are allowed at `at`. */
export function isOpen(rule: WindowRule, at: Date): boolean {
  const t = at.getTime();
  const today = localDate(at, rule.timeZone);
  for (const day of [addDays(today, -1), today]) {
    for (const [start, end] of intervalsStarting(rule, day)) if (t >= start && t < end) return true;
  }
  return false;
}

/** When the open interval containing `at` ends (undefined when closed at `at`). */
export function closesAt(rule: WindowRule, at: Date): Date | undefined {
  const t = at.getTime();
  const today = localDate(at, rule.timeZone);
  let latest: number | undefined;
  for (const day of [addDays(today, -1), today]) {
    for (const [start, end] of intervalsStarting(rule, day)) if (t >= start && t < end) latest = Math.max(latest ?? 0, end);
  }
  return latest === undefined ? undefined : new Date(latest);
}

/** `at` when open, else the start of the next open interval; undefined when none within a year. */
export function nextOpen(rule: WindowRule, at: Date): Date | undefined {
  if (isOpen(rule, at)) return at;
  const t = at.getTime();
  const today = localDate(at, rule.timeZone);
  for (let i = 0; i <= 370; i++) {
    const starts = intervalsStarting(rule, addDays(today, i))
      .map(([start]) => start)
      .filter((start) => start > t);
    if (starts.length) return new Date(Math.min(...starts));
  }
  return undefined;
}

/** The first instant at or after `at` when every rule is open at once. */
export function nextOpenAll(rules: WindowRule[], at: Date): Date | undefined {
  let t: Date | undefined = at;
  for (let i = 0; i < 200 && t; i++) {
    const candidate: Date = t;
    const moved = rules.map((r) => nextOpen(r, candidate));
    if (moved.some((m) => m === undefined)) return undefined;
    const latest = Math.max(...moved.map((m) => m!.getTime()));
    if (latest === candidate.getTime()) return candidate;
    t = new Date(latest);
  }
  return undefined;
}

/** The rules that apply to a phone with this DDD under `window`. */
export function rulesForDdd(window: CallingWindow, ddd: string | null | undefined): WindowRule[] {
  const base = ruleOfWindow(window);
  const state = window.stateTelemarketingHours ? stateRuleOfDdd(ddd) : undefined;
  return state ? [base, state] : [base];
}

/** Whether a phone with this DDD may be called at `at`. */
export function isCallable(window: CallingWindow, ddd: string | null | undefined, at: Date): boolean {
  return rulesForDdd(window, ddd).every((rule) => isOpen(rule, at));
}

/** DDDs that the state hours close at `at` (only when the window applies them). */
export function closedDdds(window: CallingWindow, at: Date): string[] {
  if (!window.stateTelemarketingHours) return [];
  // Several DDDs share a state's rule: each rule is checked once.
  const open = new Map<WindowRule, boolean>();
  return RESTRICTED_DDDS.filter((ddd) => {
    const rule = stateRuleOfDdd(ddd)!;
    let yes = open.get(rule);
    if (yes === undefined) open.set(rule, (yes = isOpen(rule, at)));
    return !yes;
  });
}

/**
 * When something may next be called: the campaign window's next opening, or, while it is open but
 * every remaining contact is in a closed state, the earliest opening among `ddds`.
 */
export function nextCallableAt(window: CallingWindow, ddds: Array<string | null>, at: Date): Date | undefined {
  let best: Date | undefined;
  for (const ddd of new Set(ddds.length ? ddds : [null])) {
    const next = nextOpenAll(rulesForDdd(window, ddd), at);
    if (next && (!best || next < best)) best = next;
  }
  return best;
}
