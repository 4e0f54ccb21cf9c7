/**
 * Short calls (Anatel, since June 2024): a call of 6 s or less counts as short, answering machines
 * and the dialer's own hang-ups included; a company placing more than 100,000 calls a day must keep
 * them at or below 85%. A call is short when it was answered and talked ≤ 6 s, or was not answered
 * and lasted ≤ 6 s from origination to its end.
 */
export const SHORT_CALL_MAX_MS = 6000;

/** One tenant's São Paulo day. */
export interface ShortCallDay {
  /** `YYYY-MM-DD` in America/Sao_Paulo. */
  day: string;
  placed: number;
  short: number;
  /** short ÷ placed; null before the first call. */
  share: number | null;
}

export interface ShortCallGuard {
  dailyCalls: number;
  maxShare: number;
}

export const shortCallShare = (placed: number, short: number) => (placed > 0 ? short / placed : null);

/** The day is over the guard: enough volume for the rule to apply, and a short-call share at the guard's line or above. */
export const overShortCallGuard = (day: Pick<ShortCallDay, 'placed' | 'share'>, guard: ShortCallGuard) =>
  day.placed >= guard.dailyCalls && day.share !== null && day.share >= guard.maxShare;
