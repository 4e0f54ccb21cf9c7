import { expect } from 'vitest';
import { issueApiKey } from '../../src/db/accounts';
import { bearer } from './app';
import type { DialerTestStack } from './dialer-stack';

/** What the agent helpers need of a test stack (the dialer's, or the crash tests'). */
type AgentTestStack = Pick<DialerTestStack, 'api' | 'stack' | 'tenant'>;

/** An agent created through the API, with an API key of its own (its desktop). */
export async function newAgent(t: AgentTestStack, n: number, emailPrefix: string, endpointBase: number) {
  const res = await t.api('POST', '/v1/agents', {
    name: `Agente ${n}`,
    email: `${emailPrefix}${n}@empresa.test`,
    sipEndpoint: `PJSIP/agent-${endpointBase + n}`,
  });
  expect(res.statusCode, res.body).toBe(201);
  const agent = res.json();
  const key = (await issueApiKey(t.stack.database.db, { tenantId: t.tenant.tenantId, userId: agent.userId, name: 'desktop' })).key;
  return { id: agent.id as string, key };
}

/** The agent changes their own state (`POST /v1/agents/me/state`). */
export const setAgentState = (t: AgentTestStack, key: string, state: string) =>
  t.stack.app.inject({ method: 'POST', url: '/v1/agents/me/state', headers: bearer(key), payload: { state } });
