import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../workflows/path';

const SOURCE_MAP_MARKER = '//# sourceMappingURL=data:';
const BASE64 = 'base64,';

/** Where the inline map's base64 starts (after `data:application/json[;charset=…];base64,`), or -1. */
function mapStart(bundle: string): number {
  const at = bundle.lastIndexOf(SOURCE_MAP_MARKER);
  const base64 = at < 0 ? -1 : bundle.indexOf(BASE64, at);
  return base64 < 0 ? -1 : base64 + BASE64.length;
}

/**
 * The workflow bundle as the worker runs it (webpack through the SDK; call it in a short-lived
 * process, as src/worker.ts does, so webpack's memory does not stay).
 */
export async function buildWorkflowBundle(): Promise<string> {
  const silent = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: { info: silent, debug: silent, trace: silent, log: silent, warn: console.warn, error: console.error },
  });
  return withoutSourcesContent(code);
}

/**
 * The SDK wants the bundle's source map inline (workflow stack traces map back to our files with
 * it) but reads the sources' text only for `showStackTraceSources`, which the worker leaves off.
 * Every workflow thread holds the whole map, so the sources' copy (most of it) is dropped.
 */
export function withoutSourcesContent(bundle: string): string {
  const map = inlineSourceMap(bundle);
  if (!map) return bundle;
  delete map.sourcesContent;
  return `${bundle.slice(0, mapStart(bundle))}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

/** The inline source map of a bundle, decoded. */
export function inlineSourceMap(bundle: string): { sources: string[]; sourcesContent?: unknown[] } | undefined {
  const start = mapStart(bundle);
  return start < 0 ? undefined : JSON.parse(Buffer.from(bundle.slice(start).trimEnd(), 'base64').toString('utf8'));
}
