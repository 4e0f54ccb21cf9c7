import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema';
import { templateCsv } from '../../domain/contact-csv/header';
import { textKey } from '../../domain/text-key';
import { audit } from '../audit';
import { importHistoryPage, importsWithCreator, insertPendingImport } from '../imports/history';
import { startImportWorkflow } from '../imports/start';
import { dateCursor, keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage } from '../pagination';
import { conflict, ProblemError } from '../problem';
import { errorResponses, unavailableResponses } from '../problem-schema';
import { csvResponse, multipartForm } from '../openapi';
import type { RoutePlugin } from '../types';
import { withStreamedContactFile } from '../uploads';
import {
  contactFileForm,
  groupIdParams,
  groupKindSchema,
  groupSchema,
  groupStatusSchema,
  groupToApi,
  importSchema,
  importToApi,
  phonePolicySchema,
} from './schemas';
import { findGroup, refuseIfLocked } from './guards';
import { groupEditRefusal } from '../../domain/group-lock';

const createFieldsSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(120),
  kind: groupKindSchema,
  phonePolicy: phonePolicySchema.default('reject_row'),
});

const validationProblem = (error: z.ZodError) =>
  new ProblemError(400, 'VALIDATION_FAILED', 'The form fields are invalid: ' + error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), {
    errors: error.issues.map((i) => ({ field: i.path.join('.') || '(root)', in: 'body', message: i.message })),
  });

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

/** The form of a new group (documented only: the handler reads the parts itself). */
const createForm = z.object({
  name: createFieldsSchema.shape.name.describe('Group name (chosen once; cannot be changed)'),
  kind: groupKindSchema,
  ...contactFileForm.shape,
});

