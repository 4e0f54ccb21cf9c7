import { z } from 'zod';

const roleSchema = z.enum(['admin', 'supervisor', 'agent', 'viewer']);

export const sessionSchema = z
  .object({
    user: z.object({ id: z.uuid(), name: z.string(), role: roleSchema }),
    tenant: z.object({ id: z.uuid(), name: z.string() }),
    csrfToken: z.string().optional().describe('Send it as X-CSRF-Token on every change made with the session cookie; absent for an API key'),
    expiresAt: z.string().optional(),
  })
  .meta({ id: 'ConsoleSession' });

export const emailSchema = z.email().max(320);
/** Long enough to resist guessing; bounded so hashing stays cheap to refuse. */
export const newPasswordSchema = z.string().min(10).max(200);
