import type { RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requiredRole } from './auth';
import { problemTitles } from './problem';

declare module 'fastify' {
  interface FastifySchema {
    /**
     * A request body the handler reads itself (multipart parts that stream, signed raw bytes), for
     * the document only: nothing validates against it.
     */
    bodyForDocs?: { mediaTypes: string[]; schema: z.ZodType };
  }
}

/** Where mediaResponse keeps its media type until documentedResponse moves it into `content`. */
const MEDIA_TYPE = 'x-media-type';
const PROBLEM_REF = '#/components/schemas/Problem';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type JsonSchema = Record<string, unknown>;

/** A response that is not JSON, e.g. `mediaResponse('text/csv', 'The report')`. */
// z.any(): the handler may send a string, a Buffer or a stream; the document says it is text.
export const mediaResponse = (mediaType: string | string[], description: string) => z.any().meta({ [MEDIA_TYPE]: mediaType, description });

/** A multipart/form-data body; mark its file parts with `filePart`. */
export const multipartForm = (schema: z.ZodType) => ({ mediaTypes: ['multipart/form-data'], schema });

/** A file part of a multipart body. */
export const filePart = (description: string) => z.any().meta({ type: 'string', format: 'binary', description });

/** Rewrites one response of the route's schema the way it is really served. */
function documentedResponse(status: string, schema: JsonSchema): JsonSchema {
  const description = typeof schema.description === 'string' ? schema.description : undefined;
  const code = Number(status);
  if (code === 204 || code === 304) return { type: 'null', description: description ?? 'No content' };
  if (schema.$ref === PROBLEM_REF) {
    // Every error is an RFC 9457 problem: the error handler sends it as application/problem+json.
    const title = problemTitles[code] ?? 'Error';
    return { description: `${title} (problem+json with a stable \`code\`)`, content: { 'application/problem+json': { schema } } };
  }
  const mediaType = schema[MEDIA_TYPE];
  if (typeof mediaType === 'string' || Array.isArray(mediaType)) {
    const { [MEDIA_TYPE]: _drop, description: _description, ...rest } = schema;
    const types = ([] as string[]).concat(mediaType);
    return { description: description ?? types.join(' or '), content: Object.fromEntries(types.map((t) => [t, { schema: { ...rest, type: 'string' } }])) };
  }
  return schema;
}

/**
 * fastify-type-provider-zod's transform, then what it cannot know: which routes need no key, how
 * errors, empty and non-JSON answers are served, the fields of multipart uploads, the role needed
 * and the body limit. One place, so the document says what the server does.
 */
export function openapiTransform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const { bodyForDocs, ...routeSchema } = (input.schema ?? {}) as Record<string, unknown> & { bodyForDocs?: { mediaTypes: string[]; schema: z.ZodType } };
  const out = jsonSchemaTransform({ ...input, schema: routeSchema as TransformInput['schema'] });
  const schema = out.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide) return out;
  const route = input.route as RouteOptions;

  if (bodyForDocs) {
    schema.body = (jsonSchemaTransform({ ...input, schema: { body: bodyForDocs.schema } }).schema as { body: JsonSchema }).body;
    schema.consumes = bodyForDocs.mediaTypes;
  }

  const response = (schema.response ?? {}) as Record<string, JsonSchema>;
  for (const [status, part] of Object.entries(response)) response[status] = documentedResponse(status, part);
  if (schema.body) {
    // A body the server cannot read: too large, or in a media type the route does not take.
    response['413'] ??= documentedResponse('413', { $ref: PROBLEM_REF });
    response['415'] ??= documentedResponse('415', { $ref: PROBLEM_REF });
  }
  if (bodyForDocs?.mediaTypes.includes('multipart/form-data')) {
    // Uploads are bounded: a file that trickles in below the minimum rate, or one more upload than
    // a tenant may have in flight, is refused.
    response['408'] ??= documentedResponse('408', { $ref: PROBLEM_REF });
    response['429'] ??= documentedResponse('429', { $ref: PROBLEM_REF });
  }
  if (route.config?.auth !== false) {
    // The key check runs before every such route: a missing or unknown key, or a role too low.
    response['401'] ??= documentedResponse('401', { $ref: PROBLEM_REF });
    response['403'] ??= documentedResponse('403', { $ref: PROBLEM_REF });
  }
  // Any operation can fail on our side; the caller gets a problem naming the request id to quote.
  response['500'] ??= documentedResponse('500', { $ref: PROBLEM_REF });
  schema.response = response;

  const notes: string[] = [];
  if (route.config?.auth === false) {
    schema.security = [];
  } else {
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    const role = requiredRole(method, route.config);
    notes.push(`Needs a key with role \`${role}\`${role === 'admin' ? '' : ' or higher'} (403 ROLE_TOO_LOW otherwise).`);
  }
  if (schema.body && route.bodyLimit) notes.push(`The request body may be up to ${route.bodyLimit.toLocaleString('en-US')} bytes (413 beyond).`);
  if (notes.length) schema.description = [schema.description, ...notes].filter(Boolean).join('\n\n');
  return out;
}

/** The CSV files the API streams (reports, exports, the model file). */
export const csvResponse = mediaResponse('text/csv', 'CSV: `;` separated, UTF-8 with BOM (charset=utf-8)');

/** Server-Sent Events: `event: monitor` with a JSON `data` line each time. */
export const eventStreamResponse = mediaResponse('text/event-stream', 'Server-Sent Events (`event: monitor`, JSON `data`)');
