import { safeCell } from '../csv-out';

/**
 * How a report cell is written. `pt-BR` (the default) is what a Brazilian supervisor reads:
 * `02/12/2026 14:05:00` in São Paulo time, `1.234,56`; `iso` is for machines: ISO 8601 UTC, `1234.56`.
 */
export type ReportLocale = 'pt-BR' | 'iso';
export const REPORT_LOCALES = ['pt-BR', 'iso'] as const;

/** `seconds` takes milliseconds and shows seconds with one decimal; `percent` takes a ratio (0–1). */
export type CellType = 'text' | 'integer' | 'decimal' | 'seconds' | 'percent' | 'datetime' | 'date' | 'events';

/** An interaction event as a report shows it (`events` cells: `accepted 02/12/2026 14:05:00 | read …`). */
export interface EventCell {
  type: string;
  at: string;
}

export const REPORT_TIME_ZONE = 'America/Sao_Paulo';

const zoneParts = new Intl.DateTimeFormat('en-US', {
  timeZone: REPORT_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
/** São Paulo's offset per UTC hour, computed once (Intl is slow for a million rows; offsets change on the hour at most). */
const offsetByHour = new Map<number, number>();
function saoPauloOffsetMs(ms: number): number {
  const hour = Math.floor(ms / 3_600_000);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const p = Object.fromEntries(zoneParts.formatToParts(new Date(hour * 3_600_000)).map((x) => [x.type, x.value]));
    offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - hour * 3_600_000;
    if (offsetByHour.size > 100_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

/** The wall-clock time in São Paulo as a Date whose UTC fields are that time (what Excel shows). */
export const saoPauloWallClock = (d: Date) => new Date(d.getTime() + saoPauloOffsetMs(d.getTime()));

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

function brDateTime(d: Date, withTime: boolean): string {
  const w = saoPauloWallClock(d);
  const date = `${two(w.getUTCDate())}/${two(w.getUTCMonth() + 1)}/${w.getUTCFullYear()}`;
  return withTime ? `${date} ${two(w.getUTCHours())}:${two(w.getUTCMinutes())}:${two(w.getUTCSeconds())}` : date;
}

/** 1234.5 → `1.234,50` (pt-BR) or `1234.50` (iso). */
export function formatDecimal(n: number, digits: number, locale: ReportLocale): string {
  return groupDecimal(n.toFixed(digits), locale);
}

/**
 * Whole milliseconds as seconds with one decimal, rounded half away from zero on the exact value
 * (as PostgreSQL's numeric round does): `(1150 / 1000).toFixed(1)` is `1.1` in binary floating point.
 */
export function formatTenthsOfSecond(ms: number, locale: ReportLocale): string {
  const tenths = Math.floor((Math.abs(ms) + 50) / 100);
  return groupDecimal(`${ms < 0 && tenths > 0 ? '-' : ''}${Math.floor(tenths / 10)}.${tenths % 10}`, locale);
}

/** A plain decimal text (`-1234.5`) in the locale: pt-BR groups thousands with `.` and uses `,`. */
function groupDecimal(fixed: string, locale: ReportLocale): string {
  if (locale === 'iso') return fixed;
  const [int, frac] = fixed.split('.');
  const sign = int.startsWith('-') ? '-' : '';
  const abs = sign ? int.slice(1) : int;
  const grouped = abs.length > 3 ? abs.replace(/\B(?=(\d{3})+(?!\d))/g, '.') : abs;
  return frac === undefined ? sign + grouped : `${sign}${grouped},${frac}`;
}

const toDate = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));

/** A cell's text, before CSV quoting. */
export function formatCell(value: unknown, type: CellType, locale: ReportLocale): string {
  if (value === null || value === undefined || value === '') return '';
  switch (type) {
    case 'events':
      return (value as EventCell[]).map((e) => `${e.type} ${formatCell(e.at, 'datetime', locale)}`).join(' | ');
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: any other date value is formatted like a datetime, cut to the day
    case 'date':
      // A calendar day computed by the query ('YYYY-MM-DD'): no time zone to apply.
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value))
        return locale === 'iso' ? value : `${value.slice(8, 10)}/${value.slice(5, 7)}/${value.slice(0, 4)}`;
    // falls through
    case 'datetime': {
      const d = toDate(value);
      if (Number.isNaN(d.getTime())) return String(value);
      if (locale === 'iso') return type === 'date' ? saoPauloWallClock(d).toISOString().slice(0, 10) : d.toISOString();
      return brDateTime(d, type === 'datetime');
    }
    case 'integer':
      return locale === 'iso' ? String(value) : formatDecimal(Number(value), 0, locale);
    case 'decimal':
      return formatDecimal(Number(value), 2, locale);
    case 'seconds': {
      const ms = Number(value);
      return Number.isInteger(ms) ? formatTenthsOfSecond(ms, locale) : formatDecimal(ms / 1000, 1, locale);
    }
    case 'percent':
      return formatDecimal(Number(value) * 100, 2, locale);
    default:
      return String(value);
  }
}

/** One CSV line (`;`, CRLF, text cells formula-safe) of typed cells. */
export function csvRow(values: readonly unknown[], types: readonly CellType[], locale: ReportLocale): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ';';
    // Our own numbers and dates cannot be formulas (a negative number keeps its sign).
    line += types[i] === 'text' ? safeCell(values[i]) : formatCell(values[i], types[i], locale);
  }
  return line + '\r\n';
}
