import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZodError } from 'zod';
import type { WhatsAppTemplate } from './contract';
import type { ConfigUpdate, SimulatorConfig } from './config';
import { templatesBodySchema, templateStatusBodySchema, type InboundReply, type ResetOptions } from './control';
import { SimulatorCore, type CoreOptions } from './core';
import { graphErrorBody } from './graph-errors';
import type { TemplateInput } from './template-store';

export interface WhatsAppSimulatorOptions extends CoreOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Shortcuts for the most used settings of `config`. */
  accessToken?: string;
  appSecret?: string;
  webhookUrl?: string;
  mps?: number;
}

export interface WhatsAppSimulator {
  /** e.g. `http://127.0.0.1:8089`: the client's `baseUrl`. */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Counts; `detail: false` leaves out the per-recipient and per-key maps. */
  stats(options?: { detail?: boolean }): ReturnType<SimulatorCore['snapshot']>;
  configure(update: ConfigUpdate): SimulatorConfig;
  config(): SimulatorConfig;
  setTemplates(templates: TemplateInput[], options?: { merge?: boolean }): void;
  setTemplateStatus(name: string, language: string, status: string): boolean;
  templates(): WhatsAppTemplate[];
  /** Sends a user's reply as an inbound-message webhook; returns its wamid. */
  inbound(reply: InboundReply): string;
  reset(options?: ResetOptions): void;
  /** Resolves when every scheduled status webhook has been delivered or given up. */
  webhooksIdle(): Promise<void>;
}

const MAX_BODY_BYTES = 1_000_000;
const graphVersion = /^v\d+\.\d+$/;

/**
 * A local WhatsApp Cloud API: the messages and message_templates endpoints on the real contract,
 * signed status webhooks, limits and fault injection, plus a control API under `/_sim`.
 */
export async function startWhatsAppSimulator(options: WhatsAppSimulatorOptions = {}): Promise<WhatsAppSimulator> {
  const shortcuts: ConfigUpdate = {
    ...(options.accessToken !== undefined ? { accessToken: options.accessToken } : {}),
    ...(options.appSecret !== undefined ? { appSecret: options.appSecret } : {}),
    ...(options.mps !== undefined ? { mps: options.mps } : {}),
  };
  const config: ConfigUpdate = { ...options.config, ...shortcuts };
  if (options.webhookUrl !== undefined) config.webhook = { ...options.config?.webhook, url: options.webhookUrl };
  const core = new SimulatorCore({ ...options, config });

  const server = createServer((request, response) => {
    route(core, request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 500, { error: { message: String(error), code: 1 } });
    });
  });
  // Longer than the clients' keep-alive, so a pooled socket is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    port: address.port,
    stop: async () => {
      await core.webhooks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    stats: (statsOptions) => core.snapshot(statsOptions?.detail ?? true),
    configure: (update) => core.configure(update),
    config: () => core.config,
    setTemplates: (templates, templateOptions) => core.setTemplates(templates, templateOptions?.merge),
    setTemplateStatus: (name, language, status) => core.setTemplateStatus(name, language, status),
    templates: () => core.listTemplates(),
    inbound: (reply) => core.inbound(reply),
    reset: (resetOptions) => core.reset(resetOptions),
    webhooksIdle: () => core.webhooks.idle(),
  };
}

async function route(core: SimulatorCore, request: IncomingMessage, response: ServerResponse): Promise<void> {
  // The path is cut by hand and a URL built only when the query is needed: a URL per send was a
  // visible share of the simulator's CPU at a thousand sends a second.
  const raw = request.url ?? '/';
  const queryAt = raw.indexOf('?');
  let parsed: URL | undefined;
  const url = () => (parsed ??= new URL(raw, `http://${request.headers.host ?? 'localhost'}`));
  const segments = (queryAt < 0 ? raw : raw.slice(0, queryAt)).split('/').filter(Boolean).map(decodeURIComponent);
  if (segments[0] === '_sim') return control(core, request, response, segments.slice(1), url());

  if (segments.length > 0 && graphVersion.test(segments[0])) segments.shift();
  if (!authorized(core, request, url)) return graph(response, graphErrorBody(190, 'Invalid OAuth access token - Cannot parse access token'));

  const [objectId, edge] = segments;
  if (segments.length === 2 && edge === 'messages' && request.method === 'POST') {
    const body = await readJson(request);
    if (body === invalid) return graph(response, graphErrorBody(100, 'The request body is not valid JSON.'));
    const outcome = core.send(objectId, body);
    // A lost answer: Meta took the message, the caller never hears so (exactly-once tests).
    if (outcome.dropAnswer) return void request.socket.destroy();
    return json(response, outcome.httpStatus, outcome.body);
  }
  if (segments.length === 2 && edge === 'message_templates' && request.method === 'GET') {
    return listTemplates(core, response, objectId, url());
  }
  if (segments.length === 2 && edge === 'phone_numbers' && request.method === 'GET') {
    return listPhoneNumbers(core, response, objectId, url());
  }
  if (segments.length === 1 && request.method === 'GET' && objectId in core.config.phoneNumbers) {
    return json(response, 200, phoneNumberNode(core, objectId, url().searchParams.get('fields')));
  }
  return graph(
    response,
    graphErrorBody(100, `Unsupported ${request.method} request. Object with ID '${objectId ?? ''}' does not exist or does not support this operation.`),
  );
}

