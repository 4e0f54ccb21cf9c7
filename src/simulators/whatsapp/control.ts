import { z } from 'zod';

/** Bodies of the control API (`/_sim/…`), shared by HTTP and in-process callers. */

export const templatesBodySchema = z.union([z.array(z.unknown()), z.object({ templates: z.array(z.unknown()), merge: z.boolean().optional() })]);

export const templateStatusBodySchema = z.object({ status: z.string().min(1) });

export const resetBodySchema = z.object({ config: z.boolean().optional(), templates: z.boolean().optional() }).optional().default({});

export type ResetOptions = z.input<typeof resetBodySchema>;

export const inboundBodySchema = z.object({
  /** The user's number, digits with country code. */
  from: z.string().regex(/^\+?\d{8,15}$/),
  text: z.string(),
  /** Our business number that receives the reply. */
  phoneNumberId: z.string().min(1),
  /** The user's WhatsApp profile name. */
  name: z.string().optional(),
  /** The wamid of our message the user answered with "reply". */
  replyTo: z.string().optional(),
});

export type InboundReply = z.input<typeof inboundBodySchema>;
