import type { CallerId } from './contract';

/** Asterisk's time format: milliseconds and an offset without a colon (`…T10:11:12.345+0000`). */
export function asteriskTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

export interface Endpoint {
  technology: string;
  /** The trunk or peer after `@`, or the resource itself when there is none. */
  peer: string;
  /** The dialled number (digits), what outcome rules match against. */
  number: string;
}

/**
 * `PJSIP/5548998288774@trunk`, `SIP/trunk/5548998288774`, `PJSIP/trunk/sip:5548…@host` → parts;
 * undefined when it is not `Technology/resource`.
 */
export function parseEndpoint(endpoint: string): Endpoint | undefined {
  const slash = endpoint.indexOf('/');
  if (slash <= 0 || slash === endpoint.length - 1) return undefined;
  const technology = endpoint.slice(0, slash);
  const resource = endpoint.slice(slash + 1);
  const [user = '', host] = resource.split('@');
  const lastSegment = user.split('/').pop() ?? '';
  const number = lastSegment.replace(/^sips?:/, '');
  const peer = host ?? (user.includes('/') ? user.split('/')[0] : user);
  return { technology, peer: peer || number, number };
}

/** `"Omni" <03033334444>` or `03033334444` → caller id. */
export function parseCallerId(text: string | undefined): CallerId {
  if (!text) return { name: '', number: '' };
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(text);
  return match ? { name: match[1], number: match[2] } : { name: '', number: text.trim() };
}
