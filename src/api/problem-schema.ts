import { z } from 'zod';

/** The OpenAPI shape of a problem+json answer, referenced by every route's error responses. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(
        z.object({
          field: z.string().describe('The field, dotted (e.g. `phones.1`)'),
          in: z.string().describe('body, querystring, params or headers'),
          message: z.string(),
          value: z.string().optional().describe('The value refused, where it helps (a phone)'),
          why: z.string().optional().describe('A stable reason code for the value (e.g. a phone: LENGTH, DDD, NINTH_DIGIT)'),
        }),
      )
      .optional()
      .describe('For validation errors: each bad field'),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });

export const errorResponses = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
} as const;

/**
 * 503 for a route that depends on a service beyond the database: it starts a Temporal workflow
 * (`JOB_NOT_STARTED`: Temporal did not take it, nothing was kept) or calls a provider that is not
 * configured, limiting or down (Mercado Livre's `ML_UNAVAILABLE`, …). Try again later.
 */
export const unavailableResponses = { 503: problemSchema } as const;
