import { sql } from 'kysely';
import { z } from 'zod';
import type { Contact } from '../../db/schema';
import { normalizePhone, validateBrazilPhone } from '../../domain/phone';
import { textKey } from '../../domain/text-key';
import { audit } from '../audit';
import { keysetPage, pageQuerySchema, pageSchema, toPage } from '../pagination';
import { conflict, notFound, unprocessable } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { findGroup, refuseIfLocked } from './guards';
import { groupIdParams } from './schemas';
import { phoneText } from '../phone-schema';

const contactSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    phones: z.array(z.string()),
    email: z.string().nullable(),
    document: z.string().nullable(),
    custom: z.record(z.string(), z.string()),
    line: z.number().int().nullable().describe('Line of the imported file'),
    importId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Contact' });

const toApi = (c: Contact) => ({
  id: String(c.id),
  name: c.name,
  phones: c.phones,
  email: c.email,
  document: c.document,
  custom: c.custom,
  line: c.line_no,
  importId: c.import_id,
  createdAt: new Date(c.created_at).toISOString(),
});

const contactParams = groupIdParams.extend({ contactId: z.coerce.number().int().positive() });

/** Querying and editing a group's contacts (Consultando / Editando Grupo de Contatos). */
export const groupContactRoutes: RoutePlugin = (app, { db }) => {
  app.get(
    '/contact-groups/:id/contacts',
    {
      schema: {
        tags: ['contact groups'],
        summary: "List a group's contacts, searching by name (contains, ignoring case and accents) or phone (prefix)",
        params: groupIdParams,
        querystring: pageQuerySchema.extend({ search: z.string().trim().max(120).optional() }),
        response: { 200: pageSchema(contactSchema), ...errorResponses },
      },
    },
    async (request) => {
      const group = await findGroup(db, request.auth.tenantId, request.params.id);
      const { limit, cursor, search } = request.query;
      let query = db.selectFrom('contacts').selectAll().where('group_id', '=', group.id);
      if (search) {
        const digits = normalizePhone(search);
        if (/^\d{4,}$/.test(digits)) {
          // A phone (or its beginning): with or without the country code.
          const prefixes = digits.startsWith('55') ? [digits] : [digits, `55${digits}`];
          // No index on phones (imports would pay for it on every row): the group's contacts are
          // scanned through their group index, fast enough for a search box.
          query = query.where(
            sql<boolean>`EXISTS (SELECT 1 FROM unnest(phones) AS p WHERE ${sql.join(
              prefixes.map((prefix) => sql`p LIKE ${`${prefix}%`}`),
              sql` OR `,
            )})`,
          );
        } else {
          const needle = `%${textKey(search).replace(/[\\%_]/g, '\\$&')}%`;
          // Accent-free, case-free "contains" on the name.
          query = query.where(
            sql<boolean>`lower(translate(name, 'ÁÀÂÃÄÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑáàâãäéèêëíìîïóòôõöúùûüçñ',
              'AAAAAEEEEIIIIOOOOOUUUUCNaaaaaeeeeiiiiooooouuuucn')) LIKE ${needle}`,
          );
        }
      }
      const rows = await keysetPage(query, { sort: { column: 'id', direction: 'asc', timestamp: false }, idColumn: 'id', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [r.id, r.id], toApi);
    },
  );

  app.post(
    '/contact-groups/:id/contacts/remove',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Remove contacts from a group (refused once the group is linked to a campaign)',
        params: groupIdParams,
        body: z.object({ contactIds: z.array(z.coerce.number().int().positive()).min(1).max(10_000) }),
        response: { 200: z.object({ removed: z.number().int(), notFound: z.array(z.string()) }), ...errorResponses },
      },
    },
    async (request) => {
      return db.transaction().execute(async (trx) => {
        const group = await findGroup(trx, request.auth.tenantId, request.params.id, { forUpdate: true });
        refuseIfLocked(group);
        const ids = [...new Set(request.body.contactIds)];
        const removed = await trx.deleteFrom('contacts').where('group_id', '=', group.id).where('id', 'in', ids).returning('id').execute();
        const removedIds = removed.map((r) => r.id);
        if (removedIds.length) {
          await trx
            .updateTable('contact_groups')
            .set({ contact_count: sql`contact_count - ${removedIds.length}`, phones_revision: sql`phones_revision + 1` })
            .where('id', '=', group.id)
            .execute();
        }
        await audit(trx, request, {
          action: 'contact_group.remove_contacts',
          targetType: 'contact_group',
          targetId: group.id,
          summary: `${removedIds.length} contato(s) removido(s) do grupo "${group.name}"`,
          details: { contactIds: removedIds },
        });
        const gone = new Set(removedIds);
        return { removed: removedIds.length, notFound: ids.filter((id) => !gone.has(id)).map(String) };
      });
    },
  );

  app.patch(
    '/contact-groups/:id/contacts/:contactId',
    {
      schema: {
        tags: ['contact groups'],
        summary: "Correct a contact's fields (refused once the group is linked to a campaign)",
        params: contactParams,
        body: z
          .object({
            name: z.string().trim().min(1).max(200).optional(),
            phones: z.array(phoneText).min(1).max(10).optional(),
            email: z.string().trim().max(254).nullable().optional(),
            document: z.string().trim().max(50).nullable().optional(),
            custom: z.record(z.string(), z.string().max(1000)).optional(),
          })
          .strict(),
        response: { 200: contactSchema, ...errorResponses },
      },
    },
    async (request) => {
      return db.transaction().execute(async (trx) => {
        const group = await findGroup(trx, request.auth.tenantId, request.params.id, { forUpdate: true });
        refuseIfLocked(group);
        const contact = await trx
          .selectFrom('contacts')
          .selectAll()
          .where('group_id', '=', group.id)
          .where('id', '=', request.params.contactId)
          .executeTakeFirst();
        if (!contact) throw notFound('contact', String(request.params.contactId));
        const { phones: rawPhones, ...rest } = request.body;
        let phones = contact.phones;
        if (rawPhones) {
          const checks = rawPhones.map((p, index) => ({ input: p, index, check: validateBrazilPhone(p) }));
          const bad = checks.filter((c) => !c.check.ok);
          if (bad.length) {
            // Each bad phone named as the company-contacts routes do: its index, the reason, the message.
            throw unprocessable('PHONE_INVALID', `Invalid phone(s): ${bad.map((b) => b.input).join(', ')}.`, {
              errors: bad.map((b) => ({
                field: `phones.${b.index}`,
                in: 'body',
                value: b.input,
                why: b.check.ok ? undefined : b.check.reason,
                message: b.check.ok ? '' : b.check.message,
              })),
            });
          }
          phones = [...new Set(checks.map((c) => (c.check.ok ? c.check.phone : '')))];
          const clash = await sql<{ phone: string; contact_id: string }>`
            SELECT p AS phone, id AS contact_id FROM contacts, unnest(phones) AS p
             WHERE group_id = ${group.id} AND id <> ${contact.id} AND phones && ${phones}::text[] AND p = ANY(${phones}::text[])
             LIMIT 1`.execute(trx);
          const taken = clash.rows[0];
          if (taken)
            throw conflict('PHONE_IN_GROUP', `Phone ${taken.phone} already belongs to contact ${taken.contact_id} of this group.`, {
              contactId: String(taken.contact_id),
            });
          await trx.updateTable('contact_groups').set({ phones_revision: sql`phones_revision + 1` }).where('id', '=', group.id).execute();
        }
        const updated = await trx
          .updateTable('contacts')
          .set({ ...rest, phones, custom: rest.custom ? JSON.stringify(rest.custom) : undefined })
          .where('id', '=', contact.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'contact_group.edit_contact',
          targetType: 'contact',
          targetId: String(contact.id),
          summary: `Contato "${updated.name}" corrigido no grupo "${group.name}"`,
          details: { fields: Object.keys(request.body) },
        });
        return toApi(updated);
      });
    },
  );
};