/** Contact groups (Grupo de Contatos): create by CSV upload or from company contacts, list, (de)activate. */
export const contactGroupRoutes: RoutePlugin = (app, deps) => {
  const { db, config } = deps;

  app.get(
    '/contact-groups/template.csv',
    { schema: { tags: ['contact groups'], summary: 'Download the CSV model (nome, telefone1…telefone10, email, documento)', response: { 200: csvResponse } } },
    async (_request, reply) =>
      reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="modelo-grupo-de-contatos.csv"').send(templateCsv()),
  );

  app.post(
    '/contact-groups',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Create a group by uploading a CSV; the import runs as a workflow',
        description:
          'multipart/form-data with fields `name`, `kind` (dialer|broadcast), optional `phonePolicy`, ' +
          'and the `file`, in that order: the import starts on the first bytes of the file, while the rest is still arriving ' +
          '(a field after the file is refused with 400 `FIELD_AFTER_FILE`). Answers 202 with the group and its import once the whole file is stored; ' +
          'an upload cut off before its end leaves no group.',
        bodyForDocs: multipartForm(createForm),
        response: {
          202: z.object({ group: groupSchema, import: importSchema }),
          413: errorResponses[400],
          415: errorResponses[400],
          ...errorResponses,
          ...unavailableResponses,
        },
      },
    },
    async (request, reply) => {
      const { opened } = await withStreamedContactFile(deps, request, config, {
        use: async (trx, received) => {
          const parsed = createFieldsSchema.safeParse(received.fields);
          if (!parsed.success) throw validationProblem(parsed.error);
          if (!received.upload) throw new ProblemError(400, 'FILE_MISSING', 'Attach the CSV in a part named "file".');
          const { name, kind, phonePolicy } = parsed.data;
          const group = await trx
            .insertInto('contact_groups')
            .values({ tenant_id: request.auth.tenantId, kind, name, name_key: textKey(name), source: 'csv', created_by: request.auth.userId })
            .returningAll()
            .executeTakeFirstOrThrow()
            .catch((error) => {
              if (isUniqueViolation(error)) throw conflict('GROUP_NAME_TAKEN', `A ${kind} group named "${name}" already exists.`);
              throw error;
            });
          const importRow = await insertPendingImport(trx, request, { groupId: group.id, upload: received.upload, phonePolicy, createsGroup: true });
          await audit(trx, request, {
            action: 'contact_group.create',
            targetType: 'contact_group',
            targetId: group.id,
            summary: `Grupo "${name}" (${kind}) criado com o arquivo ${received.upload.fileName}`,
            details: { importId: importRow.id },
          });
          return { group, importRow };
        },
        start: ({ importRow }) => startImportWorkflow(deps, importRow, request),
      });
      const { group, importRow } = opened;
      return reply
        .code(202)
        .header('location', `/v1/imports/${importRow.id}`)
        .send({ group: groupToApi(group), import: importToApi(importRow) });
    },
  );

  app.post(
    '/contact-groups/from-company-contacts',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Create a broadcast group from all company contacts ("Utilizar contatos Omni"): a snapshot taken now',
        body: z.object({ name: z.string().trim().min(1).max(120) }),
        response: { 201: groupSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name } = request.body;
      const group = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('contact_groups')
          .values({
            tenant_id: request.auth.tenantId,
            kind: 'broadcast',
            name,
            name_key: textKey(name),
            source: 'company_contacts',
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch((error) => {
            if (isUniqueViolation(error)) throw conflict('GROUP_NAME_TAKEN', `A broadcast group named "${name}" already exists.`);
            throw error;
          });
        // One statement: the snapshot is exactly the company contacts as of this transaction.
        const inserted = await sql<{ count: number }>`
          WITH src AS (
            SELECT id, name, phones, email, document, custom FROM company_contacts
            WHERE tenant_id = ${request.auth.tenantId} AND cardinality(phones) > 0
          ), ins AS (
            INSERT INTO contacts (group_id, name, phones, email, document, custom, company_contact_id)
            SELECT ${created.id}, name, phones, email, document, custom, id FROM src ORDER BY id
            RETURNING id
          )
          SELECT count(*)::int AS count FROM ins`.execute(trx);
        const count = inserted.rows[0]?.count ?? 0;
        const updated = await trx
          .updateTable('contact_groups')
          .set({ contact_count: count })
          .where('id', '=', created.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: 'contact_group.create',
          targetType: 'contact_group',
          targetId: created.id,
          summary: `Grupo "${name}" (broadcast) criado com ${count} contatos Omni`,
        });
        return updated;
      });
      return reply.code(201).header('location', `/v1/contact-groups/${group.id}`).send(groupToApi(group));
    },
  );

  app.get(
    '/contact-groups',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'List groups with filters',
        querystring: pageQuerySchema.extend({
          sort: sortQuerySchema(['createdAt', 'name', 'contactCount'], '-createdAt'),
          name: z.string().max(120).optional().describe('Contains, ignoring case and accents'),
          campaignId: z.uuid().optional(),
          status: groupStatusSchema.optional(),
          kind: groupKindSchema.optional(),
          linked: z.enum(['true', 'false']).optional().describe('Only groups linked (or not) to a campaign'),
        }),
        response: { 200: pageSchema(groupSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort, name, campaignId, status, kind, linked } = request.query;
      let query = db.selectFrom('contact_groups').selectAll().where('tenant_id', '=', request.auth.tenantId);
      if (name) query = query.where('name_key', 'like', `%${textKey(name).replace(/[\\%_]/g, '\\$&')}%`);
      if (campaignId) query = query.where('campaign_id', '=', campaignId);
      if (status) query = query.where('status', '=', status);
      if (kind) query = query.where('kind', '=', kind);
      if (linked) query = query.where('campaign_id', linked === 'true' ? 'is not' : 'is', null);
      const spec = parseSort(sort, { createdAt: 'created_at:ts', name: 'name_key', contactCount: 'contact_count' });
      const rows = await keysetPage(query, { sort: spec, idColumn: 'id', limit, cursor }).execute();
      return toPage(
        rows,
        limit,
        (r) => [spec.column === 'name_key' ? r.name_key : spec.column === 'contact_count' ? r.contact_count : dateCursor(r.created_at), r.id],
        groupToApi,
      );
    },
  );

  app.get(
    '/contact-groups/:id',
    { schema: { tags: ['contact groups'], summary: 'A group', params: groupIdParams, response: { 200: groupSchema, ...errorResponses } } },
    async (request) => groupToApi(await findGroup(db, request.auth.tenantId, request.params.id)),
  );

  app.patch(
    '/contact-groups/:id',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Activate or deactivate a group (the name cannot be changed)',
        params: groupIdParams,
        body: z.object({ status: groupStatusSchema.optional(), name: z.string().optional() }).strict(),
        response: { 200: groupSchema, ...errorResponses },
      },
    },
    async (request) => {
      const group = await findGroup(db, request.auth.tenantId, request.params.id);
      if (request.body.name !== undefined && request.body.name !== group.name) {
        throw new ProblemError(422, 'GROUP_NAME_IMMUTABLE', 'A group name is chosen once and cannot be changed. Create a new group to use another name.');
      }
      if (!request.body.status) return groupToApi(group);
      refuseIfLocked(group);
      if (request.body.status === group.status) return groupToApi(group);
      const updated = await db.transaction().execute(async (trx) => {
        // Under the row's lock: a campaign linking the group meanwhile is seen.
        refuseIfLocked(await findGroup(trx, request.auth.tenantId, group.id, { forUpdate: true }));
        const row = await trx
          .updateTable('contact_groups')
          .set({ status: request.body.status! })
          .where('id', '=', group.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(trx, request, {
          action: `contact_group.${request.body.status === 'active' ? 'activate' : 'deactivate'}`,
          targetType: 'contact_group',
          targetId: group.id,
          summary: `Grupo "${group.name}" ${request.body.status === 'active' ? 'ativado' : 'inativado'}`,
        });
        return row;
      });
      return groupToApi(updated);
    },
  );

  app.post(
    '/contact-groups/batch-status',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Batch action: activate or deactivate several groups, with a result per id',
        body: z.object({ ids: z.array(z.uuid()).min(1).max(500), status: groupStatusSchema }),
        response: {
          200: z.object({
            results: z.array(
              z.object({ id: z.uuid(), ok: z.boolean(), status: groupStatusSchema.optional(), code: z.string().optional(), detail: z.string().optional() }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { ids, status } = request.body;
      const unique = [...new Set(ids)];
      return db.transaction().execute(async (trx) => {
        const groups = await trx
          .selectFrom('contact_groups')
          .selectAll()
          .where('tenant_id', '=', request.auth.tenantId)
          .where('id', 'in', unique)
          .forUpdate()
          .execute();
        const refused = new Map(
          groups.flatMap((g) => {
            const refusal = groupEditRefusal(g);
            return refusal ? [[g.id, refusal] as const] : [];
          }),
        );
        const free = groups.filter((g) => !refused.has(g.id)).map((g) => g.id);
        const updated = free.length
          ? await trx.updateTable('contact_groups').set({ status }).where('id', 'in', free).returning(['id', 'name', 'status']).execute()
          : [];
        const byId = new Map(updated.map((g) => [g.id, g]));
        for (const g of updated) {
          await audit(trx, request, {
            action: `contact_group.${status === 'active' ? 'activate' : 'deactivate'}`,
            targetType: 'contact_group',
            targetId: g.id,
            summary: `Grupo "${g.name}" ${status === 'active' ? 'ativado' : 'inativado'} (ação em lote)`,
          });
        }
        return {
          results: unique.map((id) =>
            byId.has(id)
              ? { id, ok: true, status: byId.get(id)!.status }
              : refused.has(id)
                ? { id, ok: false, code: refused.get(id)!.code, detail: refused.get(id)!.message }
                : { id, ok: false, code: 'CONTACT_GROUP_NOT_FOUND', detail: `No contact group with id ${id}.` },
          ),
        };
      });
    },
  );

  app.post(
    '/contact-groups/:id/imports',
    {
      schema: {
        tags: ['contact groups'],
        summary: 'Append contacts to a group with another CSV (refused once the group is linked to a campaign)',
        description:
          'multipart/form-data with an optional `phonePolicy` and then the `file`: the import starts on the first bytes of the file, while the rest ' +
          'is still arriving (a field after the file is refused with 400 `FIELD_AFTER_FILE`); an upload cut off before its end keeps none of its rows.',
        bodyForDocs: multipartForm(contactFileForm),
        params: groupIdParams,
        response: { 202: importSchema, 413: errorResponses[400], 415: errorResponses[400], ...errorResponses, ...unavailableResponses },
      },
    },
    async (request, reply) => {
      const appendable = async (trx: Kysely<Database>, forUpdate: boolean) => {
        const group = await findGroup(trx, request.auth.tenantId, request.params.id, { forUpdate });
        refuseIfLocked(group);
        const running = await trx
          .selectFrom('imports')
          .select('id')
          .where('group_id', '=', group.id)
          .where('status', 'in', ['pending', 'running'])
          .executeTakeFirst();
        if (running)
          throw conflict('IMPORT_IN_PROGRESS', `Import ${running.id} into this group is still running; wait for it to finish.`, { importId: running.id });
        return group;
      };
      // Checked before the file is received (answered at once) and again, under the lock, after.
      await appendable(db, false);
      const { opened: importRow } = await withStreamedContactFile(deps, request, config, {
        use: async (trx, received) => {
          const group = await appendable(trx, true);
          const parsed = z.object({ phonePolicy: phonePolicySchema.default('reject_row') }).safeParse(received.fields);
          if (!parsed.success) throw validationProblem(parsed.error);
          if (!received.upload) throw new ProblemError(400, 'FILE_MISSING', 'Attach the CSV in a part named "file".');
          const row = await insertPendingImport(trx, request, { groupId: group.id, upload: received.upload, phonePolicy: parsed.data.phonePolicy });
          await audit(trx, request, {
            action: 'contact_group.import',
            targetType: 'contact_group',
            targetId: group.id,
            summary: `Importação de ${received.upload.fileName} no grupo "${group.name}"`,
            details: { importId: row.id },
          });
          return row;
        },
        // An upload cut off afterwards: the import stops on it and takes back its rows.
        start: (row) => startImportWorkflow(deps, row, request),
      });
      return reply.code(202).header('location', `/v1/imports/${importRow.id}`).send(importToApi(importRow));
    },
  );

  app.get(
    '/contact-groups/:id/imports',
    {
      schema: {
        tags: ['contact groups'],
        summary: "The group's import history",
        params: groupIdParams,
        querystring: pageQuerySchema,
        response: { 200: pageSchema(importSchema), ...errorResponses },
      },
    },
    async (request) => {
      const group = await findGroup(db, request.auth.tenantId, request.params.id);
      return importHistoryPage(importsWithCreator(db).where('imports.group_id', '=', group.id), request.query);
    },
  );
};
