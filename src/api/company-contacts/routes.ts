import { sql } from 'kysely';
import { z } from 'zod';
import { companyPhonesInUse, lockCompanyPhones, syncCompanyOptOuts, type OptOutState } from '../../db/company-contacts';
import type { CompanyContact, Database } from '../../db/schema';
import { normalizePhone, validateBrazilPhone } from '../../domain/phone';
import { textKey } from '../../domain/text-key';
import { audit } from '../audit';
import { contactFileForm, importSchema, importToApi, phonePolicySchema } from '../contact-groups/schemas';
import { importHistoryPage, importsWithCreator, insertPendingImport } from '../imports/history';
import { startImportWorkflow } from '../imports/start';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../pagination';
import { badRequest, conflict, notFound, ProblemError, unprocessable } from '../problem';
import { errorResponses, unavailableResponses } from '../problem-schema';
import { multipartForm } from '../openapi';
import type { RoutePlugin } from '../types';
import { reofferLiftedOptOuts, wakeSends } from '../broadcast/wake';
import { withContactFile } from '../uploads';
import type { Kysely } from 'kysely';
import { companyContactIdParams, companyContactSchema, companyContactToApi, createCompanyContactBody, updateCompanyContactBody } from './schemas';

/** Normalises and checks every phone; any invalid one answers 422 PHONE_INVALID listing each. */
function checkPhones(inputs: string[]): string[] {
  const checks = inputs.map((input, index) => ({ input, index, check: validateBrazilPhone(input) }));
  const bad = checks.flatMap((c) => (c.check.ok ? [] : [{ ...c, check: c.check }]));
  if (bad.length) {
    throw unprocessable('PHONE_INVALID', `Telefone(s) inválido(s): ${bad.map((b) => `"${b.input}"`).join(', ')}.`, {
      errors: bad.map((b) => ({ field: `phones.${b.index}`, in: 'body', value: b.input, why: b.check.reason, message: b.check.message })),
    });
  }
  return [...new Set(checks.map((c) => (c.check.ok ? c.check.phone : '')))];
}

async function refusePhonesInUse(trx: Kysely<Database>, tenantId: string, phones: string[], exceptId?: string) {
  const inUse = await companyPhonesInUse(trx, tenantId, phones, exceptId);
  if (inUse.length) {
    throw conflict('PHONE_IN_USE', `Telefone(s) já usado(s) por outro contato Omni: ${inUse.map((u) => u.phone).join(', ')}.`, {
      phones: inUse.map((u) => ({ phone: u.phone, contactId: u.contactId })),
    });
  }
}

const optOutState = (c: CompanyContact): OptOutState => ({ phones: c.phones, optOutVoice: c.opt_out_voice, optOutWhatsapp: c.opt_out_whatsapp });

const optOutSummary = (c: CompanyContact) => [c.opt_out_voice ? 'voz' : '', c.opt_out_whatsapp ? 'WhatsApp' : ''].filter(Boolean).join(' e ') || 'nenhum';

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

const importFieldsSchema = z.object({ phonePolicy: phonePolicySchema.default('reject_row') });

