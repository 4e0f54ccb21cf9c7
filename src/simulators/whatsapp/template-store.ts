import { z } from 'zod';
import type { WhatsAppTemplate } from './contract';

/** A template as the control API takes it: `id`, `category` and `components` may be left out. */
export const templateInputSchema = z.object({
  id: z.string().optional(),
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.string().min(1),
  category: z.string().default('MARKETING'),
  quality_score: z.object({ score: z.string(), date: z.number().optional() }).optional(),
  parameter_format: z.enum(['POSITIONAL', 'NAMED']).optional(),
  components: z.array(z.looseObject({ type: z.string() })).default([]),
});

export type TemplateInput = z.input<typeof templateInputSchema>;

const allFields = ['id', 'name', 'language', 'status', 'category', 'quality_score', 'components', 'parameter_format'] as const;

export interface TemplatePage {
  data: Partial<WhatsAppTemplate>[];
  paging?: { cursors: { before: string; after: string }; next?: string; previous?: string };
}

/** The simulator's templates, in insertion order, keyed by name + language like Meta's. */
export class TemplateStore {
  private readonly byKey = new Map<string, WhatsAppTemplate>();
  private nextId = 1_000_000_000_000_001n;

  find(name: string, language: string): WhatsAppTemplate | undefined {
    return this.byKey.get(`${name}\u0000${language}`);
  }

  list(): WhatsAppTemplate[] {
    return [...this.byKey.values()];
  }

  /** Replaces all templates, or with `merge` adds and updates by name + language. */
  set(inputs: readonly unknown[], merge = false): void {
    const parsed = inputs.map((input) => templateInputSchema.parse(input));
    if (!merge) this.byKey.clear();
    for (const input of parsed) {
      const key = `${input.name}\u0000${input.language}`;
      const previous = this.byKey.get(key);
      this.byKey.set(key, {
        ...input,
        components: input.components as WhatsAppTemplate['components'],
        id: input.id ?? previous?.id ?? String(this.nextId++),
      });
    }
  }

  /** Flips a status mid-run (e.g. to PAUSED or DISABLED); false when there is no such template. */
  setStatus(name: string, language: string, status: string): boolean {
    const template = this.find(name, language);
    if (template) template.status = status;
    return template !== undefined;
  }

  /**
   * One page like `GET /{waba-id}/message_templates`: `limit` items after the `after` cursor,
   * only the asked `fields` (id always), Graph cursors, and `next` while more remain.
   */
  page(options: { limit: number; after?: string; before?: string; fields?: string[]; nextUrl: (after: string) => string }): TemplatePage {
    const all = this.list();
    const start = options.after !== undefined ? decodeCursor(options.after) + 1 : 0;
    const end = Math.min(all.length, start + options.limit);
    const fields = options.fields?.length ? new Set(['id', ...options.fields]) : new Set<string>(allFields);
    const data = all.slice(start, end).map((template) => pick(template, fields));
    if (data.length === 0) return { data };
    const after = encodeCursor(end - 1);
    return {
      data,
      paging: {
        cursors: { before: encodeCursor(start), after },
        ...(end < all.length ? { next: options.nextUrl(after) } : {}),
      },
    };
  }
}

function pick(template: WhatsAppTemplate, fields: Set<string>): Partial<WhatsAppTemplate> {
  return Object.fromEntries(Object.entries(template).filter(([key, value]) => fields.has(key) && value !== undefined)) as Partial<WhatsAppTemplate>;
}

/** Opaque-looking cursors (Graph's are base64), carrying the item's position. */
function encodeCursor(position: number): string {
  return Buffer.from(`tpl:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^tpl:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}
