import { afterAll, beforeAll, expect, it } from 'vitest';
import { importWorkflowId, type ImportProgress } from '../../src/workflows/imports/messages';
import { bearer, createTestStack, type TestStack, type TestTenant, uploadGroup } from '../helpers/app';
import { startTestWorker, type RunningWorker } from '../helpers/temporal';

let stack: TestStack;
let tenant: TestTenant;
let worker: RunningWorker;

beforeAll(async () => {
  stack = await createTestStack({ name: 'import-cancel' });
  // Small batches in long slices: a cancel must not wait for the slice to end.
  worker = await startTestWorker(stack.config.TEMPORAL_TASK_QUEUE, {
    db: stack.database.db,
    pool: stack.database.pool,
    imports: { batchSize: 200, sliceMs: 60_000 },
  });
  tenant = await stack.createTenant('Cancelamento');
});
afterAll(async () => {
  await worker.stop();
  await stack.close();
});

const ROWS = 150_000;
const csv = () => ['nome;telefone1', ...Array.from({ length: ROWS }, (_, i) => `Contato ${i};55489${String(10_000_000 + i)}`)].join('\n');

const get = async (url: string) => (await stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) })).json();

it('a cancel is answered within a second, no batch commits after it, and the import ends cancelled with exact counts', async () => {
  const created = await uploadGroup(stack, tenant.supervisorKey, { name: 'Grande', kind: 'dialer' }, { filename: 'grande.csv', content: csv() });
  expect(created.statusCode).toBe(202);
  const { group, import: started } = created.json();

  // Cancel once some batches are in (and most of the file is not).
  const deadline = Date.now() + 60_000;
  while ((await get(`/v1/imports/${started.id}`)).rowsImported < 1000) {
    if (Date.now() > deadline) throw new Error('the import did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  const t0 = performance.now();
  const cancel = await stack.app.inject({ method: 'POST', url: `/v1/imports/${started.id}/cancel`, headers: bearer(tenant.supervisorKey) });
  const answeredMs = performance.now() - t0;
  expect(cancel.statusCode).toBe(200);
  expect(answeredMs).toBeLessThan(1000);
  const answer = cancel.json();
  expect(answer.cancelRequestedAt).not.toBeNull();
  expect(answer.rowsImported).toBeLessThan(ROWS);

  const result: ImportProgress = await stack.temporal.workflow.getHandle(importWorkflowId(started.id)).result();
  expect(result.state).toBe('cancelled');
  const final = await get(`/v1/imports/${started.id}`);
  expect(final.status).toBe('cancelled');
  // Nothing committed after the answer: its counts are the final ones, and the table agrees.
  expect({ read: final.rowsRead, imported: final.rowsImported, rejected: final.rowsRejected }).toEqual({
    read: answer.rowsRead,
    imported: answer.rowsImported,
    rejected: answer.rowsRejected,
  });
  expect(result.rowsImported).toBe(final.rowsImported);
  const db = stack.database.db;
  const contacts = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('group_id', '=', group.id)
    .executeTakeFirstOrThrow();
  expect(Number(contacts.n)).toBe(final.rowsImported);
  expect(final.rowsRead).toBe(final.rowsImported + final.rowsRejected);
  const groupRow = await get(`/v1/contact-groups/${group.id}`);
  expect(groupRow.contactCount).toBe(final.rowsImported);

  // A second cancel is refused.
  const again = await stack.app.inject({ method: 'POST', url: `/v1/imports/${started.id}/cancel`, headers: bearer(tenant.supervisorKey) });
  expect(again.statusCode).toBe(409);
  expect(again.json().code).toBe('IMPORT_NOT_RUNNING');
});
