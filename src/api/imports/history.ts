import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database, PhonePolicy } from '../../db/schema';
import { importToApi } from '../contact-groups/schemas';
import { dateCursor, keysetPage, toPage } from '../pagination';

/** Imports with the name of who started them, as import histories show them. */
export const importsWithCreator = (db: Kysely<Database>) =>
  db.selectFrom('imports').leftJoin('users', 'users.id', 'imports.created_by').selectAll('imports').select('users.name as created_by_name');

/** One page of an import history, newest first. */
export async function importHistoryPage(query: ReturnType<typeof importsWithCreator>, page: { limit: number; cursor?: string }) {
  const rows = await keysetPage(query, {
    sort: { column: 'imports.created_at', direction: 'desc', timestamp: true },
    idColumn: 'imports.id',
    limit: page.limit,
    cursor: page.cursor,
  }).execute();
  return toPage(rows, page.limit, (r) => [dateCursor(r.created_at), r.id], importToApi);
}

/** The pending import of an upload just received; start its workflow once the transaction commits. */
export function insertPendingImport(
  trx: Kysely<Database>,
  request: FastifyRequest,
  values: { groupId: string | null; upload: { uploadId: string; fileName: string }; phonePolicy: PhonePolicy; createsGroup?: boolean },
) {
  return trx
    .insertInto('imports')
    .values({
      tenant_id: request.auth.tenantId,
      target: values.groupId ? 'contact_group' : 'company_contacts',
      group_id: values.groupId,
      upload_id: values.upload.uploadId,
      file_name: values.upload.fileName,
      status: 'pending',
      phone_policy: values.phonePolicy,
      creates_group: values.createsGroup ?? false,
      created_by: request.auth.userId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
