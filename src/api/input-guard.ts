import type { FastifyInstance } from 'fastify';
import { ProblemError } from './problem';

/** The path of the first string (key or value) holding a NUL character, if any. */
export function nulPath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = nulPath(inner, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export const nulProblem = (field: string, where: string) =>
  new ProblemError(400, 'TEXT_NUL_CHARACTER', `${field} contains a NUL character (\\u0000), which no text field accepts.`, {
    errors: [{ field, in: where, message: 'contains a NUL character' }],
  });

/**
 * One guard for every route: PostgreSQL text cannot hold NUL (22021), so a NUL in any query
 * parameter, path parameter or JSON body field is refused with a 400 naming the field.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [where, value] of [
      ['querystring', request.query],
      ['params', request.params],
      ['body', request.body],
    ] as const) {
      const field = nulPath(value, '');
      if (field !== undefined) throw nulProblem(field || '(root)', where);
    }
  });
}
