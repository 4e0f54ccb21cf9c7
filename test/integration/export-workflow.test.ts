import { execFileSync } from 'node:child_process';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createExportActivities } from '../../src/activities/exports';
import { resolveTemporalBinary } from '../../src/embedded/temporal-binary';
import { exportWorkflow } from '../../src/workflows/exports/export-workflow';
import { cancelExportUpdate, exportProgressQuery, exportWorkflowId } from '../../src/workflows/exports/messages';
import { JobKind, JobStatus, TenantId } from '../../src/workflows/search-attributes';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { uniqueTaskQueue } from '../helpers/temporal';

let stack: TestStack;
let tenant: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'export-workflow', withWorker: true });
  tenant = await stack.createTenant('Exportadora');
});
afterAll(() => stack.close());

/** Polls visibility (eventually consistent) until the query finds the workflow, within a deadline. */
async function waitForVisible(query: string, deadlineMs = 20_000): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ids: string[] = [];
    for await (const wf of stack.temporal.workflow.list({ query })) ids.push(wf.workflowId);
    if (ids.length > 0 || Date.now() > until) return ids;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('activity report export, through the API', () => {
  it('starts a workflow, writes the audit log as a formula-safe CSV, and is findable by TenantId', async () => {
    // Something worth exporting, including a cell a spreadsheet would execute.
    await stack.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(tenant.adminKey),
      payload: { name: '=HYPERLINK("http://evil","x")', email: 'evil@x.test', role: 'viewer' },
    });
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const started = await stack.app.inject({
      method: 'POST',
      url: '/v1/exports/activity-report',
      headers: bearer(tenant.supervisorKey),
      payload: { from, to },
    });
    expect(started.statusCode).toBe(202);
    const created = started.json();
    expect(created).toMatchObject({ status: 'running', workflowId: exportWorkflowId(created.id) });
    expect(started.headers.location).toBe(`/v1/exports/${created.id}`);

    const result = await stack.temporal.workflow.getHandle(created.workflowId).result();
    expect(result.state).toBe('completed');

    const view = await stack.app.inject({ method: 'GET', url: `/v1/exports/${created.id}`, headers: bearer(tenant.supervisorKey) });
    expect(view.json()).toMatchObject({ status: 'completed', rowsWritten: 2 });

    const file = await stack.app.inject({ method: 'GET', url: `/v1/exports/${created.id}/file`, headers: bearer(tenant.supervisorKey) });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/text\/csv/);
    expect(file.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const lines = file.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('quando;usuario;chave_api;acao;alvo;alvo_id;resumo;request_id');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.split(';')[3])).toEqual(['acao', 'user.create', 'export.create']);
    expect(file.body).toContain(`"Usuário '=HYPERLINK(""http://evil"",""x"") (viewer) criado"`.replace("Usuário '", 'Usuário '));
    expect(file.body).not.toMatch(/;=HYPERLINK/);

    const description = await stack.temporal.workflow.getHandle(created.workflowId).describe();
    expect(description.typedSearchAttributes.get(TenantId)).toBe(tenant.tenantId);
    expect(description.typedSearchAttributes.get(JobKind)).toBe('export');
    expect(description.typedSearchAttributes.get(JobStatus)).toBe('completed');

    // The same query operations would type in the CLI.
    const query = `TenantId="${tenant.tenantId}"`;
    expect(await waitForVisible(query)).toContain(created.workflowId);
    const cli = execFileSync(
      resolveTemporalBinary({ install: false }),
      ['workflow', 'list', '--address', inject('temporalAddress'), '--query', query, '--output', 'json'],
      { encoding: 'utf8' },
    );
    expect(cli).toContain(created.workflowId);

    const cancel = await stack.app.inject({ method: 'POST', url: `/v1/exports/${created.id}/cancel`, headers: bearer(tenant.supervisorKey) });
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json().code).toBe('EXPORT_NOT_RUNNING');
  });

  it('refuses to serve the file of an export that has not completed', async () => {
    const row = await stack.database.db
      .insertInto('exports')
      .values({ tenant_id: tenant.tenantId, kind: 'activity-report', status: 'running', file_name: 'x.csv' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const res = await stack.app.inject({ method: 'GET', url: `/v1/exports/${row.id}/file`, headers: bearer(tenant.supervisorKey) });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('EXPORT_NOT_READY');
  });
});

describe('export workflow messages', () => {
  it('answers progress queries, accepts a cancel Update once, refuses the second with EXPORT_NOT_RUNNING, and upserts JobStatus', async () => {
    const taskQueue = uniqueTaskQueue('export-gated');
    const real = createExportActivities({ db: stack.database.db, pageSize: 1 });
    // The first page waits for the test to release it, so the workflow is surely mid-run.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const pageStarted = new Promise<void>((r) => (entered = r));
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: {
        ...real,
        writeActivityReportPage: async (input: Parameters<typeof real.writeActivityReportPage>[0]) => {
          entered();
          await gate;
          return real.writeActivityReportPage(input);
        },
      },
    });
    const row = await stack.database.db
      .insertInto('exports')
      .values({ tenant_id: tenant.tenantId, kind: 'activity-report', status: 'running', file_name: 'x.csv' })
      .returning('id')
      .executeTakeFirstOrThrow();

    await worker.runUntil(async () => {
      const handle = await stack.temporal.workflow.start(exportWorkflow, {
        taskQueue,
        workflowId: exportWorkflowId(row.id),
        args: [{ exportId: row.id, tenantId: tenant.tenantId, kind: 'activity-report', from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' }],
        typedSearchAttributes: [{ key: TenantId, value: tenant.tenantId }],
      });
      await pageStarted;
      expect(await handle.query(exportProgressQuery)).toMatchObject({ state: 'running', pagesWritten: 0 });
      expect((await handle.describe()).typedSearchAttributes.get(JobStatus)).toBe('running');

      const first = handle.executeUpdate(cancelExportUpdate, { args: [{ by: 'Ana' }] });
      // The accepted cancel is pending until the page in flight finishes: the state says so.
      const until = Date.now() + 10_000;
      while ((await handle.query(exportProgressQuery)).state !== 'cancelling' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect((await handle.query(exportProgressQuery)).cancelledBy).toBe('Ana');

      const second = await handle.executeUpdate(cancelExportUpdate, { args: [{ by: 'Bia' }] }).catch((e) => e);
      expect(second).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((second as WorkflowUpdateFailedError).cause).toBeInstanceOf(ApplicationFailure);
      expect(((second as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('EXPORT_NOT_RUNNING');

      release();
      expect(await first).toMatchObject({ state: 'cancelled', cancelledBy: 'Ana', pagesWritten: 1 });
      expect(await handle.result()).toMatchObject({ state: 'cancelled' });
      expect((await handle.describe()).typedSearchAttributes.get(JobStatus)).toBe('cancelled');
    });
    await connection.close();
    const stored = await stack.database.db.selectFrom('exports').select(['status']).where('id', '=', row.id).executeTakeFirstOrThrow();
    expect(stored.status).toBe('cancelled');
  });
});
