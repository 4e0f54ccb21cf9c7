import type { Client } from '@temporalio/client';
import { inject } from 'vitest';
import { buildApp, type BuildOptions } from '../../src/api/app';
import type { ApiDeps } from '../../src/api/types';
import type { App } from '../../src/api/types';
import { parseConfig, type Config } from '../../src/config';
import { bootstrapTenant, createUser, issueApiKey } from '../../src/db/accounts';
import { createTestDatabase, type TestDatabase } from './db';
import { checkResponsesAgainstDocument } from './openapi-responses';
import { multipart } from './multipart';
import { connectTestClient, startTestWorker, uniqueTaskQueue, type RunningWorker } from './temporal';

export interface TestTenant {
  tenantId: string;
  adminKey: string;
  supervisorKey: string;
  viewerKey: string;
}

export interface TestStack {
  app: App;
  config: Config;
  database: TestDatabase;
  temporal: Client;
  worker?: RunningWorker;
  createTenant(name?: string): Promise<TestTenant>;
  close(): Promise<void>;
}

export async function createTenantWithKeys(database: TestDatabase, name: string): Promise<TestTenant> {
  const { tenant, key } = await bootstrapTenant(database.db, { tenantName: name });
  const keyFor = async (role: 'supervisor' | 'viewer') => {
    const user = await createUser(database.db, { tenantId: tenant.id, name: `${role} ${name}`, email: `${role}@${tenant.id}.test`, role });
    return (await issueApiKey(database.db, { tenantId: tenant.id, userId: user.id, name: role })).key;
  };
  return { tenantId: tenant.id, adminKey: key.key, supervisorKey: await keyFor('supervisor'), viewerKey: await keyFor('viewer') };
}

/** buildApp for tests: no logs, and every response checked against the OpenAPI document. */
export const buildTestApp = (deps: ApiDeps, options: BuildOptions = {}) =>
  buildApp(deps, { logger: false, ...options, instrument: checkResponsesAgainstDocument });

/** The API on a fresh schema with a real Temporal client and (optionally) a worker. */
export async function createTestStack(options: { name: string; withWorker?: boolean; env?: Record<string, string> }): Promise<TestStack> {
  const database = await createTestDatabase();
  const taskQueue = uniqueTaskQueue(options.name);
  const config = parseConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...options.env,
  });
  const temporal = await connectTestClient();
  const app = await buildTestApp({ config, db: database.db, pool: database.pool, temporal });
  const worker = options.withWorker ? await startTestWorker(taskQueue, { db: database.db, pool: database.pool }) : undefined;
  return {
    app,
    config,
    database,
    temporal,
    worker,
    createTenant: (name = 'Empresa Teste') => createTenantWithKeys(database, name),
    close: async () => {
      await app.close();
      await worker?.stop();
      await temporal.connection.close();
      await database.destroy();
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** POST /v1/contact-groups with the fields and a CSV file, as the console sends it (fields first). */
export function uploadGroup(stack: TestStack, key: string, fields: Record<string, string>, file: { filename: string; content: Buffer | string }) {
  const form = multipart(fields, file);
  return stack.app.inject({ method: 'POST', url: '/v1/contact-groups', headers: { ...bearer(key), ...form.headers }, payload: form.payload });
}
