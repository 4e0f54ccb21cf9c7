import { z } from 'zod';
import type { ContactGroup, ImportRow } from '../../db/schema';
import { filePart } from '../openapi';

export const groupKindSchema = z.enum(['dialer', 'broadcast']);
export const groupStatusSchema = z.enum(['active', 'inactive']);
export const phonePolicySchema = z
  .enum(['reject_row', 'drop_invalid'])
  .describe('reject_row (default): a row with any invalid phone is not imported. drop_invalid: keep the row with its valid phones.');

/** The multipart form of a contact file upload (documented only: the handler reads the parts itself). */
export const contactFileForm = z.object({
  phonePolicy: phonePolicySchema.optional(),
  file: filePart('The CSV file: `;` separated, UTF-8 or Windows-1252, a `nome` column (see template.csv)'),
});

export const importSchema = z
  .object({
    id: z.uuid(),
    target: z.enum(['contact_group', 'company_contacts']),
    groupId: z.uuid().nullable(),
    fileName: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']),
    phonePolicy: z.enum(['reject_row', 'drop_invalid']),
    encoding: z.string().nullable(),
    rowsRead: z.number().int(),
    rowsImported: z.number().int(),
    rowsRejected: z.number().int(),
    error: z.string().nullable(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    cancelRequestedAt: z.string().nullable().describe('When a cancel was accepted: no batch commits after it'),
    workflowId: z.string(),
    links: z.object({ self: z.string(), rejections: z.string(), rejectionsCsv: z.string() }),
  })
  .meta({ id: 'Import' });

export const groupSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: groupKindSchema,
    source: z.enum(['csv', 'company_contacts']),
    status: groupStatusSchema,
    contactCount: z.number().int(),
    campaign: z.object({ id: z.uuid(), name: z.string() }).nullable().describe('The campaign using this group; once linked it can no longer be edited'),
    locked: z.boolean(),
    createdAt: z.string(),
    links: z.object({ self: z.string(), contacts: z.string(), imports: z.string() }),
  })
  .meta({ id: 'ContactGroup' });

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export const importWorkflowIdOf = (id: string) => `import-${id}`;

export function importToApi(row: ImportRow & { created_by_name?: string | null }) {
  const started = row.started_at ? new Date(row.started_at).getTime() : null;
  const finished = row.finished_at ? new Date(row.finished_at).getTime() : null;
  return {
    id: row.id,
    target: row.target,
    groupId: row.group_id,
    fileName: row.file_name,
    status: row.status,
    phonePolicy: row.phone_policy,
    encoding: row.encoding,
    rowsRead: row.rows_read,
    rowsImported: row.rows_imported,
    rowsRejected: row.rows_rejected,
    error: row.error,
    createdBy: row.created_by_name ?? row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    durationMs: started !== null && finished !== null ? finished - started : null,
    cancelRequestedAt: iso(row.cancel_requested_at ?? null),
    workflowId: importWorkflowIdOf(row.id),
    links: {
      self: `/v1/imports/${row.id}`,
      rejections: `/v1/imports/${row.id}/rejections`,
      rejectionsCsv: `/v1/imports/${row.id}/rejections.csv`,
    },
  };
}

export function groupToApi(row: ContactGroup) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    source: row.source,
    status: row.status,
    contactCount: row.contact_count,
    campaign: row.campaign_id ? { id: row.campaign_id, name: row.campaign_name ?? '' } : null,
    locked: row.campaign_id !== null,
    createdAt: new Date(row.created_at).toISOString(),
    links: {
      self: `/v1/contact-groups/${row.id}`,
      contacts: `/v1/contact-groups/${row.id}/contacts`,
      imports: `/v1/contact-groups/${row.id}/imports`,
    },
  };
}

export const groupIdParams = z.object({ id: z.uuid() });
