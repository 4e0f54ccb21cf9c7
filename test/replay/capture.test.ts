import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startJobStack, temporal } from '../helpers/jobs';
import { prepareCheckout } from './checkout';
import { allScenarios, legacyNames, vocabularyNames } from './scenarios';

// Not part of `npm test` (see test/replay/vitest.config.ts). Two uses:
//   npm run capture-histories              every kind on the current code → histories/current/
//   npm run upgrade-exercise -- <git ref>  begun on <ref>'s own worker, finished on the current
//                                          code → histories/upgrade-from-<sha>/
// test/integration/replay.test.ts replays everything under histories/ against the current code.

const from = process.env.UPGRADE_FROM?.trim();

it(from ? `begins every kind on ${from} and finishes it on the current code` : 'runs every kind on the current code', async () => {
  const checkout = from ? prepareCheckout(from) : undefined;
  const names = checkout && !checkout.hasVocabulary ? legacyNames : vocabularyNames;
  const t = await startJobStack('replay-capture');
  try {
    const scenarios = allScenarios();
    const step = async (what: string, fn: () => Promise<void> | undefined) => {
      const began = Date.now();
      await fn();
      console.log(`${what} (${Date.now() - began} ms)`);
    };
    for (const s of scenarios) if (s.queued) await step(`${s.name}: queued`, () => s.queued?.(t, names));
    await step(checkout ? `worker of ${checkout.ref} started` : 'worker started', () => t.startWorker(checkout));
    for (const s of scenarios) await step(`${s.name}: begun`, () => s.begin(t, names));
    await step('first worker stopped; current worker started', async () => {
      await t.stopWorker();
      await t.startWorker();
    });
    for (const s of scenarios) if (s.finish) await step(`${s.name}: finished`, () => s.finish?.(t));

    const dir = join('test/replay/histories', checkout ? `upgrade-from-${checkout.ref}` : 'current');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const s of scenarios) {
      // The CLI's JSON (what `temporal workflow show --output json` gives in production too).
      const shown = await temporal(['workflow', 'show', '--workflow-id', s.workflowId(), '--output', 'json']);
      expect(shown.code, shown.stderr).toBe(0);
      const history = shown.json<{ events: unknown[] }>();
      expect(history.events.length).toBeGreaterThan(0);
      writeFileSync(join(dir, `${s.name}.json`), JSON.stringify({ workflowId: s.workflowId(), history }, null, 1) + '\n');
    }
  } finally {
    await t.close();
  }
}, 600_000);
