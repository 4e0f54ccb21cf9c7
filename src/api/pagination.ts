import { sql, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import { badRequest } from './problem';

/**
 * One convention for every list endpoint:
 *   ?limit=50&cursor=<opaque>&sort=-createdAt&<filters>
 * Answers `{ items, nextCursor }`; nextCursor is null on the last page. Keyset pagination on
 * (sort column, id), so pages stay stable while rows are added.
 */
/** Cursors are base64url text: anything else is refused before decoding (Buffer would skip the stray characters). */
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1–200)'),
  cursor: z
    .string()
    .max(500)
    .optional()
    .meta({ pattern: CURSOR_PATTERN.source, description: 'The nextCursor of the previous page, as given (base64url); any other value is 400 CURSOR_INVALID' }),
});

export function sortQuerySchema<const F extends string>(fields: readonly [F, ...F[]], defaultSort: `${'' | '-'}${F}`) {
  const values = fields.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];
  return z
    .enum(values)
    .default(defaultSort)
    .describe(`Sort field; prefix with - for descending. One of: ${fields.join(', ')}`);
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export interface SortSpec {
  column: string;
  direction: 'asc' | 'desc';
  /** Timestamps are compared at millisecond precision, the precision a cursor carries. */
  timestamp: boolean;
}

/** `columns` maps API field names to SQL columns; a trailing `:ts` marks a timestamp column. */
export function parseSort(sort: string, columns: Record<string, string>): SortSpec {
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const field = sort.replace(/^-/, '');
  const column = columns[field];
  if (!column) throw badRequest('SORT_INVALID', `Cannot sort by ${field}.`);
  const timestamp = column.endsWith(':ts');
  return { column: column.replace(/:ts$/, ''), direction, timestamp };
}

const sortExpression = (sort: SortSpec) => (sort.timestamp ? sql`date_trunc('milliseconds', ${sql.ref(sort.column)})` : sql.ref(sort.column));

type Cursor = [value: string | number | null, id: string | number];

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(cursor: string): Cursor {
  if (!CURSOR_PATTERN.test(cursor)) throw badRequest('CURSOR_INVALID', 'The cursor is not one this API handed out.');
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) return value as Cursor;
  } catch {
    // fall through
  }
  throw badRequest('CURSOR_INVALID', 'The cursor is not one this API handed out.');
}

/**
 * Applies ordering, the cursor and limit+1 to a query. `idColumn` breaks ties.
 */
export function keysetPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  options: { sort: SortSpec; idColumn: string; limit: number; cursor?: string },
): SelectQueryBuilder<DB, TB, O> {
  const { sort, idColumn, limit } = options;
  let q = query;
  if (options.cursor) {
    const [value, id] = decodeCursor(options.cursor);
    const op = sql.raw(sort.direction === 'desc' ? '<' : '>');
    q = q.where(
      value === null ? sql<boolean>`${sql.ref(idColumn)} ${op} ${id}` : sql<boolean>`(${sortExpression(sort)}, ${sql.ref(idColumn)}) ${op} (${value}, ${id})`,
    ) as typeof q;
  }
  return q
    .orderBy(sortExpression(sort), sort.direction)
    .orderBy(sql.ref(idColumn), sort.direction)
    .limit(limit + 1) as typeof q;
}

/** Cuts the extra row fetched by keysetPage and builds nextCursor from the last item. */
export function toPage<R, T>(rows: R[], limit: number, cursorOf: (row: R) => Cursor, map: (row: R) => T): { items: T[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(map),
    nextCursor: hasMore && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}

export const dateCursor = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
