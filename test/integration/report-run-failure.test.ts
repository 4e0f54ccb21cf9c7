import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportWorkflow } from '../../src/workflows/exports/export-workflow';
import { exportProgressQuery, exportWorkflowId } from '../../src/workflows/exports/messages';
import { JobStatus, TenantId } from '../../src/workflows/search-attributes';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';

let stack: TestStack;
let tenant: TestTenant;
beforeAll(async () => {
  stack = await createTestStack({ name: 'report-run-failure', withWorker: true });
  tenant = await stack.createTenant('Falhas SA');
});
afterAll(() => stack?.close());

const api = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.supervisorKey) });

describe('a report run whose writing fails for good', () => {
  for (const format of ['csv', 'xlsx'] as const) {
    it(`${format}: ends failed with the reason in GET /v1/reports/runs/{id}, its file is not served`, async () => {
      const row = await stack.database.db
        .insertInto('exports')
        .values({ tenant_id: tenant.tenantId, kind: 'report', report_id: 'calls', format, status: 'running', file_name: `x.${format}` })
        .returning('id')
        .executeTakeFirstOrThrow();
      // A filter the database cannot take (the API would refuse it; a run started otherwise may carry it): no retry helps.
      const handle = await stack.temporal.workflow.start(exportWorkflow, {
        taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
        workflowId: exportWorkflowId(row.id),
        args: [
          {
            exportId: row.id,
            tenantId: tenant.tenantId,
            kind: 'report',
            report: { reportId: 'calls', filters: { campaignId: 'not-a-uuid' }, format, locale: 'pt-BR' },
          },
        ],
        typedSearchAttributes: [{ key: TenantId, value: tenant.tenantId }],
      });
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

      const run = (await api(`/v1/reports/runs/${row.id}`)).json();
      expect(run).toMatchObject({ id: row.id, status: 'failed', finishedAt: expect.any(String) });
      expect(run.error).toContain('invalid input syntax for type uuid');
      expect((await handle.query(exportProgressQuery)).state).toBe('failed');
      expect((await handle.describe()).typedSearchAttributes.get(JobStatus)).toBe('failed');
      const file = await api(`/v1/reports/runs/${row.id}/file`);
      expect(file.statusCode).toBe(409);
      expect(file.json().code).toBe('EXPORT_NOT_READY');
      const chunks = await stack.database.db.selectFrom('export_chunks').select('seq').where('export_id', '=', row.id).execute();
      expect(chunks).toEqual([]);
    });
  }

  it('a run whose workflow was terminated reads failed with the reason, not running', async () => {
    const row = await stack.database.db
      .insertInto('exports')
      .values({ tenant_id: tenant.tenantId, kind: 'report', report_id: 'calls', format: 'csv', status: 'running', file_name: 'x.csv' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await stack.database.db
      .insertInto('export_chunks')
      .values({ export_id: row.id, seq: 0, data: Buffer.from('meio arquivo') })
      .execute();
    // No worker polls this queue: the workflow never gets to finish its run.
    const handle = await stack.temporal.workflow.start(exportWorkflow, {
      taskQueue: `${stack.config.TEMPORAL_TASK_QUEUE}-nobody`,
      workflowId: exportWorkflowId(row.id),
      args: [{ exportId: row.id, tenantId: tenant.tenantId, kind: 'report', report: { reportId: 'calls', filters: {}, format: 'csv', locale: 'pt-BR' } }],
      typedSearchAttributes: [{ key: TenantId, value: tenant.tenantId }],
    });
    await handle.terminate('operator ended it');

    const run = (await api(`/v1/reports/runs/${row.id}`)).json();
    expect(run).toMatchObject({ status: 'failed', error: 'The export workflow ended terminated before the run finished.', finishedAt: expect.any(String) });
    const chunks = await stack.database.db.selectFrom('export_chunks').select('seq').where('export_id', '=', row.id).execute();
    expect(chunks).toEqual([]);
  });
});
