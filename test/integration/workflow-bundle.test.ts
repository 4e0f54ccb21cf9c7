import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { inlineSourceMap, withoutSourcesContent } from '../../src/temporal/workflow-bundle';

/** Every workflow thread of the worker holds the bundle and its map: what is in it costs memory. */
describe('the workflow bundle', () => {
  const bundle = readFileSync(inject('workflowBundlePath'), 'utf8');
  const map = inlineSourceMap(bundle);

  it('holds only workflow code: no holiday calendar, moment or exceljs pulled in through a domain module', () => {
    expect(map).toBeDefined();
    const packages = new Set(map!.sources.flatMap((s) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1] ?? []));
    for (const heavy of ['date-holidays', 'date-holidays-parser', 'moment', 'moment-timezone', 'astronomia', 'zod', 'exceljs']) {
      expect(packages.has(heavy), heavy).toBe(false);
    }
    expect(map!.sources.some((s) => s.endsWith('src/domain/dialer/windows.ts'))).toBe(false);
    expect(bundle.length).toBeLessThan(3_000_000);
  });

  it("keeps the map's mappings for stack traces but not the sources' text", () => {
    expect(map!.sourcesContent).toBeUndefined();
    expect(map!.sources.some((s) => s.endsWith('src/workflows/broadcast/send-workflow.ts'))).toBe(true);
    // The SDK refuses a bundle without an inline map.
    expect(bundle.trimEnd().split('\n').at(-1)).toMatch(/^\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,/);
  });

  it('drops sourcesContent and nothing else from an inline map', () => {
    const original = { version: 3, sources: ['a.ts'], sourcesContent: ['const a = 1;'], mappings: 'AAAA', file: 'x.js' };
    const stripped = inlineSourceMap(
      withoutSourcesContent(`code();\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(original)).toString('base64')}`),
    );
    expect(stripped).toEqual({ version: 3, sources: ['a.ts'], mappings: 'AAAA', file: 'x.js' });
    expect(withoutSourcesContent('code();')).toBe('code();');
  });
});
