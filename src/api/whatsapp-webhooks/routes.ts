import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Config } from '../../config';
import { createSecretBox } from '../../db/secrets';
import { jsonDepthExceeds } from '../../domain/json-depth';
import { SIGNATURE_HEADER, verifySignature, verifySubscription } from '../../integrations/whatsapp/webhook';
import { WEBHOOK_APPLIER_ID } from '../../workflows/broadcast/messages';
import { whatsappWebhookApplierWorkflow } from '../../workflows/broadcast/webhook-applier';
import { foreverWorkflowStarter } from '../forever-workflow';
import { ProblemError } from '../problem';
import { errorResponses } from '../problem-schema';
import { mediaResponse } from '../openapi';
import type { App, RoutePlugin } from '../types';

const params = z.object({ channelId: z.uuid() });
const subscriptionQuery = z.object({
  'hub.mode': z.string().optional().describe('`subscribe`'),
  'hub.verify_token': z.string().optional().describe("The channel's verify token"),
  'hub.challenge': z.string().optional().describe('Echoed back when the token matches'),
});
const webhookPayload = z
  .object({ object: z.string(), entry: z.array(z.record(z.string(), z.unknown())) })
  .catchall(z.unknown())
  .describe("Meta's webhook payload, signed with the channel's app secret in X-Hub-Signature-256 (sha256=<hex HMAC of the raw bytes>)");
/** Meta's webhook payloads nest about 6 deep; far deeper is an attack on the parsers. */
const MAX_WEBHOOK_DEPTH = 64;

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
  // A rotated app secret or verify token applies at once in every API process: the subscription
  // check reads the channel row on every call, and a POST stores only while the sealed secret it
  // was checked with is the one stored (else it reads the row again). Only the decryption is
  // remembered, by the sealed value, so a rotation changes the key of the entry.
  const opened = new Map<string, string>();
  const openSecret = (sealed: string) => {
    let plain = opened.get(sealed);
    if (plain === undefined) {
      plain = box.open(sealed);
      if (opened.size >= 10_000) opened.clear();
      opened.set(sealed, plain);
    }
    return plain;
  };
  const channelOf = async (id: string) => {
    const channel = await db
      .selectFrom('whatsapp_channels')
      .select(['id', 'tenant_id', 'verify_token', 'app_secret_enc'])
      .where('id', '=', id)
      .executeTakeFirst();
    return channel && { channel, appSecret: openSecret(channel.app_secret_enc) };
  };
  type Entry = NonNullable<Awaited<ReturnType<typeof channelOf>>>;
  /**
   * A POST is one statement: the channel last read is used to check the signature, and the store
   * is guarded by its sealed secret being still the one stored (a rotated or deleted channel
   * stores nothing, and the POST is checked again against the row as it is now).
   */
  const lastRead = new Map<string, Entry>();
  const storeIfUnchanged = async (entry: Entry, payload: string): Promise<boolean> => {
    const stored = await sql`
      INSERT INTO webhook_events (channel_id, tenant_id, payload)
      SELECT id, tenant_id, ${payload}::jsonb FROM whatsapp_channels WHERE id = ${entry.channel.id} AND app_secret_enc = ${entry.channel.app_secret_enc}`.execute(
      db,
    );
    return Number(stored.numAffectedRows ?? 0n) === 1;
  };
  const store = async (entry: Entry, payload: string) => {
    await db.insertInto('webhook_events').values({ channel_id: entry.channel.id, tenant_id: entry.channel.tenant_id, payload }).execute();
  };
  /** Checks the POST against `entry` (401/403/400) and answers whether it was stored. */
  const checkAndStore = async (entry: Entry, raw: Buffer, signature: string, fresh: boolean): Promise<boolean> => {
    if (!verifySignature(raw, signature, entry.appSecret)) {
      if (!fresh) return false;
      throw new ProblemError(403, 'WEBHOOK_SIGNATURE_INVALID', 'The signature does not match the body.');
    }
    if (jsonDepthExceeds(raw, MAX_WEBHOOK_DEPTH)) {
      throw new ProblemError(400, 'WEBHOOK_BODY_TOO_DEEP', `The body nests deeper than ${MAX_WEBHOOK_DEPTH} levels; Meta's payloads nest fewer than 10.`);
    }
    // The signed text goes to PostgreSQL as it came (no parse and stringify here); jsonb input
    // is the JSON check: a body it refuses is answered 400 and nothing is stored.
    try {
      if (fresh) await store(entry, raw.toString('utf8'));
      else return await storeIfUnchanged(entry, raw.toString('utf8'));
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '22P02' || code === '22P05' || code === '54001') throw new ProblemError(400, 'WEBHOOK_BODY_INVALID', 'The body is not JSON.');
      throw error;
    }
  };

  await app.register(async (scope: App) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded', 'text/plain'],
      { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 },
      (_request, body, done) => done(null, body),
    );

    scope.get(
      '/webhooks/whatsapp/:channelId',
      {
        config: { auth: false },
        schema: {
          tags: ['webhooks'],
          summary: "Meta's webhook verification: echoes hub.challenge when hub.verify_token matches",
          params,
          querystring: subscriptionQuery,
          response: { 200: mediaResponse('text/plain', 'The hub.challenge, echoed'), ...errorResponses },
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
          description: 'The body (JSON, up to 5 MiB) is checked against X-Hub-Signature-256 as it came: 401 without the header, 403 when it does not match.',
          params,
          bodyForDocs: { mediaTypes: ['application/json'], schema: webhookPayload },
          response: { 200: z.object({ received: z.boolean() }), ...errorResponses },
        },
      },
      async (request) => {
        const id = request.params.channelId;
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const header = request.headers[SIGNATURE_HEADER];
        const signature = Array.isArray(header) ? header[0] : header;
        const known = lastRead.get(id);
        if (!known || !signature || !(await checkAndStore(known, raw, signature, false))) {
          const entry = await channelOf(id);
          if (!entry) {
            lastRead.delete(id);
            throw new ProblemError(404, 'WHATSAPP_CHANNEL_NOT_FOUND', 'Unknown webhook URL.');
          }
          if (!signature) throw new ProblemError(401, 'WEBHOOK_SIGNATURE_MISSING', `The ${SIGNATURE_HEADER} header is required.`);
          await checkAndStore(entry, raw, signature, true);
          if (lastRead.size >= 10_000) lastRead.clear();
          lastRead.set(id, entry);
        }
        void ensureApplier();
        return { received: true };
      },
    );
  });
};
