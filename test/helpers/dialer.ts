import type { TestStack, TestTenant } from './app';
import { bearer } from './app';
import { multipart } from './multipart';
import { importWorkflowId } from '../../src/workflows/imports/messages';

/** A São Paulo mobile whose last digit picks the simulator's outcome (see `outcomeRules`). */
export const phoneOf = (i: number, last: number) => `55119${String(1000000 + i).padStart(7, '0')}${last}`;

/** Outcome by last digit: 1 busy, 2 no answer, 3 invalid, 4 network failure, others answered. */
export const outcomeRules = [
  { match: '1$', mix: [{ outcome: 'busy' as const, weight: 1 }] },
  { match: '2$', mix: [{ outcome: 'no_answer' as const, weight: 1 }] },
  { match: '3$', mix: [{ outcome: 'invalid_number' as const, weight: 1 }] },
  { match: '4$', mix: [{ outcome: 'network_failure' as const, weight: 1 }] },
  // Every other number answers, whatever the seed and the channel ids (no fall-through to the random default mix).
  { match: '.', mix: [{ outcome: 'answered' as const, weight: 1 }] },
];

/** Imports a dialer group through the API (CSV upload + import workflow) and returns its id. */
export async function importDialerGroup(stack: TestStack, tenant: TestTenant, name: string, phones: string[][]): Promise<string> {
  const lines = ['nome;telefone1;telefone2', ...phones.map((p, i) => `Pessoa ${i + 1};${p[0]};${p[1] ?? ''}`)];
  const form = multipart({ name, kind: 'dialer' }, { filename: `${name}.csv`, content: lines.join('\n') + '\n' });
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/contact-groups',
    headers: { ...bearer(tenant.supervisorKey), ...form.headers },
    payload: form.payload,
  });
  if (res.statusCode !== 202) throw new Error(`import refused: ${res.body}`);
  const { import: started, group } = res.json();
  await stack.temporal.workflow.getHandle(importWorkflowId(started.id)).result();
  return group.id as string;
}

/** A strategy for tests: open around the clock every day (holidays too), fast retries. */
export function fastStrategy(name: string, over: Record<string, unknown> = {}) {
  return {
    name,
    config: {
      maxAttemptsPerContact: 2,
      maxAttemptsPerPhone: 2,
      outcomes: {
        busy: { action: 'retry', afterMinutes: 0 },
        no_answer: { action: 'retry', afterMinutes: 0 },
        network_failure: { action: 'retry', afterMinutes: 0 },
      },
      callingWindow: { days: [0, 1, 2, 3, 4, 5, 6], ranges: [{ from: '00:00', to: '24:00' }], excludeHolidays: false },
      pacing: { channels: 5, callsPerSecond: 100 },
      ringTimeoutSec: 30,
      failurePause: { window: 1000, ratio: 1 },
      ...over,
    },
  };
}

/** A one-attempt strategy whose answered calls go to an agent; no agent within `abandonAfterSeconds`: the abandon message. */
export function agentStrategy(name: string, abandonAfterSeconds: number, pacing: Record<string, unknown>) {
  return fastStrategy(name, {
    maxAttemptsPerContact: 1,
    answeredCall: 'agent',
    agentConnect: { abandonAfterSeconds, abandonMessage: 'sound:custom/sem-agente' },
    pacing,
  });
}
