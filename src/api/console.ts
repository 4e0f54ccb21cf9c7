import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { App } from './types';
import { ProblemError } from './problem';

/** console/dist, built by `npm run build:console` (npm start and npm test build it first). */
export const consoleDist = path.resolve(import.meta.dirname, '../../console/dist');

/**
 * The supervisor console: static files at /console, a client of /v1 like any other (it signs in
 * with the session cookie). The files need no key; everything they show comes through /v1.
 */
export async function registerConsole(app: App): Promise<void> {
  if (!existsSync(path.join(consoleDist, 'index.html'))) {
    app.get('/console/*', { config: { auth: false }, schema: { hide: true } }, async () => {
      throw new ProblemError(503, 'CONSOLE_NOT_BUILT', 'The console is not built here: run `npm run build:console`.');
    });
    return;
  }
  await app.register(fastifyStatic, { root: consoleDist, prefix: '/console/', redirect: true, index: 'index.html' });
}
