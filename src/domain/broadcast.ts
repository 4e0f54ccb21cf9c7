/**
 * Rules of a broadcast send (Envio) that the workflow, the activities and the API share. Pure:
 * safe for workflows.
 */

// ---------------------------------------------------------------------------------------------
// Business key

/** Our key for one message: sent as `biz_opaque_callback_data`, echoed by every status webhook. */
export const messageKey = (sendId: string, contactId: number | string) => `bm:${sendId}:${contactId}`;

export function parseMessageKey(key: string | undefined | null): { sendId: string; contactId: number } | undefined {
  const match = /^bm:([0-9a-f-]{36}):(\d{1,18})$/i.exec(key ?? '');
  return match ? { sendId: match[1].toLowerCase(), contactId: Number(match[2]) } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Send states and manual controls

export type SendState = 'scheduled' | 'running' | 'paused' | 'waiting' | 'completed' | 'stopped';
export type SendControl = 'start' | 'pause' | 'resume' | 'stop';

/** Why a control cannot apply in a state (the 409's code), or undefined when it can. */
export function refuseControl(control: SendControl, state: SendState): { code: string; message: string } | undefined {
  if (state === 'completed' || state === 'stopped') return { code: 'SEND_FINISHED', message: `The send is ${state}.` };
  switch (control) {
    case 'start':
      return state === 'scheduled' ? undefined : { code: 'SEND_NOT_SCHEDULED', message: `The send is ${state}; only a scheduled send can be started now.` };
    case 'pause':
      return state === 'paused' ? { code: 'SEND_ALREADY_PAUSED', message: 'The send is already paused.' } : undefined;
    case 'resume':
      return state === 'paused' ? undefined : { code: 'SEND_NOT_PAUSED', message: `The send is ${state}; only a paused send can be resumed.` };
    case 'stop':
      return undefined;
  }
}

/** Settings a send that has started may still change: its pace and sending hours (pages not yet sent follow them). */
export const LIVE_EDITABLE = ['paceMps', 'sendingHours'] as const;

/**
 * A broadcast campaign links the group of each of its sends. Archiving (or deleting) it frees
 * them all, so every send must be over (completed or stopped): one still scheduled, running,
 * waiting or paused refuses it with the dialer's code, naming the sends.
 */
export function campaignRetireRefusal(sends: { id: string; status: SendState }[]): { code: string; message: string; sends: string[] } | undefined {
  const open = sends.filter((s) => s.status !== 'completed' && s.status !== 'stopped');
  if (open.length === 0) return undefined;
  const list = open.map((s) => `${s.id} (${s.status})`).join(', ');
  return {
    code: 'CAMPAIGN_IN_PROGRESS',
    message: `Sends of this campaign are not over: ${list}; stop them before archiving or deleting it.`,
    sends: open.map((s) => s.id),
  };
}

/**
 * Why a send's settings cannot be edited in a state (the 409's code), or undefined when they can.
 * Before it starts (scheduled) everything; once it runs, is paused or waiting only its pace and
 * sending hours (pages already sent used the old settings; the template, mapping, start and release
 * shape what is already out); never once finished. `fields`: the settings changed (all when absent).
 */
export function refuseEdit(state: SendState, fields?: readonly string[]): { code: string; message: string } | undefined {
  if (state === 'scheduled') return undefined;
  if (state === 'completed' || state === 'stopped') return { code: 'SEND_NOT_EDITABLE', message: `The send is ${state}; a finished send cannot be edited.` };
  const fixed = (fields ?? ['template', 'variables', 'missingVariables', 'startAt', 'gradual', ...LIVE_EDITABLE]).filter(
    (f) => !(LIVE_EDITABLE as readonly string[]).includes(f),
  );
  if (fixed.length === 0) return undefined;
  return {
    code: 'SEND_NOT_EDITABLE',
    message: `The send is ${state}; once started only ${LIVE_EDITABLE.join(' and ')} can change (not ${fixed.join(', ')}).`,
  };
}

// ---------------------------------------------------------------------------------------------
// Sending hours (America/Sao_Paulo)

/** Days 0 (Sunday) … 6 (Saturday); times `HH:MM`, `to` exclusive. */
export interface SendingWindow {
  days: number[];
  from: string;
  to: string;
}
export type SendingHours = SendingWindow[];

/**
 * America/Sao_Paulo has had no daylight saving time since 2019: a fixed UTC−03:00 keeps this
 * pure (workflows must not depend on the host's time zone data).
 */
export const SAO_PAULO_OFFSET_MS = -3 * 3600_000;
const DAY_MS = 86_400_000;

export const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
};

