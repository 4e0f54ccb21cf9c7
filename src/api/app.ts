import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { apiKeyRoutes } from './api-keys/routes';
import { inviteRoutes } from './auth-session/invite-routes';
import { authSessionRoutes } from './auth-session/routes';
import { auditLogRoutes } from './audit-log/routes';
import { broadcastRoutes } from './broadcast/routes';
import { companyContactRoutes } from './company-contacts/routes';
import { groupContactRoutes } from './contact-groups/contacts-routes';
import { contactGroupRoutes } from './contact-groups/routes';
import { importRoutes } from './imports/routes';
import { interactionRoutes } from './interactions/routes';
import { reportRoutes } from './reports/routes';
import { blockListRoutes } from './dialer/block-list-routes';
import { dialerCampaignRoutes } from './dialer/campaign-routes';
import { dialerReportRoutes } from './dialer/report-routes';
import { dialStrategyRoutes } from './dialer/strategy-routes';
import { ivrFlowRoutes } from './dialer/ivr-flow-routes';
import { registerAuth } from './auth';
import { registerConsole } from './console';
import { frameworkErrors, registerErrorHandling } from './error-handler';
import { exportRoutes } from './exports/routes';
import { healthRoutes } from './health/routes';
import { registerInputGuard } from './input-guard';
import { meRoutes } from './me/routes';
import { optOutRoutes } from './opt-outs/routes';
import { requestSerializer } from '../logger';
import { registerMetrics } from './metrics';
import { openapiTransform } from './openapi';
import type { ApiDeps, App, RoutePlugin } from './types';
import { registerUnreadBodyClose } from './uploads';
import { userRoutes } from './users/routes';
import { agentRoutes } from './agents/routes';
import { pauseReasonRoutes } from './dialer/pause-reason-routes';
import { whatsappChannelRoutes } from './whatsapp-channels/routes';
import { whatsappWebhookRoutes } from './whatsapp-webhooks/routes';
import { mercadoLivreAccountRoutes } from './mercadolivre/accounts/routes';
import { mercadoLivreAutoAnswerRoutes } from './mercadolivre/auto-answers/routes';
import { mercadoLivreConversationRoutes } from './mercadolivre/conversations/routes';
import { mercadoLivreMonitorRoutes } from './mercadolivre/monitor/routes';
import { mercadoLivreOauthRoutes } from './mercadolivre/oauth/routes';
import { mercadoLivreQuestionRoutes } from './mercadolivre/questions/routes';
import { mercadoLivreWebhookRoutes } from './mercadolivre/webhooks/routes';

/** Resource route folders served under /v1. Add a resource here. */
const v1Resources: RoutePlugin[] = [
  meRoutes,
  authSessionRoutes,
  userRoutes,
  inviteRoutes,
  apiKeyRoutes,
  auditLogRoutes,
  exportRoutes,
  contactGroupRoutes,
  groupContactRoutes,
  importRoutes,
  dialStrategyRoutes,
  ivrFlowRoutes,
  dialerCampaignRoutes,
  blockListRoutes,
  dialerReportRoutes,
  agentRoutes,
  pauseReasonRoutes,
  whatsappChannelRoutes,
  broadcastRoutes,
  whatsappWebhookRoutes,
  companyContactRoutes,
  optOutRoutes,
  interactionRoutes,
  mercadoLivreAccountRoutes,
  mercadoLivreOauthRoutes,
  mercadoLivreQuestionRoutes,
  mercadoLivreConversationRoutes,
  mercadoLivreMonitorRoutes,
  mercadoLivreAutoAnswerRoutes,
  mercadoLivreWebhookRoutes,
  reportRoutes,
];

export interface BuildOptions {
  logger?: FastifyServerOptions['logger'];
  /** Called before any route is registered, so its hooks see every route (tests check responses against the document). */
  instrument?: (app: App) => void;
}

export async function buildApp(deps: ApiDeps, options: BuildOptions = {}): Promise<App> {
  const app = Fastify({
    // Request URLs are logged redacted (`hub.verify_token`, `api_key`… never reach the logs).
    logger:
      options.logger === false
        ? false
        : { level: deps.config.LOG_LEVEL, ...(typeof options.logger === 'object' ? options.logger : {}), serializers: { req: requestSerializer } },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Omni Campaigns API',
        description:
          'Dialer (Discador) and WhatsApp (Broadcast) campaigns for Brazilian contact centres. ' +
          'Authenticate with `Authorization: Bearer <api key>`. Errors are RFC 9457 problem+json with a stable `code`. ' +
          'Lists take `limit`, `cursor` and `sort` and answer `{ items, nextCursor }`. ' +
          'JSON request bodies are at most 1 MiB unless a route says otherwise (413 beyond).',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'omni_… API key' },
          xApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The same key, in a header of its own' },
          consoleSession: {
            type: 'apiKey',
            in: 'cookie',
            name: 'omni_session',
            description: 'The console session (POST /v1/auth/session); changes also need the header X-CSRF-Token',
          },
        },
      },
      security: [{ apiKey: [] }, { xApiKey: [] }, { consoleSession: [] }],
    },
    transform: openapiTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true } });

  // Files stream through; the limit answers 413. One file per request.
  await app.register(fastifyMultipart, { limits: { fileSize: deps.config.IMPORT_MAX_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  await app.register(fastifyCookie);
  registerErrorHandling(app);
  registerUnreadBodyClose(app);
  registerInputGuard(app);
  registerAuth(app, deps.db);
  registerMetrics(app);
  options.instrument?.(app as App);
  await healthRoutes(app, deps);
  await registerConsole(app as App);
  await app.register(
    async (v1) => {
      for (const resource of v1Resources) await resource(v1 as App, deps);
    },
    { prefix: '/v1' },
  );

  return app;
}
