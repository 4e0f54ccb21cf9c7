import type { Client } from '@temporalio/client';
import { z } from 'zod';
import type { Config } from '../../config';
import { createSecretBox } from '../../db/secrets';
import { SIGNATURE_HEADER, verifySignature, verifySubscription } from '../../integrations/whatsapp/webhook';
import { WEBHOOK_APPLIER_ID } from '../../workflows/broadcast/messages';
import { whatsappWebhookApplierWorkflow } from '../../workflows/broadcast/webhook-applier';
import { foreverWorkflowStarter } from '../forever-workflow';
import { ProblemError } from '../problem';
import { errorResponses } from '../problem-schema';
import type { App, RoutePlugin } from '../types';

const params = z.object({ channelId: z.uuid() });
/** The applier workflow, started once per task queue and checked again now and then (it runs for ever). */
export const applierStarter = (temporal: Client, config: Config) =>
  foreverWorkflowStarter(temporal, config, whatsappWebhookApplierWorkflow, WEBHOOK_APPLIER_ID, 'webhook-applier');

/**
 * Meta's webhooks for a channel: `GET` answers the subscription check, `POST` checks
 * X-Hub-Signature-256 over the raw bytes, stores the payload and answers 200 at once; the worker
 * applies it. Registered in its own scope so the raw-body parser touches no other route.
 */
export const whatsappWebhookRoutes: RoutePlugin = async (app, { db, config, temporal }) => {
  const box = createSecretBox(config.SECRETS_KEY);
  const ensureApplier = applierStarter(temporal, config);
  const secrets = new Map<string, { at: number; channel: { id: string; tenant_id: string; verify_token: string; app_secret_enc: string }; appSecret: string }>();
  const channelOf = async (id: string) => {
    const cached = secrets.get(id);
    if (cached && Date.now() - cached.at < 30_000) return cached;
    const channel = await db.selectFrom('whatsapp_channels').select(['id', 'tenant_id', 'verify_token', 'app_secret_enc']).where('id', '=', id).executeTakeFirst();
    if (!channel) return undefined;
    const entry = { at: Date.now(), channel, appSecret: box.open(channel.app_secret_enc) };
    secrets.set(id, entry);
    return entry;
  };

  await app.register(async (scope: App) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_request, body, done) => done(null, body));

    scope.get(
      '/webhooks/whatsapp/:channelId',
      {
        config: { auth: false },
        schema: {
          tags: ['webhooks'],
          summary: "Meta's webhook verification: echoes hub.challenge when hub.verify_token matches",
          params,
          querystring: z.record(z.string(), z.string()),
          response: { 200: z.string(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const entry = await channelOf(request.params.channelId);
        const challenge = entry ? verifySubscription(request.query, entry.channel.verify_token) : undefined;
        if (challenge === undefined) throw new ProblemError(403, 'WEBHOOK_VERIFY_TOKEN_INVALID', 'The verify token does not match.');
        return reply.type('text/plain').send(challenge);
      },
    );

    scope.post(
      '/webhooks/whatsapp/:channelId',
      {
        config: { auth: false },
        schema: {
          tags: ['webhooks'],
          summary: 'WhatsApp status and message webhooks (signed with X-Hub-Signature-256); stored and applied asynchronously',
          params,
          response: { 200: z.object({ received: z.boolean() }), ...errorResponses },
        },
      },
      async (request) => {
        const entry = await channelOf(request.params.channelId);
        if (!entry) throw new ProblemError(404, 'WHATSAPP_CHANNEL_NOT_FOUND', 'Unknown webhook URL.');
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const header = request.headers[SIGNATURE_HEADER];
        const signature = Array.isArray(header) ? header[0] : header;
        if (!signature) throw new ProblemError(401, 'WEBHOOK_SIGNATURE_MISSING', `The ${SIGNATURE_HEADER} header is required.`);
        if (!verifySignature(raw, signature, entry.appSecret)) throw new ProblemError(403, 'WEBHOOK_SIGNATURE_INVALID', 'The signature does not match the body.');
        // The signed text goes to PostgreSQL as it came (no parse and stringify here); jsonb input
        // is the JSON check: a body it refuses is answered 400 and nothing is stored.
        try {
          await db.insertInto('webhook_events').values({ channel_id: entry.channel.id, tenant_id: entry.channel.tenant_id, payload: raw.toString('utf8') }).execute();
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === '22P02' || code === '22P05') throw new ProblemError(400, 'WEBHOOK_BODY_INVALID', 'The body is not JSON.');
          throw error;
        }
        void ensureApplier();
        return { received: true };
      },
    );
  });
};
