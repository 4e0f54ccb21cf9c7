import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';
import { startWorkerProcess, waitFor, type WorkerProcess } from '../helpers/worker-process';

let stack: TestStack;
let tenant: TestTenant;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await createTestStack({ name: 'import-crash' });
  tenant = await stack.createTenant('Resiliente');
});
afterAll(async () => {
  for (const w of workers) await w.kill();
  await stack.close();
});

/**
 * 40,000 rows: every 10th has an invalid phone, every 7th repeats the previous row's phone
 * (a duplicate). The expected counts follow from these rules, not from a constant.
 */
function buildFile(rows: number) {
  const lines = ['nome;telefone1;telefone2;cidade'];
  let expectedImported = 0;
  let expectedRejected = 0;
  const phone = (i: number) => `55119${String(10_000_000 + i).padStart(8, '0')}`;
  for (let i = 1; i <= rows; i++) {
    if (i % 10 === 0) {
      lines.push(`Pessoa ${i};5511${i};;São Paulo`);
      expectedRejected++;
    } else if (i % 7 === 0 && (i - 1) % 10 !== 0) {
      lines.push(`Pessoa ${i};${phone(i - 1)};;Santos`);
      expectedRejected++;
    } else {
      lines.push(`Pessoa ${i};${phone(i)};;Campinas`);
      expectedImported++;
    }
  }
  return { content: lines.join('\n') + '\n', expectedImported, expectedRejected };
}

it('completes with exact counts after its worker is SIGKILLed twice mid-import', async () => {
  const taskQueue = stack.config.TEMPORAL_TASK_QUEUE;
  const spawnWorker = async () => {
    const w = await startWorkerProcess({ taskQueue, schema: stack.database.schema, env: { IMPORT_BATCH_SIZE: '500', IMPORT_SLICE_MS: '2000' } });
    workers.push(w);
    return w;
  };
  const rows = 40_000;
  const file = buildFile(rows);
  const form = multipart({ name: 'Grande', kind: 'dialer' }, { filename: 'grande.csv', content: file.content });
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/contact-groups',
    headers: { ...bearer(tenant.supervisorKey), ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode).toBe(202);
  const { import: started, group } = res.json();

  const progress = async () =>
    await stack.database.db.selectFrom('imports').select(['rows_read', 'status']).where('id', '=', started.id).executeTakeFirstOrThrow();

  let worker = await spawnWorker();
  await waitFor(async () => (await progress()).rows_read >= 8_000, 'the import to pass 8,000 rows');
  await worker.kill();
  const afterFirstKill = (await progress()).rows_read;
  expect(afterFirstKill).toBeLessThan(rows);

  worker = await spawnWorker();
  await waitFor(async () => (await progress()).rows_read >= afterFirstKill + 8_000, 'the resumed import to make progress');
  await worker.kill();
  expect((await progress()).rows_read).toBeLessThan(rows);

  await spawnWorker();
  const result = await stack.temporal.workflow.getHandle(importWorkflowId(started.id)).result();
  expect(result).toMatchObject({ state: 'completed', rowsRead: rows, rowsImported: file.expectedImported, rowsRejected: file.expectedRejected });

  const db = stack.database.db;
  // The file's bytes are dropped once the import is over; its name and size stay for history.
  const upload = await db
    .selectFrom('imports as i')
    .innerJoin('uploads as u', 'u.id', 'i.upload_id')
    .select(['u.file_name', 'u.size_bytes', sql<number>`(SELECT count(*) FROM upload_chunks c WHERE c.upload_id = u.id)::int`.as('chunks')])
    .where('i.id', '=', started.id)
    .executeTakeFirstOrThrow();
  expect(upload).toMatchObject({ file_name: 'grande.csv', chunks: 0 });
  expect(Number(upload.size_bytes)).toBe(Buffer.byteLength(file.content));
  const contacts = await db
    .selectFrom('contacts')
    .select([sql<number>`count(*)::int`.as('n'), sql<number>`count(DISTINCT line_no)::int`.as('lines')])
    .where('group_id', '=', group.id)
    .executeTakeFirstOrThrow();
  expect(contacts).toEqual({ n: file.expectedImported, lines: file.expectedImported });
  const rejections = await db
    .selectFrom('import_rejections')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('import_id', '=', started.id)
    .executeTakeFirstOrThrow();
  expect(rejections.n).toBe(file.expectedRejected);
  // No phone twice in the group, though the worker that held the group's phone set was killed.
  const phones = await sql<{ n: number; distinct: number }>`
    SELECT count(*)::int AS n, count(DISTINCT p)::int AS distinct FROM contacts, unnest(phones) AS p WHERE group_id = ${group.id}`.execute(db);
  expect(phones.rows[0]).toEqual({ n: file.expectedImported, distinct: file.expectedImported });
  const stored = await db.selectFrom('contact_groups').select('contact_count').where('id', '=', group.id).executeTakeFirstOrThrow();
  expect(stored.contact_count).toBe(file.expectedImported);
  // Every line of the file is accounted for exactly once: imported or rejected.
  const lines = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT line_no FROM contacts WHERE group_id = ${group.id}
      UNION ALL SELECT line_no FROM import_rejections WHERE import_id = ${started.id}) AS all_lines`.execute(db);
  expect(lines.rows[0].n).toBe(rows);
}, 240_000);
