import { createHmac } from 'node:crypto';

/**
 * The simulator's own reading of the WhatsApp Cloud API (Graph API) contract: a message template
 * as `GET /{waba-id}/message_templates` lists it, how a template's body names its variables, and
 * how Meta signs a webhook. Written from Meta's documentation, not from our client:
 * test/unit/contracts/whatsapp.test.ts holds both to the same documented examples
 * (test/fixtures/contracts/whatsapp/).
 */

/** One component of a template: HEADER, BODY, FOOTER or BUTTONS (Meta writes the type in capitals). */
export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  example?: Record<string, unknown>;
  buttons?: unknown[];
  [key: string]: unknown;
}

export interface WhatsAppTemplate {
  id: string;
  name: string;
  /** e.g. `pt_BR`. */
  language: string;
  /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … */
  status: string;
  /** MARKETING, UTILITY or AUTHENTICATION. */
  category: string;
  quality_score?: { score: string; date?: number; reasons?: string[] | null };
  components: TemplateComponent[];
  /** Absent: POSITIONAL (`{{1}}`, `{{2}}`…); NAMED: `{{first_name}}`. */
  parameter_format?: 'POSITIONAL' | 'NAMED';
}

export const isNamed = (template: Pick<WhatsAppTemplate, 'parameter_format'>) => template.parameter_format === 'NAMED';

const variable = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/**
 * The variables a send must fill in the body, each once: the numbers in order for a positional
 * template, the names in order of first appearance for a NAMED one.
 */
export function bodyVariables(template: Pick<WhatsAppTemplate, 'components' | 'parameter_format'>): string[] {
  const body = template.components.find((component) => component.type.toUpperCase() === 'BODY');
  const found = [...new Set(Array.from((body?.text ?? '').matchAll(variable), (match) => match[1]))];
  if (isNamed(template)) return found;
  return found.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(a) - Number(b));
}

/** The header Meta signs webhooks with (HTTP headers are case-insensitive; Node reads them lower-case). */
export const WEBHOOK_SIGNATURE_HEADER = 'x-hub-signature-256';

/** `sha256=` and the hex HMAC-SHA256 of the payload's exact bytes, keyed with the app secret. */
export function webhookSignature(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
