import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { ProblemError, problemType, type ProblemBody } from './problem';

function send(reply: FastifyReply, body: ProblemBody): FastifyReply {
  // A string payload skips the route's response serializer: problems have their own shape.
  return reply.code(body.status).type('application/problem+json').send(JSON.stringify(body));
}

function validationProblem(error: FastifyError, request: FastifyRequest): ProblemBody {
  const where = error.validationContext ?? 'body';
  const errors = (error.validation ?? []).map((issue) => {
    const path = String(issue.instancePath ?? '')
      .replace(/^\//, '')
      .replace(/\//g, '.');
    const params = issue.params as { issue?: { path?: (string | number)[] } } | undefined;
    const zodPath = params?.issue?.path?.join('.');
    return { field: zodPath || path || '(root)', in: where, message: issue.message ?? 'is invalid' };
  });
  return {
    type: problemType('VALIDATION_FAILED'),
    title: 'Bad Request',
    status: 400,
    code: 'VALIDATION_FAILED',
    detail: `The request ${where} is invalid: ` + errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    instance: request.url,
    errors,
  };
}

/** Fastify's own errors (body too large, bad JSON, …) keep their status with a stable code. */
function fastifyProblem(error: FastifyError, request: FastifyRequest): ProblemBody | undefined {
  const status = error.statusCode;
  if (!status || status >= 500) return undefined;
  const known: Record<string, string> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
    FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'BODY_EMPTY',
    FST_ERR_CTP_INVALID_JSON_BODY: 'BODY_NOT_JSON',
    FST_INVALID_MULTIPART_CONTENT_TYPE: 'NOT_MULTIPART',
  };
  const code = known[error.code] ?? (error.code?.replace(/^FST_(ERR_)?/, '') || 'BAD_REQUEST');
  return {
    type: problemType(code),
    title: error.name && error.name !== 'FastifyError' ? error.name : 'Bad Request',
    status,
    code,
    detail: error.message,
    instance: request.url,
  };
}

/**
 * Errors the router raises before any route runs (Fastify's `frameworkErrors`): a path segment
 * that is not valid percent-encoding, or one longer than any id we issue. Both are the caller's
 * mistake, so a 400 problem like every other, not Fastify's own 414/plain JSON.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known: Record<string, [string, string]> = {
    FST_ERR_BAD_URL: ['URL_INVALID', 'The request path is not valid percent-encoded UTF-8.'],
    FST_ERR_MAX_PARAM_LENGTH: ['PATH_PARAMETER_TOO_LONG', 'A path parameter is longer than any identifier this API issues.'],
  };
  const [code, detail] = known[error.code] ?? ['BAD_REQUEST', error.message];
  send(reply, { type: problemType(code), title: 'Bad Request', status: 400, code, detail, instance: request.url.split('?')[0].slice(0, 200) });
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ProblemError) return send(reply, error.toBody(request.url));
    if (hasZodFastifySchemaValidationErrors(error)) return send(reply, validationProblem(error, request));
    // A backstop for text PostgreSQL cannot store (the input guard answers the usual cases first).
    const pgCode = (error as { code?: string }).code;
    if (pgCode === '22021' || pgCode === '22P05') {
      return send(
        reply,
        new ProblemError(400, 'TEXT_INVALID', 'A text value holds a character that cannot be stored (NUL or invalid UTF-8).').toBody(request.url),
      );
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause?.issues }, 'response did not match its schema');
    } else {
      const problem = fastifyProblem(error, request);
      if (problem) return send(reply, problem);
      request.log.error({ err: error }, 'unhandled error');
    }
    // Never leak internals: the log has the stack, the caller gets the request id to quote.
    return send(reply, {
      type: problemType('INTERNAL_ERROR'),
      title: 'Internal Server Error',
      status: 500,
      code: 'INTERNAL_ERROR',
      detail: `Something went wrong on our side. Quote request id ${request.id} when reporting it.`,
      instance: request.url,
    });
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, {
      type: problemType('ROUTE_NOT_FOUND'),
      title: 'Not Found',
      status: 404,
      code: 'ROUTE_NOT_FOUND',
      detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
      instance: request.url,
    }),
  );
}