function localParts(ms: number): { day: number; minute: number; midnight: number } {
  const local = ms + SAO_PAULO_OFFSET_MS;
  const midnightLocal = Math.floor(local / DAY_MS) * DAY_MS;
  return {
    day: new Date(midnightLocal).getUTCDay(),
    minute: Math.floor((local - midnightLocal) / 60_000),
    midnight: midnightLocal - SAO_PAULO_OFFSET_MS,
  };
}

export function isWithinSendingHours(ms: number, hours: SendingHours | null | undefined): boolean {
  if (!hours || hours.length === 0) return true;
  const { day, minute } = localParts(ms);
  return hours.some((w) => w.days.includes(day) && minute >= minutesOf(w.from) && minute < minutesOf(w.to));
}

/** The next instant (ms) at which a window opens, at or after `ms`; undefined when none ever does. */
export function nextWindowStart(ms: number, hours: SendingHours | null | undefined): number | undefined {
  if (!hours || hours.length === 0) return ms;
  if (isWithinSendingHours(ms, hours)) return ms;
  const { midnight } = localParts(ms);
  let best: number | undefined;
  for (let d = 0; d <= 7; d++) {
    const dayStart = midnight + d * DAY_MS;
    const weekday = localParts(dayStart).day;
    for (const w of hours) {
      if (!w.days.includes(weekday)) continue;
      const at = dayStart + minutesOf(w.from) * 60_000;
      if (at > ms && (best === undefined || at < best)) best = at;
    }
    if (best !== undefined) return best;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Gradual release: a share of the group every N minutes

export interface Gradual {
  percent: number;
  everyMinutes: number;
}

/** How many messages (by seq) may be released at `now`, and when the next share opens. */
export function gradualQuota(total: number, gradual: Gradual | null | undefined, startedAtMs: number, nowMs: number) {
  if (!gradual) return { allowed: total, nextReleaseAt: undefined as number | undefined };
  const share = Math.max(1, Math.ceil((total * gradual.percent) / 100));
  const periodMs = gradual.everyMinutes * 60_000;
  const periods = Math.max(0, Math.floor((nowMs - startedAtMs) / periodMs));
  const allowed = Math.min(total, share * (periods + 1));
  return { allowed, nextReleaseAt: allowed >= total ? undefined : startedAtMs + (periods + 1) * periodMs };
}

// ---------------------------------------------------------------------------------------------
// Template variables

export type VariableSource = { column: string } | { text: string };
export type VariableMapping = Record<string, VariableSource>;

export interface ContactFields {
  name: string;
  phone: string;
  email: string | null;
  document: string | null;
  custom: Record<string, string>;
}

/** Columns every group has besides its CSV's own: the contact's fields. */
export const BUILTIN_COLUMNS: Record<string, (c: ContactFields) => string | null> = {
  nome: (c) => c.name,
  telefone: (c) => c.phone,
  email: (c) => c.email,
  documento: (c) => c.document,
};

const fold = (text: string) =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');

/** The group column a mapping names (case, accents and separators ignored), or undefined. */
export function findColumn(wanted: string, columns: readonly string[]): string | undefined {
  return columns.find((c) => c === wanted) ?? columns.find((c) => fold(c) === fold(wanted));
}

/** A contact's value for a column: a built-in field or a CSV column (matched loosely). */
export function columnValue(column: string, contact: ContactFields): string {
  const builtin = BUILTIN_COLUMNS[fold(column)];
  if (builtin) return builtin(contact) ?? '';
  const key = findColumn(column, Object.keys(contact.custom));
  return key === undefined ? '' : (contact.custom[key] ?? '');
}

/** Meta refuses newlines or tabs in a parameter (and long runs of spaces): they are flattened. */
const cleanParameter = (value: string) =>
  value
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/ {5,}/g, '    ')
    .trim();

/**
 * What a send does with a contact whose mapped column is empty for a placeholder: skip the contact
 * (reason `missing_variable`), or send a default text per placeholder. Meta refuses an empty
 * parameter, and the "-" sent before this rule reached customers as "Olá -".
 */
export type MissingVariables = { policy: 'skip' } | { policy: 'default'; defaults: Record<string, string> };
export const MISSING_VARIABLES_DEFAULT: MissingVariables = { policy: 'skip' };
export const MISSING_VARIABLE_SKIP_REASON = 'missing_variable';

/**
 * Why a policy does not fit a template's mapping (the 422's code), or undefined when it does: a
 * default must name a placeholder of the template, and every placeholder mapped to a column (the
 * only ones that can be empty) needs a default text.
 */
export function refuseMissingVariables(
  policy: MissingVariables,
  mapping: VariableMapping,
  placeholders: readonly string[],
): { code: string; message: string; details: Record<string, unknown> } | undefined {
  if (policy.policy !== 'default') return undefined;
  const unknown = Object.keys(policy.defaults).filter((p) => !placeholders.includes(p));
  if (unknown.length)
    return {
      code: 'MISSING_VARIABLE_DEFAULT_UNKNOWN',
      message: `Defaults given for placeholder(s) not in the template: ${unknown.join(', ')}.`,
      details: { unknown, placeholders },
    };
  const empty = Object.entries(policy.defaults)
    .filter(([, text]) => cleanParameter(text) === '')
    .map(([p]) => p);
  const missing = placeholders.filter((p) => mapping[p] && 'column' in mapping[p] && !(p in policy.defaults)).concat(empty);
  if (missing.length)
    return {
      code: 'MISSING_VARIABLE_DEFAULT_REQUIRED',
      message: `Every placeholder mapped to a column needs a default text; missing: ${missing.join(', ')}.`,
      details: { missing },
    };
  return undefined;
}

export type BuiltMessage =
  | { ok: true; parameters: string[] | Record<string, string> /** Placeholders that had no value and took their default. */; defaulted: string[] }
  | { ok: false /** Placeholders that had no value: the contact is skipped. */; missing: string[] };

/**
 * The body parameters of one message: positional values in placeholder order, or by name for a
 * NAMED template, whitespace flattened. A placeholder with no value takes the policy's default,
 * or the contact is skipped with the placeholders that had none.
 */
export function buildMessage(
  mapping: VariableMapping,
  placeholders: readonly string[],
  format: string,
  contact: ContactFields,
  policy: MissingVariables = MISSING_VARIABLES_DEFAULT,
): BuiltMessage {
  const missing: string[] = [];
  const values = placeholders.map((p) => {
    const source = mapping[p];
    const value = cleanParameter(!source ? '' : 'text' in source ? source.text : columnValue(source.column, contact));
    if (value !== '') return value;
    missing.push(p);
    return policy.policy === 'default' ? cleanParameter(policy.defaults[p] ?? '') : '';
  });
  if (missing.length && (policy.policy === 'skip' || values.some((v) => v === ''))) return { ok: false, missing };
  const parameters = format === 'NAMED' ? Object.fromEntries(placeholders.map((p, i) => [p, values[i]])) : values;
  return { ok: true, parameters, defaulted: missing };
}

// ---------------------------------------------------------------------------------------------
// Numbers

/**
 * The number as dialled from a wa_id: a Brazilian mobile given without its ninth digit
 * (55 + DDD + 8 digits starting 6–9) gets it back; anything else is kept.
 */
export function canonicalWhatsAppNumber(waId: string): string {
  return /^55\d{2}[6-9]\d{7}$/.test(waId) ? `${waId.slice(0, 4)}9${waId.slice(4)}` : waId;
}
