import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { WhatsAppChannel } from '../../db/schema';
import { createSecretBox } from '../../db/secrets';
import { DEFAULT_GRAPH_URL } from '../../db/whatsapp-channels';
import { createWhatsAppClient, templatePlaceholders, WhatsAppApiError, WhatsAppTransportError } from '../../integrations/whatsapp/client';
import { deliverSendHalts, haltSendsForTemplate, type SendHalt } from '../../db/template-halts';
import { audit } from '../audit';
import { wakeChannelSends } from '../broadcast/wake';
import { requireRole } from '../auth';
import { keysetPage, pageQuerySchema, pageSchema, parseSort, sortQuerySchema, toPage, dateCursor } from '../pagination';
import { conflict, notFound, ProblemError } from '../problem';
import { errorResponses } from '../problem-schema';
import type { RoutePlugin } from '../types';
import { verifyNumberOwnership } from './ownership';
import { channelCreateSchema, channelIdParams, channelSchema, channelToApi, channelUpdateSchema, templateSchema, templateToApi } from './schemas';

const tags = ['whatsapp'];
const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

/** WhatsApp channels (the business number and its credentials) and their synced templates (HSM). */
export const whatsappChannelRoutes: RoutePlugin = (app, { db, config, temporal }) => {
  const box = createSecretBox(config.SECRETS_KEY);
  const needSecretsKey = () => {
    if (!config.SECRETS_KEY)
      throw new ProblemError(503, 'SECRETS_KEY_MISSING', 'The server has no SECRETS_KEY configured, so it cannot store provider secrets.');
  };
  const findChannel = async (tenantId: string, id: string): Promise<WhatsAppChannel> => {
    const row = await db.selectFrom('whatsapp_channels').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) throw notFound('WhatsApp channel', id);
    return row;
  };

  app.post(
    '/whatsapp/channels',
    {
      config: { minRole: 'admin' },
      schema: {
        tags,
        summary: 'Register a WhatsApp business number (admin; secrets are stored encrypted and never returned)',
        description:
          'The number must be one of `GET /{waba-id}/phone_numbers` read with the access token (422 otherwise); ' +
          'a number is registered once across all accounts (409).',
        body: channelCreateSchema,
        response: { 201: channelSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      needSecretsKey();
      await verifyNumberOwnership(config, b);
      const row = await db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('whatsapp_channels')
          .values({
            tenant_id: request.auth.tenantId,
            name: b.name,
            phone_number_id: b.phoneNumberId,
            waba_id: b.wabaId,
            display_number: b.displayNumber,
            access_token_enc: box.seal(b.accessToken),
            app_secret_enc: box.seal(b.appSecret),
            verify_token: b.verifyToken ?? randomBytes(18).toString('base64url'),
            mps_limit: b.mpsLimit,
            messaging_limit_tier: b.messagingLimitTier,
            created_by: request.auth.userId,
          })
          .returningAll()
          .executeTakeFirstOrThrow()
          .catch((error) => {
            if (isUniqueViolation(error)) throw conflict('CHANNEL_NUMBER_TAKEN', `The phone number id ${b.phoneNumberId} is already registered to a channel.`);
            throw error;
          });
        await audit(trx, request, {
          action: 'whatsapp_channel.create',
          targetType: 'whatsapp_channel',
          targetId: created.id,
          summary: `Canal WhatsApp "${b.name}" (${b.displayNumber}) cadastrado`,
        });
        return created;
      });
      return reply
        .code(201)
        .header('location', `/v1/whatsapp/channels/${row.id}`)
        .send(channelToApi(row, config, request.auth.role));
    },
  );

  app.get(
    '/whatsapp/channels',
    {
      schema: {
        tags,
        summary: 'List WhatsApp channels',
        querystring: pageQuerySchema.extend({ sort: sortQuerySchema(['createdAt'], '-createdAt') }),
        response: { 200: pageSchema(channelSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, sort } = request.query;
      const spec = parseSort(sort, { createdAt: 'created_at:ts' });
      const rows = await keysetPage(db.selectFrom('whatsapp_channels').selectAll().where('tenant_id', '=', request.auth.tenantId), {
        sort: spec,
        idColumn: 'id',
        limit,
        cursor,
      }).execute();
      return toPage(
        rows,
        limit,
        (r) => [dateCursor(r.created_at), r.id],
        (r) => channelToApi(r, config, request.auth.role),
      );
    },
  );

  app.get(
    '/whatsapp/channels/:id',
    { schema: { tags, summary: 'A WhatsApp channel', params: channelIdParams, response: { 200: channelSchema, ...errorResponses } } },
    async (request) => channelToApi(await findChannel(request.auth.tenantId, request.params.id), config, request.auth.role),
  );

  app.patch(
    '/whatsapp/channels/:id',
    {
      schema: {
        tags,
        summary: 'Change a channel: name, number shown, credentials (admin; write-only), throughput limit, messaging-limit tier',
        description: "A new access token must read the channel's number under its business account (422 otherwise).",
        params: channelIdParams,
        body: channelUpdateSchema,
        response: { 200: channelSchema, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      if (b.accessToken !== undefined || b.appSecret !== undefined || b.verifyToken !== undefined)
        requireRole(request, 'admin', 'Changing channel credentials');
      const channel = await findChannel(request.auth.tenantId, request.params.id);
      if (b.accessToken !== undefined || b.appSecret !== undefined) needSecretsKey();
      if (b.accessToken !== undefined)
        await verifyNumberOwnership(config, { accessToken: b.accessToken, wabaId: channel.waba_id, phoneNumberId: channel.phone_number_id });
      const row = await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('whatsapp_channels')
          .set({
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.displayNumber !== undefined ? { display_number: b.displayNumber } : {}),
            ...(b.accessToken !== undefined ? { access_token_enc: box.seal(b.accessToken) } : {}),
            ...(b.appSecret !== undefined ? { app_secret_enc: box.seal(b.appSecret) } : {}),
            ...(b.verifyToken !== undefined ? { verify_token: b.verifyToken } : {}),
            ...(b.mpsLimit !== undefined ? { mps_limit: b.mpsLimit } : {}),
            ...(b.messagingLimitTier !== undefined ? { messaging_limit_tier: b.messagingLimitTier } : {}),
            updated_at: new Date(),
          })
          .where('id', '=', channel.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        const changed = Object.keys(b).map((k) => (k === 'accessToken' || k === 'appSecret' ? `${k} (secret)` : k));
        await audit(trx, request, {
          action: 'whatsapp_channel.update',
          targetType: 'whatsapp_channel',
          targetId: channel.id,
          summary: `Canal WhatsApp "${updated.name}" alterado: ${changed.join(', ')}`,
        });
        return updated;
      });
      if (row.messaging_limit_tier !== channel.messaging_limit_tier || row.mps_limit !== channel.mps_limit) {
        await wakeChannelSends({ temporal, db, log: request.log }, channel.id, 'channel_limits_changed');
      }
      return channelToApi(row, config, request.auth.role);
    },
  );

  app.post(
    '/whatsapp/channels/:id/templates/sync',
    {
      schema: {
        tags,
        summary: "Synchronise the templates (HSM) from Meta's GET /{waba-id}/message_templates",
        description:
          'A template that became PAUSED pauses the running sends that use it (DISABLED or gone: stops them); one approved again resumes the sends it paused.',
        params: channelIdParams,
        response: {
          200: z.object({
            synced: z.number().int(),
            items: z.array(templateSchema),
            affectedSends: z.array(z.object({ id: z.uuid(), action: z.string(), reason: z.string() })),
            undelivered: z
              .array(z.object({ id: z.uuid(), action: z.string(), error: z.string() }))
              .describe('Sends whose workflow could not be signalled (a pause or stop still applies at their next page)'),
          }),
          502: errorResponses[400],
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const channel = await findChannel(request.auth.tenantId, request.params.id);
      const client = createWhatsAppClient({
        baseUrl: config.WHATSAPP_GRAPH_URL ?? DEFAULT_GRAPH_URL,
        version: config.WHATSAPP_GRAPH_VERSION,
        accessToken: box.open(channel.access_token_enc),
        connections: 2,
      });
      let templates;
      try {
        templates = await client.listTemplates({ wabaId: channel.waba_id });
      } catch (error) {
        if (error instanceof WhatsAppApiError) {
          throw new ProblemError(502, 'WHATSAPP_API_ERROR', `Meta refused the template list: (#${error.code}) ${error.body.message}`, {
            whatsappCode: error.code,
          });
        }
        if (error instanceof WhatsAppTransportError) throw new ProblemError(502, 'WHATSAPP_UNREACHABLE', error.message);
        throw error;
      } finally {
        await client.close();
      }
      const now = new Date();
      const { rows, affected } = await db.transaction().execute(async (trx) => {
        const before = new Map(
          (await trx.selectFrom('whatsapp_templates').select(['name', 'language', 'status']).where('channel_id', '=', channel.id).execute()).map((t) => [
            `${t.name}|${t.language}`,
            t.status,
          ]),
        );
        for (const t of templates) {
          const values = {
            meta_id: t.id,
            status: t.status,
            category: t.category,
            quality: t.quality_score?.score ?? null,
            parameter_format: t.parameter_format ?? 'POSITIONAL',
            components: JSON.stringify(t.components),
            placeholders: templatePlaceholders(t),
            synced_at: now,
          };
          await trx
            .insertInto('whatsapp_templates')
            .values({ channel_id: channel.id, name: t.name, language: t.language, ...values })
            .onConflict((oc) => oc.columns(['channel_id', 'name', 'language']).doUpdateSet(values))
            .execute();
        }
        // Gone from Meta: kept for history, no longer usable.
        await trx
          .updateTable('whatsapp_templates')
          .set({ status: 'DELETED', synced_at: now })
          .where('channel_id', '=', channel.id)
          .where('synced_at', '<', now)
          .execute();
        await trx.updateTable('whatsapp_channels').set({ templates_synced_at: now }).where('id', '=', channel.id).execute();
        const rows = await trx.selectFrom('whatsapp_templates').selectAll().where('channel_id', '=', channel.id).orderBy('name').orderBy('language').execute();
        const changed = rows.filter((t) => before.get(`${t.name}|${t.language}`) !== t.status);
        const affected: SendHalt[] = [];
        for (const t of changed) affected.push(...(await haltSendsForTemplate(trx, channel.id, { name: t.name, language: t.language, status: t.status })));
        await audit(trx, request, {
          action: 'whatsapp_channel.sync_templates',
          targetType: 'whatsapp_channel',
          targetId: channel.id,
          summary: `Templates do canal "${channel.name}" sincronizados: ${templates.length}`,
          details: { changed: changed.map((t) => `${t.name}/${t.language}: ${t.status}`), affectedSends: affected },
        });
        return { rows, affected };
      });
      const undelivered = await deliverSendHalts(temporal, affected);
      for (const u of undelivered) request.log.error({ sendId: u.id, action: u.action, error: u.error }, 'a send could not be told of its template status');
      return {
        synced: templates.length,
        items: rows.map(templateToApi),
        affectedSends: affected.map(({ id, action, reason }) => ({ id, action, reason })),
        undelivered,
      };
    },
  );

  app.get(
    '/whatsapp/channels/:id/templates',
    {
      schema: {
        tags,
        summary: 'The synced templates with their placeholders (only APPROVED ones can be sent)',
        params: channelIdParams,
        querystring: pageQuerySchema.extend({ status: z.string().max(40).optional(), name: z.string().max(200).optional() }),
        response: { 200: pageSchema(templateSchema), ...errorResponses },
      },
    },
    async (request) => {
      const channel = await findChannel(request.auth.tenantId, request.params.id);
      const { limit, cursor, status, name } = request.query;
      let query = db.selectFrom('whatsapp_templates').selectAll().where('channel_id', '=', channel.id);
      if (status) query = query.where('status', '=', status.toUpperCase());
      if (name) query = query.where('name', 'ilike', `%${name.replace(/[\\%_]/g, '\\$&')}%`);
      const rows = await keysetPage(query, { sort: { column: 'name', direction: 'asc', timestamp: false }, idColumn: 'language', limit, cursor }).execute();
      return toPage(rows, limit, (r) => [r.name, r.language], templateToApi);
    },
  );
};
