import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyBaseLogger, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Config } from '../config';
import type { Database } from '../db/schema';

/** What routes need: the database (and its pool), a Temporal client, the configuration. */
export interface ApiDeps {
  config: Config;
  db: Kysely<Database>;
  /** The pool under `db`, for what Kysely cannot express: uploads' chunks are written by COPY. */
  pool: pg.Pool;
  temporal: Client;
  /** Checks that the database answers; /ready uses it. */
  pingDatabase?: () => Promise<void>;
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** A resource folder exports one of these; app.ts registers it under /v1. */
export type RoutePlugin = (app: App, deps: ApiDeps) => Promise<void> | void;
