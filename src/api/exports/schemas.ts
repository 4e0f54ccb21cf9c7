import { z } from 'zod';

export const exportStatusSchema = z.enum(['running', 'completed', 'cancelled', 'failed']);

export const exportSchema = z
  .object({
    id: z.uuid(),
    kind: z.string(),
    status: exportStatusSchema,
    fileName: z.string(),
    params: z.record(z.string(), z.unknown()),
    rowsWritten: z.number().int(),
    bytesWritten: z.number().int(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    workflowId: z.string(),
    progress: z
      .object({ state: z.string(), rowsWritten: z.number().int(), pagesWritten: z.number().int() })
      .optional()
      .describe('Live progress from the workflow, while it runs'),
    links: z.object({ self: z.string(), file: z.string(), cancel: z.string() }),
  })
  .meta({ id: 'Export' });

export const activityReportRequestSchema = z
  .object({
    from: z.iso.datetime({ offset: true }).describe('Start of the period (inclusive)'),
    to: z.iso.datetime({ offset: true }).describe('End of the period (exclusive); must be after `from` (400 VALIDATION_FAILED otherwise)'),
  })
  .refine((v) => new Date(v.from) < new Date(v.to), { message: 'must be after from', path: ['to'] });

export const exportIdParams = z.object({ id: z.uuid() });
