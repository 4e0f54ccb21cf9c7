import type { FastifyReply, FastifyRequest } from 'fastify';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import type { OpenAPIV3 } from 'openapi-types';
import type { App } from '../../src/api/types';

/**
 * Every response an integration test sees is checked against the app's own /docs/json: the status
 * is documented for the operation, the content type is one documented for that status, and a JSON
 * body validates against its schema. A disagreement is kept here and fails the test that caused it
 * (see test/integration/setup-openapi-check.ts).
 */
export interface Disagreement {
  operation: string;
  status: number;
  contentType: string | undefined;
  problem: string;
  body?: string;
}

const found: Disagreement[] = [];

/** The disagreements seen since the last call (each is reported once). */
export function takeDisagreements(): Disagreement[] {
  return found.splice(0);
}

/** Routes that are not part of the API the document describes. */
// The console's static files are not API operations (the console is a client of the documented /v1).
const undocumented = (url: string) => url === '/metrics' || url === '/docs' || url.startsWith('/docs/') || url === '/console' || url.startsWith('/console/');

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');
/** Fastify's `/v1/exports/:id` is the document's `/v1/exports/{id}`. */
export const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

class DocumentCheck {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenAPIV3.Document) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'openapi.json', paths: doc.paths, components: doc.components });
  }

  check(method: string, url: string, status: number, contentType: string | undefined, body: string | undefined): string | undefined {
    const path = openapiPath(url);
    const operation = (this.doc.paths[path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[method];
    if (!operation) return 'the operation is not in the document';
    const response = operation.responses[String(status)] ?? operation.responses.default;
    if (!response) return `status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`;
    const content = (response as OpenAPIV3.ResponseObject).content;
    if (!content) return body ? `a body was sent where the document has none: ${body.slice(0, 200)}` : undefined;
    const mediaType = contentType?.split(';')[0].trim().toLowerCase();
    if (!mediaType || !content[mediaType]) return `content type ${contentType ?? '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`;
    if (body === undefined || !/[/+]json$/.test(mediaType)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return 'the body is not JSON';
    }
    const key = `${path} ${method} ${status} ${mediaType}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const ref = 'openapi.json#/' + ['paths', path, method, 'responses', String(status), 'content', mediaType, 'schema'].map(pointer).join('/');
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(key, validate);
    }
    if (validate(value)) return undefined;
    return 'the body does not match its schema: ' + this.ajv.errorsText(validate.errors, { separator: '; ', dataVar: 'body' });
  }
}

function headerText(reply: FastifyReply, name: string): string | undefined {
  const value = reply.getHeader(name) ?? reply.raw.getHeader(name);
  if (value !== undefined) return String(value);
  // A route that writes the head itself (Server-Sent Events) leaves it only in the raw head.
  const head = (reply.raw as unknown as { _header?: string })._header;
  return head?.match(new RegExp(`\\r\\n${name}: ([^\\r]*)\\r\\n`, 'i'))?.[1];
}

/** Installs the check on an app before its routes are registered (buildApp's `instrument`). */
export function checkResponsesAgainstDocument(app: App): void {
  let check: DocumentCheck | undefined;
  const bodies = new WeakMap<FastifyRequest, string>();
  app.addHook('onSend', async (request, _reply, payload) => {
    if (typeof payload === 'string') bodies.set(request, payload);
    else if (Buffer.isBuffer(payload)) bodies.set(request, payload.toString('utf8'));
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url;
    // No route (ROUTE_NOT_FOUND) or HEAD (Fastify's automatic twin of GET): not operations of the document.
    if (!url || undocumented(url) || request.method === 'HEAD') return;
    check ??= new DocumentCheck(app.swagger() as OpenAPIV3.Document);
    const contentType = headerText(reply, 'content-type');
    // Fastify writes no body for 204 and 304, whatever the handler passed to send().
    const body = reply.statusCode === 204 || reply.statusCode === 304 ? undefined : bodies.get(request);
    const problem = check.check(request.method.toLowerCase(), url, reply.statusCode, contentType, body);
    if (problem) found.push({ operation: `${request.method} ${url}`, status: reply.statusCode, contentType, problem, body: body?.slice(0, 500) });
  });
}

export function describeDisagreements(list: Disagreement[]): string {
  return (
    `${list.length} response(s) disagree with the OpenAPI document:\n` +
    list.map((d) => `  ${d.operation} → ${d.status} ${d.contentType ?? ''}: ${d.problem}${d.body ? `\n    body: ${d.body}` : ''}`).join('\n')
  );
}
