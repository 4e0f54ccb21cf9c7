import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { keysetReport, type KeysetReport } from '../../src/db/reports/columns';
import { reportById } from '../../src/domain/reports/catalogue';

const valuesFor = (reportId: string) => Object.fromEntries(reportById(reportId)!.columns.map((c) => [c.key, sql`NULL`]));
const report = (reportId: string, columns: KeysetReport['columns']): KeysetReport => ({
  reportId,
  columns,
  page: () => {
    throw new Error('not run');
  },
  order: sql`1`,
  cursor: sql<string>`''`,
});

describe('a keyset report’s columns', () => {
  it('must name every catalogue column and nothing else', () => {
    const { chave: _, ...withoutOne } = valuesFor('calls');
    expect(() => keysetReport(report('calls', withoutOne))).toThrow(/columns without SQL \[chave\]/);
    expect(() => keysetReport(report('calls', { ...valuesFor('calls'), supervisor: sql`NULL` }))).toThrow(/SQL without a column \[supervisor\]/);
    const { lines } = keysetReport(report('calls', valuesFor('calls')));
    expect(lines?.page).toBeTypeOf('function');
    expect(lines?.ends).toBeTypeOf('function');
  });

  it('leave the report to csvRow when a column type has no SQL writer', () => {
    // The consolidated broadcast report has percent and date columns.
    const derived = keysetReport(report('broadcast-consolidated', valuesFor('broadcast-consolidated')));
    expect(derived.lines).toBeUndefined();
    expect(derived.source).toBeTypeOf('function');
  });
});
