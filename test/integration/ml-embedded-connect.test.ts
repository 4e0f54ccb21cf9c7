import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretsKey } from '../../src/db/secrets';
import { accountWorkflowId } from '../../src/domain/mercadolivre';
import { prepareEmbeddedMercadoLivre } from '../../src/embedded/mercadolivre';
import { startMercadoLivreSimulator, type MercadoLivreSimulator } from '../../src/simulators/mercadolivre/server';
import { JobKind, JobStatus, TenantId } from '../../src/workflows/search-attributes';
import { createTestStack, type TestStack } from '../helpers/app';

const SECRETS_KEY = generateSecretsKey();
let sim: MercadoLivreSimulator;
let stack: TestStack;

beforeAll(async () => {
  sim = await startMercadoLivreSimulator({ port: 0 });
  stack = await createTestStack({ name: 'ml-embedded', env: { ML_SIM_PORT: new URL(sim.url).port, SECRETS_KEY } });
});
afterAll(async () => {
  await stack?.close();
  await sim?.stop();
});

describe('embedded Mercado Livre', () => {
  it("starts the first tenant's account workflow findable by tenant, kind and status, as the API does", async () => {
    const tenant = await stack.createTenant('Primeira Loja');
    const lines: string[] = [];
    await prepareEmbeddedMercadoLivre(stack.config).connect(stack.database.db, stack.config, SECRETS_KEY, (line) => lines.push(line));
    const account = await stack.database.db.selectFrom('ml_accounts').selectAll().where('tenant_id', '=', tenant.tenantId).executeTakeFirstOrThrow();
    expect(account.status).toBe('connected');
    // No worker runs here: what the workflow is found by is what its start said.
    const handle = stack.temporal.workflow.getHandle(accountWorkflowId(account.id));
    try {
      const attributes = (await handle.describe()).typedSearchAttributes;
      expect(attributes.get(TenantId)).toBe(tenant.tenantId);
      expect(attributes.get(JobKind)).toBe('ml-account');
      expect(attributes.get(JobStatus)).toBe('connected');
    } finally {
      await handle.terminate('test over');
    }
  });
});
