import { z } from 'zod';
import { ivrFlowDefinitionSchema } from '../../domain/dialer/ivr-flow';

export const ivrFlowInputSchema = z.object({
  name: z.string().trim().min(1).max(120),
  definition: ivrFlowDefinitionSchema,
});

export const ivrFlowVersionQuerySchema = z.object({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .max(2_147_483_647)
    .optional()
    .describe('An earlier version (every call records the version it ran); default the current one'),
});

export const ivrFlowSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    version: z.number().int().describe('Bumped by every new version; every call records the version it ran'),
    currentVersion: z.number().int(),
    definition: z.record(z.string(), z.unknown()).describe('The flow, defaults filled in'),
    variables: z.array(z.string()).describe('Contact custom fields the flow speaks ({{field}} in its media)'),
    usedBy: z.array(z.object({ id: z.uuid(), name: z.string() })).describe('Strategies whose answered calls run this flow'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'IvrFlow' });