/** Company contacts (Contatos Omni): the tenant's own contact base, with per-channel opt-outs. */
export const companyContactRoutes: RoutePlugin = (app, deps) => {
  const { db, config, temporal } = deps;

  const findContact = async (trx: Kysely<Database>, tenantId: string, id: string, options: { forUpdate?: boolean } = {}) => {
    let query = trx.selectFrom('company_contacts').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) throw notFound('company contact', id);
    return row;
  };

  app.post(
    '/company-contacts',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Create a company contact',
        description: 'A phone already used by another company contact of the tenant answers 409 PHONE_IN_USE; invalid phones 422 PHONE_INVALID, each listed.',
        body: createCompanyContactBody,
        response: { 201: companyContactSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.auth;
      const body = request.body;
      const phones = checkPhones(body.phones);
      const row = await db.transaction().execute(async (trx) => {
        await lockCompanyPhones(trx, tenantId);
        await refusePhonesInUse(trx, tenantId, phones);
        const created = await trx
          .insertInto('company_contacts')
          .values({
            tenant_id: tenantId,
            name: body.name,
            name_key: textKey(body.name),
            phones,
            email: body.email ?? null,
            document: body.document ?? null,
            custom: JSON.stringify(body.custom ?? {}),
            opt_out_voice: body.optOutVoice,
            opt_out_whatsapp: body.optOutWhatsapp,
            ml_buyer_ids: [...new Set(body.mercadoLivreBuyerIds)],
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await syncCompanyOptOuts(trx, tenantId, created.id, null, optOutState(created));
        await audit(trx, request, {
          action: 'company_contact.create',
          targetType: 'company_contact',
          targetId: created.id,
          summary: `Contato Omni "${created.name}" criado (opt-out: ${optOutSummary(created)})`,
          details: { phones, optOutVoice: created.opt_out_voice, optOutWhatsapp: created.opt_out_whatsapp },
        });
        return created;
      });
      return reply.code(201).header('location', `/v1/company-contacts/${row.id}`).send(companyContactToApi(row));
    },
  );

  app.get(
    '/company-contacts',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Search company contacts',
        querystring: pageQuerySchema.extend({
          sort: sortQuerySchema(['createdAt', 'updatedAt', 'name'], '-createdAt'),
          name: z.string().trim().max(200).optional().describe('Contains, ignoring case and accents'),
          phone: z
            .string()
            .max(40)
            .transform(normalizePhone)
            .pipe(z.string().regex(/^\d{2,13}$/, 'must be 2 to 13 digits'))
            .optional()
            .describe('Beginning of a phone, with or without the DDI 55'),
          email: z.string().trim().max(254).optional().describe('Exact, ignoring case'),
          document: z.string().trim().max(50).optional().describe('Exact'),
          optOutVoice: booleanQuery.optional(),
          optOutWhatsapp: booleanQuery.optional(),
        }),
        response: { 200: pageSchema(companyContactSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, name, phone, email, document, optOutVoice, optOutWhatsapp } = request.query;
      let query = db.selectFrom('company_contacts').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (name) query = query.where('name_key', 'like', `%${textKey(name).replace(/[\\%_]/g, '\\$&')}%`);
      if (phone) {
        const prefixes = [...new Set([`${phone}%`, `55${phone}%`])];
        query = query.where(sql<boolean>`EXISTS (SELECT 1 FROM unnest(phones) AS p WHERE p LIKE ANY(${prefixes}::text[]))`);
      }
      if (email) query = query.where(sql<boolean>`lower(email) = lower(${email})`);
      if (document) query = query.where('document', '=', document);
      if (optOutVoice !== undefined) query = query.where('opt_out_voice', '=', optOutVoice);
      if (optOutWhatsapp !== undefined) query = query.where('opt_out_whatsapp', '=', optOutWhatsapp);
      const spec = parseSort(sort, { createdAt: 'created_at:ts', updatedAt: 'updated_at:ts', name: 'name_key' });
      const rows = await keysetPage(query, { sort: spec, idColumn: 'id', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [spec.column === 'name_key' ? r.name_key : dateCursor(spec.column === 'updated_at' ? r.updated_at : r.created_at), r.id],
        companyContactToApi,
      );
    },
  );

  app.post(
    '/company-contacts/imports',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Bulk import company contacts from a CSV (same file rules as a contact group); runs as a workflow',
        description:
          'multipart/form-data with the `file` and an optional `phonePolicy`. ' +
          'A row with a phone that another company contact already has (or an earlier row of the file) is rejected as DUPLICATE.',
        bodyForDocs: multipartForm(contactFileForm),
        response: { 202: importSchema, 413: errorResponses[400], 415: errorResponses[400], ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const importRow = await withContactFile(deps, request, config, async (trx, received) => {
        const parsed = importFieldsSchema.safeParse(received.fields);
        if (!parsed.success) {
          throw new ProblemError(400, 'VALIDATION_FAILED', 'The form fields are invalid.', {
            errors: parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(root)', in: 'body', message: i.message })),
          });
        }
        if (!received.upload) throw badRequest('FILE_MISSING', 'Attach the CSV in a part named "file".');
        const row = await insertPendingImport(trx, request, { groupId: null, upload: received.upload, phonePolicy: parsed.data.phonePolicy });
        await audit(trx, request, {
          action: 'company_contact.import',
          targetType: 'import',
          targetId: row.id,
          summary: `Importação de contatos Omni do arquivo ${received.upload.fileName}`,
          details: { bytes: received.upload.sizeBytes, phonePolicy: parsed.data.phonePolicy },
        });
        return row;
      });
      await startImportWorkflow(deps, importRow, request);
      return reply.code(202).header('location', `/v1/imports/${importRow.id}`).send(importToApi(importRow));
    },
  );

  app.get(
    '/company-contacts/imports',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Import history of the company contacts, newest first',
        querystring: pageQuerySchema,
        response: { 200: pageSchema(importSchema), ...errorResponses },
      },
    },
    async (request) => {
      const query = importsWithCreator(db).where('imports.tenant_id', '=', request.auth.tenantId).where('imports.target', '=', 'company_contacts');
      return importHistoryPage(query, request.query);
    },
  );

  app.get(
    '/company-contacts/:id',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'A company contact',
        params: companyContactIdParams,
        response: { 200: companyContactSchema, ...errorResponses },
      },
    },
    async (request) => companyContactToApi(await findContact(db, request.auth.tenantId, request.params.id)),
  );

  app.patch(
    '/company-contacts/:id',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Change a company contact; `phones` and `custom` replace the old values',
        description: 'Setting an opt-out flag blocks every phone of the contact on that channel for later campaigns; changing the phones moves the block.',
        params: companyContactIdParams,
        body: updateCompanyContactBody,
        response: { 200: companyContactSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = request.auth;
      const { phones: rawPhones, custom, ...rest } = request.body;
      const phones = rawPhones ? checkPhones(rawPhones) : undefined;
      if (Object.keys(request.body).length === 0) return companyContactToApi(await findContact(db, tenantId, request.params.id));
      let reoffered: string[] = [];
      const updated = await db.transaction().execute(async (trx) => {
        if (phones) await lockCompanyPhones(trx, tenantId);
        const before = await findContact(trx, tenantId, request.params.id, { forUpdate: true });
        if (phones) await refusePhonesInUse(trx, tenantId, phones, before.id);
        const after = await trx
          .updateTable('company_contacts')
          .set({
            ...(rest.name !== undefined ? { name: rest.name, name_key: textKey(rest.name) } : {}),
            ...(phones ? { phones } : {}),
            ...(rest.email !== undefined ? { email: rest.email } : {}),
            ...(rest.document !== undefined ? { document: rest.document } : {}),
            ...(custom ? { custom: JSON.stringify(custom) } : {}),
            ...(rest.optOutVoice !== undefined ? { opt_out_voice: rest.optOutVoice } : {}),
            ...(rest.optOutWhatsapp !== undefined ? { opt_out_whatsapp: rest.optOutWhatsapp } : {}),
            ...(rest.mercadoLivreBuyerIds !== undefined ? { ml_buyer_ids: [...new Set(rest.mercadoLivreBuyerIds)] } : {}),
            updated_at: sql`now()`,
          })
          .where('id', '=', before.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await syncCompanyOptOuts(trx, tenantId, after.id, optOutState(before), optOutState(after));
        // A WhatsApp opt-out lifted from some phones: unfinished sends get those messages back.
        const lifted = before.opt_out_whatsapp ? before.phones.filter((p) => !(after.opt_out_whatsapp && after.phones.includes(p))) : [];
        reoffered = await reofferLiftedOptOuts(trx, tenantId, lifted);
        const optOutChanged = before.opt_out_voice !== after.opt_out_voice || before.opt_out_whatsapp !== after.opt_out_whatsapp;
        await audit(trx, request, {
          action: 'company_contact.update',
          targetType: 'company_contact',
          targetId: after.id,
          summary: `Contato Omni "${after.name}" alterado${optOutChanged ? ` (opt-out: ${optOutSummary(after)})` : ''}`,
          details: {
            fields: Object.keys(request.body),
            ...(phones ? { phonesBefore: before.phones, phones: after.phones } : {}),
            ...(optOutChanged ? { optOutVoice: after.opt_out_voice, optOutWhatsapp: after.opt_out_whatsapp } : {}),
          },
        });
        return after;
      });
      if (reoffered.length) await wakeSends({ temporal, log: request.log }, reoffered, 'opt_out_lifted');
      return companyContactToApi(updated);
    },
  );

  app.delete(
    '/company-contacts/:id',
    {
      schema: {
        tags: ['company contacts'],
        summary: 'Delete a company contact (groups already built from it keep their snapshot; its opt-outs stay in force)',
        params: companyContactIdParams,
        response: { 204: z.null().describe('Deleted'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.auth;
      await db.transaction().execute(async (trx) => {
        const before = await findContact(trx, tenantId, request.params.id, { forUpdate: true });
        await trx.deleteFrom('company_contacts').where('id', '=', before.id).execute();
        // Its opt-outs stay: a revoked consent (LGPD art. 8 §5) must outlive the contact record, or
        // the same phone arriving in a later CSV group would be called or messaged again.
        await audit(trx, request, {
          action: 'company_contact.delete',
          targetType: 'company_contact',
          targetId: before.id,
          summary: `Contato Omni "${before.name}" excluído`,
          details: { phones: before.phones },
        });
      });
      return reply.code(204).send(null);
    },
  );
};
