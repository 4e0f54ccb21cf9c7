import { sql } from 'kysely';
import { z } from 'zod';
import { normalizePhone, validateBrazilPhone } from '../../domain/phone';
import { audit } from '../audit';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { notFound, unprocessable } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { phoneText } from '../phone-schema';
import { blockListEntrySchema } from './schemas';

/** The block list lives in phone_opt_outs (channel voice, source block_list): every campaign checks it. */
const SOURCE = 'block_list';

const phoneParam = z.object({ phone: phoneText });

/** Room for the documented maxima (100,000 phones, 5,000,000 characters of CSV); JSON routes default to 1 MiB. */
export const BLOCK_LIST_IMPORT_BODY_LIMIT = 6 * 1024 * 1024;

function checkedPhone(raw: string): string {
  const check = validateBrazilPhone(raw);
  if (!check.ok) throw unprocessable('PHONE_INVALID', check.message, { phone: raw, reason: check.reason });
  return check.phone;
}

/** Phones from a CSV text: one per line, or in the first column (`;` or `,`); a header line is skipped. */
export function phonesFromCsv(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.split(/[;,]/)[0].trim().replace(/^"|"$/g, ''))
    .filter((cell) => cell !== '' && /\d/.test(cell));
}

/** The tenant's outbound block list for calls (add, remove, bulk import, list). */
export const blockListRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/dialer/block-list',
    {
      schema: {
        tags: ['dialer'],
        summary: 'List blocked phones (newest first)',
        querystring: pageQuerySchema,
        response: { 200: pageSchema(blockListEntrySchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const query = db
        .selectFrom('phone_opt_outs')
        .select(['phone', 'reason', 'created_at'])
        .where('tenant_id', '=', request.auth.tenantId)
        .where('channel', '=', 'voice')
        .where('source', '=', SOURCE);
      const rows = await keysetPage(query, { sort: { column: 'created_at', direction: 'desc', timestamp: true }, idColumn: 'phone', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.created_at).toISOString(), r.phone],
        (r) => ({ phone: r.phone, reason: r.reason, createdAt: new Date(r.created_at).toISOString() }),
      );
    },
  );

  app.post(
    '/dialer/block-list',
    {
      schema: {
        tags: ['dialer'],
        summary: 'Block a phone: no campaign calls it again',
        body: z.object({ phone: phoneText, reason: z.string().max(500).optional() }),
        response: { 201: blockListEntrySchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const phone = checkedPhone(request.body.phone);
      const row = await db.transaction().execute(async (trx) => {
        const saved = await trx
          .insertInto('phone_opt_outs')
          .values({ tenant_id: request.auth.tenantId, channel: 'voice', phone, source: SOURCE, reason: request.body.reason ?? null })
          .onConflict((oc) => oc.columns(['tenant_id', 'channel', 'phone', 'source']).doUpdateSet({ reason: request.body.reason ?? null }))
          .returning(['phone', 'reason', 'created_at'])
          .executeTakeFirstOrThrow();
        await audit(trx, request, { action: 'block_list.add', targetType: 'phone', targetId: phone, summary: `Telefone ${phone} bloqueado para ligações` });
        return saved;
      });
      return reply.code(201).send({ phone: row.phone, reason: row.reason, createdAt: new Date(row.created_at).toISOString() });
    },
  );

  app.post(
    '/dialer/block-list/import',
    {
      bodyLimit: BLOCK_LIST_IMPORT_BODY_LIMIT,
      schema: {
        tags: ['dialer'],
        summary: 'Block many phones at once: a JSON list, or CSV text (one phone per line or in the first column)',
        body: z
          .object({
            phones: z.array(phoneText).max(100_000).optional(),
            csv: z.string().max(5_000_000).optional().describe('One phone per line, or in the first column (`;` or `,`); a header line is skipped'),
            reason: z.string().max(500).optional(),
          })
          .refine((b) => b.phones || b.csv, 'give phones or csv')
          .describe('Give `phones`, `csv` or both. Invalid phones are listed in the answer, not refused.'),
        response: {
          200: z.object({ added: z.number().int(), alreadyBlocked: z.number().int(), invalid: z.array(z.object({ phone: z.string(), message: z.string() })) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const raw = [...(request.body.phones ?? []), ...(request.body.csv ? phonesFromCsv(request.body.csv) : [])];
      const valid = new Set<string>();
      const invalid: { phone: string; message: string }[] = [];
      for (const p of raw) {
        const check = validateBrazilPhone(normalizePhone(p));
        if (check.ok) valid.add(check.phone);
        else if (invalid.length < 1000) invalid.push({ phone: p, message: check.message });
      }
      const phones = [...valid];
      const added = await db.transaction().execute(async (trx) => {
        const res = await sql<{ n: number }>`
          WITH ins AS (
            INSERT INTO phone_opt_outs (tenant_id, channel, phone, source, reason)
            SELECT ${request.auth.tenantId}::uuid, 'voice', p, ${SOURCE}, ${request.body.reason ?? null}
            FROM unnest(${phones}::text[]) AS p
            ON CONFLICT DO NOTHING RETURNING 1)
          SELECT count(*)::int AS n FROM ins`.execute(trx);
        const n = res.rows[0].n;
        await audit(trx, request, {
          action: 'block_list.import',
          targetType: 'phone',
          summary: `${n} telefone(s) bloqueado(s) por importação`,
          details: { added: n, invalid: invalid.length },
        });
        return n;
      });
      return { added, alreadyBlocked: phones.length - added, invalid };
    },
  );

  app.delete(
    '/dialer/block-list/:phone',
    { schema: { tags: ['dialer'], summary: 'Unblock a phone', params: phoneParam, response: { 204: z.null(), ...errorResponses } } },
    async (request, reply) => {
      const phone = normalizePhone(request.params.phone);
      await db.transaction().execute(async (trx) => {
        const res = await trx
          .deleteFrom('phone_opt_outs')
          .where('tenant_id', '=', request.auth.tenantId)
          .where('channel', '=', 'voice')
          .where('source', '=', SOURCE)
          .where('phone', 'in', [...new Set([phone, `55${phone}`])])
          .executeTakeFirst();
        if (!res.numDeletedRows) throw notFound('blocked phone', phone);
        await audit(trx, request, { action: 'block_list.remove', targetType: 'phone', targetId: phone, summary: `Telefone ${phone} desbloqueado` });
      });
      return reply.code(204).send(null);
    },
  );
};