function authorized(core: SimulatorCore, request: IncomingMessage, url: () => URL): boolean {
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : url().searchParams.get('access_token');
  return token === core.config.accessToken;
}

/** A WhatsApp Business Phone Number node with its default fields (or those asked for; `id` always). */
function phoneNumberNode(core: SimulatorCore, id: string, fields: string | null) {
  const node: Record<string, unknown> = {
    id,
    display_phone_number: core.config.displayPhoneNumbers[id] ?? '+55 48 3000-0000',
    verified_name: core.config.phoneNumbers[id],
    quality_rating: 'GREEN',
    code_verification_status: 'VERIFIED',
  };
  if (!fields) return node;
  const wanted = new Set(fields.split(',').map((field) => field.trim()));
  return Object.fromEntries(Object.entries(node).filter(([key]) => key === 'id' || wanted.has(key)));
}

/** `GET /{waba-id}/phone_numbers`: the WABA's numbers, cursor-paged like every Graph edge. */
function listPhoneNumbers(core: SimulatorCore, response: ServerResponse, wabaId: string, url: URL): void {
  if (wabaId !== core.config.wabaId) {
    return graph(
      response,
      graphErrorBody(
        100,
        `Unsupported get request. Object with ID '${wabaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      ),
    );
  }
  const ids = Object.keys(core.config.phoneNumbers).sort();
  const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 25) || 25, 1), 1000);
  const after = url.searchParams.get('after');
  const start = after ? Number(Buffer.from(after, 'base64url').toString()) || 0 : 0;
  const page = ids.slice(start, start + limit);
  const cursor = (at: number) => Buffer.from(String(at)).toString('base64url');
  const paging: Record<string, unknown> = { cursors: { before: cursor(start), after: cursor(start + page.length) } };
  if (start + page.length < ids.length) {
    const next = new URL(url.toString());
    next.searchParams.set('after', cursor(start + page.length));
    next.searchParams.delete('access_token');
    paging.next = next.toString();
  }
  json(response, 200, { data: page.map((id) => phoneNumberNode(core, id, url.searchParams.get('fields'))), paging });
}

function listTemplates(core: SimulatorCore, response: ServerResponse, wabaId: string, url: URL): void {
  if (wabaId !== core.config.wabaId) {
    return graph(response, graphErrorBody(100, `Unsupported get request. Object with ID '${wabaId}' does not exist.`));
  }
  const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 25) || 25, 1), 1000);
  const fields = url.searchParams
    .get('fields')
    ?.split(',')
    .map((field) => field.trim())
    .filter(Boolean);
  const page = core.templatePage({
    limit,
    after: url.searchParams.get('after') ?? undefined,
    fields,
    nextUrl: (after) => {
      const next = new URL(url.toString());
      next.searchParams.set('after', after);
      next.searchParams.delete('access_token');
      return next.toString();
    },
  });
  json(response, 200, page);
}

async function control(core: SimulatorCore, request: IncomingMessage, response: ServerResponse, path: string[], url: URL): Promise<void> {
  const method = request.method ?? 'GET';
  const where = `${method} /${path.join('/')}`;
  try {
    if (where === 'GET /config') return json(response, 200, core.config);
    if (where === 'PUT /config') return json(response, 200, core.configure(await readControlBody(request)));
    if (where === 'GET /templates') return json(response, 200, { data: core.listTemplates() });
    if (where === 'PUT /templates') {
      const body = templatesBodySchema.parse(await readControlBody(request));
      if (Array.isArray(body)) core.setTemplates(body);
      else core.setTemplates(body.templates, body.merge);
      return json(response, 200, { data: core.listTemplates() });
    }
    if (method === 'PATCH' && path[0] === 'templates' && path.length === 3) {
      const { status } = templateStatusBodySchema.parse(await readControlBody(request));
      const found = core.setTemplateStatus(path[1], path[2], status);
      return json(response, found ? 200 : 404, found ? { name: path[1], language: path[2], status } : { error: 'no such template' });
    }
    if (where === 'GET /stats') return json(response, 200, core.snapshot(url.searchParams.get('detail') !== 'false'));
    if (where === 'POST /reset') {
      core.reset((await readControlBody(request)) as ResetOptions);
      return json(response, 200, { reset: true });
    }
    if (where === 'POST /inbound') return json(response, 202, { id: core.inbound((await readControlBody(request)) as InboundReply) });
    return json(response, 404, { error: `no control endpoint ${where}` });
  } catch (error) {
    if (error instanceof ZodError) return json(response, 400, { error: 'invalid body', issues: error.issues });
    if (error instanceof SyntaxError) return json(response, 400, { error: 'body is not JSON' });
    throw error;
  }
}

const invalid = Symbol('invalid JSON');

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request);
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return invalid;
  }
}

/** Control bodies: an empty body is `undefined`, bad JSON throws SyntaxError (answered 400). */
async function readControlBody(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request);
  return text === '' ? undefined : JSON.parse(text);
}

/** The body as text; plain events rather than an async iterator, which costs several times more per request. */
function readText(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        return reject(new Error('request body too large'));
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function graph(response: ServerResponse, error: { httpStatus: number; body: unknown }): void {
  json(response, error.httpStatus, error.body);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
