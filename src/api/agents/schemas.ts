import { z } from 'zod';
import { AGENT_STATES, REQUESTABLE_STATES } from '../../domain/dialer/agent-state';

/** `Technology/resource` as Asterisk dials it, e.g. `PJSIP/agent-1001`. */
export const sipEndpointSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{2,16}\/[A-Za-z0-9@._+:-]{1,100}$/, 'a dial string Technology/resource, e.g. PJSIP/agent-1001')
  .describe('The channel the dialer rings to reach the agent, e.g. `PJSIP/agent-1001` (unique in the tenant)');

export const agentInputSchema = z
  .object({
    sipEndpoint: sipEndpointSchema,
    userId: z.uuid().optional().describe('An existing user of role `agent`; without it, `name` and `email` create one'),
    name: z.string().trim().min(1).max(200).optional(),
    email: z.email().optional(),
  })
  .refine((b) => b.userId !== undefined || (b.name !== undefined && b.email !== undefined), {
    message: 'Give userId, or name and email for a new agent user',
    path: ['userId'],
  });

export const agentStateInputSchema = z.object({
  state: z.enum(REQUESTABLE_STATES).describe('`on_call` and `wrap_up` are set by the dialer, never asked for'),
  pauseReason: z.string().trim().min(1).max(120).optional().describe('With `paused` only: the id or the name of one of the tenant’s pause reasons'),
});

export const pauseReasonSchema = z.object({ id: z.uuid(), name: z.string(), createdAt: z.string() }).meta({ id: 'PauseReason' });

export const agentSchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    name: z.string(),
    email: z.string(),
    sipEndpoint: z.string(),
    state: z.enum(AGENT_STATES),
    since: z.string().describe('When the agent entered the state'),
    pauseReason: z.object({ id: z.uuid(), name: z.string() }).nullable(),
    callKey: z.string().nullable().describe('While on_call: the call the agent is on'),
    campaignId: z.uuid().nullable().describe('The campaign of the current or last call'),
    wrapUpUntil: z.string().nullable().describe('While in wrap_up: when after-call work ends by itself'),
    campaignIds: z.array(z.uuid()).describe('Dialer campaigns the agent is assigned to'),
    createdAt: z.string(),
  })
  .meta({ id: 'Agent' });

export const agentQuerySchema = z.object({
  state: z.enum(AGENT_STATES).optional(),
  campaignId: z.uuid().optional().describe('Only agents assigned to this dialer campaign'),
});
